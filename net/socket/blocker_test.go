package socket

import (
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// blockCtx is a vfs.Context whose Block the test decides: it counts the
// calls and runs block. Only Block is used by a Blocker; the embedded nil
// Context makes any other method fail loudly.
type blockCtx struct {
	vfs.Context
	calls int
	block func(ch <-chan struct{}) error
}

func (c *blockCtx) Block(ch <-chan struct{}) error {
	c.calls++
	return c.block(ch)
}

// readyNow is a Block that must not sleep: it reports whether ch is
// already readable, i.e. whether a wakeup is pending.
func readyNow(t *testing.T) func(ch <-chan struct{}) error {
	return func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		default:
			t.Error("Block found no pending wakeup")
			return unix.EINTR
		}
	}
}

// notReady is a Block that must not sleep and must find no wakeup
// pending (else it reports why as failure); it returns nil.
func notReady(t *testing.T, why string) func(ch <-chan struct{}) error {
	return func(ch <-chan struct{}) error {
		select {
		case <-ch:
			t.Error(why)
		default:
		}
		return nil
	}
}

// noBlock is a Block the test expects never to be called.
func noBlock(t *testing.T) func(ch <-chan struct{}) error {
	return func(ch <-chan struct{}) error {
		t.Error("Block called")
		return nil
	}
}

// TestBlockerRegistersBeforeSleeping checks the protocol that makes the
// caller's retry safe: the first Wait only registers (no sleep), and an
// event that comes between that Wait and the next is still seen by it.
func TestBlockerRegistersBeforeSleeping(t *testing.T) {
	var q vfs.Queue
	c := &blockCtx{block: noBlock(t)}
	b := NewBlocker(vfs.EventIn, 0)
	defer b.Done()
	if err := b.Wait(c, &q); err != nil {
		t.Fatalf("registering Wait: %v", err)
	}
	q.Notify(vfs.EventIn) // the event the caller's retry would miss
	c.block = readyNow(t)
	if err := b.Wait(c, &q); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if c.calls != 1 {
		t.Errorf("Block called %d times, want 1", c.calls)
	}
}

// TestBlockerMask checks that only the events of the mask wake the waiter.
func TestBlockerMask(t *testing.T) {
	var q vfs.Queue
	c := &blockCtx{block: noBlock(t)}
	b := NewBlocker(vfs.EventIn, 0)
	defer b.Done()
	b.Wait(c, &q)
	q.Notify(vfs.EventOut)
	c.block = notReady(t, "woken by an event outside the mask")
	b.Wait(c, &q)
}

// TestBlockerWokenByNotify checks that a sleeping Wait returns nil when
// the queue is notified while it sleeps.
func TestBlockerWokenByNotify(t *testing.T) {
	var q vfs.Queue
	c := &blockCtx{block: noBlock(t)}
	b := NewBlocker(vfs.EventIn|vfs.EventErr, time.Minute)
	defer b.Done()
	b.Wait(c, &q)
	asleep := make(chan struct{})
	c.block = func(ch <-chan struct{}) error {
		close(asleep)
		<-ch
		return nil
	}
	go func() {
		<-asleep
		q.Notify(vfs.EventErr)
	}()
	if err := b.Wait(c, &q); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// TestBlockerMovesQueue checks that a Wait on another queue moves the
// waiter there (registering without sleeping again), so only the new
// queue wakes it.
func TestBlockerMovesQueue(t *testing.T) {
	var q1, q2 vfs.Queue
	c := &blockCtx{block: noBlock(t)}
	b := NewBlocker(vfs.EventOut, 0)
	defer b.Done()
	b.Wait(c, &q1)
	if err := b.Wait(c, &q2); err != nil {
		t.Fatalf("registering Wait on the new queue: %v", err)
	}
	q1.Notify(vfs.EventOut)
	c.block = notReady(t, "woken by the queue it left")
	b.Wait(c, &q2)
	q2.Notify(vfs.EventOut)
	c.block = readyNow(t)
	if err := b.Wait(c, &q2); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// TestBlockerDeadline checks SO_RCVTIMEO/SO_SNDTIMEO: the timer ends a
// sleep nothing else ends with EAGAIN, and a Wait after the deadline
// gives EAGAIN without sleeping.
func TestBlockerDeadline(t *testing.T) {
	var q vfs.Queue
	c := &blockCtx{block: noBlock(t)}
	b := NewBlocker(vfs.EventIn, 20*time.Millisecond)
	defer b.Done()
	b.Wait(c, &q)
	c.block = func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-time.After(5 * time.Second):
			t.Error("the deadline never woke the sleep")
			return unix.EINTR
		}
	}
	start := time.Now()
	if err := b.Wait(c, &q); err != unix.EAGAIN {
		t.Fatalf("Wait past the deadline: %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("EAGAIN after %v, before the deadline", d)
	}
	c.block = noBlock(t)
	if err := b.Wait(c, &q); err != unix.EAGAIN {
		t.Errorf("Wait after the deadline: %v, want EAGAIN", err)
	}
}

// TestBlockerSignal checks the error of an interrupted sleep: that of
// ctx.Block (a restart) without a timeout, EINTR with one, as Linux's
// sock_intr_errno.
func TestBlockerSignal(t *testing.T) {
	cases := []struct {
		name  string
		timeo time.Duration
		got   error
		want  error
	}{
		{"no timeout restarts", 0, arch.ERESTARTSYS, arch.ERESTARTSYS},
		{"no timeout EINTR", 0, unix.EINTR, unix.EINTR},
		{"timeout gives EINTR", time.Minute, arch.ERESTARTSYS, unix.EINTR},
	}
	for _, tc := range cases {
		var q vfs.Queue
		c := &blockCtx{block: noBlock(t)}
		b := NewBlocker(vfs.EventIn, tc.timeo)
		b.Wait(c, &q)
		c.block = func(<-chan struct{}) error { return tc.got }
		if err := b.Wait(c, &q); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		b.Done()
	}
}

// TestBlockerReleasesLock checks WaitReleasing: the lock is free during
// the sleep, held again when Wait returns, and kept while registering or
// failing on the deadline.
func TestBlockerReleasesLock(t *testing.T) {
	var q vfs.Queue
	var mu sync.Mutex
	c := &blockCtx{block: noBlock(t)}
	b := NewBlocker(vfs.EventIn, 30*time.Millisecond)
	defer b.Done()
	mu.Lock()
	b.WaitReleasing(c, &q, &mu)
	if mu.TryLock() {
		t.Fatal("registering released the lock")
	}
	q.Notify(vfs.EventIn)
	c.block = func(ch <-chan struct{}) error {
		if !mu.TryLock() {
			t.Error("lock held during the sleep")
		} else {
			mu.Unlock()
		}
		<-ch
		return nil
	}
	if err := b.WaitReleasing(c, &q, &mu); err != nil {
		t.Fatalf("WaitReleasing: %v", err)
	}
	if mu.TryLock() {
		t.Fatal("lock not taken again after the sleep")
	}
	time.Sleep(40 * time.Millisecond)
	c.block = noBlock(t)
	if err := b.WaitReleasing(c, &q, &mu); err != unix.EAGAIN {
		t.Errorf("WaitReleasing after the deadline: %v, want EAGAIN", err)
	}
	if mu.TryLock() {
		t.Error("EAGAIN released the lock")
	}
	mu.Unlock()
}
