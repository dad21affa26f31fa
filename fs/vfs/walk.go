package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Limits of path resolution, as Linux.
const (
	MaxSymlinks = 40   // ELOOP after this many symlinks in one resolution
	PathMax     = 4096 // ENAMETOOLONG for longer paths (including the NUL)
	NameMax     = 255  // ENAMETOOLONG for longer components
)

// Access bits for permission checks (MAY_READ, MAY_WRITE, MAY_EXEC).
const (
	MayRead  = 4
	MayWrite = 2
	MayExec  = 1
)

// walker resolves one path; callers hold v.ns (read or write).
type walker struct {
	v     *VFS
	ctx   Context
	creds *Credentials
	root  Path
	links int
}

func (v *VFS) newWalker(ctx Context, at At) *walker {
	return &walker{v: v, ctx: ctx, creds: ctx.Credentials(), root: at.Root}
}

func (p Path) same(q Path) bool { return p.Mount == q.Mount && p.Dentry == q.Dentry }

// checkPath validates a user path's length.
func checkPath(path string) error {
	if len(path) >= PathMax {
		return unix.ENAMETOOLONG
	}
	return nil
}

// MayAccess is the permission check of a file's mode bits and owner
// (Linux's generic_permission with root's capabilities) for objects that
// are reached without a path walk, such as a POSIX message queue opened
// by name: EACCES unless c may have want (MayRead|MayWrite|MayExec) on a
// file of attributes st.
func MayAccess(c *Credentials, st *Stat, want uint32) error { return mayAccess(c, st, want) }

// mayAccess checks want (MayRead|MayWrite|MayExec) against attributes.
// Privileged callers pass everything except execution of a file with no x
// bit at all.
func mayAccess(c *Credentials, st *Stat, want uint32) error {
	if c.Privileged {
		if want&MayExec == 0 || st.IsDir() || st.Mode&0o111 != 0 {
			return nil
		}
		return unix.EACCES
	}
	var perm uint32
	switch {
	case c.FSUID == st.UID:
		perm = st.Mode >> 6 & 7
	case c.InGroup(st.GID):
		perm = st.Mode >> 3 & 7
	default:
		perm = st.Mode & 7
	}
	if want&^perm != 0 {
		return unix.EACCES
	}
	return nil
}

// permission checks want on the dentry's inode.
func (w *walker) permission(d *Dentry, want uint32) error {
	if want&MayWrite != 0 && inodeFlags(d.inode)&FlagImmutable != 0 {
		return unix.EPERM // no one writes to an immutable inode
	}
	if d.isDir && w.creds.Privileged {
		// Root may search and change every directory (mayAccess), as
		// on Linux, which does not ask the filesystem either: the
		// attributes would cost a host fstatat per directory walked
		// through on a writable host tree (three per path of a job's
		// work tree), and one per file created or removed there.
		return nil
	}
	st, err := d.inode.Stat(w.ctx)
	if err != nil {
		return err
	}
	return mayAccess(w.creds, &st, want)
}

// followMounts moves from a mount point to the root of the top mount on it.
func (v *VFS) followMounts(p Path) Path {
	for p.Dentry.mounts > 0 {
		ms := v.mounts[mountKey{p.Mount, p.Dentry}]
		if len(ms) == 0 {
			break
		}
		top := ms[len(ms)-1]
		p = Path{top, top.root}
	}
	return p
}

// dotdot returns the parent of p, not leaving the walker's root and
// crossing from a mount's root to its mount point first.
func (w *walker) dotdot(p Path) Path {
	for {
		if p.same(w.root) {
			return p
		}
		if p.Dentry != p.Mount.root {
			break
		}
		if p.Mount.parent == nil {
			return p
		}
		p = Path{p.Mount.parent, p.Mount.point}
	}
	if p.Dentry.parent == nil {
		return p
	}
	return w.v.followMounts(Path{p.Mount, p.Dentry.parent})
}

// lookupChild returns the dentry of name in directory d, from the cache
// or from the filesystem.
func (v *VFS) lookupChild(ctx Context, d *Dentry, name string) (*Dentry, error) {
	dir, ok := d.inode.(DirInode)
	if !ok {
		return nil, unix.ENOTDIR
	}
	dyn := false
	if dd, ok := d.inode.(DynamicDir); ok {
		dyn = dd.Dynamic()
	}
	c := d.cached(name)
	if c != nil && !dyn {
		return c, nil
	}
	ino, err := dir.Lookup(ctx, name)
	if err != nil {
		if c != nil && c.mounts == 0 {
			d.uncache(name)
		}
		return nil, err
	}
	if c != nil && c.inode == ino {
		return c, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur := d.children[name]; cur != nil && (cur.inode == ino || (!dyn && cur != c)) {
		return cur, nil // another walker cached it meanwhile
	}
	nd := newDentry(d.sb, d, name, ino)
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = nd
	return nd, nil
}

// step resolves one component name relative to directory p.
func (w *walker) step(p Path, name string) (Path, error) {
	if !p.Dentry.isDir {
		return Path{}, unix.ENOTDIR
	}
	if len(name) > NameMax {
		return Path{}, unix.ENAMETOOLONG
	}
	if err := w.permission(p.Dentry, MayExec); err != nil {
		return Path{}, err
	}
	switch name {
	case ".":
		return p, nil
	case "..":
		return w.dotdot(p), nil
	}
	c, err := w.v.lookupChild(w.ctx, p.Dentry, name)
	if err != nil {
		return Path{}, err
	}
	return w.v.followMounts(Path{p.Mount, c}), nil
}

// isSymlink reports whether d is a symbolic link.
func isSymlink(d *Dentry) bool {
	_, ok := d.inode.(SymlinkInode)
	return ok
}

// followLink resolves the symlink at link, seen from directory dir: it
// returns the path to continue from and the text still to walk.
func (w *walker) followLink(dir Path, link *Dentry, rest string) (Path, string, error) {
	w.links++
	if w.links > MaxSymlinks {
		return Path{}, "", unix.ELOOP
	}
	if m, ok := link.inode.(MagicLink); ok {
		p, err := m.Resolve(w.ctx)
		if err != nil {
			return Path{}, "", err
		}
		return p, rest, nil
	}
	target, err := link.inode.(SymlinkInode).Readlink(w.ctx)
	if err != nil {
		return Path{}, "", err
	}
	if target == "" {
		return Path{}, "", unix.ENOENT
	}
	if len(target)+len(rest) >= PathMax {
		return Path{}, "", unix.ENAMETOOLONG
	}
	if target[0] == '/' {
		dir = w.root
	}
	return dir, target + rest, nil
}

// walk resolves path from start. followLast says whether a symlink as the
// last component is followed (a trailing slash always follows it). The
// result of a path with a trailing slash is always a directory (ENOTDIR).
func (w *walker) walk(start Path, path string, followLast bool) (Path, error) {
	if path == "" {
		return Path{}, unix.ENOENT
	}
	if err := checkPath(path); err != nil {
		return Path{}, err
	}
	cur := start
	if path[0] == '/' {
		cur = w.root
	}
	rest := path
	for {
		trimmed := strings.TrimLeft(rest, "/")
		if trimmed == "" {
			if rest != "" && !cur.Dentry.isDir {
				return Path{}, unix.ENOTDIR
			}
			return cur, nil
		}
		rest = trimmed
		var name string
		if i := strings.IndexByte(rest, '/'); i < 0 {
			name, rest = rest, ""
		} else {
			name, rest = rest[:i], rest[i:]
		}
		next, err := w.step(cur, name)
		if err != nil {
			return Path{}, err
		}
		last := strings.TrimLeft(rest, "/") == ""
		if isSymlink(next.Dentry) && (!last || followLast || rest != "") {
			np, nrest, err := w.followLink(cur, next.Dentry, rest)
			if err != nil {
				return Path{}, err
			}
			cur, rest = np, nrest
			if rest == "" {
				return cur, nil // a magic link resolved as the last component
			}
			continue
		}
		cur = next
	}
}

// walkParent resolves all but the last component of path. It returns the
// parent directory, the last component ("" for "/"), and whether the path
// ended in a slash.
func (w *walker) walkParent(start Path, path string) (Path, string, bool, error) {
	if path == "" {
		return Path{}, "", false, unix.ENOENT
	}
	if err := checkPath(path); err != nil {
		return Path{}, "", false, err
	}
	trimmed := strings.TrimRight(path, "/")
	trailing := len(trimmed) != len(path)
	if trimmed == "" { // "/" or "///"
		return w.root, "", true, nil
	}
	dirPart, name := "", trimmed
	if i := strings.LastIndexByte(trimmed, '/'); i >= 0 {
		dirPart, name = trimmed[:i+1], trimmed[i+1:]
	}
	if len(name) > NameMax {
		return Path{}, "", false, unix.ENAMETOOLONG
	}
	dir := start
	if dirPart != "" {
		var err error
		if dir, err = w.walk(start, dirPart, true); err != nil {
			return Path{}, "", false, err
		}
	}
	if !dir.Dentry.isDir {
		return Path{}, "", false, unix.ENOTDIR
	}
	return dir, name, trailing, nil
}
