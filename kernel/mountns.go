package kernel

import "uk/fs/vfs"

// MountNamespace returns the mount namespace t is in: the one it entered
// or made, or the VFS's initial one (nil without a VFS).
func (t *Task) MountNamespace() *vfs.MountNamespace {
	if ns := t.mntNS.Load(); ns != nil {
		return ns
	}
	if t.k.VFS == nil {
		return nil
	}
	return t.k.VFS.InitialNamespace()
}

// setMountNamespace moves t into ns, counting it there and out of the one
// it was in (nil: the initial namespace, kept as nil like time's; an
// exiting task leaves with nil).
func (t *Task) setMountNamespace(ns *vfs.MountNamespace) {
	if ns != nil && ns == t.k.VFS.InitialNamespace() {
		ns = nil
	}
	if ns != nil {
		ns.IncUsers()
	}
	if old := t.mntNS.Swap(ns); old != nil {
		old.DecUsers()
	}
}

// newMountNamespace moves t, whose filesystem context fsc is its own (not
// shared), into a copy of mount namespace src, and its root and working
// directory to the copies of theirs (unshare and clone with CLONE_NEWNS;
// the caller checked CAP_SYS_ADMIN).
func (t *Task) newMountNamespace(src *vfs.MountNamespace, fsc *vfs.FSContext) error {
	ns, remap, err := t.k.VFS.CopyNamespace(src, nsInumBase+nextNSInum.Add(1))
	if err != nil {
		return err
	}
	fsc.SetRoot(remap(fsc.Root()))
	fsc.SetCwd(remap(fsc.Cwd()))
	if old := t.mntNS.Swap(ns); old != nil { // CopyNamespace counted t in
		old.DecUsers()
	}
	return nil
}

// fsShared reports whether another task shares t's filesystem context
// (CLONE_FS).
func (t *Task) fsShared() bool {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, o := range k.tasks {
		if o != t && o.FS == t.FS && !o.leaving.Load() {
			return true
		}
	}
	return false
}

// PivotRoot is pivot_root(2) for a privileged caller (sysPivotRoot checks,
// as mount's): see vfs.PivotRoot. Afterwards every task whose root or
// working directory was the old root has the new one instead, as Linux's
// chroot_fs_refs.
func (t *Task) PivotRoot(newRoot, putOld string) error {
	v, at, err := t.At(AtFDCWD, newRoot)
	if err != nil {
		return err
	}
	oldRoot, newTop, err := v.PivotRoot(t, t.MountNamespace(), at, newRoot, putOld)
	if err != nil {
		return err
	}
	k := t.k
	k.mu.Lock()
	seen := make(map[*vfs.FSContext]bool)
	for _, task := range k.tasks {
		fsc := task.FS
		if fsc == nil || seen[fsc] {
			continue
		}
		seen[fsc] = true
		if fsc.Root() == oldRoot {
			fsc.SetRoot(newTop)
		}
		if fsc.Cwd() == oldRoot {
			fsc.SetCwd(newTop)
		}
	}
	k.mu.Unlock()
	return nil
}
