package sigsys

import (
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// Options every stub thread is traced with: kill it when its tracer thread
// exits (a tracee left untraced would run application code with real host
// system calls), and mark syscall stops with 0x80 so they cannot be confused
// with a SIGTRAP from the application.
const traceOptions = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// siginfo is the kernel's siginfo_t (128 bytes). Only the fields uk reads
// are named.
type siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	// Fields is the union: si_addr for faults, {si_pid, si_uid} for
	// signals sent with kill/tgkill.
	Fields [14]uint64
}

// si_code values (asm-generic/siginfo.h).
const (
	siKernel = 0x80 // sent by the kernel (e.g. #GP, int3)
	siTkill  = -6   // sent by tkill/tgkill

	sysSeccomp = 1 // SIGSYS from a seccomp SECCOMP_RET_TRAP
	segvMapErr = 1 // SIGSEGV: no mapping at the address
)

func (si *siginfo) addr() uint64 { return si.Fields[0] }
func (si *siginfo) pid() int     { return int(int32(uint32(si.Fields[0]))) }

// stop is a decoded wait4 status of a tracee.
type stop struct {
	exited bool // the thread is gone (exited or killed)
	sig    int  // the stop signal (SIGTRAP|0x80 for a syscall stop)
	event  int  // PTRACE_EVENT_* for event stops, else 0
	status unix.WaitStatus
}

// waitStop waits for the next state change of tid (the caller must be its
// tracer).
func waitStop(tid int) (stop, error) {
	_, ws, err := wait4(tid, 0)
	if err != nil {
		return stop{}, fmt.Errorf("wait4 %d: %w", tid, err)
	}
	if ws.Exited() || ws.Signaled() {
		return stop{exited: true, status: ws}, nil
	}
	if !ws.Stopped() {
		return stop{status: ws}, nil
	}
	return stop{sig: int(ws>>8) & 0xff, event: int(ws>>16) & 0xff, status: ws}, nil
}

// injectRegs returns a register set that runs the stub from rip with the
// given syscall registers. Selectors are the user ones the kernel insists on;
// OrigRax is -1 so that the kernel never treats the stop we resume from as
// an interrupted syscall to restart (which would move RIP back).
func injectRegs(rip uint64) arch.Registers {
	return arch.Registers{
		Rip:     rip,
		Cs:      arch.UserCS,
		Ss:      arch.UserDS,
		Eflags:  0x202, // IF, and the always-one bit
		OrigRax: ^uint64(0),
	}
}

// runInjected loads regs into the stopped tracee tid, lets it run until the
// int3 that ends every stub site, and returns the registers there. Stops for
// other signals (a late interrupt, a stray signal from outside) are
// swallowed; the tracee must end at trapRip (the address after the int3).
//
// Preconditions: the caller is tid's tracer and tid is in a ptrace-stop.
func runInjected(tid int, regs *arch.Registers, trapRip uint64) error {
	return runInjectedEvents(tid, regs, trapRip, nil)
}

// runInjectedEvents is runInjected that also hands ptrace event stops on
// the way (PTRACE_EVENT_FORK or _CLONE, when the injected syscall makes a
// task) to onEvent with the event's message: the new task's pid as uk sees
// it, even when the stub lives in a PID namespace of its own (the kernel
// translates it into the tracer's namespace, whereas the syscall's result
// in RAX is the pid inside the stub's).
//
// Preconditions: the caller is tid's tracer and tid is in a ptrace-stop.
func runInjectedEvents(tid int, regs *arch.Registers, trapRip uint64, onEvent func(event int, msg uint)) error {
	if err := setRegs(tid, regs); err != nil {
		return fmt.Errorf("inject into %d: setregs: %w", tid, err)
	}
	for {
		if err := resume(unix.PTRACE_CONT, tid); err != nil {
			return fmt.Errorf("inject into %d: cont: %w", tid, err)
		}
		st, err := waitStop(tid)
		if err != nil {
			return err
		}
		if st.exited {
			return fmt.Errorf("inject into %d: stub thread died (%#x)", tid, uint32(st.status))
		}
		if st.event != 0 && onEvent != nil {
			msg, err := unix.PtraceGetEventMsg(tid)
			if err != nil {
				return fmt.Errorf("inject into %d: event %d message: %w", tid, st.event, err)
			}
			onEvent(st.event, msg)
			continue
		}
		if st.sig != int(unix.SIGTRAP) || st.event != 0 {
			continue // not ours: suppress and go on
		}
		if err := getRegs(tid, regs); err != nil {
			return fmt.Errorf("inject into %d: getregs: %w", tid, err)
		}
		if regs.Rip != trapRip {
			return fmt.Errorf("inject into %d: stopped at %#x, want %#x", tid, regs.Rip, trapRip)
		}
		return nil
	}
}

// injectSyscall runs one host system call in tid at the injection site and
// returns its raw result (a negative errno on failure).
//
// Preconditions: the caller is tid's tracer and tid is in a ptrace-stop.
func injectSyscall(tid int, nr uint64, args ...uint64) (uint64, error) {
	regs := injectRegs(siteSyscall)
	regs.Rax = nr
	a := [6]*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
	for i, v := range args {
		*a[i] = v
	}
	if err := runInjected(tid, &regs, siteSyscall+3); err != nil {
		return 0, err
	}
	return regs.Rax, nil
}

// waitNewTracee waits for the first stop of a task that was attached to the
// caller automatically when its parent, a tracee of the caller with
// PTRACE_O_TRACEFORK or PTRACE_O_TRACECLONE, created it: a SIGSTOP that
// the caller will suppress by resuming with no signal.
//
// Preconditions: the caller is pid's tracer.
func waitNewTracee(pid int) error {
	for {
		st, err := waitStop(pid)
		if err != nil {
			return err
		}
		if st.exited {
			return fmt.Errorf("new stub task %d died (status %#x)", pid, uint32(st.status))
		}
		if st.sig == int(unix.SIGSTOP) || st.event == unix.PTRACE_EVENT_STOP {
			return nil
		}
		// The SIGSTOP is queued before the task ever runs, so nothing
		// else can come first; resuming it here would run stub code
		// that nobody set up.
		return fmt.Errorf("new stub task %d: first stop %#x, want SIGSTOP", pid, uint32(st.status))
	}
}

// errnoOf turns a raw negative syscall result into an error.
func errnoOf(r uint64) error {
	if int64(r) < 0 && int64(r) > -4096 {
		return unix.Errno(-int64(r))
	}
	return nil
}
