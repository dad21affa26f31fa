package vfs

import "golang.org/x/sys/unix"

// dirFile is the open file of a directory: getdents with "." and ".."
// first, then the filesystem's entries at their stable offsets.
type dirFile struct {
	FileBase
	v *VFS
}

func (f *dirFile) Read(Context, *FileDescription, []byte, int64) (int, error) {
	return 0, unix.EISDIR
}

func (f *dirFile) Write(Context, *FileDescription, []byte, int64) (int, error) {
	return 0, unix.EISDIR
}

func (f *dirFile) Seek(_ Context, _ *FileDescription, cur, off int64, whence int) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		off += cur
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}

func (f *dirFile) Getdents(ctx Context, fd *FileDescription, off int64, emit func(Dirent) bool) error {
	d := fd.path.Dentry
	if d.IsDeleted() {
		// A removed directory lists nothing, not even . and ..: Linux's
		// iterate_dir fails on a dead directory (LTP's getdents02).
		return unix.ENOENT
	}
	if off == 0 {
		st, err := d.inode.Stat(ctx)
		if err != nil {
			return err
		}
		if !emit(Dirent{Name: ".", Ino: st.Ino, Type: unix.DT_DIR, Next: 1}) {
			return nil
		}
		off = 1
	}
	if off == 1 {
		f.v.ns.RLock()
		parent := d.parent
		f.v.ns.RUnlock()
		if parent == nil {
			parent = d
		}
		st, err := parent.inode.Stat(ctx)
		if err != nil {
			return err
		}
		if !emit(Dirent{Name: "..", Ino: st.Ino, Type: unix.DT_DIR, Next: FirstDirentOffset}) {
			return nil
		}
		off = FirstDirentOffset
	}
	f.v.ns.RLock()
	defer f.v.ns.RUnlock()
	return d.inode.(DirInode).IterDirents(ctx, off, emit)
}

// Fsync succeeds (a tmpfs or host directory has nothing to write back)
// except on the filesystems whose directories Linux gives no fsync:
// proc's, sysfs's and cgroup's (kernfs), EINVAL.
func (f *dirFile) Fsync(ctx Context, fd *FileDescription) error {
	s, err := fd.path.Dentry.sb.fs.Statfs(ctx)
	if err != nil {
		return err
	}
	switch s.Type {
	case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC:
		return unix.EINVAL
	}
	return nil
}

// pathFile is the file of an O_PATH description: everything but fstat,
// fchdir, *at() and dup fails with EBADF (the description checks that).
type pathFile struct{ FileBase }
