package vfs

import (
	"sync"
	"sync/atomic"
)

// Inotify event bits (Linux's IN_*, include/uapi/linux/inotify.h): what the
// VFS reports to a Watch.
const (
	InAccess       = 0x1
	InModify       = 0x2
	InAttrib       = 0x4
	InCloseWrite   = 0x8
	InCloseNowrite = 0x10
	InOpen         = 0x20
	InMovedFrom    = 0x40
	InMovedTo      = 0x80
	InCreate       = 0x100
	InDelete       = 0x200
	InDeleteSelf   = 0x400
	InMoveSelf     = 0x800
	InIgnored      = 0x8000
	InIsDir        = 0x40000000
)

// Watch is told the events of one watched inode: an inotify watch. The VFS
// calls it with its own locks held, so Event must neither block nor call
// back into the VFS.
type Watch interface {
	// Event reports one event: mask is one In* bit, with InIsDir when the
	// subject is a directory; cookie ties an InMovedFrom to its
	// InMovedTo; name is the entry's name for an event of a watched
	// directory's entry and "" for one of the watched inode itself;
	// unlinked says that entry has no name any more (an open file whose
	// name was removed). InIgnored is the last event a watch gets: its
	// inode is gone and the VFS has dropped the watch. Event returns
	// false to be dropped after this event (a one-shot watch that fired).
	Event(mask, cookie uint32, name string, unlinked bool) (keep bool)
}

// watchTable holds every watch of one VFS by inode. Watches are rare and
// events frequent: count lets every event source skip the table with one
// atomic load while nothing is watched.
type watchTable struct {
	count   atomic.Int64
	cookies atomic.Uint32

	mu      sync.Mutex
	byInode map[Inode][]Watch // protected by mu
}

// AddWatch starts telling w the events of p's inode. A watch is added once;
// RemoveWatch takes it away.
func (v *VFS) AddWatch(p Path, w Watch) {
	t := &v.watches
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byInode == nil {
		t.byInode = map[Inode][]Watch{}
	}
	t.byInode[p.Dentry.inode] = append(t.byInode[p.Dentry.inode], w)
	t.count.Add(1)
}

// RemoveWatch stops telling w the events of ino (nothing if it was
// dropped already).
func (v *VFS) RemoveWatch(ino Inode, w Watch) {
	t := &v.watches
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(ino, w)
}

func (t *watchTable) removeLocked(ino Inode, w Watch) {
	ws := t.byInode[ino]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			t.count.Add(-1)
			break
		}
	}
	if len(ws) == 0 {
		delete(t.byInode, ino)
	} else {
		t.byInode[ino] = ws
	}
}

// deliver tells the watches of ino one event; the ones that return false
// are dropped.
func (t *watchTable) deliver(ino Inode, mask, cookie uint32, name string, unlinked bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.byInode[ino] {
		if !w.Event(mask, cookie, name, unlinked) {
			t.removeLocked(ino, w)
		}
	}
}

// gone tells the watches of ino that it is deleted (InDeleteSelf, never
// with InIsDir, then InIgnored) and drops them all.
func (t *watchTable) gone(ino Inode) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ws := t.byInode[ino]
	if len(ws) == 0 {
		return
	}
	for _, w := range ws {
		w.Event(InDeleteSelf, 0, "", false)
		w.Event(InIgnored, 0, "", false)
	}
	delete(t.byInode, ino)
	t.count.Add(-int64(len(ws)))
}

// watched reports whether any watch exists: the fast way out of every
// notification.
func (v *VFS) watched() bool { return v != nil && v.watches.count.Load() != 0 }

// notifyChildLocked reports a change of dir's entry name (InCreate,
// InDelete, InMovedFrom, InMovedTo) to dir's watches.
//
// Preconditions: v.ns is held (dentry names and parents are stable).
func (v *VFS) notifyChildLocked(dir *Dentry, name string, mask, cookie uint32, isDir bool) {
	if !v.watched() {
		return
	}
	if isDir {
		mask |= InIsDir
	}
	v.watches.deliver(dir.inode, mask, cookie, name, false)
}

// notifyLocked reports an event of d's file: first to its parent's
// watches, with its name (Linux sends access, modify, attrib, open and
// close events of a directory's entries to the directory's watches too),
// then to its own.
//
// Preconditions: v.ns is held.
func (v *VFS) notifyLocked(d *Dentry, mask uint32) {
	if !v.watched() {
		return
	}
	if d.isDir {
		mask |= InIsDir
	}
	if d.parent != nil && mask&inEventsOnChild != 0 {
		v.watches.deliver(d.parent.inode, mask, 0, d.name, d.dead.Load())
	}
	v.watches.deliver(d.inode, mask, 0, "", false)
}

// notifySelfLocked reports an event of d's inode to its own watches only
// (Linux's fsnotify_inode: InAttrib for a changed link count, InMoveSelf),
// without InIsDir, as Linux 6.18 reports these.
//
// Preconditions: v.ns is held.
func (v *VFS) notifySelfLocked(d *Dentry, mask uint32) {
	if !v.watched() {
		return
	}
	v.watches.deliver(d.inode, mask, 0, "", false)
}

// inEventsOnChild are the events a directory's watches also get for its
// entries (Linux's FS_EVENTS_POSS_ON_CHILD).
const inEventsOnChild = InAccess | InModify | InAttrib | InCloseWrite | InCloseNowrite | InOpen

// nameLostLocked handles d after it lost a name (unlink, rmdir, or the
// target of a rename) and nlink says whether its inode still has any: a
// file without names is gone for its watches (InDeleteSelf, InIgnored)
// once nothing has it open, now or at the last close (fileClosed).
//
// Preconditions: v.ns is held for writing.
func (v *VFS) nameLostLocked(d *Dentry, nlink uint64) {
	if nlink != 0 || !v.watched() {
		return
	}
	if d.opens.Load() == 0 {
		v.watches.gone(d.inode)
		return
	}
	d.gonePending.Store(true)
}

// fileOpened counts a description of d (an open file delays its
// InDeleteSelf until it is closed, as Linux's dentry reference does).
func (d *Dentry) fileOpened() { d.opens.Add(1) }

// fileClosed uncounts a description of d when it is released, and sends
// the InDeleteSelf its unlinking left pending to the last one.
func (d *Dentry) fileClosed() {
	if d.opens.Add(-1) != 0 || !d.gonePending.Load() {
		return
	}
	d.gonePending.Store(false)
	if v := d.sb.v; v != nil {
		v.watches.gone(d.inode)
	}
}

// newCookie returns a fresh rename cookie (never 0).
func (t *watchTable) newCookie() uint32 {
	for {
		if c := t.cookies.Add(1); c != 0 {
			return c
		}
	}
}
