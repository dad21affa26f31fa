package arch

import "golang.org/x/arch/x86/x86asm"

// MemAccess is a range of memory an instruction reads or writes.
type MemAccess struct {
	Addr  uint64
	Size  int
	Write bool
}

// noAccess are instructions whose memory operand is only an address
// (LEA), or a hint that reads nothing a data breakpoint sees (NOP's long
// forms, prefetches).
var noAccess = map[x86asm.Op]bool{
	x86asm.LEA: true, x86asm.NOP: true,
	x86asm.PREFETCHT0: true, x86asm.PREFETCHT1: true, x86asm.PREFETCHT2: true,
	x86asm.PREFETCHNTA: true, x86asm.PREFETCHW: true,
}

// MemAccesses decodes the 64-bit instruction at the start of code, which
// runs with registers r, and returns the memory it accesses through its
// explicit memory operand (a write when InstructionWrites says so; a
// read-modify-write is both) and through the stack (PUSH, CALL: the 8
// bytes below RSP written; POP, RET: the 8 at RSP read). String
// instructions' implicit operands are not decoded. ok is false when the
// bytes do not decode. It serves debug-register emulation (kernel's
// ptrace_debugreg.go), where an access is a breakpoint's to check, not
// one to perform.
func MemAccesses(code []byte, r *Registers) (acc []MemAccess, ok bool) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Op == 0 { // x86asm gives Op 0, no error, for truncated bytes
		return nil, false
	}
	switch inst.Op {
	case x86asm.PUSH, x86asm.PUSHFQ, x86asm.CALL:
		acc = append(acc, MemAccess{Addr: r.Rsp - 8, Size: 8, Write: true})
	case x86asm.POP, x86asm.POPFQ, x86asm.RET, x86asm.LEAVE:
		sp := r.Rsp
		if inst.Op == x86asm.LEAVE {
			sp = r.Rbp
		}
		acc = append(acc, MemAccess{Addr: sp, Size: 8})
	}
	if noAccess[inst.Op] {
		return acc, true
	}
	for _, a := range inst.Args {
		m, isMem := a.(x86asm.Mem)
		if !isMem {
			continue
		}
		addr := uint64(m.Disp)
		switch m.Base {
		case 0:
		case x86asm.RIP:
			addr += r.Rip + uint64(inst.Len)
		default:
			addr += regValue(m.Base, r)
		}
		if m.Index != 0 {
			addr += regValue(m.Index, r) * uint64(m.Scale)
		}
		switch m.Segment {
		case x86asm.FS:
			addr += r.FsBase
		case x86asm.GS:
			addr += r.GsBase
		}
		if inst.AddrSize == 32 {
			addr &= 0xffffffff
		}
		size := inst.MemBytes
		if size <= 0 {
			size = 1
		}
		write, _ := InstructionWrites(code)
		read := !write || readModifyWrite(inst.Op)
		if write {
			acc = append(acc, MemAccess{Addr: addr, Size: size, Write: true})
		}
		if read {
			acc = append(acc, MemAccess{Addr: addr, Size: size})
		}
		break // one explicit memory operand per instruction
	}
	return acc, true
}

// readModifyWrite reports whether op, writing its memory operand, reads
// it first (arithmetic and logic on memory); a plain store (MOV, SETcc,
// a store of FP or vector state) does not.
func readModifyWrite(op x86asm.Op) bool {
	switch op {
	case x86asm.MOV, x86asm.MOVAPS, x86asm.MOVAPD, x86asm.MOVUPS, x86asm.MOVUPD, x86asm.MOVDQA, x86asm.MOVDQU,
		x86asm.MOVQ, x86asm.MOVD, x86asm.MOVSS, x86asm.MOVSD_XMM, x86asm.MOVNTI, x86asm.MOVNTDQ, x86asm.MOVNTPS,
		x86asm.MOVBE, x86asm.FST, x86asm.FSTP, x86asm.FIST, x86asm.FISTP, x86asm.FNSTCW, x86asm.FNSTSW, x86asm.STMXCSR,
		x86asm.SETA, x86asm.SETAE, x86asm.SETB, x86asm.SETBE, x86asm.SETE, x86asm.SETG, x86asm.SETGE, x86asm.SETL,
		x86asm.SETLE, x86asm.SETNE, x86asm.SETNO, x86asm.SETNP, x86asm.SETNS, x86asm.SETO, x86asm.SETP, x86asm.SETS,
		x86asm.PUSH, x86asm.CALL:
		return false
	}
	return true
}

// regValue returns the value of 64-bit general register g (or of the
// register its 32-bit form names) in r; 0 for others.
func regValue(g x86asm.Reg, r *Registers) uint64 {
	switch g {
	case x86asm.RAX, x86asm.EAX:
		return r.Rax
	case x86asm.RCX, x86asm.ECX:
		return r.Rcx
	case x86asm.RDX, x86asm.EDX:
		return r.Rdx
	case x86asm.RBX, x86asm.EBX:
		return r.Rbx
	case x86asm.RSP, x86asm.ESP:
		return r.Rsp
	case x86asm.RBP, x86asm.EBP:
		return r.Rbp
	case x86asm.RSI, x86asm.ESI:
		return r.Rsi
	case x86asm.RDI, x86asm.EDI:
		return r.Rdi
	case x86asm.R8, x86asm.R8L:
		return r.R8
	case x86asm.R9, x86asm.R9L:
		return r.R9
	case x86asm.R10, x86asm.R10L:
		return r.R10
	case x86asm.R11, x86asm.R11L:
		return r.R11
	case x86asm.R12, x86asm.R12L:
		return r.R12
	case x86asm.R13, x86asm.R13L:
		return r.R13
	case x86asm.R14, x86asm.R14L:
		return r.R14
	case x86asm.R15, x86asm.R15L:
		return r.R15
	}
	return 0
}
