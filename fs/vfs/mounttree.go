package vfs

import (
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// newSuperblockLocked wraps a filesystem for mounting; a filesystem that
// was mounted before keeps its superblock (single-instance types).
func (v *VFS) superblockFor(fs Filesystem, typ, source string) *Superblock {
	if sb, ok := v.sbs[fs]; ok {
		return sb
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

// MountRoot makes fs the root of the mount tree of the VFS's initial
// namespace and returns its root Path (the kernel does this once, with the
// initramfs tmpfs).
func (v *VFS) MountRoot(fs Filesystem, fstype, source string, flags uint64) Path {
	v.ns.Lock()
	defer v.ns.Unlock()
	sb := v.superblockFor(fs, fstype, source)
	ns := &MountNamespace{v: v, inum: InitialMountInum, initial: true}
	m := &Mount{id: v.nextID, ns: ns, sb: sb, root: sb.root}
	m.flags.Store(flags)
	v.nextID++
	ns.root = m
	v.initNS = ns
	v.addMountLocked(m)
	return Path{m, m.root}
}

// attachLocked mounts root (of sb) on target, in target's namespace.
func (v *VFS) attachLocked(sb *Superblock, root *Dentry, target Path, flags uint64) *Mount {
	m := &Mount{id: v.nextID, ns: target.Mount.ns, sb: sb, root: root}
	m.flags.Store(flags)
	v.nextID++
	v.addMountLocked(m)
	v.hangLocked(m, target)
	return m
}

// addMountLocked counts m in (its superblock's mounts, the VFS's).
func (v *VFS) addMountLocked(m *Mount) {
	v.allMnts[m] = struct{}{}
	m.sb.mounts++
	v.sbs[m.sb.fs] = m.sb
	if h, ok := m.root.inode.(MountHolder); ok {
		h.MountHeld()
	}
}

// MountHolder is an inode that a mount of it keeps something alive
// through (a namespace file bound on a file): MountHeld is called when a
// mount of it is made, with the VFS's namespace lock held (it must not
// take it), MountReleased, on a goroutine of its own, when one goes.
type MountHolder interface {
	MountHeld()
	MountReleased()
}

// hangLocked puts m on top of the mounts at target.
func (v *VFS) hangLocked(m *Mount, target Path) {
	m.parent, m.point = target.Mount, target.Dentry
	k := mountKey{target.Mount, target.Dentry}
	v.mounts[k] = append(v.mounts[k], m)
	target.Dentry.mounts++
	if target.Mount.kids == nil {
		target.Mount.kids = make(map[*Mount]struct{})
	}
	target.Mount.kids[m] = struct{}{}
}

// unhangLocked takes m off its mount point, leaving its own subtree on it.
func (v *VFS) unhangLocked(m *Mount) {
	delete(m.parent.kids, m)
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

// Mount is mount(2) in namespace ns (the caller's; nil: any): source,
// target and fstype as given, flags MS_*, data the option string.
// Supported: new mounts of registered types (ENODEV for others), MS_BIND
// (of a directory or file), MS_MOVE, MS_REMOUNT (flags only), and
// propagation changes (MS_SHARED/PRIVATE/SLAVE/UNBINDABLE, accepted and
// ignored: every mount is private, uk has no propagation). The mount
// changed or mounted on must be in ns (EINVAL), as Linux's check_mnt.
func (v *VFS) Mount(ctx Context, ns *MountNamespace, at At, source, target, fstype string, flags uint64, data string) error {
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
	if err := checkMount(tp.Mount, ns); err != nil {
		return err
	}
	if flags&(unix.MS_REMOUNT|unix.MS_MOVE|unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_SLAVE|unix.MS_UNBINDABLE) == 0 && len(v.allMnts) >= MountMax {
		return unix.ENOSPC
	}
	switch {
	case flags&unix.MS_REMOUNT != 0:
		if tp.Dentry != tp.Mount.root {
			return unix.EINVAL
		}
		tp.Mount.flags.Store(flags & mountFlagsKept)
		return nil
	case flags&unix.MS_MOVE != 0:
		sp, err := w.walk(at.Dir, source, true)
		if err != nil {
			return err
		}
		return v.moveLocked(ns, sp, tp)
	case flags&(unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_SLAVE|unix.MS_UNBINDABLE) != 0:
		return nil
	case flags&unix.MS_BIND != 0:
		sp, err := w.walk(at.Dir, source, true)
		if err != nil {
			return err
		}
		// A namespace file may come from anywhere (/proc/PID/ns/NAME):
		// binding one keeps its namespace alive, as `ip netns add` does.
		if _, nsFile := sp.Dentry.inode.(MountHolder); !nsFile {
			if err := checkMount(sp.Mount, ns); err != nil {
				return err
			}
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

// moveLocked is MS_MOVE: the mount whose root is at sp, with everything
// mounted below it, goes onto tp. Linux's do_move_mount checks, in its
// order: sp must be the root of a mount of ns with a parent (EINVAL), of
// the same kind (directory or not) as tp (EINVAL), and tp may not lie in
// the subtree moved (ELOOP).
func (v *VFS) moveLocked(ns *MountNamespace, sp, tp Path) error {
	old := sp.Mount
	if old.parent == nil || checkMount(old, ns) != nil || sp.Dentry != old.root || sp.Dentry.isDir != tp.Dentry.isDir {
		return unix.EINVAL
	}
	for p := tp.Mount; p != nil; p = p.parent {
		if p == old {
			return unix.ELOOP
		}
	}
	v.unhangLocked(old)
	v.hangLocked(old, tp)
	return nil
}

// PivotRoot is pivot_root(2) in namespace ns for a caller whose root is
// at.Root: the mount at newRoot becomes the root mount (taking the place
// of the current root's mount), and the current root's mount moves to
// putOld. It returns the old and the new root, for the caller to move
// every task's root and working directory that was at the old one (as
// Linux's chroot_fs_refs). Errors as Linux's: ENOTDIR for a path that is
// not a directory, EBUSY when new_root or put_old is on the root's mount,
// EINVAL when the root or new_root is not the root of a mount, when either
// is outside ns, when put_old is not at or under new_root, or new_root not
// under the root.
//
// The root of a namespace has no parent mount in uk (Linux's has rootfs
// below it, which is why pivot_root works there): pivoting it makes
// new_root the namespace's top mount.
func (v *VFS) PivotRoot(ctx Context, ns *MountNamespace, at At, newRoot, putOld string) (oldRoot, newTop Path, err error) {
	v.ns.Lock()
	defer v.ns.Unlock()
	w := v.newWalker(ctx, at)
	lookupDir := func(name string) (Path, error) {
		p, err := w.walk(at.Dir, name, true)
		if err == nil && !p.Dentry.isDir {
			err = unix.ENOTDIR
		}
		return p, err
	}
	np, err := lookupDir(newRoot)
	if err != nil {
		return Path{}, Path{}, err
	}
	op, err := lookupDir(putOld)
	if err != nil {
		return Path{}, Path{}, err
	}
	root := at.Root
	rootMnt, newMnt := root.Mount, np.Mount
	switch {
	case checkMount(rootMnt, ns) != nil || checkMount(newMnt, ns) != nil:
		return Path{}, Path{}, unix.EINVAL
	case np.Dentry.IsDeleted():
		return Path{}, Path{}, unix.ENOENT
	case newMnt == rootMnt || op.Mount == rootMnt:
		return Path{}, Path{}, unix.EBUSY
	case root.Dentry != rootMnt.root || np.Dentry != newMnt.root || newMnt.parent == nil,
		!reachableLocked(op, np), !reachableLocked(np, root):
		return Path{}, Path{}, unix.EINVAL
	}
	rootParent, rootPoint := rootMnt.parent, rootMnt.point
	v.unhangLocked(newMnt)
	if rootParent != nil {
		v.unhangLocked(rootMnt)
	}
	v.hangLocked(rootMnt, op)
	if rootParent != nil {
		v.hangLocked(newMnt, Path{rootParent, rootPoint})
	} else {
		newMnt.parent, newMnt.point = nil, nil
		rootMnt.ns.root = newMnt
	}
	return Path{rootMnt, rootMnt.root}, Path{newMnt, newMnt.root}, nil
}

// reachableLocked reports whether p is at or below top in the mount tree
// (Linux's is_path_reachable).
func reachableLocked(p, top Path) bool {
	for p.Mount != top.Mount {
		if p.Mount.parent == nil {
			return false
		}
		p = Path{p.Mount.parent, p.Mount.point}
	}
	for d := p.Dentry; d != nil; d = d.parent {
		if d == top.Dentry {
			return true
		}
	}
	return false
}

// Umount is umount2(2) in namespace ns. The target must be the root of a
// mount (EINVAL) of ns (EINVAL); a mount with mounts below it is EBUSY
// unless MNT_DETACH, which takes the whole subtree away. The root mount is
// EBUSY.
func (v *VFS) Umount(ctx Context, ns *MountNamespace, at At, target string, flags int) error {
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
	if tp.Dentry != m.root || checkMount(m, ns) != nil {
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
	out := make([]*Mount, 0, len(m.kids))
	for c := range m.kids {
		out = append(out, c)
	}
	return out
}

func (v *VFS) detachLocked(m *Mount) {
	for _, c := range v.childrenLocked(m) {
		v.detachLocked(c)
	}
	v.unhangLocked(m)
	v.removeMountLocked(m)
}

// removeMountLocked counts m out; the last mount of a filesystem lets it
// know (Unmounter).
func (v *VFS) removeMountLocked(m *Mount) {
	delete(v.allMnts, m)
	if h, ok := m.root.inode.(MountHolder); ok {
		go h.MountReleased()
	}
	m.sb.mounts--
	if m.sb.mounts > 0 {
		return
	}
	delete(v.sbs, m.sb.fs)
	if u, ok := m.sb.fs.(Unmounter); ok {
		u.Unmounted()
	}
}

// Unmounter is a Filesystem that learns when its last mount in a VFS is
// gone (in every namespace), to give back what only paths could reach.
// It is called with the VFS's namespace lock held.
type Unmounter interface {
	Unmounted()
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

// Mounts lists the mounts of root's namespace visible from root, parents
// before children.
func (v *VFS) Mounts(root Path) []MountInfo {
	v.ns.RLock()
	defer v.ns.RUnlock()
	var out []MountInfo
	for m := range v.allMnts {
		if m.ns != root.Mount.ns {
			continue
		}
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
