// Package inotify implements inotify(7) instances for uk: the file
// inotify_init1 returns, its watches (one per watched inode, numbered by
// the instance), and the queue of events read(2) returns, with Linux's
// rules (fs/notify/inotify): identical consecutive events merged, one
// IN_Q_OVERFLOW when the queue is full, IN_IGNORED when a watch ends,
// IN_ONESHOT, IN_EXCL_UNLINK, IN_MASK_ADD and IN_MASK_CREATE.
//
// The events themselves come from the VFS (vfs.Watch): changes made
// through uk. Changes the host makes to a bound directory behind uk's back
// are not seen.
package inotify

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
)

// Flags of inotify_add_watch's mask besides the events (Linux's IN_*).
const (
	inOnlyDir    = 0x01000000
	inDontFollow = 0x02000000
	inExclUnlink = 0x04000000
	inMaskCreate = 0x10000000
	inMaskAdd    = 0x20000000
	inOneShot    = 0x80000000

	inQOverflow = 0x4000

	// allEvents are the events a watch can ask for (IN_ALL_EVENTS).
	allEvents = 0xfff
	// allInotifyBits are every bit inotify_add_watch knows (Linux's
	// ALL_INOTIFY_BITS): the events, IN_UNMOUNT, IN_Q_OVERFLOW,
	// IN_IGNORED, IN_ISDIR and the flags.
	allInotifyBits = allEvents | 0x2000 | inQOverflow | 0x8000 | 0x40000000 |
		inOnlyDir | inDontFollow | inExclUnlink | inMaskCreate | inMaskAdd | inOneShot
	// watchFlags are the mask bits kept with a watch besides its events.
	watchFlags = inOnlyDir | inDontFollow | inExclUnlink | inOneShot
)

// eventHeader is the size of struct inotify_event without its name.
const eventHeader = 16

// eventCharge is what a queued event costs the sandbox's memory budget
// beyond its name: the event and the queue's slot.
const eventCharge = 64

// watchCharge is what a watch costs the sandbox's memory budget.
const watchCharge = 256

// Limits are a sandbox's inotify limits (/proc/sys/fs/inotify) and what
// each user holds against them. One Limits serves every instance of the
// sandbox.
type Limits struct {
	// MaxQueuedEvents is how many events an instance queues before the
	// overflow event; MaxUserInstances and MaxUserWatches bound what one
	// user (by effective uid) may hold (EMFILE, ENOSPC).
	MaxQueuedEvents, MaxUserInstances, MaxUserWatches int

	instances, watches vfs.UserCounts
}

// NewLimits returns Linux's default limits (the smallest max_user_watches
// Linux picks), which /proc/sys/fs/inotify shows (fs/proc/root.go).
func NewLimits() *Limits {
	return &Limits{MaxQueuedEvents: 16384, MaxUserInstances: 128, MaxUserWatches: 8192}
}

// event is one queued event; wd -1 is the overflow event.
type event struct {
	wd     int32
	mask   uint32
	cookie uint32
	name   string
}

// size is the event's size as read(2) returns it: the header and the
// name NUL-terminated and padded to a multiple of the header's size.
func (e *event) size() int {
	if e.name == "" {
		return eventHeader
	}
	return eventHeader + (len(e.name)+1+eventHeader-1)/eventHeader*eventHeader
}

// Instance is an inotify instance's open file description. It implements
// vfs.FileImpl.
type Instance struct {
	vfs.AnonFileBase
	v      *vfs.VFS
	limits *Limits
	uid    uint32 // the user its instance and watches count against
	budget vfs.Charger

	mu       sync.Mutex
	q        vfs.Queue
	events   []event              // protected by mu
	bytes    int                  // read(2) size of events; protected by mu
	charged  int64                // budget charged for events; protected by mu
	overflow bool                 // the overflow event is queued; protected by mu
	byWD     map[int32]*watch     // protected by mu
	byInode  map[vfs.Inode]*watch // protected by mu
	lastWD   int32                // protected by mu
	released bool                 // protected by mu
}

// watch is one watch of an instance. It implements vfs.Watch.
type watch struct {
	in  *Instance
	wd  int32
	ino vfs.Inode
	// mask is the events and watchFlags asked for; protected by in.mu.
	mask uint32
	// gone is set when the watch has ended (IN_IGNORED queued): events
	// the VFS still delivers are dropped. Protected by in.mu.
	gone bool
}

// New is inotify_init1(2): flags may hold IN_NONBLOCK and IN_CLOEXEC (the
// fd table's business); anything else is EINVAL. EMFILE when uid holds
// MaxUserInstances already. The description holds one reference.
func New(v *vfs.VFS, l *Limits, uid uint32, budget vfs.Charger, flags int) (*vfs.FileDescription, error) {
	if flags&^(unix.IN_NONBLOCK|unix.IN_CLOEXEC) != 0 {
		return nil, unix.EINVAL
	}
	if !l.instances.Take(uid, l.MaxUserInstances) {
		return nil, unix.EMFILE
	}
	in := &Instance{v: v, limits: l, uid: uid, budget: budget,
		byWD: map[int32]*watch{}, byInode: map[vfs.Inode]*watch{}}
	st := uint32(unix.O_RDONLY)
	if flags&unix.IN_NONBLOCK != 0 {
		st |= unix.O_NONBLOCK
	}
	return vfs.NewFileDescription(in, st, vfs.Path{}, vfs.FileOptions{}), nil
}

// Of returns the instance behind a description, or nil.
func Of(fd *vfs.FileDescription) *Instance {
	in, _ := fd.Impl().(*Instance)
	return in
}

// Name is what /proc/PID/fd/N links to.
func (in *Instance) Name() string { return "anon_inode:inotify" }

// AddWatch is inotify_add_watch(2) for the resolved, readable p: it
// returns the watch descriptor of p's inode, new or the existing one
// (whose mask mask replaces, or with IN_MASK_ADD extends; EEXIST with
// IN_MASK_CREATE). The caller has checked mask's flags (Check).
func (in *Instance) AddWatch(p vfs.Path, mask uint32) (int32, error) {
	ino := p.Dentry.Inode()
	in.mu.Lock()
	if w := in.byInode[ino]; w != nil {
		defer in.mu.Unlock()
		if mask&inMaskCreate != 0 {
			return 0, unix.EEXIST
		}
		keep := mask & (allEvents | watchFlags)
		if mask&inMaskAdd != 0 {
			keep |= w.mask
		}
		w.mask = keep
		return w.wd, nil
	}
	if in.released {
		in.mu.Unlock()
		return 0, unix.EBADF
	}
	in.mu.Unlock()
	if !in.limits.watches.Take(in.uid, in.limits.MaxUserWatches) {
		return 0, unix.ENOSPC
	}
	if !in.budget.Charge(watchCharge) {
		in.limits.watches.Give(in.uid, 1)
		return 0, unix.ENOMEM
	}
	in.mu.Lock()
	if w := in.byInode[ino]; w != nil || in.released {
		// Another thread added it meanwhile (or the file was closed):
		// give back and answer as for an existing watch.
		in.mu.Unlock()
		in.budget.Uncharge(watchCharge)
		in.limits.watches.Give(in.uid, 1)
		return in.AddWatch(p, mask)
	}
	in.lastWD++
	for in.byWD[in.lastWD] != nil || in.lastWD <= 0 {
		in.lastWD++
	}
	w := &watch{in: in, wd: in.lastWD, ino: ino, mask: mask & (allEvents | watchFlags)}
	in.byWD[w.wd] = w
	in.byInode[ino] = w
	in.mu.Unlock()
	// Outside in.mu: the VFS calls Event with its watch table locked, so
	// that lock comes before in.mu. A watch removed meanwhile is gone and
	// leaves the table at its first event.
	in.v.AddWatch(p, w)
	return w.wd, nil
}

// Check validates inotify_add_watch's mask as Linux does before the
// path is looked up: some inotify bit must be set (flags alone will do:
// the watch then reports nothing), and IN_MASK_ADD and IN_MASK_CREATE
// exclude each other (EINVAL).
func Check(mask uint32) error {
	if mask&allInotifyBits == 0 {
		return unix.EINVAL
	}
	if mask&(inMaskAdd|inMaskCreate) == inMaskAdd|inMaskCreate {
		return unix.EINVAL
	}
	return nil
}

// Follow reports whether the path of inotify_add_watch is followed if it
// is a symlink, and OnlyDir whether it must be a directory.
func Follow(mask uint32) bool { return mask&inDontFollow == 0 }

// OnlyDir reports whether mask has IN_ONLYDIR.
func OnlyDir(mask uint32) bool { return mask&inOnlyDir != 0 }

// RemoveWatch is inotify_rm_watch(2): the watch ends with IN_IGNORED;
// EINVAL for a descriptor the instance does not have.
func (in *Instance) RemoveWatch(wd int32) error {
	in.mu.Lock()
	w := in.byWD[wd]
	if w == nil {
		in.mu.Unlock()
		return unix.EINVAL
	}
	in.endLocked(w)
	in.mu.Unlock()
	in.q.Notify(vfs.EventIn)
	in.v.RemoveWatch(w.ino, w)
	return nil
}

// endLocked ends w: IN_IGNORED is queued and the watch leaves the
// instance's tables and the user's count. The caller drops it from the
// VFS (or the VFS does, for an event returning false).
//
// Preconditions: in.mu is held.
func (in *Instance) endLocked(w *watch) {
	if w.gone {
		return
	}
	in.queueLocked(event{wd: w.wd, mask: vfs.InIgnored})
	w.gone = true
	delete(in.byWD, w.wd)
	delete(in.byInode, w.ino)
	in.limits.watches.Give(in.uid, 1)
	in.budget.Uncharge(watchCharge)
}

// Event implements vfs.Watch. Waiters hear of a queued event after in.mu
// is let go: poll and epoll ask Readiness, which takes it.
func (w *watch) Event(mask, cookie uint32, name string, unlinked bool) bool {
	in := w.in
	in.mu.Lock()
	n := len(in.events)
	keep := w.eventLocked(mask, cookie, name, unlinked)
	queued := len(in.events) != n
	in.mu.Unlock()
	if queued {
		in.q.Notify(vfs.EventIn)
	}
	return keep
}

// eventLocked is Event under in.mu.
func (w *watch) eventLocked(mask, cookie uint32, name string, unlinked bool) bool {
	in := w.in
	if w.gone {
		return false
	}
	if mask == vfs.InIgnored {
		// The inode is gone; the VFS drops the watch.
		in.endLocked(w)
		return false
	}
	if mask&w.mask&allEvents == 0 {
		return true
	}
	if unlinked && name != "" && w.mask&inExclUnlink != 0 {
		return true
	}
	in.queueLocked(event{wd: w.wd, mask: mask, cookie: cookie, name: name})
	if w.mask&inOneShot != 0 {
		in.endLocked(w)
		return false
	}
	return true
}

// queueLocked queues e unless it repeats the last queued event; a full
// queue (or a budget that cannot hold it) gets the overflow event once
// instead.
//
// Preconditions: in.mu is held.
func (in *Instance) queueLocked(e event) {
	if in.released {
		return
	}
	if n := len(in.events); n > 0 {
		last := &in.events[n-1]
		if last.wd == e.wd && last.mask == e.mask && last.cookie == e.cookie && last.name == e.name {
			return
		}
	}
	charge := int64(eventCharge + len(e.name))
	if len(in.events) >= in.limits.MaxQueuedEvents || !in.budget.Charge(charge) {
		if !in.overflow {
			in.overflow = true
			in.events = append(in.events, event{wd: -1, mask: inQOverflow})
			in.bytes += eventHeader
		}
		return
	}
	in.charged += charge
	in.events = append(in.events, e)
	in.bytes += e.size()
}

// Read implements vfs.FileImpl as Linux's inotify_read: it waits for an
// event (EAGAIN under O_NONBLOCK), then returns as many whole events as
// fit in dst; EINVAL if not even the first one fits.
func (in *Instance) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := vfs.WaitUntil(ctx, &in.q, vfs.EventIn, &in.mu, fd.NonBlocking(), func() bool { return len(in.events) > 0 }); err != nil {
		return 0, err
	}
	n, taken := 0, 0
	for _, e := range in.events {
		sz := e.size()
		if n+sz > len(dst) {
			break
		}
		b := dst[n : n+sz]
		clear(b)
		binary.LittleEndian.PutUint32(b[0:], uint32(e.wd))
		binary.LittleEndian.PutUint32(b[4:], e.mask)
		binary.LittleEndian.PutUint32(b[8:], e.cookie)
		binary.LittleEndian.PutUint32(b[12:], uint32(sz-eventHeader))
		copy(b[eventHeader:], e.name)
		n += sz
		taken++
		if e.wd == -1 {
			in.overflow = false
		} else {
			c := int64(eventCharge + len(e.name))
			in.charged -= c
			in.budget.Uncharge(c)
		}
	}
	if taken == 0 {
		return 0, unix.EINVAL
	}
	rest := copy(in.events, in.events[taken:])
	clear(in.events[rest:])
	in.events = in.events[:rest]
	in.bytes -= n
	return n, nil
}

// Ioctl implements vfs.FileImpl: FIONREAD is the size of the queued
// events.
func (in *Instance) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	if cmd != vfs.IoctlFIONREAD {
		return 0, unix.ENOTTY
	}
	in.mu.Lock()
	n := in.bytes
	in.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return 0, ctx.CopyOut(arg, b[:])
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (in *Instance) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// Readiness implements vfs.FileImpl: readable while events are queued.
func (in *Instance) Readiness(mask vfs.EventMask) vfs.EventMask {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) > 0 {
		return vfs.EventIn & mask
	}
	return 0
}

// EventRegister implements vfs.FileImpl.
func (in *Instance) EventRegister(w *vfs.Waiter) { in.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (in *Instance) EventUnregister(w *vfs.Waiter) { in.q.Unregister(w) }

// Release implements vfs.FileImpl: every watch ends (without events: no
// one can read them), the queue's charge and the user's counts go back.
func (in *Instance) Release() {
	in.mu.Lock()
	in.released = true
	ws := make([]*watch, 0, len(in.byWD))
	for _, w := range in.byWD {
		w.gone = true
		ws = append(ws, w)
	}
	clear(in.byWD)
	clear(in.byInode)
	in.events = nil
	in.budget.Uncharge(in.charged)
	in.charged = 0
	in.mu.Unlock()
	for _, w := range ws {
		in.v.RemoveWatch(w.ino, w)
	}
	in.limits.watches.Give(in.uid, len(ws))
	in.budget.Uncharge(int64(len(ws)) * watchCharge)
	in.limits.instances.Give(in.uid, 1)
	in.q.Notify(vfs.EventMask(0x4000)) // POLLFREE: epoll drops its entries
}
