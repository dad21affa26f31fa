package keys

// Key is one key or keyring. All fields are protected by Registry.mu.
type Key struct {
	serial int32
	typ    *keyType
	desc   string
	uid    uint32
	gid    uint32 // noID: none (the user keyrings)
	perm   uint32
	// state: 0 uninstantiated, 1 positive, below 0 negative with that
	// errno (Linux's key->state).
	state   int
	payload []byte
	flags   keyFlags
	// expiry and revokedAt are wall-clock seconds; 0: never.
	expiry    int64
	revokedAt int64
	// refs counts what holds the key: links from keyrings, tasks'
	// keyring slots, the user keyring register.
	refs int
	user *keyUser
	// quotalen is what the key charges its owner's qnbytes (when
	// flagInQuota); datalen is the part of it that is payload (for a
	// keyring: its links' bytes).
	quotalen, datalen int
	// charged is what the key charges the sandbox's memory.
	charged int64

	// Keyrings only: links are the keys linked, in link order; parents
	// the keyrings that link this key (of any type); restricted says
	// KEYCTL_RESTRICT_KEYRING made it refuse every new link.
	links      []*Key
	index      map[indexKey]int // position in links by type and description
	parents    map[*Key]struct{}
	restricted bool
}

// indexKey is what a keyring indexes its links by: two keys with the same
// type and description cannot both be linked in one keyring.
type indexKey struct {
	typ  *keyType
	desc string
}

type keyFlags uint32

const (
	flagRevoked keyFlags = 1 << iota
	flagInvalidated
	flagInQuota
	flagUIDKeyring
)

// Serial is the key's serial number.
func (k *Key) Serial() int32 { return k.serial }

// dead reports whether the key is revoked or invalidated.
func (k *Key) dead() bool { return k.flags&(flagRevoked|flagInvalidated) != 0 }

// validate is key_validate: whether the key may be used at wall time now.
func (k *Key) validate(now int64) error {
	if k.flags&flagInvalidated != 0 {
		return errNoKey
	}
	if k.flags&flagRevoked != 0 {
		return errRevoked
	}
	if k.expired(now) {
		return errExpired
	}
	return nil
}

func (k *Key) expired(now int64) bool { return k.expiry != 0 && now >= k.expiry }

// shownID is an id as Linux shows it: an unset one as the overflow id.
func shownID(id uint32) uint32 {
	if id == noID {
		return overflow
	}
	return id
}

// find returns the position of keyring kr's link with that type and
// description, or -1.
func (kr *Key) find(typ *keyType, desc string) int {
	if i, ok := kr.index[indexKey{typ, desc}]; ok {
		return i
	}
	return -1
}

// addLink puts k in keyring kr, which has no link of k's index yet.
func (kr *Key) addLink(k *Key) {
	if kr.index == nil {
		kr.index = make(map[indexKey]int)
	}
	kr.index[indexKey{k.typ, k.desc}] = len(kr.links)
	kr.links = append(kr.links, k)
	if k.parents == nil {
		k.parents = make(map[*Key]struct{})
	}
	k.parents[kr] = struct{}{}
}

// dropLink takes the link at position i out of keyring kr (the last link
// takes its place: a keyring's order is not Linux's anyway, which is by
// hash) and returns the key it held, whose reference the caller now has.
func (kr *Key) dropLink(i int) *Key {
	k := kr.links[i]
	last := len(kr.links) - 1
	if i != last {
		m := kr.links[last]
		kr.links[i] = m
		kr.index[indexKey{m.typ, m.desc}] = i
	}
	kr.links[last] = nil
	kr.links = kr.links[:last]
	delete(kr.index, indexKey{k.typ, k.desc})
	delete(k.parents, kr)
	return k
}
