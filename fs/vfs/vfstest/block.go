package vfstest

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// BlockCtx is a vfs.Context for tests of blocking code (vfs.Blocker and
// its users) whose Block the test scripts: each call is counted in Calls
// and runs OnBlock. Only Block is implemented; the embedded nil Context
// makes any other method fail loudly.
type BlockCtx struct {
	vfs.Context
	Calls   int
	OnBlock func(ch <-chan struct{}) error
}

// Block implements vfs.Context.
func (c *BlockCtx) Block(ch <-chan struct{}) error {
	c.Calls++
	return c.OnBlock(ch)
}

// NoBlock is an OnBlock the test expects never to be called.
func NoBlock(t testing.TB) func(ch <-chan struct{}) error {
	return func(ch <-chan struct{}) error {
		t.Error("Block called")
		return nil
	}
}

// ReadyNow is an OnBlock that must not sleep: it fails the test unless a
// wakeup is already pending on ch (then nil, else EINTR).
func ReadyNow(t testing.TB) func(ch <-chan struct{}) error {
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

// NotReady is an OnBlock that must not sleep and must find no wakeup
// pending (else it fails the test with why); it returns nil.
func NotReady(t testing.TB, why string) func(ch <-chan struct{}) error {
	return func(ch <-chan struct{}) error {
		select {
		case <-ch:
			t.Error(why)
		default:
		}
		return nil
	}
}

// UntilWoken is an OnBlock that sleeps until a wakeup comes on ch (then
// nil), failing the test with EINTR if none comes within five seconds.
func UntilWoken(t testing.TB) func(ch <-chan struct{}) error {
	return func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-time.After(5 * time.Second):
			t.Error("nothing woke the sleep")
			return unix.EINTR
		}
	}
}
