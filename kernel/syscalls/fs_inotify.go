package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/inotify"
	"uk/fs/vfs"
	"uk/kernel"
)

// The inotify calls (fs/inotify has the instance and its watches); the
// checks come in the order of Linux's fs/notify/inotify/inotify_user.c.

func sysInotifyInit1(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(a[0])
	v, _, err := t.VFS()
	if err != nil {
		return 0, err
	}
	d, err := inotify.New(v, t.Kernel().Inotify(), t.Credentials().EUID, t.MemoryBudget(), flags)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, flags&unix.IN_CLOEXEC != 0, t.NoFileLimit())
	return uint64(n), err
}

func sysInotifyInit(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sysInotifyInit1(t, [6]uint64{0})
}

// inotifyOf returns the instance fd refers to with a reference on its
// description: EBADF for no file, EINVAL for a file of another kind.
func inotifyOf(t *kernel.Task, fd int32) (*inotify.Instance, *vfs.FileDescription, error) {
	d, err := t.FD(fd)
	if err != nil {
		return nil, nil, err
	}
	in := inotify.Of(d)
	if in == nil {
		d.DecRef()
		return nil, nil, unix.EINVAL
	}
	return in, d, nil
}

func sysInotifyAddWatch(t *kernel.Task, a [6]uint64) (uint64, error) {
	mask := uint32(a[2])
	if err := inotify.Check(mask); err != nil {
		return 0, err
	}
	in, d, err := inotifyOf(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	v, at, p, err := pathAt(t, kernel.AtFDCWD, a[1])
	if err != nil {
		return 0, err
	}
	flags := 0
	if !inotify.Follow(mask) {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	q, err := v.Resolve(t, at, p, flags)
	if err != nil {
		return 0, err
	}
	if inotify.OnlyDir(mask) && !q.Dentry.IsDir() {
		return 0, unix.ENOTDIR
	}
	if err := v.Permission(t, q, vfs.MayRead); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(q, mask)
	return uint64(wd), err
}

func sysInotifyRmWatch(t *kernel.Task, a [6]uint64) (uint64, error) {
	in, d, err := inotifyOf(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return 0, in.RemoveWatch(int32(a[1]))
}
