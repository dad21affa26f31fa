package kernel

import (
	"io"
	"strings"
	"sync"
	"uk/fs/nsfs"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/memmap"
)

// AtFDCWD is AT_FDCWD as the int32 a dirfd argument holds.
const AtFDCWD = -100

// VFS returns the sandbox's filesystem namespace and the task's root and
// working directory; ENOENT when the kernel runs without a filesystem.
func (t *Task) VFS() (*vfs.VFS, *vfs.FSContext, error) {
	v := t.k.VFS
	if v == nil || t.FS == nil {
		return nil, nil, unix.ENOENT
	}
	return v, t.FS, nil
}

// At returns where a walk of path relative to dirfd starts, as the *at
// syscalls define it: AT_FDCWD is the working directory; an absolute path
// ignores dirfd entirely; otherwise dirfd must be open (EBADF) and, unless
// path is empty (AT_EMPTY_PATH), a directory (ENOTDIR). An empty path with
// a dirfd makes At.Dir the dirfd's own file.
func (t *Task) At(dirfd int32, path string) (*vfs.VFS, vfs.At, error) {
	v, fsc, err := t.VFS()
	if err != nil {
		return nil, vfs.At{}, err
	}
	if dirfd == AtFDCWD || (path != "" && path[0] == '/') {
		return v, fsc.At(vfs.Path{}), nil
	}
	d, err := t.FD(dirfd)
	if err != nil {
		return nil, vfs.At{}, err
	}
	p := d.Path()
	d.DecRef()
	if p.IsZero() {
		// Anonymous files (pipes, sockets) are not directories; with an
		// empty path the caller handles them through the description.
		if path == "" {
			return nil, vfs.At{}, unix.EBADF
		}
		return nil, vfs.At{}, unix.ENOTDIR
	}
	if path != "" && !p.Dentry.IsDir() {
		return nil, vfs.At{}, unix.ENOTDIR
	}
	return v, fsc.At(p), nil
}

// ResolveAt returns the file path names relative to dirfd (flags
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH).
func (t *Task) ResolveAt(dirfd int32, path string, flags int) (vfs.Path, error) {
	v, at, err := t.At(dirfd, path)
	if err != nil {
		return vfs.Path{}, err
	}
	return v.Resolve(t, at, path, flags)
}

// PathName returns the absolute name of p as the task sees it (relative to
// its root); ok is false when p lies outside the root.
func (t *Task) PathName(p vfs.Path) (string, bool) {
	v, fsc, err := t.VFS()
	if err != nil || p.IsZero() {
		return "", false
	}
	return v.PathName(fsc.Root(), p)
}

// OpenExecutable resolves path in the sandbox (from the task's working
// directory, following symlinks) for execve and PT_INTERP loading. It
// checks what execve checks: ENOENT/ENOTDIR/ELOOP from the walk, EACCES
// for a file that is not regular, lacks an execute bit the caller may
// use, or lives on a noexec mount. It returns a reader of the file's
// contents (read permission is not needed, as on Linux), its size, and
// its absolute path as the task sees it (for /proc/self/exe and
// AT_EXECFN).
func (t *Task) OpenExecutable(path string) (r io.ReaderAt, size int64, absPath string, err error) {
	if path == "" {
		return nil, 0, "", unix.ENOENT
	}
	v, at, err := t.At(AtFDCWD, path)
	if err != nil {
		return nil, 0, "", err
	}
	p, err := v.Resolve(t, at, path, 0)
	if err != nil {
		return nil, 0, "", err
	}
	st, err := v.StatPath(t, p)
	if err != nil {
		return nil, 0, "", err
	}
	if st.Type() != unix.S_IFREG {
		return nil, 0, "", unix.EACCES
	}
	if err := v.Permission(t, p, vfs.MayExec); err != nil {
		return nil, 0, "", err
	}
	// An exec opens the file to read and execute it (open_exec).
	if err := v.CheckLandlock(t, p, vfs.AccessExecute|vfs.AccessReadFile); err != nil {
		return nil, 0, "", err
	}
	if err := v.ExecPermission(t, p); err != nil {
		return nil, 0, "", err
	}
	v.NotifyExec(t, p)
	name, ok := v.PathName(at.Root, p)
	if !ok {
		name = path
	}
	return &inodeReader{ctx: t, ino: p.Dentry.Inode(), path: p, name: name, dev: st.Dev, inoNum: st.Ino}, st.Size, name, nil
}

// inodeReader reads a regular file through short-lived open descriptions
// of its inode, so that holding the reader does not keep the file open
// (an unlinked binary's pages go when its last real user goes).
type inodeReader struct {
	ctx  vfs.Context
	ino  vfs.Inode
	path vfs.Path
	// The file's name and identity, for /proc/PID/maps.
	name        string
	dev, inoNum uint64

	mu sync.Mutex
}

// Mappable returns the pages of a tmpfs file, or of a file that offers
// them (a host file's page cache), for the loader to map segments instead
// of copying them; nil for other files.
func (r *inodeReader) Mappable() memmap.Mappable {
	if reg, ok := r.ino.(*tmpfs.Regular); ok {
		return reg
	}
	if m, ok := r.ino.(MappableSource); ok {
		return m.Mappable()
	}
	return nil
}

// MapIdentity returns the name, device and inode number /proc/PID/maps
// shows for the file's mappings.
func (r *inodeReader) MapIdentity() (string, uint64, uint64) { return r.name, r.dev, r.inoNum }

// MappableSource is implemented by inodes and open files whose pages live
// in the memory file behind another object (a host file's page cache, an
// overlay file's current layer): mmap and the loader map that object.
type MappableSource interface {
	Mappable() memmap.Mappable
}

// ReadAt implements io.ReaderAt.
func (r *inodeReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	impl, opts, err := r.ino.Open(r.ctx, unix.O_RDONLY)
	if err != nil {
		return 0, err
	}
	fd := vfs.NewFileDescription(impl, unix.O_RDONLY|unix.O_NOATIME, r.path, opts)
	defer fd.DecRef()
	n := 0
	for n < len(p) {
		m, err := fd.PRead(r.ctx, p[n:], off+int64(n))
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}

// memfdState is a kernel's hidden tmpfs that memfd_create makes its files
// in: a separate namespace, so that no path in the sandbox reaches them.
type memfdState struct {
	mu   sync.Mutex
	v    *vfs.VFS
	root vfs.Path
}

var (
	memfdMu     sync.Mutex
	memfdByKern = map[*Kernel]*memfdState{} // protected by memfdMu
)

// hiddenTmpfs returns the kernel's hidden tmpfs, made at its first use.
func (k *Kernel) hiddenTmpfs() *memfdState {
	memfdMu.Lock()
	defer memfdMu.Unlock()
	st := memfdByKern[k]
	if st == nil {
		v := vfs.New()
		v.Internal = true
		v.RegisterType("tmpfs", tmpfs.Type{MF: k.MemFile})
		st = &memfdState{v: v, root: v.MountRoot(tmpfs.New(k.MemFile, tmpfs.Options{}), "tmpfs", "memfd", 0)}
		memfdByKern[k] = st
	}
	return st
}

// NamespacePath returns a path to a new file of namespace ns, which
// /proc/PID/ns links resolve to. The files hang from the hidden tmpfs's
// root without being in it (nsfs).
func (k *Kernel) NamespacePath(ns nsfs.Namespace) vfs.Path {
	return nsfs.Path(k.hiddenTmpfs().root, ns)
}

// noUmask creates files with the exact mode asked (memfds are 0777).
type noUmask struct{ vfs.Context }

func (noUmask) Umask() uint32 { return 0 }

// NewMemfd makes an anonymous tmpfs file for memfd_create: opened
// read-write, already unlinked, named "memfd:NAME" in /proc/self/fd. With
// allowSealing the file accepts F_ADD_SEALS; otherwise it carries
// F_SEAL_SEAL from the start.
func (t *Task) NewMemfd(name string, allowSealing bool) (*vfs.FileDescription, error) {
	st := t.k.hiddenTmpfs()
	st.mu.Lock()
	defer st.mu.Unlock()
	at := vfs.At{Root: st.root, Dir: st.root}
	fname := "memfd:" + strings.ReplaceAll(name, "/", "_")
	ctx := noUmask{t}
	d, err := st.v.OpenAt(ctx, at, fname, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o777)
	if err != nil {
		return nil, err
	}
	if err := st.v.UnlinkAt(ctx, at, fname, 0); err != nil {
		d.DecRef()
		return nil, err
	}
	if allowSealing {
		if r := tmpfs.RegularOf(d); r != nil {
			r.AllowSealing()
		}
	}
	return d, nil
}

// SealableFile returns the tmpfs file behind d, which takes F_ADD_SEALS
// and F_GET_SEALS (ok false for other files: EINVAL there). Only a memfd
// made with MFD_ALLOW_SEALING starts without F_SEAL_SEAL.
func (t *Task) SealableFile(d *vfs.FileDescription) (*tmpfs.Regular, bool) {
	r := tmpfs.RegularOf(d)
	return r, r != nil
}
