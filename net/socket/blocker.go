package socket

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Blocker is the wait state of one blocking socket call (accept, connect,
// send, recv): a waiter on the queue whose events can let the call go on,
// and the call's SO_RCVTIMEO/SO_SNDTIMEO deadline.
//
// The waiter is registered only once the call first finds it must wait:
// that first Wait registers and returns nil at once, and the caller
// retries before Wait sleeps, so an event that comes between the failed
// try and the registration is not lost. A Blocker belongs to one call on
// one goroutine; Done must be called when the call ends.
type Blocker struct {
	mask     vfs.EventMask
	timeout  bool      // a timeout is in force: signals then give EINTR
	deadline time.Time // when the timeout ends; meaningful only with timeout
	q        *vfs.Queue
	w        *vfs.Waiter
	ch       <-chan struct{}
	timer    *time.Timer
}

// NewBlocker returns a Blocker that wakes on the events of mask and, when
// timeo is positive, gives up timeo from now (0 is no timeout, as the
// socket options store it).
func NewBlocker(mask vfs.EventMask, timeo time.Duration) *Blocker {
	b := &Blocker{mask: mask}
	if timeo > 0 {
		b.timeout = true
		b.deadline = time.Now().Add(timeo)
	}
	return b
}

// Wait is WaitReleasing with no lock to release.
func (b *Blocker) Wait(ctx vfs.Context, q *vfs.Queue) error {
	return b.WaitReleasing(ctx, q, nil)
}

// WaitReleasing waits for an event on q. When the waiter is not yet
// registered on q (the first call, or q differs from the last call's: the
// waiter then moves), it registers it and returns nil without sleeping,
// so that the caller retries with the waiter in place. Otherwise it
// sleeps until an event or the deadline, with held (if not nil) released
// for the sleep and held again on return.
//
// It returns EAGAIN once the deadline has passed, and when a signal
// interrupts the sleep the error of ctx.Block (which may ask for a
// restart), or EINTR when a timeout is in force: a timed socket wait is
// never restarted, as Linux's sock_intr_errno.
func (b *Blocker) WaitReleasing(ctx vfs.Context, q *vfs.Queue, held sync.Locker) error {
	if b.q != q {
		if b.w == nil {
			b.w, b.ch = vfs.NewChannelWaiter(b.mask)
		} else {
			b.q.Unregister(b.w)
		}
		b.q = q
		q.Register(b.w)
		return nil
	}
	if b.timeout {
		d := time.Until(b.deadline)
		if d <= 0 {
			return unix.EAGAIN
		}
		if b.timer == nil {
			w := b.w
			b.timer = time.AfterFunc(d, func() { w.Callback(w.Mask) })
		}
	}
	if held != nil {
		held.Unlock()
	}
	err := ctx.Block(b.ch)
	if held != nil {
		held.Lock()
	}
	if err != nil {
		if b.timeout {
			return unix.EINTR
		}
		return err
	}
	if b.timeout && !time.Now().Before(b.deadline) {
		return unix.EAGAIN
	}
	return nil
}

// Done unregisters the waiter and stops the deadline timer. It is safe on
// a Blocker that never waited.
func (b *Blocker) Done() {
	if b.q != nil {
		b.q.Unregister(b.w)
	}
	if b.timer != nil {
		b.timer.Stop()
	}
}
