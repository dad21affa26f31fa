package vfs

import "sync"

// At says where a path walk starts: Root is the caller's root directory
// (absolute paths and ".." stop there: chroot), Dir the directory relative
// paths start from (the cwd, or a dirfd's Path). With AT_EMPTY_PATH and an
// empty path, Dir itself (which may be any file) is the target.
type At struct {
	Root Path
	Dir  Path
}

// FSContext is a process's filesystem context: its root and working
// directory (shared by CLONE_FS threads). Safe for concurrent use.
type FSContext struct {
	mu   sync.Mutex
	root Path
	cwd  Path
}

// NewFSContext returns a context with root and cwd both at root.
func NewFSContext(root Path) *FSContext { return &FSContext{root: root, cwd: root} }

// Root returns the root directory.
func (f *FSContext) Root() Path {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.root
}

// Cwd returns the working directory.
func (f *FSContext) Cwd() Path {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cwd
}

// At returns where a walk starts: dir, or the cwd when dir is the zero
// Path (AT_FDCWD).
func (f *FSContext) At(dir Path) At {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dir.IsZero() {
		dir = f.cwd
	}
	return At{Root: f.root, Dir: dir}
}

// SetCwd changes the working directory (chdir/fchdir after the caller has
// checked it with VFS.CheckDir).
func (f *FSContext) SetCwd(p Path) {
	f.mu.Lock()
	f.cwd = p
	f.mu.Unlock()
}

// SetRoot changes the root directory (chroot, after VFS.CheckDir and a
// privilege check). As on Linux, the cwd is left alone.
func (f *FSContext) SetRoot(p Path) {
	f.mu.Lock()
	f.root = p
	f.mu.Unlock()
}

// Fork returns a copy (clone without CLONE_FS).
func (f *FSContext) Fork() *FSContext {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &FSContext{root: f.root, cwd: f.cwd}
}
