package vfs

import "golang.org/x/sys/unix"

// FileBase gives a FileImpl Linux's answers for operations it does not
// have: read/write EINVAL, lseek ESPIPE, getdents ENOTDIR, ioctl ENOTTY,
// truncate EINVAL, fsync EINVAL, always ready for I/O, no-op release. Its
// Stat reports the inode the description was opened on, so files living in
// the tree need not implement Stat.
type FileBase struct{}

// Read returns EINVAL.
func (FileBase) Read(Context, *FileDescription, []byte, int64) (int, error) { return 0, unix.EINVAL }

// Write returns EINVAL.
func (FileBase) Write(Context, *FileDescription, []byte, int64) (int, error) { return 0, unix.EINVAL }

// Seek returns ESPIPE.
func (FileBase) Seek(Context, *FileDescription, int64, int64, int) (int64, error) {
	return 0, unix.ESPIPE
}

// Stat reports the attributes of the inode fd was opened on (EBADF for
// anonymous files, which must implement Stat themselves).
func (FileBase) Stat(ctx Context, fd *FileDescription) (Stat, error) {
	if fd.path.Dentry == nil {
		return Stat{}, unix.EBADF
	}
	return fd.path.Dentry.stat(ctx)
}

// Getdents returns ENOTDIR.
func (FileBase) Getdents(Context, *FileDescription, int64, func(Dirent) bool) error {
	return unix.ENOTDIR
}

// Ioctl returns ENOTTY.
func (FileBase) Ioctl(Context, *FileDescription, uint32, uint64) (uintptr, error) {
	return 0, unix.ENOTTY
}

// Readiness reports DefaultReadiness.
func (FileBase) Readiness(mask EventMask) EventMask { return mask & DefaultReadiness }

// EventRegister does nothing: readiness never changes.
func (FileBase) EventRegister(*Waiter) {}

// EventUnregister does nothing.
func (FileBase) EventUnregister(*Waiter) {}

// Truncate returns EINVAL.
func (FileBase) Truncate(Context, *FileDescription, int64) error { return unix.EINVAL }

// Fsync returns EINVAL.
func (FileBase) Fsync(Context, *FileDescription) error { return unix.EINVAL }

// Release does nothing.
func (FileBase) Release() {}

// AnonFileBase is FileBase for the anonymous-inode files whose lseek
// succeeds and moves nothing (Linux gives eventfd, timerfd, signalfd,
// epoll, inotify, fanotify and userfaultfd noop_llseek; pidfd and a
// landlock ruleset have none, and keep FileBase's ESPIPE).
type AnonFileBase struct{ FileBase }

// Seek returns the unchanged offset, whatever is asked.
func (AnonFileBase) Seek(_ Context, _ *FileDescription, cur, _ int64, _ int) (int64, error) {
	return cur, nil
}
