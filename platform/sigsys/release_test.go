package sigsys

import (
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/platformtest"
)

// TestReleaseThen: ReleaseThen returns without waiting for the stub, and
// calls back only once the stub process is gone (reaped: no /proc entry),
// edit thread and application thread included; a second release of the
// same space calls back too.
func TestReleaseThen(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as, c, st := e.Loop(t)
	defer c.Release()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	pid := as.Pid
	done := make(chan error, 1)
	as.ReleaseThen(func() {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		if err == nil {
			done <- fmt.Errorf("stub %d still exists when ReleaseThen calls back", pid)
			return
		}
		done <- nil
	})
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReleaseThen never called back")
	}
	again := make(chan struct{})
	as.ReleaseThen(func() { close(again) })
	select {
	case <-again:
	case <-time.After(5 * time.Second):
		t.Fatal("a second ReleaseThen never called back")
	}
}
