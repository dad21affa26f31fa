package kernel

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"uk/arch"
)

// A Go panic in a task's goroutine — in a syscall handler, or while
// handling a fault or delivering a signal — is a bug of uk, not of the
// program, and must not look like one (a crash report blaming the
// program, or a SIGSEGV it never caused). uk ends instead: one line on
// the crash log naming the syscall and the process, the stack trace too
// under --debug, the platform closed (no stub process outlives uk) and
// exit status ExitKernelBug.

// ExitKernelBug is uk's exit status after a bug of its own (EX_SOFTWARE,
// sysexits.h): distinct from any status a program can make uk exit with
// (its own 0-255 would collide only with a program's exit(70), which a
// script can tell apart by the crash log line).
const ExitKernelBug = 70

// kernelBug makes the first panicking task the one that reports; the
// others wait for the exit.
var kernelBug sync.Once

// recoverTask, deferred by a task's loop, turns a panic in it into uk's
// end. It never returns when there was one.
func (t *Task) recoverTask() {
	v := recover()
	if v == nil {
		return
	}
	stack := debug.Stack()
	kernelBug.Do(func() {
		what := "outside a syscall"
		if t.inSyscall != 0 {
			nr := t.inSyscall - 1
			what = fmt.Sprintf("in syscall %s (%d)", arch.SyscallName(nr), nr)
		}
		comm := "?"
		if t.mu.TryLock() { // the handler may have panicked holding it
			comm = t.comm
			t.mu.Unlock()
		}
		msg := strings.ReplaceAll(fmt.Sprint(v), "\n", "; ")
		fmt.Fprintf(t.k.CrashLog, "uk: kernel bug: panic %s of process %d (%s): %s\n", what, t.tg.pid, comm, msg)
		if t.k.Debug != io.Discard {
			t.k.Debug.Write(stack)
		}
		t.k.closePlatform(2 * time.Second)
		os.Exit(ExitKernelBug)
	})
	select {} // another task is ending uk
}

// closePlatform closes the platform (killing every stub process), giving
// up after limit: a lock the panicking task held may block it, and uk's
// exit kills the stubs anyway (they are traced with PTRACE_O_EXITKILL),
// only less promptly.
func (k *Kernel) closePlatform(limit time.Duration) {
	if k.Platform == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		k.Platform.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
	}
}
