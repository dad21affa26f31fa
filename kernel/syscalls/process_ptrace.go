package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// ptrace(2) requests.
const (
	ptraceTraceme        = 0
	ptracePeektext       = 1
	ptracePeekdata       = 2
	ptracePeekuser       = 3
	ptracePoketext       = 4
	ptracePokedata       = 5
	ptracePokeuser       = 6
	ptraceCont           = 7
	ptraceKill           = 8
	ptraceSinglestep     = 9
	ptraceGetregs        = 12
	ptraceSetregs        = 13
	ptraceGetfpregs      = 14
	ptraceSetfpregs      = 15
	ptraceAttach         = 16
	ptraceDetach         = 17
	ptraceSyscall        = 24
	ptraceArchPrctl      = 30
	ptraceSysemu         = 31
	ptraceSetoptions     = 0x4200
	ptraceGeteventmsg    = 0x4201
	ptraceGetsiginfo     = 0x4202
	ptraceSetsiginfo     = 0x4203
	ptraceGetregset      = 0x4204
	ptraceSetregset      = 0x4205
	ptraceSeize          = 0x4206
	ptraceInterrupt      = 0x4207
	ptraceListen         = 0x4208
	ptracePeeksiginfo    = 0x4209
	ptraceGetsigmask     = 0x420a
	ptraceGetSyscallInfo = 0x420e
	ptraceSetsigmask     = 0x420b
)

// Regset types (ELF note types) PTRACE_GETREGSET knows.
const (
	ntPrstatus  = 1
	ntPrfpreg   = 2
	ntX86Xstate = 0x202
)

func sysPtrace(t *kernel.Task, a [6]uint64) (uint64, error) {
	req, tid, addr, data := a[0], int32(a[1]), a[2], a[3]
	switch req {
	case ptraceTraceme:
		return 0, t.PtraceTraceme()
	case ptraceAttach:
		return 0, t.PtraceAttach(tid, false, 0)
	case ptraceSeize:
		if addr != 0 {
			return 0, unix.EIO
		}
		if data&^kernel.PtraceOMask != 0 {
			return 0, unix.EIO // ptrace_attach's errno, set before its option check
		}
		return 0, t.PtraceAttach(tid, true, uint32(data))
	}
	// Most requests need the tracee stopped; these act on a running one.
	running := req == ptraceKill || req == ptraceInterrupt
	tracee, err := t.PtraceTracee(tid, !running)
	if err != nil {
		return 0, err
	}
	regs := &tracee.State.Regs
	if tracee.MM == nil && req >= ptracePeektext && req <= ptracePokedata && req != ptracePeekuser {
		return 0, unix.EIO // the stand-in init: no memory to reach
	}
	switch req {
	case ptracePeektext, ptracePeekdata:
		var b [8]byte
		if tracee.MM.AccessForced(addr, b[:], false) != nil {
			return 0, unix.EIO
		}
		return 0, t.CopyOut(data, b[:])
	case ptracePoketext, ptracePokedata:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], data)
		if tracee.MM.AccessForced(addr, b[:], true) != nil {
			return 0, unix.EIO
		}
		return 0, nil
	case ptracePeekuser:
		if addr%8 != 0 || addr >= arch.UserSize {
			return 0, unix.EIO
		}
		var v uint64
		switch {
		case addr < arch.UserRegsSize:
			v = *regs.Word(int(addr / 8))
		case addr >= arch.UserDebugRegOffset && addr < arch.UserDebugRegOffset+64:
			v = tracee.DebugReg(int(addr-arch.UserDebugRegOffset) / 8)
		}
		return 0, putUint64(t, data, v)
	case ptracePokeuser:
		if addr%8 != 0 || addr >= arch.UserSize {
			return 0, unix.EIO
		}
		switch {
		case addr < arch.UserRegsSize:
			if regs.PutReg(int(addr/8), data) != nil {
				return 0, unix.EIO
			}
			return 0, nil
		case addr >= arch.UserDebugRegOffset && addr < arch.UserDebugRegOffset+64:
			return 0, tracee.SetDebugReg(int(addr-arch.UserDebugRegOffset)/8, data)
		}
		return 0, unix.EIO
	case ptraceCont:
		return 0, t.PtraceResume(tracee, int(data), kernel.PtraceCont)
	case ptraceSyscall:
		return 0, t.PtraceResume(tracee, int(data), kernel.PtraceSyscall)
	case ptraceSysemu:
		return 0, t.PtraceResume(tracee, int(data), kernel.PtraceSysemu)
	case ptraceSinglestep:
		return 0, t.PtraceResume(tracee, int(data), kernel.PtraceSingleStep)
	case ptraceKill:
		t.PtraceKill(tracee)
		return 0, nil
	case ptraceDetach:
		return 0, t.PtraceDetach(tracee, int(data))
	case ptraceInterrupt:
		return 0, t.PtraceInterrupt(tracee)
	case ptraceListen:
		return 0, t.PtraceListen(tracee)
	case ptraceGetregs:
		return 0, t.CopyOut(data, arch.EncodeRegs(regs))
	case ptraceSetregs:
		return 0, setRegs(t, regs, data, arch.UserRegsSize)
	case ptraceGetfpregs:
		tracee.State.SyncFP()
		return 0, t.CopyOut(data, tracee.State.FP[:arch.UserFPRegsSize])
	case ptraceSetfpregs:
		b := make([]byte, arch.UserFPRegsSize)
		if err := t.CopyIn(data, b); err != nil {
			return 0, err
		}
		if arch.SetFPRegs(&tracee.State, b) != nil {
			return 0, unix.EINVAL
		}
		return 0, nil
	case ptraceGetregset, ptraceSetregset:
		return 0, regset(t, tracee, addr, data, req == ptraceSetregset)
	case ptraceSetoptions:
		return 0, t.PtraceSetOptions(tracee, uint32(data))
	case ptraceGeteventmsg:
		return 0, putUint64(t, data, t.PtraceEventMsg(tracee))
	case ptraceGetsiginfo:
		info, ok := t.PtraceSiginfo(tracee)
		if !ok {
			return 0, unix.EINVAL
		}
		var b [arch.SignalInfoSize]byte
		info.Encode(b[:])
		return 0, t.CopyOut(data, b[:])
	case ptraceSetsiginfo:
		var b [arch.SignalInfoSize]byte
		if err := t.CopyIn(data, b[:]); err != nil {
			return 0, err
		}
		var info arch.SignalInfo
		if info.Decode(b[:]) != nil || !t.PtraceSetSiginfo(tracee, info) {
			return 0, unix.EINVAL
		}
		return 0, nil
	case ptraceGetsigmask:
		if addr != 8 {
			return 0, unix.EINVAL
		}
		return 0, putUint64(t, data, uint64(tracee.SigMask()))
	case ptraceSetsigmask:
		if addr != 8 {
			return 0, unix.EINVAL
		}
		var b [8]byte
		if err := t.CopyIn(data, b[:]); err != nil {
			return 0, err
		}
		tracee.SetSigMask(arch.SigSet(binary.LittleEndian.Uint64(b[:])))
		return 0, nil
	case ptraceGetSyscallInfo:
		return syscallInfo(t, tracee, addr, data)
	case ptracePeeksiginfo:
		return peekSiginfo(t, tracee, addr, data)
	case ptraceArchPrctl:
		if done, err := archPrctlBase(t, regs, data, addr); done {
			return 0, err
		}
		return 0, unix.EINVAL
	}
	return 0, unix.EIO
}

// setRegs is PTRACE_SETREGS and NT_PRSTATUS's SETREGSET: n bytes of
// struct user_regs_struct at addr, each word checked as Linux's putreg
// (the words before a refused one stay set, as there).
func setRegs(t *kernel.Task, regs *arch.Registers, addr uint64, n int) error {
	b := make([]byte, n)
	if err := t.CopyIn(addr, b); err != nil {
		return err
	}
	for i := range n / 8 {
		if regs.PutReg(i, binary.LittleEndian.Uint64(b[i*8:])) != nil {
			return unix.EIO
		}
	}
	return nil
}

// regset is PTRACE_GETREGSET and PTRACE_SETREGSET: the struct iovec at
// iovAddr names the buffer; a get shortens its length to what it wrote.
func regset(t *kernel.Task, tracee *kernel.Task, typ, iovAddr uint64, set bool) error {
	var iov [16]byte
	if err := t.CopyIn(iovAddr, iov[:]); err != nil {
		return err
	}
	base, n := binary.LittleEndian.Uint64(iov[:]), binary.LittleEndian.Uint64(iov[8:])
	if n%8 != 0 {
		return unix.EINVAL // not whole words, as Linux's ptrace_regset
	}
	var cur []byte
	switch typ {
	case ntPrstatus:
		cur = arch.EncodeRegs(&tracee.State.Regs)
	case ntPrfpreg:
		tracee.State.SyncFP()
		cur = tracee.State.FP[:arch.UserFPRegsSize]
	case ntX86Xstate:
		tracee.State.SyncFP()
		cur = arch.XstateRegset(tracee.State.FP)
	default:
		return unix.EINVAL
	}
	n = min(n, uint64(len(cur)))
	if !set {
		if err := t.CopyOut(base, cur[:n]); err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(iov[8:], n)
		return t.CopyOut(iovAddr+8, iov[8:])
	}
	switch typ {
	case ntPrstatus:
		return setRegs(t, &tracee.State.Regs, base, int(n)&^7)
	case ntPrfpreg:
		if n < arch.UserFPRegsSize {
			return unix.EINVAL
		}
		b := make([]byte, n)
		if err := t.CopyIn(base, b); err != nil {
			return err
		}
		if arch.SetFPRegs(&tracee.State, b) != nil {
			return unix.EINVAL
		}
	default:
		if n != uint64(len(cur)) {
			return unix.EFAULT // Linux: a short XSTATE buffer
		}
		b := make([]byte, n)
		if err := t.CopyIn(base, b); err != nil {
			return err
		}
		if arch.SetXstateRegset(&tracee.State, b) != nil {
			return unix.EINVAL
		}
	}
	return nil
}

// syscallInfo is PTRACE_GET_SYSCALL_INFO: struct ptrace_syscall_info of
// the tracee's stop, at most size bytes of it written to addr; the result
// is its whole size for the kind of stop.
func syscallInfo(t, tracee *kernel.Task, size, addr uint64) (uint64, error) {
	kind, msg := t.PtraceSyscallStopKind(tracee)
	r := &tracee.State.Regs
	b := make([]byte, 88)
	le := binary.LittleEndian
	b[0] = byte(kind)
	le.PutUint32(b[4:], kernel.AuditArchX86_64)
	le.PutUint64(b[8:], r.Rip)
	le.PutUint64(b[16:], r.Rsp)
	n := 24 // the header alone, for a stop that is none of these
	args := r.SyscallArgs()
	switch kind {
	case kernel.PtraceSyscallEntry, kernel.PtraceSyscallSeccomp:
		le.PutUint64(b[24:], r.OrigRax)
		for i, a := range args {
			le.PutUint64(b[32+8*i:], a)
		}
		n = 80
		if kind == kernel.PtraceSyscallSeccomp {
			le.PutUint32(b[80:], uint32(msg))
			n = 84
		}
	case kernel.PtraceSyscallExit:
		le.PutUint64(b[24:], r.Rax)
		if v := int64(r.Rax); v < 0 && v >= -4095 {
			b[32] = 1
		}
		n = 33
	}
	if err := t.CopyOut(addr, b[:min(uint64(n), size)]); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// peekSiginfo is PTRACE_PEEKSIGINFO: struct ptrace_peeksiginfo_args at
// argsAddr says where in which queue to start and how many to copy; the
// siginfos go to buf one by one, and the result is how many were.
func peekSiginfo(t, tracee *kernel.Task, argsAddr, buf uint64) (uint64, error) {
	var a [16]byte
	if err := t.CopyIn(argsAddr, a[:]); err != nil {
		return 0, err
	}
	off, flags, nr := binary.LittleEndian.Uint64(a[:]), binary.LittleEndian.Uint32(a[8:]), int32(binary.LittleEndian.Uint32(a[12:]))
	const shared = 1 // PTRACE_PEEKSIGINFO_SHARED
	if flags&^shared != 0 || nr < 0 {
		return 0, unix.EINVAL
	}
	var b [arch.SignalInfoSize]byte
	n := uint64(0)
	for ; n < uint64(nr); n++ {
		info, ok := t.PtracePendingSiginfo(tracee, flags&shared != 0, off+n)
		if !ok {
			break
		}
		info.Encode(b[:])
		if err := t.CopyOut(buf+n*arch.SignalInfoSize, b[:]); err != nil {
			if n == 0 {
				return 0, err
			}
			break
		}
	}
	return n, nil
}
