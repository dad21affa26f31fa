package vfs

import (
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// newSuperblockLocked wraps a filesystem for mounting; a filesystem that
// was mounted before keeps its superblock (single-instance types).
func (v *VFS) superblockFor(fs Filesystem, typ, source string) *Superblock {
	for m := range v.allMnts {
		if m.sb.fs == fs {
			return m.sb
		}
	}
	sb := &Superblock{v: v, fs: fs, typ: typ, source: source, dev: unix.Mkdev(0, v.nextDev.Add(1)+16)}
	sb.root = newDentry(sb, nil, "/", fs.Root())
	return sb
}

// NewFilesystem creates a filesystem of a registered type, as mount(2)
// would (ENODEV for an unknown type).
func (v *VFS) NewFilesystem(ctx Context, fstype, source string, flags uint64, data string) (Filesystem, error) {
	v.typesMu.Lock()
	t, ok := v.types[fstype]
	v.typesMu.Unlock()
	if !ok {
		return nil, unix.ENODEV
	}
	return t.NewFilesystem(ctx, v, source, flags, data)
}

// MountRoot makes fs the root of the mount tree and returns its root Path
// (the kernel does this once, with the initramfs tmpfs).
func (v *VFS) MountRoot(fs Filesystem, fstype, source string, flags uint64) Path {
	v.ns.Lock()
	defer v.ns.Unlock()
	sb := v.superblockFor(fs, fstype, source)
	m := &Mount{id: v.nextID, sb: sb, root: sb.root}
	m.flags.Store(flags)
	v.nextID++
	v.root = m
	v.allMnts[m] = struct{}{}
	return Path{m, m.root}
}

// RootPath returns the root of the mount tree.
func (v *VFS) RootPath() Path {
	v.ns.RLock()
	defer v.ns.RUnlock()
	if v.root == nil {
		return Path{}
	}
	return Path{v.root, v.root.root}
}

// attachLocked mounts root (of sb) on target.
func (v *VFS) attachLocked(sb *Superblock, root *Dentry, target Path, flags uint64) *Mount {
	m := &Mount{id: v.nextID, sb: sb, root: root, parent: target.Mount, point: target.Dentry}
	m.flags.Store(flags)
	v.nextID++
	k := mountKey{target.Mount, target.Dentry}
	v.mounts[k] = append(v.mounts[k], m)
	target.Dentry.mounts++
	v.allMnts[m] = struct{}{}
	return m
}

// MountFilesystem mounts fs on the directory target (the kernel's own
// mounts, e.g. devtmpfs on /dev before init runs).
func (v *VFS) MountFilesystem(fs Filesystem, fstype, source string, target Path, flags uint64) (*Mount, error) {
	v.ns.Lock()
	defer v.ns.Unlock()
	if !target.Dentry.isDir {
		return nil, unix.ENOTDIR
	}
	sb := v.superblockFor(fs, fstype, source)
	return v.attachLocked(sb, sb.root, target, flags&mountFlagsKept), nil
}

// mountFlagsKept are the per-mount flags a Mount remembers.
const mountFlagsKept = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// Mount is mount(2): source, target and fstype as given, flags MS_*, data
// the option string. Supported: new mounts of registered types (ENODEV for
// others), MS_BIND (of a directory or file), MS_REMOUNT (flags only), and
// propagation changes (MS_SHARED/PRIVATE/SLAVE/UNBINDABLE, accepted and
// ignored: uk has one mount namespace with no propagation).
func (v *VFS) Mount(ctx Context, at At, source, target, fstype string, flags uint64, data string) error {
	if !ctx.Credentials().Privileged {
		return unix.EPERM
	}
	var fs Filesystem
	if flags&(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_MOVE|unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_SLAVE|unix.MS_UNBINDABLE) == 0 {
		// Create the filesystem before taking the namespace lock: a type
		// may walk paths or populate itself through the VFS.
		var err error
		if fs, err = v.NewFilesystem(ctx, fstype, source, flags, data); err != nil {
			return err
		}
	}
	v.ns.Lock()
	defer v.ns.Unlock()
	w := v.newWalker(ctx, at)
	tp, err := w.walk(at.Dir, target, true)
	if err != nil {
		return err
	}
	switch {
	case flags&unix.MS_REMOUNT != 0:
		if tp.Dentry != tp.Mount.root {
			return unix.EINVAL
		}
		tp.Mount.flags.Store(flags & mountFlagsKept)
		return nil
	case flags&unix.MS_MOVE != 0:
		return unix.EINVAL
	case flags&(unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_SLAVE|unix.MS_UNBINDABLE) != 0:
		return nil
	case flags&unix.MS_BIND != 0:
		sp, err := w.walk(at.Dir, source, true)
		if err != nil {
			return err
		}
		if sp.Dentry.isDir != tp.Dentry.isDir {
			if tp.Dentry.isDir {
				return unix.ENOTDIR
			}
			return unix.EISDIR
		}
		v.attachLocked(sp.Mount.sb, sp.Dentry, tp, flags&mountFlagsKept)
		return nil
	}
	if !tp.Dentry.isDir {
		return unix.ENOTDIR
	}
	sb := v.superblockFor(fs, fstype, source)
	v.attachLocked(sb, sb.root, tp, flags&mountFlagsKept)
	return nil
}

// Umount is umount2(2). The target must be the root of a mount (EINVAL);
// a mount with mounts below it is EBUSY unless MNT_DETACH, which takes
// the whole subtree away. The root mount is EBUSY.
func (v *VFS) Umount(ctx Context, at At, target string, flags int) error {
	if !ctx.Credentials().Privileged {
		return unix.EPERM
	}
	if flags&^(unix.MNT_FORCE|unix.MNT_DETACH|unix.MNT_EXPIRE|unix.UMOUNT_NOFOLLOW) != 0 {
		return unix.EINVAL
	}
	v.ns.Lock()
	defer v.ns.Unlock()
	w := v.newWalker(ctx, at)
	tp, err := w.walk(at.Dir, target, flags&unix.UMOUNT_NOFOLLOW == 0)
	if err != nil {
		return err
	}
	m := tp.Mount
	if tp.Dentry != m.root {
		return unix.EINVAL
	}
	if m.parent == nil || m == at.Root.Mount {
		return unix.EBUSY
	}
	kids := v.childrenLocked(m)
	if len(kids) > 0 && flags&unix.MNT_DETACH == 0 {
		return unix.EBUSY
	}
	v.detachLocked(m)
	return nil
}

func (v *VFS) childrenLocked(m *Mount) []*Mount {
	var out []*Mount
	for c := range v.allMnts {
		if c.parent == m {
			out = append(out, c)
		}
	}
	return out
}

func (v *VFS) detachLocked(m *Mount) {
	for _, c := range v.childrenLocked(m) {
		v.detachLocked(c)
	}
	k := mountKey{m.parent, m.point}
	ms := v.mounts[k]
	for i, x := range ms {
		if x == m {
			ms = append(ms[:i:i], ms[i+1:]...)
			break
		}
	}
	if len(ms) == 0 {
		delete(v.mounts, k)
	} else {
		v.mounts[k] = ms
	}
	m.point.mounts--
	delete(v.allMnts, m)
}

// MountInfo describes one mount for /proc/self/mounts and mountinfo.
type MountInfo struct {
	ID, ParentID int
	Dev          uint64
	Root         string // the mounted dentry inside its filesystem ("/" unless a bind)
	MountPoint   string // as seen from the root given to Mounts
	Type         string
	Source       string
	Flags        uint64 // MS_* per-mount flags
}

// Mounts lists the mounts visible from root, parents before children.
func (v *VFS) Mounts(root Path) []MountInfo {
	v.ns.RLock()
	defer v.ns.RUnlock()
	var out []MountInfo
	for m := range v.allMnts {
		mp, ok := v.pathNameLocked(root, Path{m, m.root})
		if !ok {
			continue
		}
		pid := m.id
		if m.parent != nil {
			pid = m.parent.id
		}
		r := dentryPath(m.root)
		out = append(out, MountInfo{ID: m.id, ParentID: pid, Dev: m.sb.dev, Root: r, MountPoint: mp,
			Type: m.sb.typ, Source: m.sb.source, Flags: m.flags.Load()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PathName returns the absolute path of p as seen from root (getcwd,
// readlink of /proc/self/fd/N). ok is false when p is not below root (the
// name is then relative to the top of the mount tree, and getcwd reports
// "(unreachable)").
func (v *VFS) PathName(root, p Path) (name string, ok bool) {
	v.ns.RLock()
	defer v.ns.RUnlock()
	return v.pathNameLocked(root, p)
}

func (v *VFS) pathNameLocked(root, p Path) (string, bool) {
	var parts []string
	for {
		if p.same(root) {
			break
		}
		if p.Dentry == p.Mount.root {
			if p.Mount.parent == nil {
				return "/" + join(parts), false
			}
			p = Path{p.Mount.parent, p.Mount.point}
			continue
		}
		if p.Dentry.parent == nil { // a bind-mounted dentry's filesystem root
			return "/" + join(parts), false
		}
		parts = append(parts, p.Dentry.name)
		p.Dentry = p.Dentry.parent
	}
	return "/" + join(parts), true
}

// dentryPath is the path of d inside its own filesystem.
func dentryPath(d *Dentry) string {
	var parts []string
	for ; d.parent != nil; d = d.parent {
		parts = append(parts, d.name)
	}
	return "/" + join(parts)
}

func join(rev []string) string {
	var b strings.Builder
	for i := len(rev) - 1; i >= 0; i-- {
		b.WriteString(rev[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
	return b.String()
}

// Flags returns the mount's MS_* flags.
func (m *Mount) Flags() uint64 { return m.flags.Load() }

func (m *Mount) readOnly() bool { return m.flags.Load()&unix.MS_RDONLY != 0 }
