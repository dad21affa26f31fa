#include "textflag.h"

// func rdtscpAux() uint32 (tscaux.go)
//
// RDTSCP is the one user-mode instruction that reads IA32_TSC_AUX (into
// ECX; the time stamp it also returns in EDX:EAX is dropped). Go has no
// intrinsic for it, hence assembly. It clobbers only AX, CX and DX, which
// Go's ABI0 lets a function use freely.
TEXT ·rdtscpAux(SB), NOSPLIT, $0-4
	RDTSCP
	MOVL CX, ret+0(FP)
	RET
