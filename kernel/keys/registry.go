package keys

import (
	"math/rand/v2"
	"sync"

	"uk/fs/vfs"
)

// Limits are the tunables of /proc/sys/kernel/keys.
type Limits struct {
	MaxKeys, MaxBytes         int // per user but root (maxkeys, maxbytes)
	RootMaxKeys, RootMaxBytes int // root's (root_maxkeys, root_maxbytes)
	// GCDelay is how long a revoked or expired key stays linked, in
	// seconds (gc_delay).
	GCDelay int
	// PersistentExpiry is persistent_keyring_expiry (uk has no
	// persistent keyrings; kept for the file).
	PersistentExpiry int
}

// DefaultLimits are Linux's defaults.
var DefaultLimits = Limits{MaxKeys: 200, MaxBytes: 20000, RootMaxKeys: 1000000, RootMaxBytes: 25000000, GCDelay: 300, PersistentExpiry: 259200}

// keyUser is one user's key accounting (Linux's struct key_user): keys
// owned and instantiated, and what counts against the quotas.
type keyUser struct {
	uid             uint32
	nkeys, nikeys   int
	qnkeys, qnbytes int
}

// userRings are a user's user and user-session keyrings, made the first
// time the user asks for either and kept for the sandbox's life (Linux
// keeps them in the user namespace's register).
type userRings struct {
	user, session *Key
}

// Registry holds every key of a sandbox.
type Registry struct {
	mu        sync.Mutex
	keys      map[int32]*Key        // by serial; protected by mu
	users     map[uint32]*keyUser   // protected by mu
	userRings map[uint32]*userRings // protected by mu
	names     map[string][]*Key     // keyrings by description, oldest first (find_keyring_by_name); protected by mu
	limits    Limits                // protected by mu
	rnd       *rand.Rand            // protected by mu
	nextGC    int64                 // wall second of the next dead-key sweep, 0: none due; protected by mu
	now       func() int64          // the sandbox's wall clock, in seconds
	budget    vfs.Charger
}

// NewRegistry makes an empty registry whose expiries follow now (wall-
// clock seconds, as Linux's ktime_get_real_seconds) and whose keys are
// charged to budget, the sandbox's memory (nil: not charged), so that what
// a program makes uk hold stays within --mem.
func NewRegistry(now func() int64, budget vfs.Charger) *Registry {
	return &Registry{
		keys:      make(map[int32]*Key),
		users:     make(map[uint32]*keyUser),
		userRings: make(map[uint32]*userRings),
		names:     make(map[string][]*Key),
		limits:    DefaultLimits,
		rnd:       rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		now:       now,
		budget:    budget,
	}
}

// Limits returns the quota tunables.
func (r *Registry) Limits() Limits {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limits
}

// SetLimits replaces the quota tunables (they apply to what is charged
// next; what is charged stays).
func (r *Registry) SetLimits(l Limits) {
	r.mu.Lock()
	r.limits = l
	r.mu.Unlock()
}

func (r *Registry) user(uid uint32) *keyUser {
	u := r.users[uid]
	if u == nil {
		u = &keyUser{uid: uid}
		r.users[uid] = u
	}
	return u
}

func (r *Registry) quotas(uid uint32) (maxKeys, maxBytes int) {
	if uid == 0 {
		return r.limits.RootMaxKeys, r.limits.RootMaxBytes
	}
	return r.limits.MaxKeys, r.limits.MaxBytes
}

// allocFlags say how a new key counts against its owner's quota.
type allocFlags int

const (
	allocInQuota    allocFlags = iota // checked and counted (KEY_ALLOC_IN_QUOTA)
	allocOverrun                      // counted, may pass the quota (KEY_ALLOC_QUOTA_OVERRUN)
	allocUIDKeyring                   // a user keyring: checked and counted
)

// alloc makes a key (key_alloc) with one reference, the caller's:
// the description is vetted, the owner's quota charged for the key and
// its description, the sandbox's memory for the key. The key is not yet
// instantiated.
func (r *Registry) alloc(typ *keyType, desc string, uid, gid, perm uint32, flags allocFlags) (*Key, error) {
	if desc == "" {
		return nil, errInval
	}
	if typ.vet != nil {
		if err := typ.vet(desc); err != nil {
			return nil, err
		}
	}
	quotalen := len(desc) + 1
	u := r.user(uid)
	if flags != allocOverrun {
		maxKeys, maxBytes := r.quotas(uid)
		if u.qnkeys+1 > maxKeys || u.qnbytes+quotalen > maxBytes {
			return nil, errQuota
		}
	}
	charge := int64(keyOverhead + len(desc))
	if r.budget != nil && !r.budget.Charge(charge) {
		return nil, errNoMem
	}
	u.qnkeys++
	u.qnbytes += quotalen
	u.nkeys++
	k := &Key{serial: r.newSerial(), typ: typ, desc: desc, uid: uid, gid: gid, perm: perm,
		refs: 1, user: u, quotalen: quotalen, flags: flagInQuota, charged: charge}
	if flags == allocUIDKeyring {
		k.flags |= flagUIDKeyring
	}
	r.keys[k.serial] = k
	if typ.keyring && desc[0] != '.' {
		r.names[desc] = append(r.names[desc], k)
	}
	return k, nil
}

// newSerial picks an unused serial: positive, random, at least 3, as
// Linux's (1 and 2 were its static root keyrings).
func (r *Registry) newSerial() int32 {
	for {
		s := r.rnd.Int32()
		if s < 3 {
			continue
		}
		if _, used := r.keys[s]; !used {
			return s
		}
	}
}

// reserve is key_payload_reserve: the key's payload (or a keyring's
// links) now counts datalen bytes against its owner's quota.
func (r *Registry) reserve(k *Key, datalen int) error {
	delta := datalen - k.datalen
	if delta != 0 && k.flags&flagInQuota != 0 {
		_, maxBytes := r.quotas(k.user.uid)
		if delta > 0 && k.user.qnbytes+delta > maxBytes {
			return errQuota
		}
		k.user.qnbytes += delta
		k.quotalen += delta
	}
	k.datalen = datalen
	return nil
}

// setPayload replaces a key's payload, charging the sandbox's memory for
// the difference.
func (r *Registry) setPayload(k *Key, p []byte) error {
	delta := int64(len(p)) - int64(len(k.payload))
	if delta > 0 && r.budget != nil && !r.budget.Charge(delta) {
		return errNoMem
	}
	if delta < 0 && r.budget != nil {
		r.budget.Uncharge(-delta)
	}
	k.charged += delta
	k.payload = p
	return nil
}

// instantiate makes k positive with payload p (generic_key_instantiate):
// its owner's quota takes the payload first.
func (r *Registry) instantiate(k *Key, p []byte) error {
	if !k.typ.keyring {
		if err := r.reserve(k, len(p)); err != nil {
			return err
		}
		if err := r.setPayload(k, append([]byte(nil), p...)); err != nil {
			r.reserve(k, 0)
			return err
		}
	}
	k.state = 1
	k.user.nikeys++
	return nil
}

// get takes a reference to k.
func (r *Registry) get(k *Key) *Key {
	if k != nil {
		k.refs++
	}
	return k
}

// put drops a reference to k; the last one destroys it (Linux's garbage
// collector, run at once): it leaves the serial map and the name list,
// gives back its quota and memory, and a keyring drops its links.
func (r *Registry) put(k *Key) {
	for k != nil {
		k.refs--
		if k.refs > 0 {
			return
		}
		r.destroy(k)
		return
	}
}

func (r *Registry) destroy(k *Key) {
	delete(r.keys, k.serial)
	if l := r.names[k.desc]; k.typ.keyring && len(l) > 0 {
		for i, o := range l {
			if o == k {
				l = append(l[:i:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(r.names, k.desc)
		} else {
			r.names[k.desc] = l
		}
	}
	u := k.user
	if k.flags&flagInQuota != 0 {
		u.qnkeys--
		u.qnbytes -= k.quotalen
	}
	u.nkeys--
	if k.state != 0 {
		u.nikeys--
	}
	if r.budget != nil && k.charged > 0 {
		r.budget.Uncharge(k.charged)
	}
	k.charged = 0
	links := k.links
	k.links, k.index = nil, nil
	for _, l := range links {
		delete(l.parents, k)
		r.put(l)
	}
}

// unlinkEverywhere takes k out of every keyring that links it.
func (r *Registry) unlinkEverywhere(k *Key) {
	for p := range k.parents {
		if i := p.find(k.typ, k.desc); i >= 0 && p.links[i] == k {
			p.dropLink(i)
			r.reserve(p, p.datalen-linkBytes)
			r.put(k)
		}
	}
}

// scheduleGC asks for a sweep of dead keys at wall second t.
func (r *Registry) scheduleGC(t int64) {
	if r.nextGC == 0 || t < r.nextGC {
		r.nextGC = t
	}
}

// collect is the garbage collector's sweep (key_garbage_collector), run
// lazily at the start of operations once one is due: keys revoked or
// expired more than gc_delay ago are unlinked from every keyring.
func (r *Registry) collect() {
	now := r.now()
	if r.nextGC == 0 || now < r.nextGC {
		return
	}
	r.nextGC = 0
	delay := int64(r.limits.GCDelay)
	var dead []*Key
	for _, k := range r.keys {
		var since int64
		switch {
		case k.flags&flagRevoked != 0:
			since = k.revokedAt
		case k.expiry != 0:
			since = k.expiry
		default:
			continue
		}
		if now >= since+delay {
			dead = append(dead, k)
		} else {
			r.scheduleGC(since + delay)
		}
	}
	for _, k := range dead {
		if _, live := r.keys[k.serial]; live && len(k.parents) > 0 {
			r.get(k)
			r.unlinkEverywhere(k)
			r.put(k)
		}
	}
}
