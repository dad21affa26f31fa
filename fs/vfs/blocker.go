package vfs

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/hrtimer"
)

// Blocker is the wait of one blocking call (a read that finds no data, a
// write that finds no room, a wait for a partner, poll's and epoll's
// sleeps): a channel that the call's waiters and its deadline timer wake,
// and the sleep on it through Context.Block. It is the one mechanism every
// blocking file operation uses, so that the register-recheck-sleep order
// and the deadline are written once.
//
// The protocol: the call checks its condition; when it must wait, it
// calls Wait (or WaitReleasing) and checks again, in a loop. The first
// Wait on a set of queues only registers the waiter there and returns nil
// without sleeping, so an event that comes between the failed check and
// the registration is seen by the second check; later Waits sleep until an
// event of the mask, the deadline, or a signal. Wakeups may be spurious
// (the caller always checks again).
//
// A Blocker belongs to one call on one goroutine and must not be copied
// once used; Done must be called when the call ends (it is safe on a
// Blocker that never waited).
type Blocker struct {
	mask     EventMask
	ch       chan struct{}  // poked by the waiters and the timer; made on first use
	w        *Waiter        // registered on qs; made on the first registration
	qs       [2]*Queue      // where w is registered (nil entries unused)
	deadline time.Time      // zero: none
	timer    *hrtimer.Timer // fires ch at deadline once armed
	armed    bool           // timer is running for the current deadline
}

// NewBlocker returns a Blocker whose registered waiter wakes on the events
// of mask, with no deadline.
func NewBlocker(mask EventMask) Blocker { return Blocker{mask: mask} }

// channel returns the Blocker's wakeup channel, making it on first use.
func (b *Blocker) channel() chan struct{} {
	if b.ch == nil {
		b.ch = make(chan struct{}, 1)
	}
	return b.ch
}

// poke wakes a sleep on ch, or the next one: ch holds at most one token,
// and the sender never blocks (it may run under a queue's lock).
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// NewWaiter returns a waiter for mask that wakes the Blocker's sleeps, for
// a caller that registers waiters itself (poll: one per file, each with
// its own events). The caller unregisters it; Done does not.
func (b *Blocker) NewWaiter(mask EventMask) Waiter {
	ch := b.channel()
	return Waiter{Mask: mask, Callback: func(EventMask) { poke(ch) }}
}

// SetDeadline makes sleeps end with unix.ETIMEDOUT once t has passed; the
// zero time removes the deadline. A deadline may move between sleeps (a
// tty's inter-byte timer).
func (b *Blocker) SetDeadline(t time.Time) {
	if t.Equal(b.deadline) {
		return
	}
	b.deadline = t
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
}

// Wait is WaitReleasing with no lock to release.
func (b *Blocker) Wait(ctx Context, qs ...*Queue) error {
	return b.WaitReleasing(ctx, nil, qs...)
}

// WaitReleasing waits for an event of the mask on the queues qs (one or
// two: splice waits on one pipe's readers and another's writers). When the
// waiter is not yet registered on exactly qs (the first call, or the call
// names other queues: the waiter then moves), it registers it and returns
// nil without sleeping, so that the caller checks again with the waiter in
// place. Otherwise it is Sleep.
func (b *Blocker) WaitReleasing(ctx Context, held sync.Locker, qs ...*Queue) error {
	if len(qs) == 0 || len(qs) > len(b.qs) {
		panic("vfs: Blocker waits on one or two queues")
	}
	var want [len(b.qs)]*Queue
	copy(want[:], qs)
	if want != b.qs {
		if b.w == nil {
			w := b.NewWaiter(b.mask)
			b.w = &w
		}
		b.unregister()
		b.qs = want
		for _, q := range qs {
			q.Register(b.w)
		}
		return nil
	}
	return b.Sleep(ctx, held)
}

// Sleep sleeps until a waiter of the Blocker is woken, the deadline passes
// or a signal comes, with held (if not nil) released for the sleep and
// held again on return. It returns nil after a wakeup, unix.ETIMEDOUT
// when the deadline has passed (without sleeping if it passed before),
// and ctx.Block's error, unchanged, when a signal ends the sleep: the
// caller decides between EINTR and a restart.
func (b *Blocker) Sleep(ctx Context, held sync.Locker) error {
	ch := b.channel()
	if !b.deadline.IsZero() {
		d := time.Until(b.deadline)
		if d <= 0 {
			return unix.ETIMEDOUT
		}
		if !b.armed {
			if b.timer == nil {
				b.timer = hrtimer.AfterFunc(d, func() { poke(ch) })
			} else {
				b.timer.Reset(d)
			}
			b.armed = true
		}
	}
	if held != nil {
		held.Unlock()
	}
	err := ctx.Block(ch)
	if held != nil {
		held.Lock()
	}
	if err != nil {
		return err
	}
	if !b.deadline.IsZero() && !time.Now().Before(b.deadline) {
		return unix.ETIMEDOUT
	}
	return nil
}

// WaitUntil is the whole wait of a call that blocks under one lock until
// a condition holds (an eventfd read until the counter is not 0): with mu
// held on entry and on return (also on error), it returns nil once ready
// (called with mu held) reports true; else EAGAIN when nonblock, or it
// waits for events of mask on q, with mu released, and checks again. A
// signal ends it with ctx.Block's error.
func WaitUntil(ctx Context, q *Queue, mask EventMask, mu sync.Locker, nonblock bool, ready func() bool) error {
	b := NewBlocker(mask)
	defer b.Done()
	for !ready() {
		if nonblock {
			return unix.EAGAIN
		}
		if err := b.WaitReleasing(ctx, mu, q); err != nil {
			return err
		}
	}
	return nil
}

// Partial is the result of a read or write that stops on err (EAGAIN, a
// signal, a hangup) after moving n bytes: n and no error when it moved
// any, as Linux's "ret ?: err" (the error comes again on the next call),
// else err.
func Partial(n int, err error) (int, error) {
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// unregister takes the waiter off the queues it is on.
func (b *Blocker) unregister() {
	for i, q := range b.qs {
		if q != nil {
			q.Unregister(b.w)
			b.qs[i] = nil
		}
	}
}

// Done unregisters the waiter and stops the deadline timer.
func (b *Blocker) Done() {
	b.unregister()
	if b.timer != nil {
		b.timer.Stop()
		b.armed = false
	}
}
