/* sigstack: a signal handled on an alternate stack of the classic SIGSTKSZ
 * (8 KiB) must fit its frame whatever XSAVE state the CPU has: Linux leaves
 * the dynamically enabled AMX tile data (8 KiB on its own) out of signal
 * frames until a process asks for it with arch_prctl(ARCH_REQ_XCOMP_PERM).
 * Also AT_MINSIGSTKSZ, the frame's fpx_sw_bytes, and the XSAVE permission
 * calls (per process, inherited by fork). Sizes and feature masks are the
 * machine's: the same natively and under uk. */
#include "uktest.h"
#include <cpuid.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <ucontext.h>

#define ARCH_GET_XCOMP_SUPP 0x1021
#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define ARCH_GET_XCOMP_GUEST_PERM 0x1024
#define ARCH_REQ_XCOMP_GUEST_PERM 0x1025
#define XFEATURE_XTILEDATA 18
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#endif

/* The classic SIGSTKSZ: with _GNU_SOURCE, glibc's SIGSTKSZ is a sysconf
 * call, and programs built before that used this constant. */
#define CLASSIC_SIGSTKSZ 8192

/* struct _fpx_sw_bytes, at offset 464 of the FXSAVE area. */
struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

static char altstack[65536] __attribute__((aligned(64)));
static char *alt_lo;
static size_t alt_len;

static volatile int handled, on_alt, fp_on_alt, magic_ok;
static volatile uint32_t xstate_size, extended_size;
static volatile uint64_t xfeatures, xstate_bv;

static void handler(int sig, siginfo_t *si, void *ucv) {
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	char here;
	handled++;
	on_alt = &here >= alt_lo && &here < alt_lo + alt_len;
	char *fp = (char *)uc->uc_mcontext.fpregs;
	fp_on_alt = fp >= alt_lo && fp < alt_lo + alt_len;
	struct fpx_sw_bytes *sw = (struct fpx_sw_bytes *)(fp + 464);
	xstate_size = sw->xstate_size;
	extended_size = sw->extended_size;
	xfeatures = sw->xfeatures;
	memcpy((void *)&xstate_bv, fp + 512, 8);
	magic_ok = sw->magic1 == FP_XSTATE_MAGIC1 && fp + sw->xstate_size + 4 <= alt_lo + alt_len &&
		   *(uint32_t *)(fp + sw->xstate_size) == FP_XSTATE_MAGIC2;
}

static int set_altstack(size_t size, int flags) {
	stack_t ss = {.ss_sp = altstack, .ss_size = size, .ss_flags = flags};
	alt_lo = altstack;
	alt_len = size;
	return sigaltstack(&ss, NULL);
}

/* deliver raises SIGUSR1 to the SA_ONSTACK handler and reports its frame. */
static void deliver(const char *what, uint64_t perm) {
	handled = on_alt = fp_on_alt = magic_ok = 0;
	raise(SIGUSR1);
	printf("%s: xstate_size %u xfeatures %#llx\n", what, xstate_size, (unsigned long long)xfeatures);
	CHECK("handler ran on the alternate stack", handled == 1 && on_alt && fp_on_alt);
	CHECK("fpx_sw_bytes magic1 and MAGIC2 after xstate_size", magic_ok);
	CHECK("extended_size is xstate_size + 4", extended_size == xstate_size + 4);
	CHECK("frame xfeatures are the permitted features", xfeatures == perm);
	CHECK("XSTATE_BV within xfeatures", (xstate_bv & ~xfeatures) == 0);
}

static uint64_t get(int code) {
	uint64_t v = 0;
	if (syscall(SYS_arch_prctl, code, &v) != 0)
		printf("arch_prctl(%#x): FAIL %s\n", code, errname(errno));
	return v;
}

int main(void) {
	unsigned a, b, c, d;
	__cpuid_count(0xd, 0, a, b, c, d);
	unsigned long minsig = getauxval(AT_MINSIGSTKSZ);
	printf("AT_MINSIGSTKSZ %lu\n", minsig);
	CHECK("AT_MINSIGSTKSZ is a multiple of 16", minsig % 16 == 0);
	CHECK("AT_MINSIGSTKSZ holds a frame with the whole XSAVE area", minsig >= b + 440 + 4);
	CHECK("AT_MINSIGSTKSZ is below 64 KiB", minsig < 65536);
#ifdef _SC_MINSIGSTKSZ
	CHECK("sysconf(_SC_MINSIGSTKSZ) is AT_MINSIGSTKSZ", sysconf(_SC_MINSIGSTKSZ) == (long)minsig);
#endif

	uint64_t supp = get(ARCH_GET_XCOMP_SUPP), perm = get(ARCH_GET_XCOMP_PERM);
	printf("ARCH_GET_XCOMP_SUPP %#llx\n", (unsigned long long)supp);
	printf("ARCH_GET_XCOMP_PERM %#llx\n", (unsigned long long)perm);
	printf("ARCH_GET_XCOMP_GUEST_PERM %#llx\n", (unsigned long long)get(ARCH_GET_XCOMP_GUEST_PERM));
	CHECK("permitted features are supported", (perm & ~supp) == 0);
	CHECK("AMX tile data is not permitted by default", !(perm & (1ull << XFEATURE_XTILEDATA)));
	EXPECT_ERR(syscall(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP, (void *)8), EFAULT);
	EXPECT_ERR(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, 64), EINVAL);
	EXPECT_ERR(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, 1), EOPNOTSUPP);
	EXPECT_ERR(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_GUEST_PERM, 1), EOPNOTSUPP);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));

	/* The frame of a process that asked for nothing fits 8 KiB. */
	EXPECT_OK(set_altstack(CLASSIC_SIGSTKSZ, 0));
	deliver("8 KiB altstack", perm);
	CHECK("frame leaves out AMX tile data", !(xfeatures & (1ull << XFEATURE_XTILEDATA)));
	CHECK("frame image is at most the whole XSAVE area", xstate_size <= b);

	if (supp & (1ull << XFEATURE_XTILEDATA)) {
		/* AMX: permission needs room for the tile data on every installed
		 * alternate stack, and then sigaltstack wants it too. */
		EXPECT_ERR(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), ENOSPC);
		EXPECT_OK(set_altstack(0, SS_DISABLE));
		EXPECT_OK(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA));
		EXPECT_OK(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA));
		perm = get(ARCH_GET_XCOMP_PERM);
		printf("ARCH_GET_XCOMP_PERM after the request %#llx\n", (unsigned long long)perm);
		CHECK("AMX tile data permitted", perm & (1ull << XFEATURE_XTILEDATA));
		EXPECT_ERR(set_altstack(CLASSIC_SIGSTKSZ, 0), ENOMEM);
		EXPECT_OK(set_altstack(sizeof altstack, 0));
		/* Linux grows a thread's state on its first use of the tiles;
		 * this thread never used them, so its frames stay small. */
		deliver("64 KiB altstack, AMX permitted", perm & ~(1ull << XFEATURE_XTILEDATA));
	} else {
		EXPECT_ERR(syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), EOPNOTSUPP);
	}

	/* Permission belongs to the process and a child inherits it. */
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t p = 0;
		syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &p);
		_exit(p == perm ? 0 : 1);
	}
	int st;
	EXPECT_EQ(waitpid(pid, &st, 0), pid);
	CHECK("fork child has the parent's permission", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return ukt_exit();
}
