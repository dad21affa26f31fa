#include "textflag.h"

// func rdtsc() uint64
// LFENCE first so the TSC is not read before earlier loads complete, the
// same ordering the vDSO uses (lfence; rdtsc), so Go-side and vDSO readings
// of the clocks are comparable.
TEXT ·rdtsc(SB),NOSPLIT,$0-8
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET
