package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

// sysUstat is ustat(2): the free blocks and inodes of the filesystem
// with device number dev (Linux's 32-bit encoding, new_decode_dev); EINVAL
// when no mounted filesystem has it. struct ustat on x86-64 is 32 bytes:
// f_tfree (int) at 0, f_tinode (unsigned long) at 8, then f_fname and
// f_fpack, which Linux leaves zero.
func sysUstat(t *kernel.Task, a [6]uint64) (uint64, error) {
	dev := uint32(a[0])
	major := (dev & 0xfff00) >> 8
	minor := dev&0xff | (dev>>12)&0xfff00
	v, _, err := t.VFS()
	if err != nil {
		return 0, err
	}
	s, err := v.StatfsDev(t, unix.Mkdev(major, minor))
	if err != nil {
		return 0, err
	}
	var b [32]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(s.Bfree))
	binary.LittleEndian.PutUint64(b[8:], s.Ffree)
	return 0, t.CopyOut(a[1], b[:])
}

// sysVhangup is vhangup(2).
func sysVhangup(t *kernel.Task, _ [6]uint64) (uint64, error) {
	return 0, t.VHangup()
}

// sysAcct is acct(2); a null name turns accounting off.
func sysAcct(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[0] == 0 {
		return 0, t.Acct(nil)
	}
	return 0, t.Acct(func() (string, error) { return copyPath(t, a[0]) })
}

// sysSysfs is the old sysfs(2): option 1 numbers the filesystem type
// named at arg1 (EINVAL for none), option 2 copies the name of type
// number arg1 to arg2, option 3 counts the types; the numbering is
// /proc/filesystems's order.
func sysSysfs(t *kernel.Task, a [6]uint64) (uint64, error) {
	types := t.Kernel().Filesystems
	switch int32(a[0]) {
	case 1:
		name, err := copyPath(t, a[1])
		if err != nil {
			return 0, err
		}
		if name == "" {
			return 0, unix.ENOENT // getname's answer for an empty name
		}
		for i, n := range types {
			if n == name {
				return uint64(i), nil
			}
		}
	case 2:
		if i := uint32(a[1]); int(i) < len(types) { // an unsigned int, as Linux's fs_name
			return 0, t.CopyOut(a[2], append([]byte(types[i]), 0))
		}
	case 3:
		return uint64(len(types)), nil
	}
	return 0, unix.EINVAL
}
