package syscalls

import (
	"strings"

	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/kernel/keys"
)

// keyctl operations (KEYCTL_*).
const (
	keyctlGetKeyringID      = 0
	keyctlJoinSession       = 1
	keyctlUpdate            = 2
	keyctlRevoke            = 3
	keyctlChown             = 4
	keyctlSetperm           = 5
	keyctlDescribe          = 6
	keyctlClear             = 7
	keyctlLink              = 8
	keyctlUnlink            = 9
	keyctlSearch            = 10
	keyctlRead              = 11
	keyctlInstantiate       = 12
	keyctlNegate            = 13
	keyctlSetReqkeyKeyring  = 14
	keyctlSetTimeout        = 15
	keyctlAssumeAuthority   = 16
	keyctlGetSecurity       = 17
	keyctlSessionToParent   = 18
	keyctlReject            = 19
	keyctlInstantiateIOV    = 20
	keyctlInvalidate        = 21
	keyctlGetPersistent     = 22
	keyctlDHCompute         = 23
	keyctlPkeyQuery         = 24
	keyctlPkeyVerify        = 28
	keyctlRestrictKeyring   = 29
	keyctlMove              = 30
	keyctlCapabilities      = 31
	keyctlWatchKey          = 32
	keyctlCapabilitiesBytes = 2
)

// keyCapabilities is what KEYCTL_CAPABILITIES reports: capabilities,
// invalidate, restrict and move; namespaced keyring names and key tags.
// Not persistent keyrings, Diffie-Hellman, public keys, big keys or
// notifications, which uk lacks.
var keyCapabilities = [keyctlCapabilitiesBytes]byte{0x01 | 0x20 | 0x40 | 0x80, 0x01 | 0x02}

// keyType reads a key type name (key_get_type_from_user): at most 31
// bytes, not empty (EINVAL), not starting with '.' (EPERM).
func keyType(t *kernel.Task, addr uint64) (string, error) {
	s, err := t.CopyInString(addr, keys.MaxTypeSize)
	if err == unix.ENAMETOOLONG || (err == nil && s == "") {
		return "", unix.EINVAL
	}
	if err != nil {
		return "", err
	}
	if s[0] == '.' {
		return "", unix.EPERM
	}
	return s, nil
}

// keyString reads a string of at most max bytes with its NUL
// (strndup_user): EFAULT, or EINVAL when longer.
func keyString(t *kernel.Task, addr uint64, max int) (string, error) {
	s, err := t.CopyInString(addr, max)
	if err == unix.ENAMETOOLONG {
		return "", unix.EINVAL
	}
	return s, err
}

// sysAddKey is add_key(2), its checks in sys_add_key's order.
func sysAddKey(t *kernel.Task, a [6]uint64) (uint64, error) {
	typeAddr, descAddr, payAddr, plen, ring := a[0], a[1], a[2], a[3], int32(a[4])
	if plen > keys.MaxPayload {
		return 0, unix.EINVAL
	}
	typ, err := keyType(t, typeAddr)
	if err != nil {
		return 0, err
	}
	var desc string
	if descAddr != 0 {
		if desc, err = keyString(t, descAddr, keys.MaxDescSize); err != nil {
			return 0, err
		}
		if desc != "" && desc[0] == '.' && strings.HasPrefix(typ, "keyring") {
			return 0, unix.EPERM
		}
	}
	var payload []byte
	if plen > 0 {
		payload = make([]byte, plen)
		if err := t.CopyIn(payAddr, payload); err != nil {
			return 0, unix.EFAULT
		}
	}
	s, err := t.Kernel().Keys().AddKey(t.KeyCaller(), typ, desc, payload, ring)
	return uint64(s), err
}

// sysRequestKey is request_key(2).
func sysRequestKey(t *kernel.Task, a [6]uint64) (uint64, error) {
	typ, err := keyType(t, a[0])
	if err != nil {
		return 0, err
	}
	desc, err := keyString(t, a[1], keys.MaxDescSize)
	if err != nil {
		return 0, err
	}
	var callout *string
	if a[2] != 0 {
		c, err := keyString(t, a[2], 4096)
		if err != nil {
			return 0, err
		}
		callout = &c
	}
	s, err := t.Kernel().Keys().RequestKey(t.KeyCaller(), typ, desc, callout, int32(a[3]))
	return uint64(s), err
}

// sysKeyctl is keyctl(2): each operation reads its arguments as Linux's
// keyctl_* function does, then asks the registry.
func sysKeyctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	reg, c := t.Kernel().Keys(), t.KeyCaller()
	id := int32(a[1])
	switch int32(a[0]) {
	case keyctlGetKeyringID:
		s, err := reg.GetKeyringID(c, id, int32(a[2]) != 0)
		return uint64(s), err
	case keyctlJoinSession:
		var name *string
		if a[1] != 0 {
			n, err := keyString(t, a[1], keys.MaxDescSize)
			if err != nil {
				return 0, err
			}
			if n != "" && n[0] == '.' {
				return 0, unix.EPERM
			}
			name = &n
		}
		s, err := reg.JoinSession(c, name)
		return uint64(s), err
	case keyctlUpdate:
		plen := a[3]
		if plen > keys.MaxUpdate {
			return 0, unix.EINVAL
		}
		var payload []byte
		if plen > 0 {
			payload = make([]byte, plen)
			if err := t.CopyIn(a[2], payload); err != nil {
				return 0, unix.EFAULT
			}
		}
		return 0, reg.Update(c, id, payload)
	case keyctlRevoke:
		return 0, reg.Revoke(c, id)
	case keyctlChown:
		return 0, reg.Chown(c, id, uint32(a[2]), uint32(a[3]))
	case keyctlSetperm:
		return 0, reg.Setperm(c, id, uint32(a[2]))
	case keyctlDescribe:
		d, err := reg.Describe(c, id)
		if err != nil {
			return 0, err
		}
		if buf, n := a[2], uint64(uint32(a[3])); buf != 0 && n >= uint64(len(d)) {
			if err := t.CopyOut(buf, []byte(d)); err != nil {
				return 0, unix.EFAULT
			}
		}
		return uint64(len(d)), nil
	case keyctlClear:
		return 0, reg.Clear(c, id)
	case keyctlLink:
		return 0, reg.Link(c, id, int32(a[2]))
	case keyctlUnlink:
		return 0, reg.Unlink(c, id, int32(a[2]))
	case keyctlSearch:
		typ, err := keyType(t, a[2])
		if err != nil {
			return 0, err
		}
		desc, err := keyString(t, a[3], keys.MaxDescSize)
		if err != nil {
			return 0, err
		}
		s, err := reg.Search(c, id, typ, desc, int32(a[4]))
		return uint64(s), err
	case keyctlRead:
		buf, n := a[2], a[3]
		if buf == 0 {
			n = 0
		}
		size, data, err := reg.Read(c, id, n)
		if err != nil {
			return 0, err
		}
		if data != nil {
			if err := t.CopyOut(buf, data); err != nil {
				return 0, unix.EFAULT
			}
		}
		return uint64(size), nil
	case keyctlInstantiate:
		if plen := a[3]; a[2] != 0 && !accessOK(a[2], plen) {
			return 0, unix.EFAULT
		}
		return 0, keyInstantiateCommon(a[3])
	case keyctlInstantiateIOV:
		return 0, keyInstantiateIOV(t, a[2], a[3])
	case keyctlNegate:
		return 0, unix.EPERM // no authorisation key is ever held
	case keyctlReject:
		switch e := uint32(a[3]); {
		case e == 0 || e >= 4095 || e == 512 || e == 513 || e == 514 || e == 516:
			return 0, unix.EINVAL
		}
		return 0, unix.EPERM
	case keyctlSetReqkeyKeyring:
		old, err := reg.SetReqkeyKeyring(c, int(int32(a[1])))
		return uint64(int64(old)), err
	case keyctlSetTimeout:
		return 0, reg.SetTimeout(c, id, uint32(a[2]))
	case keyctlAssumeAuthority:
		s, err := reg.AssumeAuthority(c, id)
		return uint64(s), err
	case keyctlGetSecurity:
		if err := reg.GetSecurity(c, id); err != nil {
			return 0, err
		}
		if a[2] != 0 && a[3] > 0 {
			if err := t.CopyOut(a[2], []byte{0}); err != nil {
				return 0, unix.EFAULT
			}
		}
		return 1, nil
	case keyctlSessionToParent:
		return 0, t.SessionKeyringToParent()
	case keyctlInvalidate:
		return 0, reg.Invalidate(c, id)
	case keyctlRestrictKeyring:
		return 0, keyRestrict(t, reg, c, id, a[2], a[3])
	case keyctlMove:
		return 0, reg.Move(c, id, int32(a[2]), int32(a[3]), uint32(a[4]))
	case keyctlCapabilities:
		return keyctlCaps(t, a[1], a[2])
	case keyctlPkeyQuery:
		if a[2] != 0 {
			return 0, unix.EINVAL
		}
		return 0, unix.EOPNOTSUPP
	}
	// KEYCTL_GET_PERSISTENT, KEYCTL_DH_COMPUTE, the other KEYCTL_PKEY_*
	// and KEYCTL_WATCH_KEY are what a kernel without persistent
	// keyrings, Diffie-Hellman, asymmetric keys and key notifications
	// answers; any other operation is unknown.
	return 0, unix.EOPNOTSUPP
}

// keyInstantiateCommon is keyctl_instantiate_key_common without an
// authorisation key: a payload too big is EINVAL, anything else EPERM.
func keyInstantiateCommon(plen uint64) error {
	if plen > keys.MaxPayload {
		return unix.EINVAL
	}
	return unix.EPERM
}

// keyInstantiateIOV is KEYCTL_INSTANTIATE_IOV: the iovec array is read
// (as import_iovec) before the authority is looked for.
func keyInstantiateIOV(t *kernel.Task, iovAddr, ioc uint64) error {
	if iovAddr == 0 {
		ioc = 0
	}
	if ioc > 1024 {
		return unix.EINVAL
	}
	var total uint64
	for i := uint64(0); i < ioc; i++ {
		b := make([]byte, 16)
		if err := t.CopyIn(iovAddr+16*i, b); err != nil {
			return unix.EFAULT
		}
		l := uint64(b[8]) | uint64(b[9])<<8 | uint64(b[10])<<16 | uint64(b[11])<<24 |
			uint64(b[12])<<32 | uint64(b[13])<<40 | uint64(b[14])<<48 | uint64(b[15])<<56
		if int64(l) < 0 {
			return unix.EINVAL
		}
		total += l
	}
	return keyInstantiateCommon(min(total, 0x7ffff000))
}

// keyRestrict is KEYCTL_RESTRICT_KEYRING: the keyring first, then the
// type and restriction (both or neither).
func keyRestrict(t *kernel.Task, reg *keys.Registry, c *keys.Caller, id int32, typeAddr, resAddr uint64) error {
	if err := reg.RestrictLookup(c, id); err != nil {
		return err
	}
	var typ *string
	if typeAddr != 0 {
		if resAddr == 0 {
			return unix.EINVAL
		}
		s, err := keyType(t, typeAddr)
		if err != nil {
			return err
		}
		if _, err := keyString(t, resAddr, 4096); err != nil {
			return err
		}
		typ = &s
	} else if resAddr != 0 {
		return unix.EINVAL
	}
	return reg.Restrict(c, id, typ)
}

// keyctlCaps is KEYCTL_CAPABILITIES: the capability bytes that fit, the
// rest of the buffer zeroed; the size of the whole set.
func keyctlCaps(t *kernel.Task, buf, n uint64) (uint64, error) {
	if n > 0 {
		k := min(n, keyctlCapabilitiesBytes)
		if err := t.CopyOut(buf, keyCapabilities[:k]); err != nil {
			return 0, unix.EFAULT
		}
		zero := make([]byte, min(n-k, 1<<16))
		for off := k; off < n; off += uint64(len(zero)) {
			if t.Dying() {
				return 0, unix.EINTR // n is the program's: terabytes
			}
			z := zero[:min(uint64(len(zero)), n-off)]
			if err := t.CopyOut(buf+off, z); err != nil {
				return 0, unix.EFAULT
			}
		}
	}
	return keyctlCapabilitiesBytes, nil
}
