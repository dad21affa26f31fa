package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// Capabilities: capget, capset and the bounding set's prctls, on the sets
// vfs.Credentials keeps (kernel/capability.c and security/commoncap.c).

// Versions of the capget/capset header (linux/capability.h): version 1
// has one 32-bit word a set, versions 2 and 3 two.
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capWords checks the header's version as Linux's cap_validate_magic and
// returns how many 32-bit words each set has in the data. For a version
// it does not know, it writes the one it prefers (3) into the header and
// says EINVAL (EFAULT if the header cannot be written).
func capWords(t *kernel.Task, hdr uint64) (int, error) {
	var b [4]byte
	if err := t.CopyIn(hdr, b[:]); err != nil {
		return 0, err
	}
	switch binary.LittleEndian.Uint32(b[:]) {
	case capVersion1:
		return 1, nil
	case capVersion2, capVersion3:
		return 2, nil
	}
	binary.LittleEndian.PutUint32(b[:], capVersion3)
	if err := t.CopyOut(hdr, b[:]); err != nil {
		return 0, err
	}
	return 0, unix.EINVAL
}

// capPid reads the header's pid.
func capPid(t *kernel.Task, hdr uint64) (int32, error) {
	var b [4]byte
	if err := t.CopyIn(hdr+4, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// sysCapget writes the sets of the thread the header names (0: the
// caller). A null data pointer probes the version: 0 with the preferred
// version written back, even when the header's was unknown.
func sysCapget(t *kernel.Task, a [6]uint64) (uint64, error) {
	words, err := capWords(t, a[0])
	if a[1] == 0 || err != nil {
		if a[1] == 0 && err == unix.EINVAL {
			return 0, nil
		}
		return 0, err
	}
	pid, err := capPid(t, a[0])
	if err != nil {
		return 0, err
	}
	var c *vfs.Credentials
	switch {
	case pid < 0:
		return 0, unix.EINVAL
	case pid == 0 || pid == t.TID():
		c = t.Credentials()
	default:
		target, ok := t.Kernel().SchedTargetByTID(pid)
		if !ok {
			return 0, unix.ESRCH
		}
		c = target.Credentials()
	}
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		shift := 32 * i
		binary.LittleEndian.PutUint32(b[12*i:], uint32(c.Effective>>shift))
		binary.LittleEndian.PutUint32(b[12*i+4:], uint32(c.Permitted>>shift))
		binary.LittleEndian.PutUint32(b[12*i+8:], uint32(c.Inheritable>>shift))
	}
	return 0, t.CopyOut(a[1], b)
}

// sysCapset replaces the caller's own sets (another thread's: EPERM), by
// Linux's rules: without CAP_SETPCAP the inheritable set only from the
// old inheritable and permitted ones; the inheritable set within the old
// one and the bounding set; the permitted set never grows; the effective
// set within the new permitted one. Each broken rule is EPERM.
func sysCapset(t *kernel.Task, a [6]uint64) (uint64, error) {
	words, err := capWords(t, a[0])
	if err != nil {
		return 0, err
	}
	pid, err := capPid(t, a[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && pid != t.TID() {
		return 0, unix.EPERM
	}
	b := make([]byte, 12*words)
	if err := t.CopyIn(a[1], b); err != nil {
		return 0, err
	}
	var eff, perm, inh vfs.CapSet
	for i := 0; i < words; i++ {
		shift := 32 * i
		eff |= vfs.CapSet(binary.LittleEndian.Uint32(b[12*i:])) << shift
		perm |= vfs.CapSet(binary.LittleEndian.Uint32(b[12*i+4:])) << shift
		inh |= vfs.CapSet(binary.LittleEndian.Uint32(b[12*i+8:])) << shift
	}
	eff, perm, inh = eff&vfs.AllCaps, perm&vfs.AllCaps, inh&vfs.AllCaps
	old := t.Credentials()
	switch {
	case old.Effective&(1<<vfs.CapSetPCap) == 0 && inh&^(old.Inheritable|old.Permitted) != 0,
		inh&^(old.Inheritable|old.Bounding) != 0,
		perm&^old.Permitted != 0,
		eff&^perm != 0:
		return 0, unix.EPERM
	}
	c := *old
	c.SetCaps(eff, perm, inh)
	t.SetCredentials(&c)
	return 0, nil
}

// dropBoundingCap is PR_CAPBSET_DROP: EINVAL for a capability Linux does
// not know, EPERM without CAP_SETPCAP.
func dropBoundingCap(t *kernel.Task, capability uint64) error {
	if capability > vfs.CapLast {
		return unix.EINVAL
	}
	old := t.Credentials()
	if old.Effective&(1<<vfs.CapSetPCap) == 0 {
		return unix.EPERM
	}
	c := *old
	c.Bounding &^= 1 << capability
	t.SetCredentials(&c)
	return nil
}
