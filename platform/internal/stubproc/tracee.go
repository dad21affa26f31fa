package stubproc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// TraceOptions are the options every stub thread is traced with: kill it when its tracer thread
// exits (a tracee left untraced would run application code with real host
// system calls), and mark syscall stops with 0x80 so they cannot be confused
// with a SIGTRAP from the application.
const TraceOptions = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// Siginfo is the kernel's siginfo_t (128 bytes). Only the fields uk reads
// are named.
type Siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	// Fields is the union: si_addr for faults, {si_pid, si_uid} for
	// signals sent with kill/tgkill.
	Fields [14]uint64
}

// si_code values (asm-generic/Siginfo.h).
const (
	SIKernel = 0x80 // sent by the kernel (e.g. #GP, int3)
	SITkill  = -6   // sent by tkill/tgkill

	SysSeccomp = 1 // SIGSYS from a seccomp SECCOMP_RET_TRAP
	SegvMapErr = 1 // SIGSEGV: no Mapping at the address
)

// Addr is si_addr, the faulting address of a fault.
func (si *Siginfo) Addr() uint64 { return si.Fields[0] }

// Pid is si_pid, the sender of a signal sent with kill or tgkill.
func (si *Siginfo) Pid() int { return int(int32(uint32(si.Fields[0]))) }

// Stop is a decoded wait4 status of a tracee.
type Stop struct {
	Exited bool // the thread is gone (exited or killed)
	Sig    int  // the stop signal (SIGTRAP|0x80 for a syscall stop)
	Event  int  // PTRACE_EVENT_* for event stops, else 0
	Status unix.WaitStatus
}

// WaitStop waits for the next state change of tid (the caller must be its
// tracer).
func WaitStop(tid int) (Stop, error) {
	_, ws, err := Wait4(tid, 0)
	if err != nil {
		return Stop{}, fmt.Errorf("wait4 %d: %w", tid, err)
	}
	if ws.Exited() || ws.Signaled() {
		return Stop{Exited: true, Status: ws}, nil
	}
	if !ws.Stopped() {
		return Stop{Status: ws}, nil
	}
	return Stop{Sig: int(ws>>8) & 0xff, Event: int(ws>>16) & 0xff, Status: ws}, nil
}

// InjectRegs returns a register set that runs the stub from rip with the
// given syscall registers. Selectors are the user ones the kernel insists on;
// OrigRax is -1 so that the kernel never treats the stop we resume from as
// an interrupted syscall to restart (which would move RIP back).
func InjectRegs(rip uint64) arch.Registers {
	return arch.Registers{
		Rip:     rip,
		Cs:      arch.UserCS,
		Ss:      arch.UserDS,
		Eflags:  0x202, // IF, and the always-one bit
		OrigRax: ^uint64(0),
	}
}

// RunInjected loads regs into the stopped tracee tid, lets it run until the
// int3 that ends every stub site, and returns the registers there. Stops for
// other signals (a late interrupt, a stray signal from outside) are
// swallowed; the tracee must end at trapRip (the address after the int3).
//
// Preconditions: the caller is tid's tracer and tid is in a ptrace-stop.
func RunInjected(tid int, regs *arch.Registers, trapRip uint64) error {
	return RunInjectedEvents(tid, regs, trapRip, nil)
}

// RunInjectedEvents is runInjected that also hands ptrace event stops on
// the way (PTRACE_EVENT_FORK or _CLONE, when the injected syscall makes a
// task) to onEvent with the event's message: the new task's pid as uk sees
// it, even when the stub lives in a PID namespace of its own (the kernel
// translates it into the tracer's namespace, whereas the syscall's result
// in RAX is the pid inside the stub's).
//
// Preconditions: the caller is tid's tracer and tid is in a ptrace-stop.
func RunInjectedEvents(tid int, regs *arch.Registers, trapRip uint64, onEvent func(event int, msg uint)) error {
	if err := SetRegs(tid, regs); err != nil {
		return fmt.Errorf("inject into %d: setregs: %w", tid, err)
	}
	for {
		if err := Resume(unix.PTRACE_CONT, tid); err != nil {
			return fmt.Errorf("inject into %d: cont: %w", tid, err)
		}
		st, err := WaitStop(tid)
		if err != nil {
			return err
		}
		if st.Exited {
			return fmt.Errorf("inject into %d: stub thread died (%#x)", tid, uint32(st.Status))
		}
		if st.Event != 0 && onEvent != nil {
			msg, err := unix.PtraceGetEventMsg(tid)
			if err != nil {
				return fmt.Errorf("inject into %d: event %d message: %w", tid, st.Event, err)
			}
			onEvent(st.Event, msg)
			continue
		}
		if st.Sig != int(unix.SIGTRAP) || st.Event != 0 {
			continue // not ours: suppress and go on
		}
		if err := GetRegs(tid, regs); err != nil {
			return fmt.Errorf("inject into %d: getregs: %w", tid, err)
		}
		if regs.Rip != trapRip {
			return fmt.Errorf("inject into %d: stopped at %#x, want %#x", tid, regs.Rip, trapRip)
		}
		return nil
	}
}

// InjectSyscall runs one host system call in tid at site, the address of a
// syscall instruction followed by int3 in the stub's code, and returns its
// raw result (a negative errno on failure).
//
// Preconditions: the caller is tid's tracer and tid is in a ptrace-stop.
func InjectSyscall(tid int, site, nr uint64, args ...uint64) (uint64, error) {
	regs := InjectRegs(site)
	regs.Rax = nr
	a := [6]*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
	for i, v := range args {
		*a[i] = v
	}
	if err := RunInjected(tid, &regs, site+3); err != nil {
		return 0, err
	}
	return regs.Rax, nil
}

// WaitNewTracee waits for the first stop of a task that was attached to the
// caller automatically when its parent, a tracee of the caller with
// PTRACE_O_TRACEFORK or PTRACE_O_TRACECLONE, created it: a SIGSTOP that
// the caller will suppress by resuming with no signal.
//
// Preconditions: the caller is pid's tracer.
func WaitNewTracee(pid int) error {
	for {
		st, err := WaitStop(pid)
		if err != nil {
			return err
		}
		if st.Exited {
			return fmt.Errorf("new stub task %d died (status %#x)", pid, uint32(st.Status))
		}
		if st.Sig == int(unix.SIGSTOP) || st.Event == unix.PTRACE_EVENT_STOP {
			return nil
		}
		// The SIGSTOP is queued before the task ever runs, so nothing
		// else can come first; resuming it here would run stub code
		// that nobody set up.
		return fmt.Errorf("new stub task %d: first stop %#x, want SIGSTOP", pid, uint32(st.Status))
	}
}

// ErrnoOf turns a raw negative syscall result into an error.
func ErrnoOf(r uint64) error {
	if int64(r) < 0 && int64(r) > -4096 {
		return unix.Errno(-int64(r))
	}
	return nil
}
