package vfs_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// TestBlockerRegistersBeforeSleeping checks the protocol that makes the
// caller's retry safe: the first Wait only registers (no sleep), and an
// event that comes between that Wait and the next is still seen by it.
func TestBlockerRegistersBeforeSleeping(t *testing.T) {
	var q vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventIn)
	defer b.Done()
	if err := b.Wait(c, &q); err != nil {
		t.Fatalf("registering Wait: %v", err)
	}
	q.Notify(vfs.EventIn) // the event the caller's retry would miss
	c.OnBlock = vfstest.ReadyNow(t)
	if err := b.Wait(c, &q); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if c.Calls != 1 {
		t.Errorf("Block called %d times, want 1", c.Calls)
	}
}

// TestBlockerMask checks that only the events of the mask wake the waiter.
func TestBlockerMask(t *testing.T) {
	var q vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventIn)
	defer b.Done()
	b.Wait(c, &q)
	q.Notify(vfs.EventOut)
	c.OnBlock = vfstest.NotReady(t, "woken by an event outside the mask")
	b.Wait(c, &q)
}

// TestBlockerWokenByNotify checks that a sleeping Wait returns nil when
// the queue is notified while it sleeps.
func TestBlockerWokenByNotify(t *testing.T) {
	var q vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventIn | vfs.EventErr)
	b.SetDeadline(time.Now().Add(time.Minute))
	defer b.Done()
	b.Wait(c, &q)
	asleep := make(chan struct{})
	c.OnBlock = func(ch <-chan struct{}) error {
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
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventOut)
	defer b.Done()
	b.Wait(c, &q1)
	if err := b.Wait(c, &q2); err != nil {
		t.Fatalf("registering Wait on the new queue: %v", err)
	}
	q1.Notify(vfs.EventOut)
	c.OnBlock = vfstest.NotReady(t, "woken by the queue it left")
	b.Wait(c, &q2)
	q2.Notify(vfs.EventOut)
	c.OnBlock = vfstest.ReadyNow(t)
	if err := b.Wait(c, &q2); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// TestBlockerTwoQueues checks a wait on two queues (splice): either wakes
// it, and Done takes the waiter off both.
func TestBlockerTwoQueues(t *testing.T) {
	var q1, q2 vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventIn | vfs.EventOut)
	b.Wait(c, &q1, &q2)
	for _, q := range []*vfs.Queue{&q1, &q2} {
		q.Notify(vfs.EventOut)
		c.OnBlock = vfstest.ReadyNow(t)
		if err := b.Wait(c, &q1, &q2); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	b.Done()
	// Nothing may be registered any more: a notification reaches no one.
	q1.Notify(vfs.EventIn)
	q2.Notify(vfs.EventIn)
	c.OnBlock = vfstest.NotReady(t, "woken after Done")
	b.Sleep(c, nil)
}

// TestBlockerDeadline checks the deadline: the timer ends a sleep nothing
// else ends with ETIMEDOUT, and a Wait after the deadline gives ETIMEDOUT
// without sleeping.
func TestBlockerDeadline(t *testing.T) {
	var q vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventIn)
	b.SetDeadline(time.Now().Add(20 * time.Millisecond))
	defer b.Done()
	b.Wait(c, &q)
	c.OnBlock = vfstest.UntilWoken(t)
	start := time.Now()
	if err := b.Wait(c, &q); err != unix.ETIMEDOUT {
		t.Fatalf("Wait past the deadline: %v, want ETIMEDOUT", err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("ETIMEDOUT after %v, before the deadline", d)
	}
	c.OnBlock = vfstest.NoBlock(t)
	if err := b.Wait(c, &q); err != unix.ETIMEDOUT {
		t.Errorf("Wait after the deadline: %v, want ETIMEDOUT", err)
	}
}

// TestBlockerMovingDeadline checks that a deadline moved between sleeps
// (a tty's inter-byte timer) is the one that ends the next sleep, and
// that removing it leaves sleeps without one.
func TestBlockerMovingDeadline(t *testing.T) {
	c := &vfstest.BlockCtx{OnBlock: vfstest.UntilWoken(t)}
	b := vfs.NewBlocker(vfs.EventIn)
	defer b.Done()
	b.SetDeadline(time.Now().Add(time.Hour))
	b.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if err := b.Sleep(c, nil); err != unix.ETIMEDOUT {
		t.Fatalf("Sleep to the moved deadline: %v, want ETIMEDOUT", err)
	}
	b.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if err := b.Sleep(c, nil); err != unix.ETIMEDOUT {
		t.Fatalf("Sleep to the rearmed deadline: %v, want ETIMEDOUT", err)
	}
	b.SetDeadline(time.Time{})
	c.OnBlock = func(ch <-chan struct{}) error {
		select {
		case <-ch:
			t.Error("woken by a removed deadline")
		case <-time.After(50 * time.Millisecond):
		}
		return nil
	}
	if err := b.Sleep(c, nil); err != nil {
		t.Errorf("Sleep without a deadline: %v", err)
	}
}

// TestBlockerSignal checks that the error of an interrupted sleep is that
// of ctx.Block, unchanged, with or without a deadline: the caller decides
// between EINTR and a restart.
func TestBlockerSignal(t *testing.T) {
	for _, deadline := range []bool{false, true} {
		for _, got := range []error{arch.ERESTARTSYS, unix.EINTR} {
			var q vfs.Queue
			c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
			b := vfs.NewBlocker(vfs.EventIn)
			if deadline {
				b.SetDeadline(time.Now().Add(time.Minute))
			}
			b.Wait(c, &q)
			c.OnBlock = func(<-chan struct{}) error { return got }
			if err := b.Wait(c, &q); !errors.Is(err, got) {
				t.Errorf("deadline %v: %v, want %v", deadline, err, got)
			}
			b.Done()
		}
	}
}

// TestBlockerNewWaiter checks waiters a caller registers itself (poll's,
// one per file): each wakes the Blocker's Sleep.
func TestBlockerNewWaiter(t *testing.T) {
	var q1, q2 vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(0)
	defer b.Done()
	w1, w2 := b.NewWaiter(vfs.EventIn), b.NewWaiter(vfs.EventOut)
	q1.Register(&w1)
	q2.Register(&w2)
	defer q1.Unregister(&w1)
	defer q2.Unregister(&w2)
	q1.Notify(vfs.EventOut)
	c.OnBlock = vfstest.NotReady(t, "woken by an event outside the waiter's mask")
	b.Sleep(c, nil)
	q2.Notify(vfs.EventOut)
	c.OnBlock = vfstest.ReadyNow(t)
	if err := b.Sleep(c, nil); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
}

// TestBlockerReleasesLock checks WaitReleasing: the lock is free during
// the sleep, held again when Wait returns, and kept while registering or
// failing on the deadline.
func TestBlockerReleasesLock(t *testing.T) {
	var q vfs.Queue
	var mu sync.Mutex
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := vfs.NewBlocker(vfs.EventIn)
	b.SetDeadline(time.Now().Add(30 * time.Millisecond))
	defer b.Done()
	mu.Lock()
	b.WaitReleasing(c, &mu, &q)
	if mu.TryLock() {
		t.Fatal("registering released the lock")
	}
	q.Notify(vfs.EventIn)
	c.OnBlock = func(ch <-chan struct{}) error {
		if !mu.TryLock() {
			t.Error("lock held during the sleep")
		} else {
			mu.Unlock()
		}
		<-ch
		return nil
	}
	if err := b.WaitReleasing(c, &mu, &q); err != nil {
		t.Fatalf("WaitReleasing: %v", err)
	}
	if mu.TryLock() {
		t.Fatal("lock not taken again after the sleep")
	}
	time.Sleep(40 * time.Millisecond)
	c.OnBlock = vfstest.NoBlock(t)
	if err := b.WaitReleasing(c, &mu, &q); err != unix.ETIMEDOUT {
		t.Errorf("WaitReleasing after the deadline: %v, want ETIMEDOUT", err)
	}
	if mu.TryLock() {
		t.Error("ETIMEDOUT released the lock")
	}
	mu.Unlock()
}

// TestWaitUntil checks the whole wait under a lock: a condition that holds
// needs no sleep, EAGAIN when it does not and the call is non-blocking,
// a wakeup makes it check again, a signal's error comes back unchanged,
// and the lock is held on every return.
func TestWaitUntil(t *testing.T) {
	var q vfs.Queue
	var mu sync.Mutex
	ready := false
	cond := func() bool {
		if mu.TryLock() {
			mu.Unlock()
			t.Error("condition checked without the lock")
		}
		return ready
	}
	held := func(what string) {
		if mu.TryLock() {
			mu.Unlock()
			t.Errorf("%s: lock not held on return", what)
		}
	}
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	mu.Lock()
	defer mu.Unlock()
	if err := vfs.WaitUntil(c, &q, vfs.EventIn, &mu, true, cond); err != unix.EAGAIN {
		t.Errorf("non-blocking: %v, want EAGAIN", err)
	}
	held("EAGAIN")
	c.OnBlock = func(ch <-chan struct{}) error { return arch.ERESTARTSYS }
	if err := vfs.WaitUntil(c, &q, vfs.EventIn, &mu, false, cond); err != arch.ERESTARTSYS {
		t.Errorf("signal: %v, want ERESTARTSYS", err)
	}
	held("signal")
	c.Calls = 0
	c.OnBlock = func(ch <-chan struct{}) error {
		if c.Calls == 1 {
			go func() {
				mu.Lock()
				ready = true
				mu.Unlock()
				q.Notify(vfs.EventIn)
			}()
		}
		<-ch
		return nil
	}
	if err := vfs.WaitUntil(c, &q, vfs.EventIn, &mu, false, cond); err != nil || !ready {
		t.Errorf("woken: %v, ready %v", err, ready)
	}
	held("woken")
	c.OnBlock = vfstest.NoBlock(t)
	if err := vfs.WaitUntil(c, &q, vfs.EventIn, &mu, true, cond); err != nil {
		t.Errorf("ready at once: %v", err)
	}
}

// TestPartial checks that progress wins over the error that stopped it.
func TestPartial(t *testing.T) {
	if n, err := vfs.Partial(3, unix.EINTR); n != 3 || err != nil {
		t.Errorf("Partial(3, EINTR) = %d, %v; want 3, nil", n, err)
	}
	if n, err := vfs.Partial(0, unix.EAGAIN); n != 0 || err != unix.EAGAIN {
		t.Errorf("Partial(0, EAGAIN) = %d, %v; want 0, EAGAIN", n, err)
	}
}
