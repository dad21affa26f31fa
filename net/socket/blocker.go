package socket

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Blocker is the wait state of one blocking socket call (accept, connect,
// send, recv): a vfs.Blocker on the queue whose events can let the call go
// on, with the call's SO_RCVTIMEO/SO_SNDTIMEO deadline and the errors
// sockets give for its end (EAGAIN at the deadline; EINTR for a signal
// while a timeout is in force, as Linux's sock_intr_errno).
//
// The protocol is vfs.Blocker's: the first Wait registers and returns nil
// at once, and the caller retries before Wait sleeps. A Blocker belongs to
// one call on one goroutine; Done must be called when the call ends.
type Blocker struct {
	b       vfs.Blocker
	timeout bool // a timeout is in force: signals then give EINTR
}

// NewBlocker returns a Blocker that wakes on the events of mask and, when
// timeo is positive, gives up timeo from now (0 is no timeout, as the
// socket options store it).
func NewBlocker(mask vfs.EventMask, timeo time.Duration) *Blocker {
	b := &Blocker{b: vfs.NewBlocker(mask)}
	if timeo > 0 {
		b.timeout = true
		b.b.SetDeadline(time.Now().Add(timeo))
	}
	return b
}

// Wait is WaitReleasing with no lock to release.
func (b *Blocker) Wait(ctx vfs.Context, q *vfs.Queue) error {
	return b.WaitReleasing(ctx, q, nil)
}

// WaitReleasing is vfs.Blocker.WaitReleasing on q: it registers the
// waiter on q (moving it from the last call's queue) and returns nil, or
// sleeps with held (if not nil) released.
//
// It returns EAGAIN once the deadline has passed, and when a signal
// interrupts the sleep the error of ctx.Block (which may ask for a
// restart), or EINTR when a timeout is in force: a timed socket wait is
// never restarted, as Linux's sock_intr_errno.
func (b *Blocker) WaitReleasing(ctx vfs.Context, q *vfs.Queue, held sync.Locker) error {
	switch err := b.b.WaitReleasing(ctx, held, q); {
	case err == nil:
		return nil
	case err == unix.ETIMEDOUT:
		return unix.EAGAIN
	case b.timeout:
		return unix.EINTR
	default:
		return err
	}
}

// Done unregisters the waiter and stops the deadline timer. It is safe on
// a Blocker that never waited.
func (b *Blocker) Done() { b.b.Done() }
