package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/fanotify"
	"uk/fs/vfs"
	"uk/kernel"
)

// The fanotify calls (fs/fanotify has the group, its marks and events);
// the checks come in the order of Linux's fs/notify/fanotify/fanotify_user.c.

func sysFanotifyInit(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags, eventFlags := uint32(a[0]), uint32(a[1])
	// Groups that report descriptors are root's (CAP_SYS_ADMIN).
	if !t.Credentials().HasCap(capSysAdmin) {
		return 0, unix.EPERM
	}
	v, _, err := t.VFS()
	if err != nil {
		return 0, err
	}
	d, err := fanotify.New(v, t.Kernel().Fanotify(), t.Credentials().EUID, t.MemoryBudget(), flags, eventFlags)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, flags&fanotify.FlagCloexec != 0, t.NoFileLimit())
	return uint64(n), err
}

func sysFanotifyMark(t *kernel.Task, a [6]uint64) (uint64, error) {
	fd, flags, mask, dirfd, pathAddr := int32(a[0]), uint32(a[1]), a[2], int32(a[3]), a[4]
	if err := fanotify.CheckMark(flags, mask); err != nil {
		return 0, err
	}
	d, err := t.FD(fd)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	g := fanotify.Of(d)
	if g == nil {
		return 0, unix.EINVAL
	}
	if err := g.CheckEvents(uint32(mask)); err != nil {
		return 0, err
	}
	if fanotify.Flush(flags) {
		return 0, g.Mark(flags, uint32(mask), vfs.Path{})
	}
	var p vfs.Path
	if pathAddr == 0 {
		// No path: the mark is on what dirfd is open at.
		o, err := t.FD(dirfd)
		if err != nil {
			return 0, err
		}
		p = o.Path()
		o.DecRef()
		if p.Dentry == nil {
			return 0, unix.EINVAL
		}
		if fanotify.OnlyDir(flags) && !p.Dentry.IsDir() {
			return 0, unix.ENOTDIR
		}
	} else {
		v, at, path, err := pathAt(t, dirfd, pathAddr)
		if err != nil {
			return 0, err
		}
		rflags := 0
		if !fanotify.Follow(flags) {
			rflags = unix.AT_SYMLINK_NOFOLLOW
		}
		if p, err = v.Resolve(t, at, path, rflags); err != nil {
			return 0, err
		}
		if fanotify.OnlyDir(flags) && !p.Dentry.IsDir() {
			return 0, unix.ENOTDIR
		}
		if err := v.Permission(t, p, vfs.MayRead); err != nil {
			return 0, err
		}
	}
	return 0, g.Mark(flags, uint32(mask), p)
}
