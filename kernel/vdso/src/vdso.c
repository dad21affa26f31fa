/*
 * uk's vDSO: clock_gettime, gettimeofday, time, clock_getres and getcpu
 * served in user space from a parameter page that uk maps read-only one page
 * below the image (symbol uk_vdso_params, placed by vdso.lds). Built by
 * gen.sh into vdso.so, which is committed and embedded in uk.
 *
 * Rules for this file: no global writable data, no calls into libc, no
 * relocations (everything is reached PC-relatively; hidden visibility keeps
 * the compiler from using the GOT). Anything not served here is passed to the
 * real syscall instruction, which uk's platform traps and uk implements.
 *
 * No sigreturn trampoline: on x86-64, libc always supplies SA_RESTORER, so
 * unlike i386 the vDSO need not export __kernel_rt_sigreturn.
 */
#include "vdso.h"

typedef long ktime_t;

struct kernel_timespec { long tv_sec; long tv_nsec; };
struct kernel_timeval { long tv_sec; long tv_usec; };
struct kernel_timezone { int tz_minuteswest; int tz_dsttime; };

#define NSEC_PER_SEC 1000000000L

#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11

extern const volatile struct uk_vdso_params uk_vdso_params __attribute__((visibility("hidden")));

#define barrier() __asm__ __volatile__("" ::: "memory")

static inline long sys2(long nr, long a, long b)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline long sys3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* LFENCE keeps RDTSC from executing before the seqcount load above it. */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t scale(uint64_t d, uint64_t mult, uint32_t shift)
{
	return (uint64_t)(((unsigned __int128)d * mult) >> shift);
}

/*
 * clock_ns computes clock id's time in ns into *ns. It returns 0 on success,
 * -1 if the clock is not served here (the caller makes the syscall).
 */
static int clock_ns(int id, int64_t *ns)
{
	const volatile struct uk_vdso_params *p = &uk_vdso_params;
	uint32_t seq;
	int64_t t;

	for (;;) {
		seq = p->seq;
		if (seq & 1) {
			__asm__ __volatile__("pause");
			continue;
		}
		barrier();
		if (!(p->flags & UK_VDSO_TSC))
			return -1;
		uint64_t tsc = rdtsc_ordered();
		uint64_t base = p->tsc_base;
		uint64_t d = tsc > base ? tsc - base : 0;
		uint64_t slew = d < p->slew_ticks ? d : p->slew_ticks;
		uint32_t shift = p->shift;
		t = p->mono_base + (int64_t)(scale(d, p->mult, shift) - scale(slew, p->slew_mult, shift));
		switch (id) {
		case CLOCK_MONOTONIC:
		case CLOCK_MONOTONIC_COARSE:
			break;
		case CLOCK_REALTIME:
		case CLOCK_REALTIME_COARSE:
			t += p->real_offset;
			break;
		case CLOCK_BOOTTIME:
			t += p->boot_offset;
			break;
		case CLOCK_TAI:
			t += p->real_offset + p->tai_offset;
			break;
		default:
			return -1;
		}
		barrier();
		if (p->seq == seq)
			break;
	}
	*ns = t;
	return 0;
}

static inline int served(int id)
{
	return id == CLOCK_REALTIME || id == CLOCK_MONOTONIC || id == CLOCK_REALTIME_COARSE ||
	       id == CLOCK_MONOTONIC_COARSE || id == CLOCK_BOOTTIME || id == CLOCK_TAI;
}

__attribute__((visibility("default")))
int __vdso_clock_gettime(int id, struct kernel_timespec *ts)
{
	int64_t ns;

	if (!served(id) || clock_ns(id, &ns) < 0)
		return sys2(SYS_clock_gettime, id, (long)ts);
	/* Divide by a constant: the compiler turns this into a multiply. */
	ts->tv_sec = ns / NSEC_PER_SEC;
	ts->tv_nsec = ns % NSEC_PER_SEC;
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += NSEC_PER_SEC;
	}
	return 0;
}

__attribute__((visibility("default")))
int __vdso_gettimeofday(struct kernel_timeval *tv, struct kernel_timezone *tz)
{
	int64_t ns;

	if (clock_ns(CLOCK_REALTIME, &ns) < 0)
		return sys2(SYS_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		int64_t us = ns / 1000;
		tv->tv_sec = us / 1000000;
		tv->tv_usec = us % 1000000;
		if (tv->tv_usec < 0) {
			tv->tv_sec--;
			tv->tv_usec += 1000000;
		}
	}
	if (tz) {
		/* uk keeps the kernel timezone at UTC, as an unset Linux sys_tz. */
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

__attribute__((visibility("default")))
long __vdso_time(long *t)
{
	int64_t ns;
	long s;

	if (clock_ns(CLOCK_REALTIME, &ns) < 0)
		return sys2(SYS_time, (long)t, 0);
	s = ns / NSEC_PER_SEC;
	if (ns < 0 && ns % NSEC_PER_SEC)
		s--;
	if (t)
		*t = s;
	return s;
}

__attribute__((visibility("default")))
int __vdso_clock_getres(int id, struct kernel_timespec *res)
{
	/* Served clocks are read from the TSC, so they resolve to 1 ns; the
	 * coarse ones tick as Linux's do (the kernel says how often). */
	if (!served(id) || !(uk_vdso_params.flags & UK_VDSO_TSC) ||
	    id == CLOCK_REALTIME_COARSE || id == CLOCK_MONOTONIC_COARSE)
		return sys2(SYS_clock_getres, id, (long)res);
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

__attribute__((visibility("default")))
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	uint32_t flags = uk_vdso_params.flags;
	unsigned long p;

	if (flags & UK_VDSO_GETCPU_RDPID) {
		__asm__ __volatile__("rdpid %0" : "=r"(p));
	} else if (flags & UK_VDSO_GETCPU_LSL) {
		/* Linux's per-CPU GDT entry 15 (selector 0x7b): limit = node<<12 | cpu. */
		unsigned int l;
		__asm__ __volatile__("lsl %1, %0" : "=r"(l) : "r"(0x7bu));
		p = l;
	} else {
		return sys3(SYS_getcpu, (long)cpu, (long)node, (long)unused);
	}
	if (cpu)
		*cpu = p & 0xfff;
	if (node)
		*node = p >> 12;
	return 0;
}

/* The unprefixed names, as Linux's vDSO exports them. */
int clock_gettime(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_gettime"), visibility("default")));
int gettimeofday(struct kernel_timeval *, struct kernel_timezone *) __attribute__((weak, alias("__vdso_gettimeofday"), visibility("default")));
long time(long *) __attribute__((weak, alias("__vdso_time"), visibility("default")));
int clock_getres(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_getres"), visibility("default")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu"), visibility("default")));
