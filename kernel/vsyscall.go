package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// The legacy vsyscall page: old binaries (and some JVMs) call fixed
// addresses in it for gettimeofday, time and getcpu. Linux's default,
// vsyscall=xonly, maps nothing there; a call faults and the kernel
// emulates it (emulate_vsyscall). uk does the same: on both platforms the
// call arrives as a fault at the entry point with rip there.
const (
	vsyscallPage = 0xffffffffff600000
	vsyscallSize = 0x1000
)

// vsyscallNumbers maps the entry points to the system calls they stand for.
var vsyscallNumbers = map[uint64]uint64{
	vsyscallPage + 0x000: arch.SysGettimeofday,
	vsyscallPage + 0x400: arch.SysTime,
	vsyscallPage + 0x800: arch.SysGetcpu,
}

// emulateVsyscall handles trap if it is a call into the vsyscall page: the
// system call runs as if made by syscall, and the call returns to its
// caller (the return address is popped as ret would). A jump to any other
// address of the page, or a data access to it, is left to the fault path
// (SIGSEGV, as on Linux).
func (t *Task) emulateVsyscall(trap platform.Trap) bool {
	r := &t.State.Regs
	if trap.Kind != platform.TrapFault && !(trap.Kind == platform.TrapSignal && trap.Signo == int32(unix.SIGSEGV)) {
		return false
	}
	if r.Rip-vsyscallPage >= vsyscallSize {
		return false
	}
	nr, ok := vsyscallNumbers[r.Rip]
	if !ok {
		return false
	}
	var ret [8]byte
	if err := t.CopyIn(r.Rsp, ret[:]); err != nil {
		return false // no return address: the fault stands
	}
	r.Rip = binary.LittleEndian.Uint64(ret[:])
	r.Rsp += 8
	r.OrigRax = nr
	t.doSyscall()
	r.OrigRax = ^uint64(0) // not a syscall instruction: nothing to restart
	return true
}
