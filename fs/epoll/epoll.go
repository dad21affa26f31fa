// Package epoll implements epoll(7) instances for uk. An instance is a
// vfs.FileImpl, so epoll descriptions can be polled and nested.
//
// Interest entries are keyed by (fd number, file description) as Linux's.
// An entry holds no reference on its description: closing the last fd of a
// watched description must still close it (the other end of a pipe has to
// see HUP). When a description is finally released its entries go away:
// at once for file types that tell their waiters (uk's pipes, eventfds,
// timerfds and epolls notify EventFree, Linux's POLLFREE, from Release,
// and the instance believes it once the description cannot be referenced);
// for other types when the instance next meets the entry (its readiness is
// checked in Wait or Readiness, or a sweep in Ctl ADD finds it) and sees
// the description can no longer be referenced. A change in fs/vfs that
// sends EventFree to the waiters of every released description would make
// the removal immediate for all types.
//
// Readiness reports: each watched file notifies the instance's waiter on a
// change; the entry goes on a ready list; Wait rechecks the file's
// readiness for every entry on the list (so spurious notifications cost a
// check, never a false event). Level-triggered entries that were reported
// go back on the list; edge-triggered ones (EPOLLET) wait for the next
// notification; EPOLLONESHOT entries are disabled until EPOLL_CTL_MOD.
//
// Locking: Epoll.mu protects the interest set, the ready list and the
// entries' fields. It is never held while calling into a file (Readiness,
// EventRegister, EventUnregister, DecRef), because waiter callbacks take it
// while a file's queue lock is held. ctlMu serializes Ctl and Release.
package epoll

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
)

// EventFree is Linux's POLLFREE: a file sends it to its waiters when its
// description is released, and epoll then forgets the entry.
const EventFree = vfs.EventMask(0x4000)

// MaxNests is EP_MAX_NESTS: the longest chain of epoll instances watching
// one another is MaxNests+1 instances.
const MaxNests = 4

// Flag bits of epoll_event.events that are not events.
const (
	flagET        = unix.EPOLLET
	flagOneShot   = unix.EPOLLONESHOT
	flagWakeUp    = unix.EPOLLWAKEUP
	flagExclusive = unix.EPOLLEXCLUSIVE
	flagBits      = flagET | flagOneShot | flagWakeUp | flagExclusive

	// exclusiveOK are the bits allowed with EPOLLEXCLUSIVE.
	exclusiveOK = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP |
		flagWakeUp | flagET | flagExclusive
)

// Event is one struct epoll_event: the ready events and the entry's data.
// (The kernel writes it out as Linux's packed 12-byte layout.)
type Event struct {
	Events uint32
	Data   uint64
}

// Pollable may be implemented by a FileImpl to tell epoll whether it can
// be watched. Files that do not implement it are pollable unless they are
// regular files or directories (which have no poll in Linux: EPERM).
type Pollable interface {
	Pollable() bool
}

type key struct {
	fd   int32
	file *vfs.FileDescription
}

// entryCost is what an interest is charged to the sandbox while it lives:
// about what it holds in uk (the entry, its waiter, its place in the
// map). Nothing else bounds interests: each instance may watch every
// descriptor, so a thousand instances over a thousand descriptors make a
// million (they took uk past 440 MB).
const entryCost = 256

// entry is one interest: a file watched under one fd number.
type entry struct {
	ep *Epoll
	key
	waiter vfs.Waiter
	budget vfs.Charger // holds entryCost until the entry dies

	// Protected by ep.mu:
	events   uint32 // requested events and flags, with ERR and HUP added
	data     uint64
	gen      uint64 // bumped by MOD, so a Wait racing with it drops its result
	inReady  bool   // on ep.ready
	disabled bool   // EPOLLONESHOT fired
	dead     bool   // removed from the interest set
}

// Epoll is one epoll instance. It implements vfs.FileImpl.
type Epoll struct {
	vfs.AnonFileBase

	ctlMu sync.Mutex // serializes Ctl and Release

	mu      sync.Mutex
	entries map[key]*entry // protected by mu
	ready   []*entry       // protected by mu; entries with inReady, maybe dead
	closed  bool           // protected by mu
	sweepAt int            // protected by mu; interest size that triggers a sweep

	q vfs.Queue // waiters on the instance itself (Wait, poll, outer epolls)
}

// registry lists live instances, for the nesting-depth check (which needs
// to know which instances watch a given one). nestMu serializes adding an
// epoll to an epoll, so two such adds cannot build a cycle together.
var (
	nestMu     sync.Mutex
	registryMu sync.Mutex
	registry   = map[*Epoll]struct{}{}
)

// New is epoll_create1(2): flags may be 0 or EPOLL_CLOEXEC (the fd table's
// business), else EINVAL. (epoll_create(size) is New(0) after the kernel
// checks size > 0.) The description is O_RDWR and holds one reference.
func New(flags int) (*vfs.FileDescription, error) {
	if flags&^unix.EPOLL_CLOEXEC != 0 {
		return nil, unix.EINVAL
	}
	ep := &Epoll{entries: make(map[key]*entry), sweepAt: 64}
	registryMu.Lock()
	registry[ep] = struct{}{}
	registryMu.Unlock()
	return vfs.NewFileDescription(ep, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{}), nil
}

// Of returns the instance behind a description, or nil if it is not an
// epoll (epoll_ctl and epoll_wait then fail with EINVAL).
func Of(fd *vfs.FileDescription) *Epoll {
	ep, _ := fd.Impl().(*Epoll)
	return ep
}

// Name is what /proc/PID/fd/N links to.
func (ep *Epoll) Name() string { return "anon_inode:[eventpoll]" }

// Len returns the number of interest entries (including any whose
// description was released but not yet noticed).
func (ep *Epoll) Len() int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return len(ep.entries)
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (ep *Epoll) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// EventRegister implements vfs.FileImpl.
func (ep *Epoll) EventRegister(w *vfs.Waiter) { ep.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (ep *Epoll) EventUnregister(w *vfs.Waiter) { ep.q.Unregister(w) }

// callback is an entry's waiter: the file's readiness changed.
func (e *entry) callback(ready vfs.EventMask) {
	ep := e.ep
	if ready&EventFree != 0 {
		// Trust it only if the description really is released (a
		// notifier may have sent every bit for "anything changed").
		if !e.file.TryIncRef() {
			ep.mu.Lock()
			ep.removeLocked(e)
			ep.mu.Unlock()
			return
		}
		// Not released: drop the reference outside the queue's lock (the
		// last DecRef would call Release, which notifies this queue).
		go e.file.DecRef()
	}
	ep.mu.Lock()
	if e.dead || e.disabled || ready&vfs.EventMask(e.events&^flagBits) == 0 {
		ep.mu.Unlock()
		return
	}
	queued := ep.queueLocked(e)
	ep.mu.Unlock()
	if queued {
		ep.q.Notify(vfs.EventIn | vfs.EventRdNorm)
	}
}

// queueLocked puts e on the ready list; it reports whether it was not on
// it already.
func (ep *Epoll) queueLocked(e *entry) bool {
	if e.inReady || e.dead {
		return false
	}
	e.inReady = true
	ep.ready = append(ep.ready, e)
	return true
}

// removeLocked takes e out of the interest set. The caller unregisters its
// waiter (unless the file is going away) after unlocking.
func (ep *Epoll) removeLocked(e *entry) {
	if e.dead {
		return
	}
	e.die()
	if ep.entries[e.key] == e {
		delete(ep.entries, e.key)
	}
}

// die marks e removed from the interest set and gives back its charge.
// Preconditions: ep.mu is held; e is not dead.
func (e *entry) die() {
	e.dead = true
	e.budget.Uncharge(entryCost)
}

// drop removes an entry whose description was released.
func (ep *Epoll) drop(e *entry) {
	ep.mu.Lock()
	ep.removeLocked(e)
	ep.mu.Unlock()
	e.file.EventUnregister(&e.waiter)
}

// checkReady queues e if its file is ready now (after ADD and MOD).
func (ep *Epoll) checkReady(e *entry) {
	ep.mu.Lock()
	mask := vfs.EventMask(e.events &^ flagBits)
	ep.mu.Unlock()
	if e.file.Readiness(mask) == 0 {
		return
	}
	ep.mu.Lock()
	queued := !e.disabled && ep.queueLocked(e)
	ep.mu.Unlock()
	if queued {
		ep.q.Notify(vfs.EventIn | vfs.EventRdNorm)
	}
}

// Release implements vfs.FileImpl: all entries are removed; outer
// instances watching this one hear EventFree.
func (ep *Epoll) Release() {
	ep.ctlMu.Lock()
	ep.mu.Lock()
	ep.closed = true
	var es []*entry
	for _, e := range ep.entries {
		e.die()
		es = append(es, e)
	}
	ep.entries = map[key]*entry{}
	ep.ready = nil
	ep.mu.Unlock()
	ep.ctlMu.Unlock()
	for _, e := range es {
		e.file.EventUnregister(&e.waiter)
	}
	registryMu.Lock()
	delete(registry, ep)
	registryMu.Unlock()
	ep.q.Notify(EventFree)
}

// Readiness implements vfs.FileImpl: IN|RDNORM when some entry on the
// ready list is really ready (ep_eventpoll_poll).
func (ep *Epoll) Readiness(mask vfs.EventMask) vfs.EventMask {
	if mask&(vfs.EventIn|vfs.EventRdNorm) == 0 {
		return 0
	}
	type cand struct {
		e    *entry
		mask vfs.EventMask
	}
	ep.mu.Lock()
	cs := make([]cand, 0, len(ep.ready))
	for _, e := range ep.ready {
		if !e.dead && !e.disabled {
			cs = append(cs, cand{e, vfs.EventMask(e.events &^ flagBits)})
		}
	}
	ep.mu.Unlock()
	for _, c := range cs {
		if !c.e.file.TryIncRef() {
			ep.drop(c.e)
			continue
		}
		r := c.e.file.Readiness(c.mask)
		c.e.file.DecRef()
		if r&c.mask != 0 {
			return (vfs.EventIn | vfs.EventRdNorm) & mask
		}
	}
	return 0
}
