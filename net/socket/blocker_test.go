package socket

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// The wait itself (registering before sleeping, masks, moving queues,
// releasing a lock) is vfs.Blocker's and tested there; these tests check
// what sockets add: the errors for a timeout and for a signal.

// TestBlockerDeadline checks SO_RCVTIMEO/SO_SNDTIMEO: the timer ends a
// sleep nothing else ends with EAGAIN, and a Wait after the deadline
// gives EAGAIN without sleeping.
func TestBlockerDeadline(t *testing.T) {
	var q vfs.Queue
	c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
	b := NewBlocker(vfs.EventIn, 20*time.Millisecond)
	defer b.Done()
	if err := b.Wait(c, &q); err != nil {
		t.Fatalf("registering Wait: %v", err)
	}
	c.OnBlock = vfstest.UntilWoken(t)
	start := time.Now()
	if err := b.Wait(c, &q); err != unix.EAGAIN {
		t.Fatalf("Wait past the deadline: %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("EAGAIN after %v, before the deadline", d)
	}
	c.OnBlock = vfstest.NoBlock(t)
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
		c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
		b := NewBlocker(vfs.EventIn, tc.timeo)
		b.Wait(c, &q)
		c.OnBlock = func(<-chan struct{}) error { return tc.got }
		if err := b.Wait(c, &q); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		b.Done()
	}
}
