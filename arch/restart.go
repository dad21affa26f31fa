package arch

import "golang.org/x/sys/unix"

// SyscallInstructionLen is the length of the syscall instruction (0f 05);
// restarting a system call moves rip back by it so the instruction runs
// again.
const SyscallInstructionLen = 2

// RestartSyscall applies Linux's rules for a system call interrupted by a
// signal (arch/x86/kernel/signal.c), before the signal frame is built.
// regs is the thread's state after the syscall returned: OrigRax holds the
// syscall number (^0 if the trap was not a syscall) and Rax its result.
//
// handler says whether a handler is about to run (as opposed to the signal
// being ignored, stopping the thread or no signal at all); saFlags are that
// handler's sa_flags. The result codes then become:
//
//   - ERESTARTNOINTR: always restarted.
//   - ERESTARTSYS: restarted without a handler or with SA_RESTART, else EINTR.
//   - ERESTARTNOHAND: restarted without a handler, else EINTR.
//   - ERESTART_RESTARTBLOCK: without a handler, restarted as
//     restart_syscall(2), which the kernel must serve from the saved restart
//     state; with a handler, EINTR.
//
// It reports whether the call will be restarted. Other results are left
// alone, so it is safe to call after every syscall that was interrupted.
func RestartSyscall(regs *Registers, handler bool, saFlags uint64) bool {
	if regs.OrigRax == ^uint64(0) {
		return false
	}
	e, ok := ReturnErrno(regs.Rax)
	if !ok {
		return false
	}
	restart := func(nr uint64) bool {
		regs.Rax = nr
		regs.Rip -= SyscallInstructionLen
		return true
	}
	eintr := func() bool {
		regs.Rax = ^uint64(unix.EINTR) + 1 // -EINTR
		return false
	}
	switch e {
	case ERESTARTNOINTR:
		return restart(regs.OrigRax)
	case ERESTARTSYS:
		if !handler || saFlags&SA_RESTART != 0 {
			return restart(regs.OrigRax)
		}
		return eintr()
	case ERESTARTNOHAND:
		if !handler {
			return restart(regs.OrigRax)
		}
		return eintr()
	case ERESTART_RESTARTBLOCK:
		if !handler {
			return restart(SysRestartSyscall)
		}
		return eintr()
	}
	return false
}
