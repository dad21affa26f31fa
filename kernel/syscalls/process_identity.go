package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

func sysGetuid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.Credentials().UID), nil }
func sysGeteuid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return uint64(t.Credentials().EUID), nil
}
func sysGetgid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.Credentials().GID), nil }
func sysGetegid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return uint64(t.Credentials().EGID), nil
}

func sysGetresuid(t *kernel.Task, a [6]uint64) (uint64, error) {
	c := t.Credentials()
	return 0, putIDs(t, a, c.UID, c.EUID, c.SUID)
}

func sysGetresgid(t *kernel.Task, a [6]uint64) (uint64, error) {
	c := t.Credentials()
	return 0, putIDs(t, a, c.GID, c.EGID, c.SGID)
}

func putIDs(t *kernel.Task, a [6]uint64, ids ...uint32) error {
	for i, id := range ids {
		if err := putUint32(t, a[i], id); err != nil {
			return err
		}
	}
	return nil
}

// noChange is (uid_t)-1: "leave this id as it is".
const noChange = 0xffffffff

// Capabilities the id changes need.
const (
	capSetGID = 6 // CAP_SETGID
	capSetUID = 7 // CAP_SETUID
)

// idCap is the capability that lets a caller set any user id (or, with
// group, any group id).
func idCap(c *vfs.Credentials, group bool) bool {
	if group {
		return c.HasCap(capSetGID)
	}
	return c.HasCap(capSetUID)
}

// setIDs implements setresuid/setresgid: a caller without CAP_SETUID
// (CAP_SETGID) may only move each id to one of its current real,
// effective or saved ids.
func setIDs(t *kernel.Task, r, e, s uint32, group bool) error {
	old := t.Credentials()
	privileged := idCap(old, group)
	c := *old
	c.Groups = append([]uint32(nil), old.Groups...)
	cur := [3]*uint32{&c.UID, &c.EUID, &c.SUID}
	fs := &c.FSUID
	if group {
		cur = [3]*uint32{&c.GID, &c.EGID, &c.SGID}
		fs = &c.FSGID
	}
	allowed := func(id uint32) bool {
		return privileged || id == *cur[0] || id == *cur[1] || id == *cur[2]
	}
	want := [3]uint32{r, e, s}
	for _, id := range want {
		if id != noChange && !allowed(id) {
			return unix.EPERM
		}
	}
	for i, id := range want {
		if id != noChange {
			*cur[i] = id
		}
	}
	*fs = *cur[1]
	if !group {
		c.AfterSetuid(old)
	}
	t.SetCredentials(&c)
	return nil
}

func sysSetresuid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setIDs(t, uint32(a[0]), uint32(a[1]), uint32(a[2]), false)
}

func sysSetresgid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setIDs(t, uint32(a[0]), uint32(a[1]), uint32(a[2]), true)
}

func sysSetreuid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setREIDs(t, uint32(a[0]), uint32(a[1]), false)
}

func sysSetregid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setREIDs(t, uint32(a[0]), uint32(a[1]), true)
}

// setREIDs implements setreuid/setregid as Linux's __sys_setreuid: without
// CAP_SETUID (CAP_SETGID) the real id may become only the real or
// effective one, the effective id any of the three; and the saved id
// follows the new effective one whenever the real id is set or the
// effective one moves away from the real one, so that a process dropping
// root with setreuid(x, x) cannot take it back.
func setREIDs(t *kernel.Task, r, e uint32, group bool) error {
	old := t.Credentials()
	privileged := idCap(old, group)
	c := *old
	c.Groups = append([]uint32(nil), old.Groups...)
	real, eff, saved, fs := &c.UID, &c.EUID, &c.SUID, &c.FSUID
	if group {
		real, eff, saved, fs = &c.GID, &c.EGID, &c.SGID, &c.FSGID
	}
	oldReal, oldEff, oldSaved := *real, *eff, *saved
	if r != noChange {
		if !privileged && r != oldReal && r != oldEff {
			return unix.EPERM
		}
		*real = r
	}
	if e != noChange {
		if !privileged && e != oldReal && e != oldEff && e != oldSaved {
			return unix.EPERM
		}
		*eff = e
	}
	if r != noChange || e != noChange && e != oldReal {
		*saved = *eff
	}
	*fs = *eff
	if !group {
		c.AfterSetuid(old)
	}
	t.SetCredentials(&c)
	return nil
}

// setuid: callers with CAP_SETUID set all three ids, others only the
// effective, and only to the real or saved id (Linux's __sys_setuid);
// -1 is no id at all.
func sysSetuid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setOneID(t, uint32(a[0]), false)
}

func sysSetgid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setOneID(t, uint32(a[0]), true)
}

// setOneID implements setuid and setgid.
func setOneID(t *kernel.Task, id uint32, group bool) error {
	if id == noChange {
		return unix.EINVAL
	}
	old := t.Credentials()
	if idCap(old, group) {
		return setIDs(t, id, id, id, group)
	}
	real, saved := old.UID, old.SUID
	if group {
		real, saved = old.GID, old.SGID
	}
	if id != real && id != saved {
		return unix.EPERM
	}
	return setIDs(t, noChange, id, noChange, group)
}

func sysGetgroups(t *kernel.Task, a [6]uint64) (uint64, error) {
	g := t.Credentials().Groups
	n := int(int32(a[0]))
	if n < 0 {
		return 0, unix.EINVAL
	}
	if n == 0 {
		return uint64(len(g)), nil
	}
	if n < len(g) {
		return 0, unix.EINVAL
	}
	for i, id := range g {
		if err := putUint32(t, a[1]+uint64(4*i), id); err != nil {
			return 0, err
		}
	}
	return uint64(len(g)), nil
}

func sysSetgroups(t *kernel.Task, a [6]uint64) (uint64, error) {
	old := t.Credentials()
	if !old.HasCap(capSetGID) {
		return 0, unix.EPERM
	}
	n := int(int32(a[0]))
	if n < 0 || n > 65536 {
		return 0, unix.EINVAL
	}
	buf := make([]byte, 4*n)
	if err := t.CopyIn(a[1], buf); err != nil {
		return 0, err
	}
	c := *old
	c.Groups = make([]uint32, n)
	for i := range c.Groups {
		c.Groups[i] = uint32(buf[4*i]) | uint32(buf[4*i+1])<<8 | uint32(buf[4*i+2])<<16 | uint32(buf[4*i+3])<<24
		if c.Groups[i] == noChange {
			return 0, unix.EINVAL // (gid_t)-1 is no group
		}
	}
	t.SetCredentials(&c)
	return 0, nil
}

// setfs implements setfsuid/setfsgid: it always returns the old value and
// changes it only to an id the caller already has (or anything for root).
func setfs(t *kernel.Task, id uint32, group bool) uint64 {
	old := t.Credentials()
	cur, ids := old.FSUID, []uint32{old.UID, old.EUID, old.SUID, old.FSUID}
	if group {
		cur, ids = old.FSGID, []uint32{old.GID, old.EGID, old.SGID, old.FSGID}
	}
	if id == noChange {
		return uint64(cur)
	}
	ok := idCap(old, group)
	for _, have := range ids {
		ok = ok || have == id
	}
	if ok {
		c := *old
		if group {
			c.FSGID = id
		} else {
			c.FSUID = id
			fsuidCaps(&c, old.FSUID)
		}
		t.SetCredentials(&c)
	}
	return uint64(cur)
}

// capFSMask are the capabilities that follow the filesystem uid (Linux's
// CAP_FS_SET): chown, dac_override, dac_read_search, fowner, fsetid,
// linux_immutable, mknod and mac_override.
const capFSMask vfs.CapSet = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<9 | 1<<27 | 1<<32

// fsuidCaps applies Linux's rule for a filesystem uid change from old
// (cap_task_fix_setuid, LSM_SETID_FS): leaving 0 drops the filesystem
// capabilities from the effective set, coming back to 0 raises those
// that are permitted; SECBIT_NO_SETUID_FIXUP turns it off.
func fsuidCaps(c *vfs.Credentials, old uint32) {
	if c.Securebits&vfs.SecureNoSetuidFixup != 0 {
		return
	}
	eff := c.Effective
	switch {
	case old == 0 && c.FSUID != 0:
		eff &^= capFSMask
	case old != 0 && c.FSUID == 0:
		eff |= c.Permitted & capFSMask
	}
	c.SetCaps(eff, c.Permitted, c.Inheritable)
}

func sysSetfsuid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return setfs(t, uint32(a[0]), false), nil
}
func sysSetfsgid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return setfs(t, uint32(a[0]), true), nil
}

func sysGetpid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.PID()), nil }

func sysGettid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.TID()), nil }

func sysGetppid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.PPID()), nil }
