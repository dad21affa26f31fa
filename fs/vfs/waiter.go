package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// EventMask is a set of readiness events, with the values of poll(2)'s
// POLL* bits (which equal epoll's EPOLL* bits for the events they share).
type EventMask uint32

// Readiness events files report.
const (
	EventIn     EventMask = unix.POLLIN
	EventPri    EventMask = unix.POLLPRI
	EventOut    EventMask = unix.POLLOUT
	EventErr    EventMask = unix.POLLERR
	EventHUp    EventMask = unix.POLLHUP
	EventRdNorm EventMask = 0x40  // POLLRDNORM
	EventWrNorm EventMask = 0x100 // POLLWRNORM
	EventRdHUp  EventMask = unix.POLLRDHUP
)

// DefaultReadiness is what files without a notion of readiness report
// (Linux's DEFAULT_POLLMASK): always readable and writable.
const DefaultReadiness = EventIn | EventOut | EventRdNorm | EventWrNorm

// Waiter is registered with a file's Queue to hear about readiness changes.
// Callback runs with the queue's lock held, from whichever goroutine made
// the change: it must be quick and must not call back into the file.
type Waiter struct {
	Mask     EventMask
	Callback func(ready EventMask)
}

// NewChannelWaiter returns a waiter for mask and a channel that receives a
// value (without blocking the notifier) whenever one of the events happens.
// A blocking file operation waits through a Blocker instead, which keeps
// the register-recheck-sleep order and the deadline in one place; this is
// for waits that have no Context to block with (a host goroutine).
func NewChannelWaiter(mask EventMask) (*Waiter, <-chan struct{}) {
	ch := make(chan struct{}, 1)
	return &Waiter{Mask: mask, Callback: func(EventMask) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}}, ch
}

// Queue is the set of waiters of one file (or of one side of a pipe). The
// zero value is ready to use; it is safe for concurrent use.
type Queue struct {
	mu      sync.Mutex
	waiters map[*Waiter]struct{}
}

// Register adds w; registering the same waiter twice is harmless.
func (q *Queue) Register(w *Waiter) {
	q.mu.Lock()
	if q.waiters == nil {
		q.waiters = make(map[*Waiter]struct{})
	}
	q.waiters[w] = struct{}{}
	q.mu.Unlock()
}

// Unregister removes w.
func (q *Queue) Unregister(w *Waiter) {
	q.mu.Lock()
	delete(q.waiters, w)
	q.mu.Unlock()
}

// Notify tells every waiter interested in any event of ready.
func (q *Queue) Notify(ready EventMask) {
	q.mu.Lock()
	for w := range q.waiters {
		if m := w.Mask & ready; m != 0 {
			w.Callback(m)
		}
	}
	q.mu.Unlock()
}
