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

// TestBlockerErrors checks what sockets add to vfs.Blocker (whose wait
// itself is tested in fs/vfs): SO_RCVTIMEO/SO_SNDTIMEO end a sleep that
// nothing else ends, and a wait past them, with EAGAIN; a signal gives
// ctx.Block's error (a restart) without a timeout and EINTR with one, as
// Linux's sock_intr_errno.
func TestBlockerErrors(t *testing.T) {
	signal := func(err error) func(<-chan struct{}) error {
		return func(<-chan struct{}) error { return err }
	}
	cases := []struct {
		name    string
		timeo   time.Duration
		onBlock func(<-chan struct{}) error
		want    error
		atLeast time.Duration // the wait lasts this long
	}{
		{"timeout ends the sleep", 20 * time.Millisecond, vfstest.UntilWoken(t), unix.EAGAIN, 15 * time.Millisecond},
		{"timeout already past", time.Nanosecond, vfstest.NoBlock(t), unix.EAGAIN, 0},
		{"no timeout restarts", 0, signal(arch.ERESTARTSYS), arch.ERESTARTSYS, 0},
		{"no timeout EINTR", 0, signal(unix.EINTR), unix.EINTR, 0},
		{"timeout gives EINTR", time.Minute, signal(arch.ERESTARTSYS), unix.EINTR, 0},
	}
	for _, tc := range cases {
		var q vfs.Queue
		c := &vfstest.BlockCtx{OnBlock: vfstest.NoBlock(t)}
		b := NewBlocker(vfs.EventIn, tc.timeo)
		if err := b.Wait(c, &q); err != nil {
			t.Errorf("%s: registering Wait: %v", tc.name, err)
		}
		c.OnBlock = tc.onBlock
		time.Sleep(time.Microsecond) // past the 1ns timeout
		start := time.Now()
		if err := b.Wait(c, &q); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if d := time.Since(start); d < tc.atLeast {
			t.Errorf("%s: returned after %v, before %v", tc.name, d, tc.atLeast)
		}
		b.Done()
	}
}
