package arch

import "golang.org/x/arch/x86/x86asm"

// readOnlyFirstOperand lists instructions whose first (Intel-order) operand
// is only read, so a memory first operand does not make them writes.
var readOnlyFirstOperand = map[x86asm.Op]bool{
	x86asm.CMP: true, x86asm.TEST: true, x86asm.BT: true, x86asm.PUSH: false,
	x86asm.UCOMISS: true, x86asm.UCOMISD: true, x86asm.COMISS: true, x86asm.COMISD: true,
	x86asm.PREFETCHT0: true, x86asm.PREFETCHT1: true, x86asm.PREFETCHT2: true, x86asm.PREFETCHNTA: true,
	x86asm.PREFETCHW: true, x86asm.CLFLUSH: true, x86asm.JMP: true, x86asm.LGDT: true, x86asm.LIDT: true,
	x86asm.VPTEST: true, x86asm.PTEST: true, x86asm.FLD: true, x86asm.FILD: true,
}

// InstructionWrites decodes the 64-bit instruction at the start of code and
// says whether executing it writes memory: a memory destination operand, a
// string store, or a stack push (PUSH, CALL, ENTER). ok is false when the
// bytes do not decode; callers then fall back to another way of telling.
//
// The answer can be "write" for an instruction that also reads memory (MOVS
// reads [RSI] and writes [RDI]); callers that see a write fault on memory the
// application may only read should first map it readable and retry.
func InstructionWrites(code []byte) (write, ok bool) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return false, false
	}
	switch inst.Op {
	case x86asm.PUSH, x86asm.PUSHF, x86asm.PUSHFQ, x86asm.CALL, x86asm.ENTER,
		x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ,
		x86asm.XSAVE, x86asm.XSAVE64, x86asm.FXSAVE, x86asm.FXSAVE64, x86asm.XSAVEOPT, x86asm.XSAVEOPT64:
		return true, true
	case x86asm.CMPXCHG, x86asm.CMPXCHG8B, x86asm.CMPXCHG16B, x86asm.XADD, x86asm.XCHG:
		for _, a := range inst.Args {
			if _, isMem := a.(x86asm.Mem); isMem {
				return true, true
			}
		}
		return false, true
	}
	if readOnlyFirstOperand[inst.Op] {
		return false, true
	}
	if _, isMem := inst.Args[0].(x86asm.Mem); isMem {
		// Instructions with a single memory operand that they only read.
		if inst.Args[1] == nil {
			switch inst.Op {
			case x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.NOT, x86asm.POP,
				x86asm.SETA, x86asm.SETAE, x86asm.SETB, x86asm.SETBE, x86asm.SETE, x86asm.SETG,
				x86asm.SETGE, x86asm.SETL, x86asm.SETLE, x86asm.SETNE, x86asm.SETNO, x86asm.SETNP,
				x86asm.SETNS, x86asm.SETO, x86asm.SETP, x86asm.SETS,
				x86asm.FST, x86asm.FSTP, x86asm.FIST, x86asm.FISTP, x86asm.FNSTCW, x86asm.FNSTSW, x86asm.STMXCSR:
				return true, true
			}
			return false, true
		}
		return true, true
	}
	return false, true
}
