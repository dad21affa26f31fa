package vfs

import (
	"errors"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Flags of the *at operations (the AT_* values of Linux).
const (
	atSymlinkNofollow = unix.AT_SYMLINK_NOFOLLOW
	atEmptyPath       = unix.AT_EMPTY_PATH
	atStatxSyncType   = 0x6000 // AT_STATX_SYNC_TYPE: sync hints, meaningless for in-memory files
)

// oTmpfile is Linux's __O_TMPFILE, the bit that asks for an unnamed file.
// The user-visible O_TMPFILE adds O_DIRECTORY to it, so that kernels that
// predate it refuse the open (a directory opened for writing is EISDIR)
// instead of opening the directory.
const oTmpfile = unix.O_TMPFILE &^ unix.O_DIRECTORY

// resolve returns the file named by path from at, following a final
// symlink if follow. With AT_EMPTY_PATH semantics (emptyOK) an empty path
// names at.Dir itself.
func (w *walker) resolve(at At, path string, follow, emptyOK bool) (Path, error) {
	if path == "" {
		if emptyOK {
			return at.Dir, nil
		}
		return Path{}, unix.ENOENT
	}
	return w.walk(at.Dir, path, follow)
}

// Resolve returns the Path that path names (for chdir, chroot, execve,
// statfs, inotify...). flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.
func (v *VFS) Resolve(ctx Context, at At, path string, flags int) (Path, error) {
	v.ns.RLock()
	defer v.ns.RUnlock()
	return v.ResolveInWalk(ctx, at, path, flags)
}

// ResolveInWalk is Resolve for a MagicLink's Resolve method, which a walk
// calls with the namespace lock already held (read, or write for an
// O_CREAT open): it walks without taking the lock again. Taking it again
// would deadlock whenever a rename or mount is queued for the write lock
// meanwhile (Go's RWMutex holds new readers back behind a waiting
// writer), so a magic link that walks a path (/proc/PID/exe) must use
// this. Nothing else may.
func (v *VFS) ResolveInWalk(ctx Context, at At, path string, flags int) (Path, error) {
	if flags&^(atSymlinkNofollow|atEmptyPath|unix.AT_NO_AUTOMOUNT) != 0 {
		return Path{}, unix.EINVAL
	}
	return v.newWalker(ctx, at).resolve(at, path, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
}

// CheckDir checks that p is a directory the caller may search, for chdir,
// fchdir and chroot (ENOTDIR, EACCES).
func (v *VFS) CheckDir(ctx Context, p Path) error {
	if !p.Dentry.isDir {
		return unix.ENOTDIR
	}
	st, err := p.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	return mayAccess(ctx.Credentials(), &st, MayExec)
}

// Permission checks want (MayRead|MayWrite|MayExec) on p for the caller,
// e.g. execve's MayExec on the binary (a regular file with an x bit).
func (v *VFS) Permission(ctx Context, p Path, want uint32) error {
	st, err := p.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	if want&MayWrite != 0 && p.Mount.readOnly() {
		return unix.EROFS
	}
	if want&MayExec != 0 && p.Mount.Flags()&unix.MS_NOEXEC != 0 && !st.IsDir() {
		return unix.EACCES
	}
	return mayAccess(ctx.Credentials(), &st, want)
}

// StatAt is newfstatat/statx: flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH
// (and AT_NO_AUTOMOUNT / AT_STATX_* which change nothing here).
func (v *VFS) StatAt(ctx Context, at At, path string, flags int) (Stat, error) {
	if flags&^(atSymlinkNofollow|atEmptyPath|unix.AT_NO_AUTOMOUNT|atStatxSyncType) != 0 {
		return Stat{}, unix.EINVAL
	}
	v.ns.RLock()
	p, err := v.newWalker(ctx, at).resolve(at, path, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
	v.ns.RUnlock()
	if err != nil {
		return Stat{}, err
	}
	return p.Dentry.stat(ctx)
}

// StatPath reports the attributes of the file at p.
func (v *VFS) StatPath(ctx Context, p Path) (Stat, error) { return p.Dentry.stat(ctx) }

// ReadlinkAt is readlinkat(2); an empty path reads the symlink at.Dir
// refers to (an O_PATH|O_NOFOLLOW descriptor). EINVAL for non-links.
func (v *VFS) ReadlinkAt(ctx Context, at At, path string) (string, error) {
	v.ns.RLock()
	p, err := v.newWalker(ctx, at).resolve(at, path, false, true)
	v.ns.RUnlock()
	if err != nil {
		return "", err
	}
	l, ok := p.Dentry.inode.(SymlinkInode)
	if !ok {
		if path == "" {
			return "", unix.ENOENT
		}
		return "", unix.EINVAL
	}
	return l.Readlink(ctx)
}

// OpenAt is openat(2)/openat2 without resolve flags: flags are O_* open
// flags, mode the creation mode (umask applied here). It returns a new
// description with one reference.
func (v *VFS) OpenAt(ctx Context, at At, path string, flags uint32, mode uint32) (*FileDescription, error) {
	if flags&unix.O_PATH != 0 {
		// open(2) ignores every other flag with O_PATH, O_TMPFILE's
		// __O_TMPFILE bit included (openat2 refuses them before this).
		flags &= unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	} else {
		flags |= OLargeFile // not on O_PATH descriptions: F_GETFL shows none
	}
	if flags&oTmpfile != 0 {
		return v.openTmpfile(ctx, at, path, flags, mode)
	}
	var (
		p       Path
		err     error
		created bool
	)
	if flags&unix.O_CREAT != 0 {
		// Look under the read lock first and take the write lock only to
		// create: besides letting opens of existing files run in
		// parallel, a final magic link (`> /proc/self/fd/3`, or
		// /dev/stdout) must be followed under the read lock, because proc
		// names the file it resolves to under that lock itself.
		v.ns.RLock()
		p, created, err = v.openCreateLocked(ctx, at, path, flags, mode, false)
		v.ns.RUnlock()
		if err == errMustCreate {
			v.ns.Lock()
			p, created, err = v.openCreateLocked(ctx, at, path, flags, mode, true)
			v.ns.Unlock()
		}
	} else {
		v.ns.RLock()
		p, err = v.newWalker(ctx, at).resolve(at, path, flags&unix.O_NOFOLLOW == 0, false)
		v.ns.RUnlock()
	}
	if err != nil {
		return nil, err
	}
	return v.openPath(ctx, p, flags, created, false)
}

// errMustCreate is what openCreateLocked returns, without create, when
// the file does not exist and may be created: the caller retries with
// the namespace locked for writing. It never leaves the package.
var errMustCreate = errors.New("vfs: the open must create the file")

// openCreateLocked resolves an O_CREAT open, creating the file if needed
// and create is set (the caller holds v.ns for writing); without create
// (v.ns held for reading) a missing file gives errMustCreate.
func (v *VFS) openCreateLocked(ctx Context, at At, path string, flags, mode uint32, create bool) (Path, bool, error) {
	w := v.newWalker(ctx, at)
	start := at.Dir
	for {
		dir, name, trailing, err := w.walkParent(start, path)
		if err != nil {
			return Path{}, false, err
		}
		if name == "" || name == "." || name == ".." {
			return Path{}, false, unix.EISDIR
		}
		c, err := w.step(dir, name)
		if err == unix.ENOENT {
			if trailing {
				return Path{}, false, unix.EISDIR
			}
			if dir.Dentry.IsDeleted() {
				return Path{}, false, unix.ENOENT
			}
			if err := w.mayCreate(dir); err != nil {
				return Path{}, false, err
			}
			if err := v.landlockCheck(ctx, dir, AccessMakeReg); err != nil {
				return Path{}, false, err
			}
			if !create {
				return Path{}, false, errMustCreate
			}
			d, err := v.createLocked(ctx, dir, name, CreateOptions{Mode: unix.S_IFREG | mode&0o7777&^ctx.Umask()})
			if err != nil {
				return Path{}, false, err
			}
			return Path{dir.Mount, d}, true, nil
		}
		if err != nil {
			return Path{}, false, err
		}
		if flags&unix.O_EXCL != 0 {
			return Path{}, false, unix.EEXIST
		}
		if isSymlink(c.Dentry) {
			if flags&unix.O_NOFOLLOW != 0 {
				return Path{}, false, unix.ELOOP
			}
			np, rest, err := w.followLink(dir, c.Dentry, "")
			if err != nil {
				return Path{}, false, err
			}
			if rest == "" { // magic link
				return np, false, nil
			}
			start, path = np, rest
			if trailing {
				path += "/"
			}
			continue
		}
		if c.Dentry.isDir {
			return Path{}, false, unix.EISDIR
		}
		if trailing {
			return Path{}, false, unix.ENOTDIR
		}
		return c, false, nil
	}
}

// mayCreate checks that the caller may add or remove names in dir.
func (w *walker) mayCreate(dir Path) error {
	if dir.Mount.readOnly() {
		return unix.EROFS
	}
	return w.permission(dir.Dentry, MayWrite|MayExec)
}

// ownNew sets the owner of a new inode in dir, with the setgid rules: a
// setgid directory gives its group (and, to a subdirectory, its setgid
// bit), and a setgid group-executable file keeps the bit only if its
// creator is in that group.
func ownNew(ctx Context, dir Path, opts *CreateOptions) error {
	c := ctx.Credentials()
	opts.UID, opts.GID = c.FSUID, c.FSGID
	pst, err := dir.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	if pst.Mode&unix.S_ISGID != 0 {
		opts.GID = pst.GID
		if opts.Mode&unix.S_IFMT == unix.S_IFDIR {
			opts.Mode |= unix.S_ISGID
		}
	}
	if opts.Mode&unix.S_IFMT != unix.S_IFDIR && opts.Mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP &&
		!c.Privileged && !c.InGroup(opts.GID) {
		opts.Mode &^= unix.S_ISGID
	}
	return nil
}

// createLocked makes a new child of dir with owner and setgid rules.
func (v *VFS) createLocked(ctx Context, dir Path, name string, opts CreateOptions) (*Dentry, error) {
	if err := ownNew(ctx, dir, &opts); err != nil {
		return nil, err
	}
	ino, err := dir.Dentry.inode.(DirInode).Create(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	d := newDentry(dir.Dentry.sb, dir.Dentry, name, ino)
	dir.Dentry.cache(name, d)
	v.notifyChildLocked(dir.Dentry, name, InCreate, 0, d.isDir)
	return d, nil
}

// openTmpfile is open(2) with O_TMPFILE, as Linux's do_tmpfile: path
// names a directory, and the description opens a new regular file of
// that directory's filesystem that has no name (nlink 0). /proc/self/fd
// shows it as "DIR/#INO (deleted)". linkat can name it unless O_EXCL was
// given; otherwise it goes away with its last description.
func (v *VFS) openTmpfile(ctx Context, at At, path string, flags, mode uint32) (*FileDescription, error) {
	// Linux's build_open_flags: both bits of O_TMPFILE, no O_CREAT, and
	// write access (an unnamed read-only file could never hold anything).
	if flags&(unix.O_TMPFILE|unix.O_CREAT) != unix.O_TMPFILE || flags&unix.O_ACCMODE == unix.O_RDONLY {
		return nil, unix.EINVAL
	}
	// A read lock is enough: the new file gets no name, the namespace
	// does not change.
	v.ns.RLock()
	p, err := v.tmpfileLocked(ctx, at, path, flags, mode)
	v.ns.RUnlock()
	if err != nil {
		return nil, err
	}
	return v.openPath(ctx, p, flags, true, false)
}

// tmpfileLocked makes the unnamed file of an O_TMPFILE open and its
// dentry: a child of the directory named "#INO", dead from the start (it
// is in no directory, so no walk finds it) and linkable without O_EXCL.
func (v *VFS) tmpfileLocked(ctx Context, at At, path string, flags, mode uint32) (Path, error) {
	w := v.newWalker(ctx, at)
	dir, err := w.resolve(at, path, flags&unix.O_NOFOLLOW == 0, false)
	if err != nil {
		return Path{}, err
	}
	if !dir.Dentry.isDir {
		return Path{}, unix.ENOTDIR
	}
	// The order of vfs_tmpfile: writable mount, then write and search
	// permission on the directory, then whether the filesystem can.
	if err := w.mayCreate(dir); err != nil {
		return Path{}, err
	}
	td, ok := dir.Dentry.inode.(TmpfileDir)
	if !ok {
		return Path{}, unix.EOPNOTSUPP
	}
	opts := CreateOptions{Mode: unix.S_IFREG | mode&0o7777&^ctx.Umask()}
	if err := ownNew(ctx, dir, &opts); err != nil {
		return Path{}, err
	}
	ino, err := td.Tmpfile(ctx, opts)
	if err != nil {
		return Path{}, err
	}
	st, err := ino.Stat(ctx)
	if err != nil {
		return Path{}, err
	}
	d := newDentry(dir.Dentry.sb, dir.Dentry, "#"+strconv.FormatUint(st.Ino, 10), ino)
	d.dead.Store(true)
	d.linkable.Store(flags&unix.O_EXCL == 0)
	return Path{dir.Mount, d}, nil
}

// openPath opens the resolved file p; a quiet description generates no
// events, its open included (OpenQuiet).
func (v *VFS) openPath(ctx Context, p Path, flags uint32, created, quiet bool) (*FileDescription, error) {
	st, err := p.Dentry.stat(ctx)
	if err != nil {
		return nil, err
	}
	typ := st.Mode & unix.S_IFMT
	// O_TMPFILE carries O_DIRECTORY for the directory it names, not for
	// the file it opens.
	if flags&unix.O_DIRECTORY != 0 && flags&oTmpfile == 0 && typ != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	if flags&unix.O_PATH != 0 {
		return NewFileDescription(pathFile{}, flags, p, FileOptions{}), nil
	}
	if typ == unix.S_IFLNK {
		return nil, unix.ELOOP
	}
	acc := flags & unix.O_ACCMODE
	var want uint32
	if acc == unix.O_RDONLY || acc == unix.O_RDWR || acc == unix.O_ACCMODE {
		want |= MayRead
	}
	if acc == unix.O_WRONLY || acc == unix.O_RDWR || acc == unix.O_ACCMODE || flags&unix.O_TRUNC != 0 {
		want |= MayWrite
	}
	if typ == unix.S_IFDIR && want&MayWrite != 0 {
		return nil, unix.EISDIR
	}
	if !created {
		if want&MayWrite != 0 && p.Mount.readOnly() && (typ == unix.S_IFREG || typ == unix.S_IFDIR) {
			return nil, unix.EROFS
		}
		fl := inodeFlags(p.Dentry.inode)
		if want&MayWrite != 0 && fl&FlagImmutable != 0 {
			return nil, unix.EPERM
		}
		if err := mayAccess(ctx.Credentials(), &st, want); err != nil {
			return nil, err
		}
		// An append-only file opens for writing only to append, and
		// is never truncated (Linux's may_open).
		if fl&FlagAppend != 0 && ((acc != unix.O_RDONLY && flags&unix.O_APPEND == 0) || flags&unix.O_TRUNC != 0) {
			return nil, unix.EPERM
		}
	}
	if flags&unix.O_NOATIME != 0 {
		// Only the owner (or CAP_FOWNER) may keep reads from stamping
		// the access time (Linux's may_open).
		if c := ctx.Credentials(); !c.Privileged && c.FSUID != st.UID {
			return nil, unix.EPERM
		}
	}
	// Landlock's check comes after the permission check and before any
	// truncation, as security_file_open's; the rights an open may grant
	// later uses of the description (ftruncate, a device's ioctls) are
	// decided now.
	var llDenied uint64
	if v.landlockOf(ctx) != nil {
		request, optional := openAccess(typ, flags)
		denied := v.landlockDenied(ctx, p, request|optional)
		if denied&request != 0 {
			return nil, unix.EACCES
		}
		llDenied = denied & optional
	}
	if !quiet && v.fanWatched() {
		if err := v.fanPermission(ctx, p, FanOpenPerm); err != nil {
			return nil, err
		}
	}
	var (
		impl   FileImpl
		opts   FileOptions
		writer bool // counted by getWriteAccess
	)
	switch typ {
	case unix.S_IFDIR:
		impl, opts = &dirFile{v: v}, FileOptions{Seekable: true}
	case unix.S_IFCHR, unix.S_IFBLK:
		if p.Mount.Flags()&unix.MS_NODEV != 0 {
			return nil, unix.EACCES
		}
		impl, opts, err = v.Devices.Open(ctx, st.Mode, st.Rdev, p, flags)
	case unix.S_IFIFO:
		if v.OpenFIFO == nil {
			return nil, unix.ENXIO
		}
		impl, opts, err = v.OpenFIFO(ctx, p, flags)
	case unix.S_IFSOCK:
		return nil, unix.ENXIO
	default:
		if typ == unix.S_IFREG && want&MayWrite != 0 {
			// A running program's file is not opened for writing
			// (ETXTBSY), before any truncation.
			if err := getWriteAccess(p.Dentry.inode); err != nil {
				return nil, err
			}
			writer = true
		}
		if flags&unix.O_TRUNC != 0 && !created {
			if err = p.Dentry.inode.SetStat(ctx, SetStat{Mask: unix.STATX_SIZE}); err != nil {
				break
			}
		}
		impl, opts, err = p.Dentry.inode.Open(ctx, flags)
	}
	if err != nil {
		if writer {
			putWriteAccess(p.Dentry.inode)
		}
		return nil, err
	}
	fd := NewFileDescription(impl, flags, p, opts)
	fd.writer = writer
	fd.llDenied = llDenied
	fd.quiet = quiet
	if quiet {
		return fd, nil
	}
	fd.openerPID, fd.openerTID = ActorOf(ctx)
	v.notifyPath(p, InOpen, fd.openerPID, fd.openerTID)
	if flags&unix.O_TRUNC != 0 && !created && typ == unix.S_IFREG {
		v.notifyPath(p, InModify, fd.openerPID, fd.openerTID) // Linux truncates after the open's event
	}
	return fd, nil
}

// OpenPath opens an already resolved file (execve opening its binary, the
// kernel opening /dev/console). No permission check beyond the mode's.
func (v *VFS) OpenPath(ctx Context, p Path, flags uint32) (*FileDescription, error) {
	return v.openPath(ctx, p, flags|OLargeFile, false, false)
}

// MkdirAt is mkdirat(2).
func (v *VFS) MkdirAt(ctx Context, at At, path string, mode uint32) error {
	// mkdir keeps the sticky bit of the mode, never set-id bits (a
	// directory gets set-group-ID from its parent only).
	return v.mknod(ctx, at, path, unix.S_IFDIR|mode&(0o777|unix.S_ISVTX)&^ctx.Umask(), 0, "")
}

// MknodAt is mknodat(2): regular files (type 0 or S_IFREG), FIFOs,
// sockets, and (privileged) character and block devices.
func (v *VFS) MknodAt(ctx Context, at At, path string, mode uint32, rdev uint64) error {
	typ := mode & unix.S_IFMT
	switch typ {
	case 0:
		typ = unix.S_IFREG
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		if !ctx.Credentials().Privileged {
			return unix.EPERM
		}
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	if typ != unix.S_IFCHR && typ != unix.S_IFBLK {
		rdev = 0
	}
	return v.mknod(ctx, at, path, typ|mode&0o7777&^ctx.Umask(), rdev, "")
}

// SymlinkAt is symlinkat(2): a link at path whose contents are target.
func (v *VFS) SymlinkAt(ctx Context, target string, at At, path string) error {
	if target == "" {
		return unix.ENOENT
	}
	if len(target) >= PathMax {
		return unix.ENAMETOOLONG
	}
	return v.mknod(ctx, at, path, unix.S_IFLNK|0o777, 0, target)
}

func (v *VFS) mknod(ctx Context, at At, path string, mode uint32, rdev uint64, target string) error {
	v.ns.Lock()
	defer v.ns.Unlock()
	w := v.newWalker(ctx, at)
	dir, name, err := w.createParent(at.Dir, path, mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	if err := w.mayCreate(dir); err != nil {
		return err
	}
	if err := v.landlockCheck(ctx, dir, makeAccess(mode&unix.S_IFMT)); err != nil {
		return err
	}
	_, err = v.createLocked(ctx, dir, name, CreateOptions{Mode: mode, Rdev: rdev, Target: target})
	return err
}

// createParent walks to the directory where path names a new entry, for
// the calls that create one (mknod, mkdir, symlink, link). It fails as
// Linux's filename_create does: EEXIST when the name exists or is "." or
// "..", ENOENT when the path ends in a slash but no directory is being made
// or when the directory has been removed (no new names there).
func (w *walker) createParent(start Path, path string, isDir bool) (Path, string, error) {
	dir, name, trailing, err := w.walkParent(start, path)
	if err != nil {
		return Path{}, "", err
	}
	if name == "" || name == "." || name == ".." {
		return Path{}, "", unix.EEXIST
	}
	if _, err := w.step(dir, name); err == nil {
		return Path{}, "", unix.EEXIST
	} else if err != unix.ENOENT {
		return Path{}, "", err
	}
	if (trailing && !isDir) || dir.Dentry.IsDeleted() {
		return Path{}, "", unix.ENOENT
	}
	return dir, name, nil
}

// LinkAt is linkat(2): flags AT_SYMLINK_FOLLOW, AT_EMPTY_PATH.
func (v *VFS) LinkAt(ctx Context, oldAt At, oldPath string, newAt At, newPath string, flags int) error {
	if flags&^(unix.AT_SYMLINK_FOLLOW|atEmptyPath) != 0 {
		return unix.EINVAL
	}
	// The source is resolved first, under the read lock only, as Linux
	// resolves it before locking the new parent: following a magic link
	// (linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW) makes proc name
	// the file, which takes the read lock itself. Whether the file still
	// has a name is checked again below, under the write lock.
	v.ns.RLock()
	old, err := v.newWalker(ctx, oldAt).resolve(oldAt, oldPath, flags&unix.AT_SYMLINK_FOLLOW != 0, flags&atEmptyPath != 0)
	v.ns.RUnlock()
	if err != nil {
		return err
	}
	v.ns.Lock()
	defer v.ns.Unlock()
	w2 := v.newWalker(ctx, newAt)
	dir, name, err := w2.createParent(newAt.Dir, newPath, false)
	if err != nil {
		return err
	}
	if dir.Mount != old.Mount {
		return unix.EXDEV
	}
	if old.Dentry.isDir {
		return unix.EPERM
	}
	if err := w2.mayCreate(dir); err != nil {
		return err
	}
	if immutableOrAppend(old.Dentry.inode) {
		return unix.EPERM
	}
	if parent := old.Dentry.parent; parent != nil {
		if err := v.landlockRefer(ctx, Path{old.Mount, parent}, old.Dentry, dir, nil, false, false); err != nil {
			return err
		}
	}
	if old.Dentry.IsDeleted() {
		// A file that lost its last name stays nameless, except an
		// O_TMPFILE file never linked before (and opened without O_EXCL).
		if st, err := old.Dentry.inode.Stat(ctx); err != nil || (st.Nlink == 0 && !old.Dentry.linkable.Load()) {
			return unix.ENOENT
		}
	}
	if err := dir.Dentry.inode.(DirInode).Link(ctx, name, old.Dentry.inode); err != nil {
		return err
	}
	// Named once, the file is an ordinary one: if it loses its names
	// again, linkat cannot bring it back.
	old.Dentry.linkable.Store(false)
	dir.Dentry.cache(name, newDentry(dir.Dentry.sb, dir.Dentry, name, old.Dentry.inode))
	v.notifySelfLocked(old.Dentry, InAttrib) // its link count
	v.notifyChildLocked(dir.Dentry, name, InCreate, 0, false)
	return nil
}

// mayDelete checks whether child may be removed from dir: the directory's
// write permission, the inode flags and the sticky-bit rule.
func (w *walker) mayDelete(dir Path, child *Dentry) error {
	if err := w.mayCreate(dir); err != nil {
		return err
	}
	// Nothing leaves an append-only directory, and an immutable or
	// append-only file stays where it is (Linux's may_delete).
	if inodeFlags(dir.Dentry.inode)&FlagAppend != 0 || immutableOrAppend(child.inode) {
		return unix.EPERM
	}
	if w.creds.Privileged {
		return nil
	}
	dst, err := dir.Dentry.inode.Stat(w.ctx)
	if err != nil {
		return err
	}
	if dst.Mode&unix.S_ISVTX == 0 {
		return nil
	}
	cst, err := child.inode.Stat(w.ctx)
	if err != nil {
		return err
	}
	if w.creds.FSUID == cst.UID || w.creds.FSUID == dst.UID {
		return nil
	}
	return unix.EPERM
}

// UnlinkAt is unlinkat(2); flags may be AT_REMOVEDIR (rmdir).
func (v *VFS) UnlinkAt(ctx Context, at At, path string, flags int) error {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return unix.EINVAL
	}
	rmdir := flags&unix.AT_REMOVEDIR != 0
	v.ns.Lock()
	defer v.ns.Unlock()
	w := v.newWalker(ctx, at)
	dir, name, trailing, err := w.walkParent(at.Dir, path)
	if err != nil {
		return err
	}
	switch name {
	case "":
		if rmdir {
			return unix.EBUSY
		}
		return unix.EISDIR
	case ".":
		if rmdir {
			return unix.EINVAL
		}
		return unix.EISDIR
	case "..":
		if rmdir {
			return unix.ENOTEMPTY
		}
		return unix.EISDIR
	}
	if err := w.permission(dir.Dentry, MayExec); err != nil {
		return err
	}
	c, err := v.lookupChild(ctx, dir.Dentry, name)
	if err != nil {
		return err
	}
	if rmdir {
		if !c.isDir {
			return unix.ENOTDIR
		}
	} else {
		if trailing {
			if c.isDir {
				return unix.EISDIR
			}
			return unix.ENOTDIR
		}
		if c.isDir {
			return unix.EISDIR
		}
	}
	if err := w.mayDelete(dir, c); err != nil {
		return err
	}
	if err := v.landlockCheck(ctx, dir, removeAccess(c)); err != nil {
		return err
	}
	if c.mounts > 0 || (rmdir && (Path{dir.Mount, c}).same(at.Root)) {
		return unix.EBUSY
	}
	di := dir.Dentry.inode.(DirInode)
	if rmdir {
		err = di.Rmdir(ctx, name, c.inode)
	} else {
		err = di.Unlink(ctx, name, c.inode)
	}
	if err != nil {
		return err
	}
	dir.Dentry.uncache(name)
	c.dead.Store(true)
	if v.watched() {
		// Linux's order: the file's link count, its deletion if that was
		// its last name, then the directory's entry.
		if !rmdir {
			v.notifySelfLocked(c, InAttrib)
		}
		v.nameLostLocked(c, v.linksLeft(ctx, c))
		v.notifyChildLocked(dir.Dentry, name, InDelete, 0, c.isDir)
	}
	return nil
}

// linksLeft is the link count of d's inode after it lost a name: 0 for a
// directory (rmdir, or replaced by a rename) and for a file whose
// attributes cannot be read any more.
func (v *VFS) linksLeft(ctx Context, d *Dentry) uint64 {
	if d.isDir {
		return 0
	}
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return 0
	}
	return st.Nlink
}

// isAncestor reports whether a is d or an ancestor of d (same filesystem).
func isAncestor(a, d *Dentry) bool {
	for ; d != nil; d = d.parent {
		if d == a {
			return true
		}
	}
	return false
}

// RenameAt2 is renameat2(2): flags RENAME_NOREPLACE, RENAME_EXCHANGE.
// The checks come in the order of Linux's do_renameat2 and vfs_rename,
// so that a rename breaking several rules fails as on Linux: names, then
// lookups, trailing slashes, the ancestor rules, and only then
// permissions and the types of the two files.
func (v *VFS) RenameAt2(ctx Context, oldAt At, oldPath string, newAt At, newPath string, flags uint32) error {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 ||
		flags == unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE {
		return unix.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	v.ns.Lock()
	defer v.ns.Unlock()
	w := v.newWalker(ctx, oldAt)
	odir, oname, otrail, err := w.walkParent(oldAt.Dir, oldPath)
	if err != nil {
		return err
	}
	w2 := v.newWalker(ctx, newAt)
	ndir, nname, ntrail, err := w2.walkParent(newAt.Dir, newPath)
	if err != nil {
		return err
	}
	if odir.Mount != ndir.Mount {
		return unix.EXDEV
	}
	if oname == "" || oname == "." || oname == ".." {
		return unix.EBUSY
	}
	if nname == "" || nname == "." || nname == ".." {
		if flags&unix.RENAME_NOREPLACE != 0 {
			return unix.EEXIST // "/", "." and ".." always exist
		}
		return unix.EBUSY
	}
	if odir.Mount.readOnly() {
		return unix.EROFS
	}
	if err := w.permission(odir.Dentry, MayExec); err != nil {
		return err
	}
	if err := w.permission(ndir.Dentry, MayExec); err != nil {
		return err
	}
	oc, err := v.lookupChild(ctx, odir.Dentry, oname)
	if err != nil {
		return err
	}
	nc, err := v.lookupChild(ctx, ndir.Dentry, nname)
	switch {
	case err == unix.ENOENT:
		nc = nil
		if exchange || ndir.Dentry.IsDeleted() {
			return unix.ENOENT
		}
	case err != nil:
		return err
	case flags&unix.RENAME_NOREPLACE != 0:
		return unix.EEXIST
	}
	// Trailing slashes need directories: on the source unless it is one;
	// on the target when exchanging with it, or when a non-directory moves.
	if exchange && !nc.isDir && ntrail {
		return unix.ENOTDIR
	}
	if !oc.isDir && (otrail || (!exchange && ntrail)) {
		return unix.ENOTDIR
	}
	// A directory may not move below itself (EINVAL), and the target may
	// not be an ancestor of the source: it could not be empty (ENOTEMPTY,
	// or EINVAL for an exchange). These come before the types of the two
	// files, so moving a file onto its own ancestor is ENOTEMPTY, not
	// EISDIR.
	if odir.Dentry != ndir.Dentry {
		if isAncestor(oc, ndir.Dentry) {
			return unix.EINVAL
		}
		if nc != nil && isAncestor(nc, odir.Dentry) {
			if exchange {
				return unix.EINVAL
			}
			return unix.ENOTEMPTY
		}
	}
	if nc == oc || (nc != nil && nc.inode == oc.inode) {
		return nil // both names are the same file: nothing to do
	}
	// may_delete of the source, then may_create or may_delete of the
	// target, each with its type rule after the permission checks.
	if err := w.mayDelete(odir, oc); err != nil {
		return err
	}
	if nc == nil {
		if err := w2.mayCreate(ndir); err != nil {
			return err
		}
	} else {
		if err := w2.mayDelete(ndir, nc); err != nil {
			return err
		}
		if !exchange && oc.isDir && !nc.isDir {
			return unix.ENOTDIR
		}
		if !exchange && !oc.isDir && nc.isDir {
			return unix.EISDIR
		}
	}
	if err := v.landlockRefer(ctx, odir, oc, ndir, nc, true, exchange); err != nil {
		return err
	}
	// Moving a directory to a new parent rewrites its "..": needs write.
	if odir.Dentry != ndir.Dentry && !w.creds.Privileged {
		if oc.isDir {
			if err := w.permission(oc, MayWrite); err != nil {
				return err
			}
		}
		if exchange && nc.isDir {
			if err := w.permission(nc, MayWrite); err != nil {
				return err
			}
		}
	}
	if oc.mounts > 0 || (nc != nil && nc.mounts > 0) {
		return unix.EBUSY
	}
	if err := odir.Dentry.inode.(DirInode).Rename(ctx, oname, ndir.Dentry.inode.(DirInode), nname, flags); err != nil {
		return err
	}
	odir.Dentry.uncache(oname)
	ndir.Dentry.uncache(nname)
	if exchange {
		nc.name, nc.parent = oname, odir.Dentry
		odir.Dentry.cache(oname, nc)
	} else if nc != nil {
		nc.dead.Store(true)
	}
	oc.name, oc.parent = nname, ndir.Dentry
	ndir.Dentry.cache(nname, oc)
	if v.watched() {
		v.notifyRenameLocked(ctx, odir.Dentry, oname, ndir.Dentry, nname, oc, nc, exchange)
	}
	return nil
}

// notifyRenameLocked reports a rename as Linux's fsnotify_move: the
// source's InMovedFrom and InMovedTo with one cookie, a replaced target's
// link count, the source's InMoveSelf, then the target's deletion; an
// exchange reports the same for the other file, without a target.
//
// Preconditions: v.ns is held for writing.
func (v *VFS) notifyRenameLocked(ctx Context, odir *Dentry, oname string, ndir *Dentry, nname string, oc, nc *Dentry, exchange bool) {
	move := func(from *Dentry, fname string, to *Dentry, tname string, moved *Dentry) {
		cookie := v.watches.newCookie()
		v.notifyChildLocked(from, fname, InMovedFrom, cookie, moved.isDir)
		v.notifyChildLocked(to, tname, InMovedTo, cookie, moved.isDir)
	}
	move(odir, oname, ndir, nname, oc)
	if exchange {
		v.notifySelfLocked(oc, InMoveSelf)
		move(ndir, nname, odir, oname, nc)
		v.notifySelfLocked(nc, InMoveSelf)
		return
	}
	if nc != nil {
		v.notifySelfLocked(nc, InAttrib)
	}
	v.notifySelfLocked(oc, InMoveSelf)
	if nc != nil {
		v.nameLostLocked(nc, v.linksLeft(ctx, nc))
	}
}

// ChmodAt is fchmodat(2)/fchmod (AT_EMPTY_PATH); flags
// AT_SYMLINK_NOFOLLOW (fchmodat2).
func (v *VFS) ChmodAt(ctx Context, at At, path string, mode uint32, flags int) error {
	p, st, err := v.setattrTarget(ctx, at, path, flags)
	if err != nil {
		return err
	}
	if immutableOrAppend(p.Dentry.inode) {
		return unix.EPERM
	}
	c := ctx.Credentials()
	if !c.Privileged && c.FSUID != st.UID {
		return unix.EPERM
	}
	if st.Type() == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	mode &= 0o7777
	if !c.Privileged && !c.InGroup(st.GID) {
		mode &^= unix.S_ISGID
	}
	return v.setStat(ctx, p, SetStat{Mask: unix.STATX_MODE, Mode: mode}, InAttrib)
}

// setStat applies an attribute change to p's inode and reports event (if
// not 0) to its watches, as Linux's notify_change and fsnotify_change.
func (v *VFS) setStat(ctx Context, p Path, req SetStat, event uint32) error {
	if err := p.Dentry.inode.SetStat(ctx, req); err != nil {
		return err
	}
	if event != 0 {
		pid, tid := ActorOf(ctx)
		v.notifyPath(p, event, pid, tid)
	}
	return nil
}

// setattrTarget resolves the file an attribute change applies to and
// checks the mount is writable.
func (v *VFS) setattrTarget(ctx Context, at At, path string, flags int) (Path, Stat, error) {
	if flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return Path{}, Stat{}, unix.EINVAL
	}
	v.ns.RLock()
	p, err := v.newWalker(ctx, at).resolve(at, path, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
	v.ns.RUnlock()
	if err != nil {
		return Path{}, Stat{}, err
	}
	if p.Mount.readOnly() {
		return Path{}, Stat{}, unix.EROFS
	}
	st, err := p.Dentry.inode.Stat(ctx)
	return p, st, err
}

// ChownAt is fchownat(2)/fchown/lchown: uid or gid -1 leaves it. flags
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.
func (v *VFS) ChownAt(ctx Context, at At, path string, uid, gid int64, flags int) error {
	p, st, err := v.setattrTarget(ctx, at, path, flags)
	if err != nil {
		return err
	}
	if immutableOrAppend(p.Dentry.inode) {
		return unix.EPERM
	}
	c := ctx.Credentials()
	req := SetStat{}
	if uid != -1 && uint32(uid) != st.UID {
		if !c.Privileged {
			return unix.EPERM
		}
		req.Mask |= unix.STATX_UID
		req.UID = uint32(uid)
	}
	if gid != -1 && uint32(gid) != st.GID {
		if !c.Privileged && (c.FSUID != st.UID || !c.InGroup(uint32(gid))) {
			return unix.EPERM
		}
		req.Mask |= unix.STATX_GID
		req.GID = uint32(gid)
	}
	if (uid != -1 || gid != -1) && !c.Privileged && c.FSUID != st.UID {
		return unix.EPERM
	}
	// Any chown of a file that is not a directory clears set-user-ID,
	// and set-group-ID on a group-executable one, even chown(-1, -1)
	// and even by root (Linux's chown_common asks for ATTR_KILL_SUID
	// and ATTR_KILL_SGID every time).
	if st.Type() != unix.S_IFDIR {
		m := st.Mode & 0o7777 &^ unix.S_ISUID
		if m&unix.S_IXGRP != 0 {
			m &^= unix.S_ISGID
		}
		if m != st.Mode&0o7777 {
			req.Mask |= unix.STATX_MODE
			req.Mode = m
		}
	}
	// Linux reports an owner change even when the ids stay the same;
	// only chown(-1, -1) reports nothing.
	var event uint32
	if uid != -1 || gid != -1 {
		event = InAttrib
	}
	return v.setStat(ctx, p, req, event) // an empty req still updates ctime
}

// Special tv_nsec values of utimensat.
const (
	UtimeNow  = (1 << 30) - 1
	UtimeOmit = (1 << 30) - 2
)

// UtimensAt is utimensat(2): times[0] is atime, times[1] mtime, each may
// have Nsec UtimeNow or UtimeOmit; times == nil means both now. flags
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.
func (v *VFS) UtimensAt(ctx Context, at At, path string, times *[2]unix.Timespec, flags int) error {
	now := time.Now()
	nowTS := unix.Timespec{Sec: now.Unix(), Nsec: int64(now.Nanosecond())}
	t := [2]unix.Timespec{{Nsec: UtimeNow}, {Nsec: UtimeNow}}
	if times != nil {
		t = *times
	}
	for _, x := range t {
		if x.Nsec != UtimeNow && x.Nsec != UtimeOmit && (x.Nsec < 0 || x.Nsec >= 1e9) {
			return unix.EINVAL
		}
	}
	if t[0].Nsec == UtimeOmit && t[1].Nsec == UtimeOmit {
		return nil
	}
	p, st, err := v.setattrTarget(ctx, at, path, flags)
	if err != nil {
		return err
	}
	// An explicit time (or one UTIME_OMIT) changes neither an immutable
	// nor an append-only file; now for both, an append-only one too
	// (Linux's notify_change: ATTR_TIMES_SET against ATTR_TOUCH).
	if fl := inodeFlags(p.Dentry.inode); fl&FlagImmutable != 0 ||
		fl&FlagAppend != 0 && !(t[0].Nsec == UtimeNow && t[1].Nsec == UtimeNow) {
		return unix.EPERM
	}
	c := ctx.Credentials()
	// Write permission lets a non-owner set both times to now, and
	// nothing else: Linux treats {UTIME_NOW, UTIME_NOW} as NULL times and
	// anything else, one UTIME_OMIT included, as an explicit set
	// (ATTR_TIMES_SET), which needs ownership.
	onlyNow := t[0].Nsec == UtimeNow && t[1].Nsec == UtimeNow
	if !c.Privileged && c.FSUID != st.UID {
		if !onlyNow {
			return unix.EPERM
		}
		if err := mayAccess(c, &st, MayWrite); err != nil {
			return err
		}
	}
	req := SetStat{}
	for i, x := range t {
		if x.Nsec == UtimeOmit {
			continue
		}
		if x.Nsec == UtimeNow {
			x = nowTS
		}
		if i == 0 {
			req.Mask |= unix.STATX_ATIME
			req.Atime = x
		} else {
			req.Mask |= unix.STATX_MTIME
			req.Mtime = x
		}
	}
	// Both times is a utimes call (InAttrib); one alone reads as an
	// access or a modification (fsnotify_change).
	event := uint32(InAttrib)
	switch req.Mask & (unix.STATX_ATIME | unix.STATX_MTIME) {
	case unix.STATX_ATIME:
		event = InAccess
	case unix.STATX_MTIME:
		event = InModify
	}
	return v.setStat(ctx, p, req, event)
}

// TruncateAt is truncate(2) (follows symlinks; needs write permission).
func (v *VFS) TruncateAt(ctx Context, at At, path string, size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	p, st, err := v.setattrTarget(ctx, at, path, 0)
	if err != nil {
		return err
	}
	switch st.Type() {
	case unix.S_IFDIR:
		return unix.EISDIR
	case unix.S_IFREG:
	default:
		return unix.EINVAL
	}
	if immutableOrAppend(p.Dentry.inode) {
		return unix.EPERM
	}
	if err := mayAccess(ctx.Credentials(), &st, MayWrite); err != nil {
		return err
	}
	if err := v.CheckLandlock(ctx, p, AccessTruncate); err != nil {
		return err
	}
	if err := CheckFileSize(ctx, size); err != nil {
		return err
	}
	return v.setStat(ctx, p, SetStat{Mask: unix.STATX_SIZE, Size: size}, InModify)
}

// AccessAt is faccessat2(2): mode F_OK or R_OK|W_OK|X_OK; flags
// AT_EACCESS (use effective instead of real ids), AT_SYMLINK_NOFOLLOW,
// AT_EMPTY_PATH.
func (v *VFS) AccessAt(ctx Context, at At, path string, mode uint32, flags int) error {
	if mode&^7 != 0 || flags&^(unix.AT_EACCESS|atSymlinkNofollow|atEmptyPath) != 0 {
		return unix.EINVAL
	}
	v.ns.RLock()
	p, err := v.newWalker(ctx, at).resolve(at, path, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
	v.ns.RUnlock()
	if err != nil {
		return err
	}
	if mode == 0 {
		return nil
	}
	st, err := p.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	c := ctx.Credentials()
	if flags&unix.AT_EACCESS == 0 {
		rc := *c
		rc.FSUID, rc.FSGID = c.UID, c.GID
		rc.Privileged = c.Privileged && c.UID == 0
		c = &rc
	}
	if mode&MayWrite != 0 && p.Mount.readOnly() {
		if t := st.Type(); t == unix.S_IFREG || t == unix.S_IFDIR || t == unix.S_IFLNK {
			return unix.EROFS
		}
	}
	if mode&MayWrite != 0 && inodeFlags(p.Dentry.inode)&FlagImmutable != 0 {
		return unix.EPERM
	}
	return mayAccess(c, &st, mode)
}

// StatfsAt is statfs(2) (fstatfs with AT_EMPTY_PATH semantics: empty path
// names at.Dir).
func (v *VFS) StatfsAt(ctx Context, at At, path string) (Statfs, error) {
	v.ns.RLock()
	p, err := v.newWalker(ctx, at).resolve(at, path, true, path == "")
	v.ns.RUnlock()
	if err != nil {
		return Statfs{}, err
	}
	return v.StatfsPath(ctx, p)
}

// StatfsPath reports statfs numbers for the filesystem holding p.
func (v *VFS) StatfsPath(ctx Context, p Path) (Statfs, error) {
	s, err := p.Dentry.sb.fs.Statfs(ctx)
	if err != nil {
		return s, err
	}
	f := p.Mount.Flags()
	if f&unix.MS_RDONLY != 0 {
		s.Flags |= unix.ST_RDONLY
	}
	if f&unix.MS_NOSUID != 0 {
		s.Flags |= unix.ST_NOSUID
	}
	if f&unix.MS_NODEV != 0 {
		s.Flags |= unix.ST_NODEV
	}
	if f&unix.MS_NOEXEC != 0 {
		s.Flags |= unix.ST_NOEXEC
	}
	s.Flags |= 0x20 // ST_VALID: f_flags is meaningful
	return s, nil
}

// StatfsDev is statfs of the filesystem with device number dev, for
// ustat(2): EINVAL when no mount has it.
func (v *VFS) StatfsDev(ctx Context, dev uint64) (Statfs, error) {
	v.ns.RLock()
	var p Path
	for m := range v.allMnts {
		if m.sb.dev == dev {
			p = Path{m, m.root}
			break
		}
	}
	v.ns.RUnlock()
	if p.IsZero() {
		return Statfs{}, unix.EINVAL
	}
	return v.StatfsPath(ctx, p)
}
