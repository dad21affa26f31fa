package keys

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// field returns the tunable called name in l.
func (l *Limits) field(name string) (*int, bool) {
	switch name {
	case "maxkeys":
		return &l.MaxKeys, true
	case "maxbytes":
		return &l.MaxBytes, true
	case "root_maxkeys":
		return &l.RootMaxKeys, true
	case "root_maxbytes":
		return &l.RootMaxBytes, true
	case "gc_delay":
		return &l.GCDelay, true
	case "persistent_keyring_expiry":
		return &l.PersistentExpiry, true
	}
	return nil, false
}

// Sysctl returns /proc/sys/kernel/keys/NAME.
func (r *Registry) Sysctl(name string) (int64, bool) {
	l := r.Limits()
	p, ok := l.field(name)
	if !ok {
		return 0, false
	}
	return int64(*p), true
}

// SetSysctl writes /proc/sys/kernel/keys/NAME: the quotas take 1 to
// INT_MAX, gc_delay and persistent_keyring_expiry 0 to INT_MAX, as
// Linux's proc_dointvec_minmax bounds them; outside that, EINVAL.
func (r *Registry) SetSysctl(name string, v int64) error {
	least := int64(1)
	if name == "gc_delay" || name == "persistent_keyring_expiry" {
		least = 0
	}
	if v < least || v > math.MaxInt32 {
		return unix.EINVAL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.limits.field(name)
	if !ok {
		return unix.ENOENT
	}
	*p = int(v)
	return nil
}

// KeyUsers is /proc/key-users: per user that has keys, "uid: usage
// nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes", by uid.
func (r *Registry) KeyUsers() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	uids := make([]uint32, 0, len(r.users))
	for uid, u := range r.users {
		if u.nkeys > 0 {
			uids = append(uids, uid)
		}
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	var b strings.Builder
	for _, uid := range uids {
		u := r.users[uid]
		maxKeys, maxBytes := r.quotas(uid)
		fmt.Fprintf(&b, "%5d: %5d %d/%d %d/%d %d/%d\n", uid, u.nkeys, u.nkeys, u.nikeys, u.qnkeys, maxKeys, u.qnbytes, maxBytes)
	}
	return b.String()
}
