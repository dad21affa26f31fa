package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// The capability side of prctl: keepcaps, securebits and the ambient set,
// with Linux's checks (security/commoncap.c's cap_task_prctl).

// PR_CAP_AMBIENT's operations.
const (
	capAmbientIsSet    = 1
	capAmbientRaise    = 2
	capAmbientLower    = 3
	capAmbientClearAll = 4
)

// setKeepCaps is PR_SET_KEEPCAPS: 0 or 1, refused once the bit is locked.
func setKeepCaps(t *kernel.Task, v uint64) error {
	if v > 1 {
		return unix.EINVAL
	}
	old := t.Credentials()
	if old.Securebits&vfs.SecureKeepCapsLocked != 0 {
		return unix.EPERM
	}
	c := *old
	c.Securebits &^= vfs.SecureKeepCaps
	if v == 1 {
		c.Securebits |= vfs.SecureKeepCaps
	}
	t.SetCredentials(&c)
	return nil
}

// setSecurebits is PR_SET_SECUREBITS: every refusal is EPERM, whether the
// caller lacks CAP_SETPCAP, a locked bit would change, a lock would be
// dropped, or a bit is unknown.
func setSecurebits(t *kernel.Task, v uint64) error {
	old := t.Credentials()
	bits := uint64(old.Securebits)
	locks := bits & vfs.SecureAllLocks
	if (locks>>1)&(bits^v) != 0 || locks&^v != 0 || v&^(vfs.SecureAllLocks|vfs.SecureAllBits) != 0 ||
		!old.HasCap(vfs.CapSetPCap) {
		return unix.EPERM
	}
	c := *old
	c.Securebits = uint32(v)
	t.SetCredentials(&c)
	return nil
}

// capAmbient is PR_CAP_AMBIENT. A capability can be raised only when it is
// both permitted and inheritable and SECBIT_NO_CAP_AMBIENT_RAISE is clear.
func capAmbient(t *kernel.Task, op, capability, a4, a5 uint64) (uint64, error) {
	old := t.Credentials()
	if op == capAmbientClearAll {
		if capability|a4|a5 != 0 {
			return 0, unix.EINVAL
		}
		c := *old
		c.Ambient = 0
		t.SetCredentials(&c)
		return 0, nil
	}
	if capability > vfs.CapLast || a4|a5 != 0 {
		return 0, unix.EINVAL
	}
	bit := vfs.CapSet(1) << capability
	switch op {
	case capAmbientIsSet:
		if old.Ambient&bit != 0 {
			return 1, nil
		}
		return 0, nil
	case capAmbientRaise:
		if old.Permitted&bit == 0 || old.Inheritable&bit == 0 || old.Securebits&vfs.SecureNoAmbientRaise != 0 {
			return 0, unix.EPERM
		}
		c := *old
		c.Ambient |= bit
		t.SetCredentials(&c)
	case capAmbientLower:
		c := *old
		c.Ambient &^= bit
		t.SetCredentials(&c)
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}
