package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// optString reads an optional string argument (NULL gives "").
func optString(t *kernel.Task, addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", nil
	}
	return t.CopyInString(addr, max)
}

func sysMount(t *kernel.Task, a [6]uint64) (uint64, error) {
	// A task whose Landlock domain limits file access may not change
	// the mount tree it is limited by.
	if !t.Credentials().Privileged || vfs.LandlockRestricted(t) {
		return 0, unix.EPERM
	}
	source, err := optString(t, a[0], 4096)
	if err != nil {
		return 0, err
	}
	target, err := copyPath(t, a[1])
	if err != nil {
		return 0, err
	}
	fstype, err := optString(t, a[2], 256)
	if err != nil {
		return 0, err
	}
	flags := a[3]
	// The data page: mount options for the filesystem types uk has are
	// strings; a binary blob is cut at its first NUL, as Linux's parsers do.
	data, err := optString(t, a[4], 4096)
	if err != nil && err != unix.ENAMETOOLONG {
		return 0, err
	}
	// MS_MGC_VAL in the top half is the pre-2.4 magic, ignored.
	if flags&0xffff0000 == unix.MS_MGC_VAL {
		flags &= 0xffff
	}
	v, at, err := t.At(kernel.AtFDCWD, target)
	if err != nil {
		return 0, err
	}
	return 0, v.Mount(t, t.MountNamespace(), at, source, target, fstype, flags, data)
}

func sysUmount2(t *kernel.Task, a [6]uint64) (uint64, error) {
	// A task whose Landlock domain limits file access may not change
	// the mount tree it is limited by.
	if !t.Credentials().Privileged || vfs.LandlockRestricted(t) {
		return 0, unix.EPERM
	}
	v, at, target, err := pathAt(t, kernel.AtFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, v.Umount(t, t.MountNamespace(), at, target, int(a[1]))
}

func sysPivotRoot(t *kernel.Task, a [6]uint64) (uint64, error) {
	if !t.Credentials().Privileged || vfs.LandlockRestricted(t) {
		return 0, unix.EPERM
	}
	newRoot, err := copyPath(t, a[0])
	if err != nil {
		return 0, err
	}
	putOld, err := copyPath(t, a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.PivotRoot(newRoot, putOld)
}
