package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel"
	"uk/kernel/landlock"
)

// landlock_create_ruleset(2), landlock_add_rule(2) and
// landlock_restrict_self(2); kernel/landlock has the rules and the
// checks. The arguments are checked in the order of Linux's
// security/landlock/syscalls.c.

// landlock_create_ruleset flags.
const (
	landlockCreateRulesetVersion = 1 << 0
	landlockCreateRulesetErrata  = 1 << 1
)

// landlock_restrict_self flags (ABI 7): logging choices; uk has no audit
// log, so they change nothing.
const landlockRestrictSelfLogMask = 1<<0 | 1<<1 | 1<<2

// landlockRestrictSelfLogSubdomainsOff may come with fd -1 alone.
const landlockRestrictSelfLogSubdomainsOff = 1 << 2

// Rule types.
const (
	landlockRulePathBeneath = 1
	landlockRuleNetPort     = 2
)

// landlockRulesetAttrSize is struct landlock_ruleset_attr's size
// (handled_access_fs, handled_access_net, scoped); a caller may pass only
// the first field or more (zero) bytes.
const (
	landlockRulesetAttrSize    = 24
	landlockRulesetAttrMinSize = 8
)

func sysLandlockCreateRuleset(t *kernel.Task, a [6]uint64) (uint64, error) {
	attrAddr, size, flags := a[0], a[1], uint32(a[2])
	if flags != 0 {
		if attrAddr != 0 || size != 0 {
			return 0, unix.EINVAL
		}
		switch flags {
		case landlockCreateRulesetVersion:
			return landlock.ABIVersion, nil
		case landlockCreateRulesetErrata:
			return landlock.Errata, nil
		}
		return 0, unix.EINVAL
	}
	if attrAddr == 0 {
		return 0, unix.EFAULT
	}
	if size < landlockRulesetAttrMinSize {
		return 0, unix.EINVAL
	}
	if size > arch.PageSize {
		return 0, unix.E2BIG
	}
	// copy_struct_from_user: exactly size bytes (no more: the struct may
	// end at the end of the caller's memory); bytes past the fields uk
	// knows must be zero.
	buf := make([]byte, max(size, landlockRulesetAttrSize))
	if err := t.CopyIn(attrAddr, buf[:size]); err != nil {
		return 0, err
	}
	for _, b := range buf[landlockRulesetAttrSize:] {
		if b != 0 {
			return 0, unix.E2BIG
		}
	}
	d, err := landlock.NewRuleset(binary.LittleEndian.Uint64(buf[0:]), binary.LittleEndian.Uint64(buf[8:]), binary.LittleEndian.Uint64(buf[16:]), vfs.ChargerOf(t))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, true, t.NoFileLimit())
	return uint64(n), err
}

// landlockRuleset returns the ruleset open as fd n: EBADF if n is no
// open file (or an O_PATH one), EBADFD if it is another kind of file,
// EPERM if it is not open for what the caller does with it.
func landlockRuleset(t *kernel.Task, n int32, write bool) (*landlock.Ruleset, error) {
	d, _, err := t.Files.Get(n)
	if err != nil {
		return nil, err
	}
	defer d.DecRef()
	if d.IsPath() {
		return nil, unix.EBADF
	}
	r := landlock.RulesetOf(d)
	switch {
	case r == nil:
		return nil, unix.EBADFD
	case write && !d.Writable(), !write && !d.Readable():
		return nil, unix.EPERM
	}
	return r, nil
}

func sysLandlockAddRule(t *kernel.Task, a [6]uint64) (uint64, error) {
	fd, ruleType, attrAddr, flags := int32(a[0]), a[1], a[2], uint32(a[3])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	r, err := landlockRuleset(t, fd, true)
	if err != nil {
		return 0, err
	}
	switch ruleType {
	case landlockRulePathBeneath:
		// struct landlock_path_beneath_attr is packed: allowed_access,
		// then parent_fd, 12 bytes.
		var b [12]byte
		if err := t.CopyIn(attrAddr, b[:]); err != nil {
			return 0, err
		}
		allowed := binary.LittleEndian.Uint64(b[0:])
		if allowed == 0 {
			return 0, unix.ENOMSG
		}
		if allowed&^r.HandledFS() != 0 {
			return 0, unix.EINVAL
		}
		parent, _, err := t.Files.Get(int32(binary.LittleEndian.Uint32(b[8:])))
		if err != nil {
			return 0, err
		}
		p := parent.Path()
		parent.DecRef()
		// Only a file of the tree can carry a rule: not a pipe, a
		// socket or an anonymous file (a ruleset among them).
		if p.Dentry == nil {
			return 0, unix.EBADFD
		}
		return 0, r.AddPathRule(allowed, p.Dentry.Inode(), p.Dentry.IsDir())
	case landlockRuleNetPort:
		var b [16]byte
		if err := t.CopyIn(attrAddr, b[:]); err != nil {
			return 0, err
		}
		return 0, r.AddPortRule(binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:]))
	}
	return 0, unix.EINVAL
}

func sysLandlockRestrictSelf(t *kernel.Task, a [6]uint64) (uint64, error) {
	fd, flags := int32(a[0]), uint32(a[1])
	// Restricting needs no privilege, but a program that may gain some
	// at an exec must have given that up first (or be privileged).
	if !t.NoNewPrivs() && !t.Credentials().HasCap(capSysAdmin) {
		return 0, unix.EPERM
	}
	if flags&^landlockRestrictSelfLogMask != 0 {
		return 0, unix.EINVAL
	}
	if fd == -1 && flags == landlockRestrictSelfLogSubdomainsOff {
		return 0, nil
	}
	r, err := landlockRuleset(t, fd, false)
	if err != nil {
		return 0, err
	}
	c := t.Credentials()
	dom := landlock.Of(c)
	if dom.Layers() >= landlock.MaxLayers {
		return 0, unix.E2BIG
	}
	restricted, err := dom.Restrict(r)
	if err != nil {
		return 0, err
	}
	n := *c
	n.Landlock = restricted
	t.SetCredentials(&n)
	return 0, nil
}
