package mqueue

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// dir is the filesystem's root, the only directory: mode 01777 owned by
// root at first, as Linux's mqueue_fill_super makes it. It implements
// vfs.DirInode and vfs.DynamicDir: mq_open and mq_unlink change its
// children without the VFS, so a walk asks it every time.
type dir struct {
	fs  *FS
	ino uint64

	mu                  sync.Mutex
	mode, uid, gid      uint32        // protected by mu
	atime, mtime, ctime unix.Timespec // protected by mu
}

var (
	_ vfs.DirInode   = (*dir)(nil)
	_ vfs.DynamicDir = (*dir)(nil)
)

// Dynamic implements vfs.DynamicDir.
func (d *dir) Dynamic() bool { return true }

// changed records a change of the directory's entries.
func (d *dir) changed(now unix.Timespec) {
	d.mu.Lock()
	d.mtime, d.ctime = now, now
	d.mu.Unlock()
}

// Stat implements vfs.Inode. Its size is Linux's: 40, and 20 per queue.
func (d *dir) Stat(vfs.Context) (vfs.Stat, error) {
	d.fs.mu.Lock()
	n := len(d.fs.queues)
	d.fs.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	return vfs.Stat{Mask: unix.STATX_BASIC_STATS, Ino: d.ino, Mode: d.mode, Nlink: 2, UID: d.uid, GID: d.gid,
		Size: int64(2*direntSize + n*direntSize), Blksize: 4096, Atime: d.atime, Mtime: d.mtime, Ctime: d.ctime}, nil
}

// SetStat implements vfs.Inode (chmod, chown, utimes of the mount point).
func (d *dir) SetStat(_ vfs.Context, req vfs.SetStat) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	setStat(req, &d.mode, &d.uid, &d.gid, &d.atime, &d.mtime, &d.ctime)
	return nil
}

// setStat applies an attribute change to an inode's fields (Linux's
// simple_setattr; a size is ignored, as the mqueue files have none).
func setStat(req vfs.SetStat, mode, uid, gid *uint32, atime, mtime, ctime *unix.Timespec) {
	if req.Mask&unix.STATX_MODE != 0 {
		*mode = *mode&unix.S_IFMT | req.Mode&0o7777
	}
	if req.Mask&unix.STATX_UID != 0 {
		*uid = req.UID
	}
	if req.Mask&unix.STATX_GID != 0 {
		*gid = req.GID
	}
	if req.Mask&unix.STATX_ATIME != 0 {
		*atime = req.Atime
	}
	if req.Mask&unix.STATX_MTIME != 0 {
		*mtime = req.Mtime
	}
	*ctime = nowTS()
}

// Open implements vfs.Inode; the VFS opens directories itself.
func (d *dir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.EISDIR
}

// Lookup implements vfs.DirInode.
func (d *dir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if q := d.fs.queues[name]; q != nil {
		return q, nil
	}
	return nil, unix.ENOENT
}

// Create implements vfs.DirInode: open(2) with O_CREAT (or mknod of a
// regular file) in a mounted mqueue filesystem makes a queue with the
// default attributes, as Linux's mqueue_create; other file types have no
// operation there (EPERM).
func (d *dir) Create(ctx vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if opts.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EPERM
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if d.fs.queues[name] != nil {
		return nil, unix.EEXIST
	}
	q, err := d.fs.createLocked(ctx, name, opts.Mode, nil)
	if err != nil {
		return nil, err
	}
	// The VFS chose the owner (setgid directories and all).
	q.mu.Lock()
	q.uid, q.gid = opts.UID, opts.GID
	q.mu.Unlock()
	return q, nil
}

// Link implements vfs.DirInode: the mqueue filesystem has no hard links.
func (d *dir) Link(vfs.Context, string, vfs.Inode) error { return unix.EPERM }

// Unlink implements vfs.DirInode (rm in a mount; the VFS has checked the
// permissions).
func (d *dir) Unlink(_ vfs.Context, name string, child vfs.Inode) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	q := d.fs.queues[name]
	if q == nil || q != child {
		return unix.ENOENT
	}
	d.fs.unlinkLocked(q)
	return nil
}

// Rmdir implements vfs.DirInode: there are no subdirectories.
func (d *dir) Rmdir(vfs.Context, string, vfs.Inode) error { return unix.EPERM }

// Rename implements vfs.DirInode: Linux's mqueue directory has no rename.
func (d *dir) Rename(vfs.Context, string, vfs.DirInode, string, uint32) error { return unix.EPERM }

// IterDirents implements vfs.DirInode: queues in creation order, each at
// the offset it took when created, so that offsets survive unlinks.
func (d *dir) IterDirents(_ vfs.Context, off int64, emit func(vfs.Dirent) bool) error {
	for _, q := range d.fs.entries() {
		if q.seq < off {
			continue
		}
		if !emit(vfs.Dirent{Name: q.name, Ino: q.ino, Type: unix.DT_REG, Next: q.seq + 1}) {
			break
		}
	}
	return nil
}

// perm checks want against the directory's mode for the caller. It
// takes only d.mu: callers may hold FS.mu.
func (d *dir) perm(ctx vfs.Context, want uint32) error {
	d.mu.Lock()
	st := vfs.Stat{Mode: d.mode, UID: d.uid, GID: d.gid}
	d.mu.Unlock()
	return vfs.MayAccess(ctx.Credentials(), &st, want)
}

// mayCreate is Linux's may_create for a new queue: write and search
// permission on the directory.
func (d *dir) mayCreate(ctx vfs.Context) error { return d.perm(ctx, vfs.MayWrite|vfs.MayExec) }

// mayDelete is Linux's may_delete for q: write and search permission on
// the directory (EACCES), then its sticky bit (EPERM unless the caller
// owns q or the directory, or is privileged).
func (d *dir) mayDelete(ctx vfs.Context, q *Queue) error {
	if err := d.perm(ctx, vfs.MayWrite|vfs.MayExec); err != nil {
		return err
	}
	c := ctx.Credentials()
	d.mu.Lock()
	sticky, owner := d.mode&unix.S_ISVTX != 0, d.uid
	d.mu.Unlock()
	q.mu.Lock()
	quid := q.uid
	q.mu.Unlock()
	if sticky && c.FSUID != quid && c.FSUID != owner && !c.Privileged {
		return unix.EPERM
	}
	return nil
}
