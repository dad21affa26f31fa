/*
 * Shared between vdso.c and the layout test (params_test.go compiles a tiny
 * program against it): the parameter page uk writes and the vDSO reads.
 * The Go mirror is Params in params.go; field order, sizes and offsets must
 * match (TestParamsLayoutMatchesC checks them).
 */
#ifndef UK_VDSO_H
#define UK_VDSO_H

#include <stdint.h>

/* flags */
#define UK_VDSO_TSC         1u /* the time fields are valid: serve clocks from the TSC */
#define UK_VDSO_GETCPU_RDPID 2u /* getcpu may use RDPID (TSC_AUX = node<<12 | cpu) */
#define UK_VDSO_GETCPU_LSL   4u /* getcpu may use LSL on the host's per-CPU GDT entry */

/*
 * All times are nanoseconds. With d = rdtsc() - tsc_base (0 if negative):
 *   mono = mono_base + (d*mult >> shift) - (min(d, slew_ticks)*slew_mult >> shift)
 *   boottime = mono + boot_offset
 *   realtime = mono + real_offset          (also the _COARSE variants)
 *   tai      = realtime + tai_offset
 * The products are 128-bit, so the parameters stay valid without updates
 * for centuries. The slew term lets uk remove a small lead of its clock
 * over the host's without ever stepping CLOCK_MONOTONIC backwards.
 */
struct uk_vdso_params {
	uint32_t seq;    /* odd while uk is writing; readers retry */
	uint32_t flags;  /* UK_VDSO_* */
	uint64_t tsc_base;
	uint64_t mult;
	uint32_t shift;
	uint32_t pad0;
	int64_t mono_base;
	uint64_t slew_ticks;
	uint64_t slew_mult;
	int64_t real_offset;
	int64_t boot_offset;
	int64_t tai_offset;
};

#endif
