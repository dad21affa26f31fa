package ptrace

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/platformtest"
)

// TestReleaseThen: ReleaseThen returns without waiting for the stub, and
// calls back only once the stub process is gone (reaped: no /proc entry),
// its traced application thread included; a second release of the
// same space calls back too.
func TestReleaseThen(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as, c, st := e.Loop(t)
	defer c.Release()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	platformtest.CheckReleaseThen(t, as.ReleaseThen, as.Pid)
}
