package vfs

import (
	"sync"
	"sync/atomic"
)

// Fanotify event bits (Linux's FAN_*, include/uapi/linux/fanotify.h) the
// VFS reports to fanotify groups. The first five have inotify's values.
const (
	FanAccess       = 0x1
	FanModify       = 0x2
	FanCloseWrite   = 0x8
	FanCloseNowrite = 0x10
	FanOpen         = 0x20
	FanOpenExec     = 0x1000

	// Permission events: asked before the access, which waits for the
	// listener's answer.
	FanOpenPerm     = 0x10000
	FanAccessPerm   = 0x20000
	FanOpenExecPerm = 0x40000
)

// fanEvents are the events a fanotify group hears (the file events of a
// group that does not report file handles).
const fanEvents = FanAccess | FanModify | FanCloseWrite | FanCloseNowrite | FanOpen | FanOpenExec

// FanotifyGroup is told the file events of a VFS: a fanotify group
// (fs/fanotify), which keeps its own marks. The VFS calls it with its
// namespace lock held, so FileEvent must neither block nor call back into
// the VFS.
type FanotifyGroup interface {
	// FileEvent reports events (FanOpen|FanOpenExec for an exec, else one
	// Fan* bit) of the file at p, whose directory is parent (nil at a
	// root), caused by thread tid of process pid.
	FileEvent(mask uint32, p Path, parent Inode, isDir bool, pid, tid int32)
	// Permission asks the group whether ctx's task may do perm (Fan*Perm
	// bits) to the file at p, and waits for the answer if a mark wants
	// it asked: EPERM if the listener denies it, EINTR if a signal ends
	// the wait. The VFS holds none of its locks.
	Permission(ctx Context, perm uint32, p Path, parent Inode, isDir bool) error
}

// fanTable is a VFS's fanotify groups. Groups are rare and events
// frequent: the list is replaced, never changed in place, so that an
// event reads it with one atomic load.
type fanTable struct {
	mu     sync.Mutex
	groups atomic.Pointer[[]FanotifyGroup]
}

// AddFanotifyGroup starts telling g the VFS's file events.
func (v *VFS) AddFanotifyGroup(g FanotifyGroup) {
	t := &v.fan
	t.mu.Lock()
	defer t.mu.Unlock()
	var gs []FanotifyGroup
	if old := t.groups.Load(); old != nil {
		gs = append(gs, *old...)
	}
	gs = append(gs, g)
	t.groups.Store(&gs)
}

// RemoveFanotifyGroup stops telling g the VFS's events.
func (v *VFS) RemoveFanotifyGroup(g FanotifyGroup) {
	t := &v.fan
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.groups.Load()
	if old == nil {
		return
	}
	var gs []FanotifyGroup
	for _, x := range *old {
		if x != g {
			gs = append(gs, x)
		}
	}
	t.groups.Store(&gs)
}

// fanWatched reports whether any fanotify group listens.
func (v *VFS) fanWatched() bool {
	if v == nil {
		return false
	}
	gs := v.fan.groups.Load()
	return gs != nil && len(*gs) != 0
}

// actor is what a Context that is a task says of itself, for the pid of
// fanotify events.
type actor interface {
	PID() int32
	TID() int32
}

// ActorOf returns the process and thread ctx acts for (0 for the kernel).
func ActorOf(ctx Context) (pid, tid int32) {
	if a, ok := ctx.(actor); ok {
		return a.PID(), a.TID()
	}
	return 0, 0
}

// notifyPath reports mask (In*, which the first Fan* bits share) of the
// file at p to inotify watches and fanotify groups alike.
func (v *VFS) notifyPath(p Path, mask uint32, pid, tid int32) {
	ino, fan := v.watched(), v.fanWatched()
	if !ino && !fan {
		return
	}
	v.ns.RLock()
	defer v.ns.RUnlock()
	if ino {
		v.notifyLocked(p.Dentry, mask)
	}
	if fan && mask&fanEvents != 0 {
		v.fanNotifyLocked(p, mask&fanEvents, pid, tid)
	}
}

// fanNotifyLocked reports mask of the file at p to every fanotify group.
//
// Preconditions: v.ns is held (the dentry's parent is stable).
func (v *VFS) fanNotifyLocked(p Path, mask uint32, pid, tid int32) {
	gs := v.fan.groups.Load()
	if gs == nil {
		return
	}
	var parent Inode
	if d := p.Dentry.parent; d != nil {
		parent = d.inode
	}
	for _, g := range *gs {
		g.FileEvent(mask, p, parent, p.Dentry.isDir, pid, tid)
	}
}

// NotifyExec reports to fanotify groups that the caller opened the file at
// p to execute it (FanOpen|FanOpenExec, as Linux's open_exec).
func (v *VFS) NotifyExec(ctx Context, p Path) {
	if !v.fanWatched() {
		return
	}
	pid, tid := ActorOf(ctx)
	v.ns.RLock()
	defer v.ns.RUnlock()
	v.fanNotifyLocked(p, FanOpen|FanOpenExec, pid, tid)
}

// OpenQuiet opens the file at p as OpenPath does, without telling anyone:
// the description fanotify gives its reader for an event is not an event
// itself, nor are its reads and its close.
func (v *VFS) OpenQuiet(ctx Context, p Path, flags uint32) (*FileDescription, error) {
	return v.openPath(ctx, p, flags|OLargeFile, false, true)
}

// fanPermission asks every fanotify group whether the caller may do perm
// to the file at p: the first refusal wins.
func (v *VFS) fanPermission(ctx Context, p Path, perm uint32) error {
	gs := v.fan.groups.Load()
	if gs == nil || len(*gs) == 0 {
		return nil
	}
	var parent Inode
	v.ns.RLock()
	if d := p.Dentry.parent; d != nil {
		parent = d.inode
	}
	v.ns.RUnlock()
	for _, g := range *gs {
		if err := g.Permission(ctx, perm, p, parent, p.Dentry.isDir); err != nil {
			return err
		}
	}
	return nil
}

// ExecPermission asks fanotify groups whether the caller may open the
// file at p to execute it: FanOpenExecPerm, then FanOpenPerm, two events
// as Linux's fsnotify_open_perm asks them.
func (v *VFS) ExecPermission(ctx Context, p Path) error {
	if err := v.fanPermission(ctx, p, FanOpenExecPerm); err != nil {
		return err
	}
	return v.fanPermission(ctx, p, FanOpenPerm)
}

// accessPermission asks fanotify groups whether ctx may read from fd.
func (fd *FileDescription) accessPermission(ctx Context) error {
	d := fd.path.Dentry
	if d == nil || fd.quiet || !d.sb.v.fanWatched() {
		return nil
	}
	return d.sb.v.fanPermission(ctx, fd.path, FanAccessPerm)
}
