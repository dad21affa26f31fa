package sigsys

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/platformtest"
)

// released releases as with ReleaseThen and waits for its done.
func released(t *testing.T, as *AddressSpace) {
	t.Helper()
	done := make(chan struct{})
	as.ReleaseThen(func() { close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReleaseThen never called done")
	}
}

// trappedOnce starts a space running code and a context in it, up to the
// program's first syscall.
func trappedOnce(t *testing.T, code []byte) (*env, *AddressSpace, *Context, *arch.State) {
	t.Helper()
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, code)
	c := e.Context(t)
	st := platformtest.InitState()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	return e, as, c, st
}

// TestRenewedStub: the stub of a released space whose threads were left
// (a process that ended) becomes the next address space, with nothing of
// the old program mapped, and runs a new program.
func TestRenewedStub(t *testing.T) {
	e, as, c, st := trappedOnce(t, platformtest.SyscallLoop)
	defer c.Release()
	c.Leave(as)
	pid := as.Pid
	released(t, as)

	next, err := e.P.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	nas := next.(*AddressSpace)
	defer nas.Release()
	if nas.Pid != pid {
		t.Fatalf("the next address space is stub %d, want the renewed %d", nas.Pid, pid)
	}
	// The old program's pages are gone: reading its data page faults.
	code, err := e.MF.Allocate(1)
	if err != nil {
		t.Fatal(err)
	}
	copy(e.MF.Bytes(code[0], arch.PageSize), platformtest.Cat(platformtest.MovRbxAbs(platformtest.DataAddr), platformtest.Syscall))
	if err := nas.MapFile(platformtest.CodeAddr, code[0], arch.PageSize, platform.Read|platform.Exec); err != nil {
		t.Fatal(err)
	}
	c2 := e.Context(t)
	defer c2.Release()
	st = platformtest.InitState()
	trap := platformtest.MustSwitch(t, c2, nas, st, platform.TrapFault)
	if trap.Addr != platformtest.DataAddr {
		t.Fatalf("fault at %#x, want the old data page %#x", trap.Addr, platformtest.DataAddr)
	}
}

// TestNoRenewWhileHeld: a space whose thread a context still holds (not
// left: a worker's) is killed at its release, not renewed. Two checks
// refuse it, held and the thread that never goes; the test sees only that
// the stub ends.
func TestNoRenewWhileHeld(t *testing.T) {
	_, as, c, _ := trappedOnce(t, platformtest.SyscallLoop)
	defer c.Release()
	pid := as.Pid
	released(t, as)
	if unix.Kill(pid, 0) != unix.ESRCH {
		t.Fatalf("stub %d still exists after its release", pid)
	}
}

// dead reports whether process pid is gone or a zombie (killed stubs are
// reaped at the platform's next reap).
func dead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// hijack is a hostile program: after one syscall it forges its state
// word to "trapped" (GS holds its slot) and spins, as a program that took
// its thread over would.
var hijack = platformtest.Cat(platformtest.Syscall,
	[]byte{0x65, 0xc7, 0x04, 0x25, 0, 0, 0, 0, stateTrapped, 0, 0, 0}, // mov dword [gs:0], stateTrapped
	platformtest.JmpSelf)

// TestNoRenewOfTakenThread: a stub one of whose threads does not exit
// when sent there (the program took it over) is never handed to another
// program: it is killed.
func TestNoRenewOfTakenThread(t *testing.T) {
	e, as, c, st := trappedOnce(t, hijack)
	defer c.Release()
	// The forged word ends this wait (after uk's 100 ms recheck) with the
	// last frame, as if it were a new trap.
	if _, err := c.Switch(as, st); err != nil {
		t.Fatal(err)
	}
	c.Leave(as)
	pid := as.Pid
	released(t, as)
	for i := 0; !dead(pid); i++ {
		if i == 1000 {
			t.Fatalf("stub %d, whose thread did not exit, is still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		next, err := e.P.NewAddressSpace()
		if err != nil {
			t.Fatal(err)
		}
		defer next.Release()
		if next.(*AddressSpace).Pid == pid {
			t.Fatal("the stub of a taken-over thread was handed out again")
		}
	}
}
