/*
 * sysfuzz: a system call fuzzer for uk, in the spirit of trinity and
 * syzkaller. It calls every syscall number it is given with boundary and
 * random arguments: huge, zero and negative lengths, NULL, unaligned,
 * unmapped and kernel-half addresses, pointers into a scratch area filled
 * with random words (so structures point at more structures), valid fds of
 * every kind uk has and bad ones, random flags. Its purpose is to find
 * argument values that crash or hang uk itself; what a call returns does
 * not matter.
 *
 * NEVER RUN THIS NATIVELY. It runs as root and would change the machine
 * (mount, unlink, sethostname, settimeofday, ...). It refuses to start
 * unless uname(2) says the kernel is uk.
 *
 * Usage: sysfuzz fuzz [-s SEED] [-t SECONDS] [-c CALLS] [-b FIRST] [-B COUNT]
 *                     [-n SPEC] [-v]
 *   -s SEED     the random seed (batch i uses SEED and i)
 *   -t SECONDS  the time budget (default 10)
 *   -c CALLS    calls per batch (default 256)
 *   -b FIRST    number of the first batch (default 0), to replay one
 *   -B COUNT    stop after COUNT batches (default: when the time is up)
 *   -n SPEC     the syscalls to call: NR[:KINDS] separated by commas, KINDS
 *               one letter per argument as uk's syscall table describes it
 *               (i int, x hex, f fd, p path, b/o buffer, m mode, O open
 *               flags, P prot, M mmap flags, s signal, c clone flags, a at
 *               flags); default every number from 0 to 470
 *   -v          print each call on stderr before making it
 *
 * The calls run in a child process, one fork per batch, so that the fuzzer
 * survives what its calls do to the process: a crashed, killed or stuck
 * child just ends its batch. The parent watches the child's progress
 * through a shared page and kills a child that makes none for a second;
 * a child that SIGKILL does not end is a hang in uk, reported with the call
 * it was in. The parent is exempt from uk's OOM killer (oom_score_adj
 * -1000, each batch 1000) and clears what batches leave behind (files,
 * System V segments) before the next. A third of the batches run a second thread making calls at
 * the same time, for races between syscalls. The parent's last line is "sysfuzz: ok ..." when the budget
 * ran out normally; exit status 0. Anything else means the run failed.
 *
 * Every run first makes the calls of the regressions table, calls that
 * once crashed, hung or stalled uk, each in a child of its own.
 *
 * To replay a failure: the same seed with -v, and -b/-B to narrow it to a
 * batch. Replays are close, not exact: pids and what earlier batches left
 * behind differ from run to run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/ptrace.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAXNR 471
#define MAXFDS 64
#define PAGE 4096UL
#define SCRATCH (64 * 1024UL)
#define STRAREA 8192UL
#define STRUCTAREA (16 * 1024UL) /* scratch bytes [STRAREA, +STRUCTAREA) */

/* ---- randomness ---- */

static uint64_t rng;

static uint64_t rnd(void) {
	/* splitmix64: good enough and needs no state beyond one word. */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) {
	return n ? rnd() % n : 0;
}

static int chance(int percent) {
	return below(100) < (uint64_t)percent;
}

/* ---- raw system calls (no errno, no TLS: the fuzzed calls may break both) ---- */

static long sys6(long nr, long a, long b, long c, long d, long e, long f) {
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

/* sys6fork makes a call that may create a process or thread (fork, vfork,
 * clone, clone3). The new one exits at once, before it touches memory or
 * the stack (clone may have handed it a random stack, or share ours): it
 * must not fuzz too, or the processes would multiply. */
static long sys6fork(long nr, long a, long b, long c, long d, long e, long f) {
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:\n\t"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

/* ---- output without stdio (usable from the child whatever its state) ---- */

static void put(int fd, const char *s) {
	sys6(SYS_write, fd, (long)s, strlen(s), 0, 0, 0);
}

static char *fmthex(char *p, uint64_t v) {
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;
	*p++ = '0';
	*p++ = 'x';
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *fmtdec(char *p, uint64_t v) {
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *fmtstr(char *p, const char *s) {
	while (*s)
		*p++ = *s++;
	return p;
}

/* fmtcall renders "nr(a0, a1, ...)" into buf. */
static void fmtcall(char *buf, uint64_t nr, const uint64_t *a) {
	char *p = fmtdec(buf, nr);
	*p++ = '(';
	for (int i = 0; i < 6; i++) {
		if (i)
			p = fmtstr(p, ", ");
		p = fmthex(p, a[i]);
	}
	*p++ = ')';
	*p = 0;
}

/* ---- what the parent and child share ---- */

struct shared {
	volatile uint64_t calls; /* calls started by the current child */
	volatile uint64_t batch;
	volatile uint64_t nr;
	volatile uint64_t args[6];
	volatile uint64_t done; /* the child finished its batch */
};

static struct shared *sh;

/* ---- the syscall table given on the command line ---- */

static int nrs[MAXNR + 1];
static char kinds[MAXNR + 1][7];
static int nnrs;

static int parse_spec(const char *spec) {
	while (*spec) {
		char *end;
		long nr = strtol(spec, &end, 10);
		if (end == spec || nr < 0 || nr > MAXNR)
			return -1;
		spec = end;
		char k[7] = "";
		if (*spec == ':') {
			spec++;
			int n = 0;
			while (*spec && *spec != ',') {
				if (n < 6)
					k[n++] = *spec;
				spec++;
			}
			k[n] = 0;
		}
		if (*spec == ',')
			spec++;
		if (nnrs > MAXNR)
			return -1;
		memcpy(kinds[nnrs], k, sizeof k);
		nrs[nnrs++] = (int)nr;
	}
	return nnrs ? 0 : -1;
}

/* ---- the child's world: scratch memory, fds, paths ---- */

static char *scratch;     /* SCRATCH bytes RW, then a PROT_NONE guard page */
static char *ropage;      /* one read-only page */
static char *nonepage;    /* one PROT_NONE page */
static char *filemap;     /* a shared mapping of the scratch file */
static int fds[MAXFDS];
static int nfds;
static const char *paths[64];

/* FILECAP bounds the size a fuzzed call gives a file (a power of 2). */
#define FILECAP (16 << 20)

/* MOUNTPOINT is where the fuzzed mount calls mount. */
#define MOUNTPOINT "/tmp/fz/d"

static int npaths;
static const char *execpaths[16];
static int nexecpaths;
static int mypid, ppid, ppgid;

static void addfd(long fd) {
	if (fd >= 0 && nfds < MAXFDS)
		fds[nfds++] = (int)fd;
}

/* addpath copies s into the string area of scratch and remembers it. */
static char *straddr;
static const char *addpath(const char *s) {
	size_t n = strlen(s) + 1;
	if (straddr + n > scratch + STRAREA || npaths >= 64)
		return NULL;
	memcpy(straddr, s, n);
	paths[npaths++] = straddr;
	straddr += n;
	return paths[npaths - 1];
}

static const char *const pathsrc[] = {
	"/tmp/fz/f", "/tmp/fz", "/tmp/fz/new", "/tmp/fz/d/../f", "/tmp/fz/fifo",
	"/tmp/fz/sock", "/tmp/fz/link", "/tmp/fz/d", "/tmp/fz/d/e", "/tmp/fz/exe",
	"/tmp/fz/sh", "/tmp/fz/f/", "/tmp/fz/dangling", "/tmp/fz/loop",
	"/dev/null", "/dev/zero", "/dev/urandom", "/dev/full", "/dev/ptmx", "/dev/pts", "/dev/shm",
	"/proc/self/maps", "/proc/self/fd/0", "/proc/self/status", "/proc/self/mem",
	"/proc/self/cwd", "/proc/1/stat", "/proc/self/task", "/proc/sys/kernel/hostname",
	"/proc/self/fd", "/proc/mounts", "/proc",
	"/sys/kernel", "/sys/devices/system/cpu", "/sys",
	"/", ".", "..", "", "f", "//", "///tmp//fz//f", "/nonexistent", "/tmp/fz/nonexistent/x",
	"fz", "tmp", "\xff\xfe", "/tmp/fz/\x01\x7f",
};

/* fillword returns a word for scratch memory: mostly values that mean
 * something to the kernel (pointers into scratch, lengths, fds), so that
 * structures in scratch (iovecs, msghdrs, sigactions, ...) point at more
 * scratch with plausible sizes. */
static uint64_t rnd_len(void);
static uint64_t rnd_ptr(int mm);
static uint64_t rnd_fd(void);
static uint64_t rnd_struct(void);
static uint64_t rnd_bits(int nbits);

static uint64_t fillword(void) {
	switch (below(8)) {
	case 0:
	case 1:
		return rnd_ptr(0);
	case 2:
	case 3:
		return rnd_len();
	case 4:
		return rnd_fd() | (below(2) ? 0 : rnd_fd() << 32);
	case 5:
		return 0;
	default:
		return rnd();
	}
}

static void fill(char *p, size_t n) {
	uint64_t *w = (uint64_t *)p;
	for (size_t i = 0; i < n / 8; i++)
		w[i] = fillword();
}

static void refill_some(void) {
	/* A random window, not all of scratch: cheap, and scratch keeps
	 * changing under the calls. Not the structures just built for this
	 * call's arguments. */
	size_t off = STRAREA + STRUCTAREA + below((SCRATCH - STRAREA - STRUCTAREA) / 8) * 8;
	size_t n = 8 * (1 + below(64));
	if (off + n > SCRATCH)
		n = SCRATCH - off;
	fill(scratch + off, n);
	if (chance(5)) {
		/* Sometimes also corrupt a path in place: strings that are
		 * almost right find different code. */
		size_t s = below(STRAREA);
		scratch[s] = (char)rnd();
	}
}

/* ---- argument generators ---- */

static uint64_t rnd_len(void) {
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512,
		1023, 1024, 4095, 4096, 4097, 8191, 8192, 65535, 65536, 65537, 1 << 20,
		1 << 24, 0x7fffffffUL, 0x80000000UL, 0xffffffffUL, 0x100000000UL,
		0x100000001UL, 1ULL << 46, 1ULL << 47, 1ULL << 48, 1ULL << 62, 1ULL << 63,
		0x7fffffffffffffffULL, (uint64_t)-1, (uint64_t)-2, (uint64_t)-4096,
		(uint64_t)-4095, (uint64_t)-8, 0xfffffffffffffff0ULL, SCRATCH, SCRATCH + 1,
		SCRATCH - 1, PATH_MAX, PATH_MAX + 1, 1 << 30, 1UL << 31, 0xffff,
	};
	switch (below(4)) {
	case 0:
		return below(256);
	case 1:
		return below(1 << 17);
	default:
		return v[below(sizeof v / sizeof v[0])];
	}
}

/* rnd_ptr returns an address. With mm set it is for a call that maps,
 * unmaps or changes memory, and then it never points at the fuzzer's own
 * code, data or stack: those calls would only end the batch early. */
static int building; /* rnd_struct is running */

static uint64_t rnd_ptr(int mm) {
	static const uint64_t bad[] = {
		0, 1, 8, 4095, 4096, 0x10000, 0x400000, 0x7ffffffff000ULL,
		0x7fffffffffffULL, 0x7ffffffffff8ULL, 0x800000000000ULL,
		0xffff800000000000ULL, 0xffff800000001000ULL, 0xffffffff80000000ULL,
		0xffffffffff600000ULL, 0xfffffffffffff000ULL, (uint64_t)-1, (uint64_t)-8,
		0x0000800000000000ULL - 4096, 0x100000000ULL, 0x7fff00000000ULL,
		0xdead000000000000ULL, 0x5555555554000ULL,
	};
	uint64_t s = (uint64_t)scratch;
	switch (below(mm ? 14 : 16)) {
	case 0:
	case 1:
	case 2:
	case 3:
		/* Aligned inside scratch, past the strings. */
		return s + STRAREA + below((SCRATCH - STRAREA) / 8) * 8;
	case 4:
		/* Anywhere in scratch, unaligned. */
		return s + below(SCRATCH);
	case 5:
		/* Near its end: a buffer that runs into the guard page. */
		return s + SCRATCH - below(4097);
	case 6:
		/* A structure, unless this pointer is itself part of one
		 * being built. */
		if (!building)
			return rnd_struct();
		return (uint64_t)paths[below(npaths)];
	case 7:
		return (uint64_t)ropage + (chance(50) ? 0 : below(PAGE));
	case 8:
		return (uint64_t)nonepage + (chance(50) ? 0 : below(PAGE));
	case 9:
		return filemap ? (uint64_t)filemap + below(2 * PAGE) : s;
	case 10:
	case 11:
		return bad[below(sizeof bad / sizeof bad[0])];
	case 12:
		/* A random user address, page-aligned or not. */
		return chance(50) ? (rnd() & 0x7ffffffff000ULL) : (rnd() & 0x7fffffffffffULL);
	case 13:
		return rnd();
	case 14:
		/* Our own code: mapped, not writable. */
		return (uint64_t)&rnd_ptr + below(PAGE);
	default:
		/* Page-aligned scratch itself. */
		return s + below(SCRATCH / PAGE) * PAGE;
	}
}

static uint64_t rnd_fd(void) {
	static const uint64_t bad[] = {
		(uint64_t)-1, (uint64_t)-100 /* AT_FDCWD */, 0x7fffffff, 0x80000000,
		1023, 1024, 1025, 65535, 65536, 1 << 20, (uint64_t)-101, 0xffffffffULL,
		0xffffff9cULL /* AT_FDCWD, 32 bits */, 0, 1, 2, 3,
	};
	switch (below(10)) {
	case 0:
		return bad[below(sizeof bad / sizeof bad[0])];
	case 1:
		return below(80);
	case 2:
		/* A valid fd with garbage in the upper half, which Linux ignores
		 * for an int argument. */
		return nfds ? ((uint64_t)fds[below(nfds)] | (rnd() << 32)) : 0;
	default:
		return nfds ? (uint64_t)fds[below(nfds)] : below(16);
	}
}

static uint64_t rnd_bits(int nbits) {
	uint64_t v = 0;
	int n = 1 + (int)below(4);
	for (int i = 0; i < n; i++)
		v |= 1ULL << below(nbits);
	return v;
}

static uint64_t rnd_flags(void) {
	switch (below(8)) {
	case 0:
		return 0;
	case 1:
		return (uint64_t)-1;
	case 2:
		return 0xffffffffULL;
	case 3:
		return rnd();
	case 4:
		return below(16);
	default:
		return rnd_bits(chance(80) ? 32 : 64);
	}
}

static uint64_t rnd_int(void) {
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 5, 8, 16, 64, 100, 255, 256, 1000, 0x7fffffff, 0x80000000,
		0xffffffff, (uint64_t)-1, (uint64_t)-2, (uint64_t)-100, 1ULL << 32,
		1ULL << 63, 0x7fffffffffffffffULL,
	};
	switch (below(5)) {
	case 0:
		return below(32);
	case 1:
		return rnd();
	case 2:
		return rnd_len();
	default:
		return v[below(sizeof v / sizeof v[0])];
	}
}

static uint64_t rnd_sig(void) {
	static const uint64_t v[] = {0, 64, 65, 128, (uint64_t)-1, 0x100000001ULL, 0xffffffff};
	return chance(85) ? below(65) : v[below(sizeof v / sizeof v[0])];
}

static uint64_t rnd_any(int mm) {
	switch (below(6)) {
	case 0:
		return rnd_ptr(mm);
	case 1:
		return rnd_len();
	case 2:
		return rnd_fd();
	case 3:
		return rnd_flags();
	case 4:
		return rnd_sig();
	default:
		return rnd_int();
	}
}

static int is_mm_call(long nr) {
	switch (nr) {
	case SYS_mmap: case SYS_munmap: case SYS_mprotect: case SYS_brk:
	case SYS_mremap: case SYS_madvise: case SYS_remap_file_pages:
	case SYS_pkey_mprotect: case SYS_shmat: case SYS_shmdt:
	case SYS_process_madvise: case SYS_mbind: case SYS_set_mempolicy_home_node:
		return 1;
	}
	return 0;
}

static uint64_t gen(char kind, int mm) {
	if (chance(20))
		return rnd_any(mm);
	switch (kind) {
	case 'f':
		return rnd_fd();
	case 'p':
		return chance(85) ? (uint64_t)paths[below(npaths)] : rnd_ptr(mm);
	case 'b':
	case 'o':
		return chance(30) && !mm && !building ? rnd_struct() : rnd_ptr(mm);
	case 'x':
		if (chance(50))
			return rnd_flags();
		return chance(30) && !mm && !building ? rnd_struct() : rnd_ptr(mm);
	case 'm':
		return chance(80) ? below(010000) : rnd_flags();
	case 'O':
	case 'P':
	case 'M':
	case 'c':
	case 'a':
		return rnd_flags();
	case 's':
		return rnd_sig();
	case 'i':
		return chance(50) ? rnd_int() : rnd_len();
	default:
		return rnd_any(mm);
	}
}

/* ---- structures: what pointer arguments mostly point at ---- */

/* A fuzzed pointer into random words finds the first check of a parser
 * and rarely more: a sockaddr needs its family, a netlink message its
 * length and type. rnd_struct builds one plausible structure (valid
 * values, with now and then a byte flipped) in scratch's structure area
 * and returns its address, so the calls get past those first checks. */

static char *sbuf;  /* where the structure being built goes */
static size_t sused; /* bytes of sbuf used */

/* salloc returns n zeroed bytes of the structure area (8-aligned). */
static void *salloc(size_t n) {
	n = (n + 7) & ~7UL;
	if (sused + n > 2048)
		sused = 0; /* out of room: overlap, which is fine here */
	void *p = sbuf + sused;
	memset(p, 0, n);
	sused += n;
	return p;
}

static uint64_t rnd_small_ns(void) {
	return chance(50) ? 0 : below(2000000);
}

static void *build_sockaddr(size_t *len) {
	static const int fams[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC};
	int fam = chance(90) ? fams[below(sizeof fams / sizeof fams[0])] : (int)below(46);
	unsigned char *b = salloc(128);
	b[0] = (unsigned char)fam;
	b[1] = (unsigned char)(fam >> 8);
	*len = 16;
	switch (fam) {
	case AF_UNIX: {
		static const char *const names[] = {"/tmp/fz/sock", "/tmp/fz/s2", "/tmp/fz/f", "/nonexistent/s", "", "/tmp/fz/d/s"};
		if (chance(30)) {
			/* An abstract name. */
			b[2] = 0;
			memcpy(b + 3, "fz", 2 + below(2));
			*len = 2 + 1 + 2 + below(4);
		} else {
			const char *n = names[below(sizeof names / sizeof names[0])];
			strcpy((char *)b + 2, n);
			*len = 2 + strlen(n) + below(2);
		}
		if (chance(5))
			*len = below(130);
		break;
	}
	case AF_INET: {
		static const uint32_t addrs[] = {0x7f000001, 0, 0xffffffff, 0xe0000001, 0x0a000001, 0x7f000002};
		static const uint16_t ports[] = {0, 9, 80, 4242, 4243, 65535};
		uint16_t port = ports[below(6)];
		uint32_t a = addrs[below(6)];
		b[2] = (unsigned char)(port >> 8);
		b[3] = (unsigned char)port;
		b[4] = (unsigned char)(a >> 24);
		b[5] = (unsigned char)(a >> 16);
		b[6] = (unsigned char)(a >> 8);
		b[7] = (unsigned char)a;
		*len = 16;
		break;
	}
	case AF_INET6: {
		b[3] = (unsigned char)below(3);
		if (chance(40))
			b[23] = 1; /* ::1 */
		else if (chance(30)) {
			b[8] = 0xff; /* ff02::1 */
			b[9] = 0x02;
			b[23] = 1;
		} else if (chance(30)) {
			b[18] = b[19] = 0xff; /* ::ffff:127.0.0.1 */
			b[20] = 127;
			b[23] = 1;
		}
		if (chance(20))
			b[24] = (unsigned char)below(3); /* scope id */
		*len = 28;
		break;
	}
	case AF_NETLINK:
		*(uint32_t *)(b + 4) = chance(50) ? 0 : (uint32_t)below(4);
		*(uint32_t *)(b + 8) = chance(50) ? 0 : (uint32_t)rnd();
		*len = 12;
		break;
	case AF_PACKET:
		b[2] = 0x08; /* ETH_P_IP, network order */
		*(int32_t *)(b + 4) = (int32_t)below(3);
		b[11] = 6;
		*len = 20;
		break;
	}
	if (chance(10))
		*len = rnd_len();
	return b;
}

/* build_iovecs makes n iovecs over small scratch buffers. */
static void *build_iovecs(int n) {
	uint64_t *v = salloc(16 * (size_t)n);
	for (int i = 0; i < n; i++) {
		v[2 * i] = (uint64_t)scratch + STRAREA + STRUCTAREA + below(SCRATCH - STRAREA - STRUCTAREA - 4096);
		v[2 * i + 1] = chance(90) ? below(4096) : rnd_len();
	}
	return v;
}

/* build_cmsgs makes a control buffer: SCM_RIGHTS of valid fds,
 * SCM_CREDENTIALS, or an IP-level message. */
static void *build_cmsgs(size_t *len) {
	unsigned char *b = salloc(256);
	size_t off = 0;
	int n = 1 + (int)below(3);
	for (int i = 0; i < n && off + 48 <= 256; i++) {
		uint64_t *h = (uint64_t *)(b + off);
		int32_t *lt = (int32_t *)(b + off + 8);
		size_t dlen;
		switch (below(4)) {
		case 0: {
			lt[0] = SOL_SOCKET;
			lt[1] = SCM_RIGHTS;
			int k = 1 + (int)below(4);
			for (int j = 0; j < k; j++)
				((int32_t *)(b + off + 16))[j] = (int32_t)rnd_fd();
			dlen = 4 * (size_t)k;
			break;
		}
		case 1:
			lt[0] = SOL_SOCKET;
			lt[1] = SCM_CREDENTIALS;
			((int32_t *)(b + off + 16))[0] = chance(80) ? mypid : (int32_t)rnd();
			((int32_t *)(b + off + 16))[1] = 0;
			((int32_t *)(b + off + 16))[2] = 0;
			dlen = 12;
			break;
		case 2:
			lt[0] = chance(50) ? IPPROTO_IP : IPPROTO_IPV6;
			lt[1] = (int32_t)below(80);
			*(uint64_t *)(b + off + 16) = rnd();
			dlen = 4 + below(16);
			break;
		default:
			lt[0] = (int32_t)rnd();
			lt[1] = (int32_t)rnd();
			dlen = below(24);
		}
		*h = 16 + dlen;
		if (chance(5))
			*h = rnd_len();
		off += (16 + dlen + 7) & ~7UL;
	}
	*len = chance(90) ? off : rnd_len();
	return b;
}

/* build_nlmsg makes a netlink request: a header, a family message and
 * attributes. */
static void *build_nlmsg(size_t *len) {
	unsigned char *b = salloc(512);
	size_t n = 16;
	uint16_t type = chance(85) ? (uint16_t)(16 + below(16)) : (uint16_t)below(80);
	/* ifinfomsg (16), ifaddrmsg (8) or rtmsg (12) by RTM_ group. */
	size_t fam = (type - 16) / 4 == 0 ? 16 : (type - 16) / 4 == 1 ? 8 : 12;
	b[n] = (unsigned char)(chance(50) ? AF_INET : chance(50) ? AF_INET6 : AF_UNSPEC);
	if (fam == 16)
		*(int32_t *)(b + n + 4) = (int32_t)below(4); /* ifi_index */
	else if (fam == 8) {
		b[n + 1] = (unsigned char)below(129); /* prefixlen */
		*(int32_t *)(b + n + 4) = (int32_t)below(4);
	} else {
		b[n + 1] = (unsigned char)below(129);
		b[n + 4] = (unsigned char)below(256); /* table */
		b[n + 7] = (unsigned char)below(12); /* type */
	}
	n += fam;
	int attrs = (int)below(5);
	for (int i = 0; i < attrs && n + 24 <= 512; i++) {
		uint16_t alen = (uint16_t)(4 + below(17));
		*(uint16_t *)(b + n) = chance(95) ? alen : (uint16_t)rnd();
		*(uint16_t *)(b + n + 2) = (uint16_t)below(40);
		for (size_t j = 4; j < alen; j++)
			b[n + j] = (unsigned char)(chance(50) ? 0 : rnd());
		if (alen >= 8 && chance(50))
			memcpy(b + n + 4, "\x7f\0\0\x01", 4);
		n += (alen + 3) & ~3UL;
	}
	*(uint32_t *)b = chance(90) ? (uint32_t)n : (uint32_t)rnd_len();
	*(uint16_t *)(b + 4) = type;
	static const uint16_t flags[] = {1, 1 | 0x300, 1 | 4, 1 | 0x400, 1 | 0x400 | 0x200, 1 | 0x100, 0};
	*(uint16_t *)(b + 6) = chance(90) ? flags[below(7)] : (uint16_t)rnd();
	*(uint32_t *)(b + 8) = (uint32_t)below(100);
	*len = n;
	return b;
}

static uint64_t rnd_struct(void) {
	building = 1;
	sbuf = scratch + STRAREA + below(STRUCTAREA / 2048) * 2048;
	sused = 0;
	size_t len;
	void *p;
	switch (below(14)) {
	case 0: { /* timespec: short or zero, so waits end at once */
		int64_t *ts = salloc(16);
		ts[0] = chance(95) ? 0 : (int64_t)rnd_int();
		ts[1] = chance(95) ? (int64_t)rnd_small_ns() : (int64_t)rnd_int();
		p = ts;
		break;
	}
	case 1: { /* itimerspec / itimerval: short */
		int64_t *it = salloc(32);
		it[1] = (int64_t)rnd_small_ns() / (chance(50) ? 1 : 1000);
		it[3] = (int64_t)rnd_small_ns() / (chance(50) ? 1 : 1000);
		p = it;
		break;
	}
	case 2:
	case 3:
		p = build_sockaddr(&len);
		break;
	case 4: { /* msghdr */
		uint64_t *m = salloc(56);
		size_t alen = 0;
		m[0] = chance(50) ? (uint64_t)build_sockaddr(&alen) : 0;
		m[1] = alen;
		int n = (int)below(4);
		m[2] = (uint64_t)build_iovecs(n);
		m[3] = chance(95) ? (uint64_t)n : rnd_len();
		size_t clen = 0;
		m[4] = chance(50) ? (uint64_t)build_cmsgs(&clen) : 0;
		m[5] = clen;
		m[6] = rnd_flags() & 0xffffffff;
		p = m;
		break;
	}
	case 5:
		p = build_iovecs(1 + (int)below(4));
		break;
	case 6:
		p = build_nlmsg(&len);
		break;
	case 7: { /* sigevent */
		int32_t *se = salloc(64);
		*(uint64_t *)se = rnd();
		se[2] = (int32_t)(1 + below(64));
		static const int32_t notify[] = {0, 1, 4, 2};
		se[3] = chance(90) ? notify[below(4)] : (int32_t)rnd();
		se[4] = chance(90) ? mypid : (int32_t)rnd();
		p = se;
		break;
	}
	case 8: { /* pollfd array of real fds */
		int n = 1 + (int)below(6);
		int16_t *pf = salloc(8 * (size_t)n);
		for (int i = 0; i < n; i++) {
			*(int32_t *)(pf + 4 * i) = (int32_t)rnd_fd();
			pf[4 * i + 2] = (int16_t)(chance(80) ? below(0x40) : rnd());
		}
		p = pf;
		break;
	}
	case 9: { /* epoll_event */
		uint32_t *ev = salloc(16);
		ev[0] = chance(80) ? (uint32_t)(below(0x40) | (chance(20) ? 1u << 31 : 0) | (chance(20) ? 1u << 30 : 0))
				   : (uint32_t)rnd();
		*(uint64_t *)(ev + 1) = rnd();
		p = ev;
		break;
	}
	case 10: { /* fd_set / sigset: bits of real fds or signals */
		uint64_t *set = salloc(128);
		for (int i = 0; i < 3; i++) {
			uint64_t f = rnd_fd();
			if (f < 1024)
				set[f / 64] |= 1ULL << (f % 64);
		}
		p = set;
		break;
	}
	case 11: { /* rlimit: mostly large, so a batch keeps working */
		uint64_t *rl = salloc(16);
		rl[0] = chance(70) ? (uint64_t)-1 : rnd_len();
		rl[1] = chance(70) ? (uint64_t)-1 : rnd_len();
		p = rl;
		break;
	}
	case 12: { /* open_how */
		uint64_t *how = salloc(24);
		how[0] = rnd_flags() & 0xffffffff;
		how[1] = below(010000);
		how[2] = chance(70) ? below(0x40) : rnd();
		p = how;
		break;
	}
	default: { /* a buffer of plausible words */
		uint64_t *w = salloc(256);
		for (int i = 0; i < 32; i++)
			w[i] = fillword();
		p = w;
	}
	}
	if (chance(10))
		((unsigned char *)p)[below(16)] ^= (unsigned char)(1 << below(8));
	building = 0;
	return (uint64_t)p;
}

/* ---- per-syscall hints ---- */

/* hint gives the multiplexing arguments of some calls (an ioctl request,
 * an fcntl command, a socket option) values the kernel knows, most of the
 * time: random ones would almost all stop at "unknown command". */
static void hint(long nr, uint64_t *a) {
	static const uint32_t ioctls[] = {
		0x5401, 0x5402, 0x5403, 0x5404, 0x5405, 0x5406, 0x5407, 0x5408, 0x5409,
		0x540a, 0x540b, 0x540c, 0x540d, 0x540e, 0x540f, 0x5410, 0x5411, 0x5412,
		0x5413, 0x5414, 0x5415, 0x5416, 0x5417, 0x5418, 0x541b, 0x541c, 0x541d,
		0x5420, 0x5421, 0x5422, 0x5423, 0x5424, 0x5425, 0x5427, 0x5428, 0x5429,
		0x542a, 0x5437, 0x5450, 0x5451, 0x5452, 0x5453, 0x5456, 0x5457,
		0x80045430, 0x40045431, 0x80045432, 0x40045436, 0x80045438, 0x80045439,
		0x8910, 0x8912, 0x8913, 0x8914, 0x8915, 0x8916, 0x8917, 0x8918, 0x8919,
		0x891a, 0x891b, 0x891c, 0x891d, 0x8921, 0x8922, 0x8927, 0x8933, 0x8938,
		0x8942, 0x894c, 0x8953, 0x541b, 0x8906, 0x8907, 0x89e0,
		0x80086601, 0x40086602, 0x80046601, 1, 2, 0x80045200, 0x40045201, 0x5200,
		0x80082102, 0x4008700d, 0xc0185879, 0x40049409, 0x94c9,
	};
	static const int fcntls[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 36, 37, 38,
				     1024, 1025, 1026, 1030, 1031, 1032, 1033, 1034, 1035, 1036, 1037, 1038};
	static const int levels[] = {SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP,
				     270 /* SOL_NETLINK */, 263 /* SOL_PACKET */, IPPROTO_RAW, IPPROTO_ICMPV6};
	static const int domains[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET};
	switch (nr) {
	case SYS_ioctl:
		if (chance(75))
			a[1] = ioctls[below(sizeof ioctls / sizeof ioctls[0])];
		break;
	case SYS_fcntl:
		if (chance(80))
			a[1] = (uint64_t)fcntls[below(sizeof fcntls / sizeof fcntls[0])];
		break;
	case SYS_setsockopt:
	case SYS_getsockopt:
		if (chance(80)) {
			a[1] = (uint64_t)levels[below(sizeof levels / sizeof levels[0])];
			a[2] = below(72);
			a[4] = chance(70) ? below(64) : a[4];
		}
		break;
	case SYS_socket:
	case SYS_socketpair:
		if (chance(80)) {
			a[0] = (uint64_t)domains[below(sizeof domains / sizeof domains[0])];
			a[1] = (1 + below(6)) | (chance(20) ? SOCK_NONBLOCK : 0) | (chance(20) ? SOCK_CLOEXEC : 0);
			a[2] = chance(60) ? 0 : below(20);
		}
		break;
	case SYS_prctl:
		if (chance(80))
			a[0] = below(72);
		break;
	case SYS_futex:
		if (chance(80))
			a[1] = below(14) | (chance(50) ? 128 : 0) | (chance(10) ? 256 : 0);
		break;
	case SYS_madvise:
		if (chance(80))
			a[2] = chance(80) ? below(26) : 100 + below(3);
		break;
	case SYS_arch_prctl:
		/* ARCH_SET_FS/GS only with addresses that must be refused: a
		 * garbage FS base breaks glibc (the second thread, the stack
		 * protector) and ends the batch for nothing. */
		if (chance(80))
			a[0] = 0x1001 + below(0x30);
		if ((a[0] == 0x1001 || a[0] == 0x1002) && a[1] < 1ULL << 47)
			a[0] = a[0] == 0x1001 ? 0x1004 : 0x1003; /* the GETs */
		break;
	case SYS_sendto:
	case SYS_recvfrom:
		if (chance(60))
			a[3] = chance(50) ? 0 : rnd_bits(17) & 0x7fff;
		break;
	}
}

/* ---- keeping the fuzzer and the sandbox alive ---- */

/* safe_pid replaces a pid argument that names the fuzzer's parent, init,
 * or every process: signals, ptrace or process_vm_writev there would end
 * or corrupt the run instead of just this batch. */
static uint64_t safe_pid(uint64_t v) {
	int p = (int)v;
	if (p == -1 || p == 1 || p == ppid || p == -ppid || p == -ppgid)
		return (uint64_t)mypid;
	return v;
}

/* unblock_alarm clears SIGALRM from a signal mask argument in scratch, so
 * that the call cannot wait with the interval timer's signal blocked. */
static void unblock_alarm(uint64_t p) {
	if (p >= (uint64_t)scratch && p <= (uint64_t)scratch + SCRATCH - 8)
		*(uint64_t *)p &= ~(1ULL << (SIGALRM - 1));
}

/* neuter adjusts one call so that it cannot end the whole run or make the
 * sandbox useless for the batches after it. It returns 0 to skip the call. */
static int neuter(long nr, uint64_t *a) {
	switch (nr) {
	case SYS_exit:
	case SYS_exit_group:
		return chance(2); /* ends the batch: rarely */
	case SYS_rt_sigreturn:
		return chance(5); /* a random frame: almost always a crash */
	case SYS_reboot:
		a[0] = 0; /* a wrong magic: reboot would power uk off */
		return 1;
	case SYS_kill:
	case SYS_tkill:
	case SYS_rt_sigqueueinfo:
	case SYS_process_vm_readv:
	case SYS_process_vm_writev:
	case SYS_prlimit64:
	case SYS_sched_setscheduler:
	case SYS_sched_setparam:
	case SYS_sched_setaffinity:
	case SYS_sched_setattr:
	case SYS_pidfd_open:
	case SYS_setpgid:
	case SYS_migrate_pages:
	case SYS_move_pages:
		a[0] = safe_pid(a[0]);
		return 1;
	case SYS_tgkill:
	case SYS_rt_tgsigqueueinfo:
		a[0] = safe_pid(a[0]);
		a[1] = safe_pid(a[1]);
		return 1;
	case SYS_ptrace:
	case SYS_setpriority:
	case SYS_ioprio_set:
	case SYS_perf_event_open:
		a[1] = safe_pid(a[1]);
		return 1;
	case SYS_execve:
		a[0] = (uint64_t)execpaths[below(nexecpaths)];
		return 1;
	case SYS_execveat:
		a[1] = (uint64_t)execpaths[below(nexecpaths)];
		return 1;
	case SYS_rt_sigsuspend:
		unblock_alarm(a[0]);
		return 1;
	case SYS_rt_sigprocmask:
		unblock_alarm(a[1]);
		return 1;
	case SYS_ppoll:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
		unblock_alarm(a[nr == SYS_ppoll ? 3 : 4]);
		return 1;
	case SYS_pselect6:
		/* Its sixth argument points at {sigset pointer, size}. */
		if (a[5] >= (uint64_t)scratch && a[5] <= (uint64_t)scratch + SCRATCH - 8)
			unblock_alarm(*(uint64_t *)a[5]);
		return 1;
	case SYS_fallocate:
		/* Files outlive the batch that wrote them, and their pages are
		 * nobody's to free when memory runs out: the OOM killer would
		 * take the fuzzer's parent after the batch. At most 16 MiB a
		 * file, offset and length both. */
		a[2] &= FILECAP - 1;
		a[3] &= FILECAP - 1;
		return 1;
	case SYS_ftruncate:
	case SYS_truncate:
		a[1] &= FILECAP - 1;
		return 1;
	case SYS_mount:
		/* uk has one mount namespace for the whole sandbox: mounts go
		 * on /tmp/fz/d only (which each batch clears), and none moves
		 * an existing mount (MS_MOVE of /proc would take it away from
		 * every later batch). */
		a[1] = (uint64_t)MOUNTPOINT;
		a[3] &= ~(uint64_t)MS_MOVE;
		return 1;
	case SYS_umount2:
		a[0] = (uint64_t)MOUNTPOINT;
		return 1;
	case SYS_pivot_root:
		a[0] = (uint64_t)MOUNTPOINT;
		return 1;
	case SYS_clone:
		/* No CLONE_PTRACE. With CLONE_PARENT the new process is the
		 * parent's child, and its exit signal goes to the parent: make
		 * that SIGCHLD, which the parent expects, not a random one. */
		a[0] &= ~(uint64_t)CLONE_PTRACE;
		if (a[0] & CLONE_PARENT)
			a[0] = (a[0] & ~(uint64_t)0xff) | SIGCHLD;
		return 1;
	case SYS_clone3:
		/* The same in struct clone_args: flags, then exit_signal at
		 * offset 32. */
		if (a[0] >= (uint64_t)scratch && a[0] <= (uint64_t)scratch + SCRATCH - 40) {
			uint64_t *ca = (uint64_t *)a[0];
			ca[0] &= ~(uint64_t)CLONE_PTRACE;
			if (ca[0] & CLONE_PARENT)
				ca[4] = SIGCHLD;
		}
		return 1;
	}
	return 1;
}

/* ---- one batch ---- */

static void onalarm(int sig) {
	(void)sig;
}

/* fz_restorer returns from a signal handler; the child's own handler is
 * installed with raw syscalls (a fuzzed arch_prctl may have broken the TLS
 * that glibc's wrappers use for errno). */
void fz_restorer(void);
__asm__(".text\n"
	"fz_restorer:\n\t"
	"mov $15, %eax\n\t"
	"syscall\n\t"
	"ud2\n");

static int rmone(const char *path, const struct stat *st, int type, struct FTW *ftw) {
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* arm_timer sets up the signal that bounds every blocking call. */
static void arm_timer(void) {
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} act = {(void *)onalarm, SA_NODEFER | 0x04000000 /* SA_RESTORER */, (void *)fz_restorer, 0};
	sys6(SYS_rt_sigaction, SIGALRM, (long)&act, 0, 8, 0, 0);
	struct itimerval it = {{0, 5000}, {0, 5000}};
	sys6(SYS_setitimer, ITIMER_REAL, (long)&it, 0, 0, 0, 0);
	uint64_t m = 1ULL << (SIGALRM - 1);
	sys6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&m, 0, 8, 0, 0);
}

/* repair undoes, after a call, what it did to the timer that bounds
 * blocking calls (alarm and ITIMER_REAL share one timer). The call has been
 * made either way; only the batch goes on being useful. */
static void repair(long nr, const uint64_t *a) {
	switch (nr) {
	case SYS_alarm:
	case SYS_setitimer:
	case SYS_rt_sigprocmask:
		arm_timer();
		break;
	case SYS_rt_sigaction:
		if ((int)a[0] == SIGALRM)
			arm_timer();
		break;
	}
}

/* write_elf writes an x86-64 ELF executable to path whose headers are
 * plausible and often wrong: program headers of the kinds the loader
 * handles (PT_LOAD, PT_INTERP naming another of these files, PT_PHDR,
 * PT_GNU_STACK, PT_TLS, PT_DYNAMIC) with offsets, sizes and addresses
 * near the right ones, and now and then a flipped byte. Its code, at
 * 0x401000 when it loads as meant, exits at once. */
static void write_elf(const char *path) {
	static unsigned char f[0x2000];
	memset(f, 0, sizeof f);
	memcpy(f, "\177ELF\2\1\1", 7);
	int dyn = chance(30);
	uint64_t base = dyn ? 0 : 0x400000;
	f[16] = dyn ? 3 : 2; /* ET_DYN, ET_EXEC */
	f[18] = chance(95) ? 62 : (unsigned char)rnd(); /* EM_X86_64 */
	f[20] = 1;
	*(uint64_t *)(f + 24) = base + 0x1000 + (chance(90) ? 0 : below(0x2000)); /* e_entry */
	*(uint64_t *)(f + 32) = chance(90) ? 64 : rnd_len(); /* e_phoff */
	*(uint16_t *)(f + 52) = 64;
	*(uint16_t *)(f + 54) = chance(95) ? 56 : (uint16_t)rnd();
	int phnum = 1 + (int)below(6);
	*(uint16_t *)(f + 56) = chance(95) ? (uint16_t)phnum : (uint16_t)rnd();
	static const uint32_t types[] = {1, 1, 1, 3, 6, 0x6474e551, 7, 2, 4, 0x6474e550};
	for (int i = 0; i < phnum; i++) {
		unsigned char *ph = f + 64 + 56 * i;
		uint32_t type = i == 0 ? 1 : types[below(sizeof types / sizeof types[0])];
		if (chance(5))
			type = (uint32_t)rnd();
		*(uint32_t *)ph = type;
		*(uint32_t *)(ph + 4) = chance(90) ? 5 : (uint32_t)below(8); /* R+X */
		uint64_t off = 0, vaddr = base, filesz = sizeof f, memsz = sizeof f + (chance(30) ? below(1 << 20) : 0);
		switch (type) {
		case 3: /* PT_INTERP: a path at 0x1100 */
			off = 0x1100;
			filesz = memsz = 32;
			break;
		case 6: /* PT_PHDR */
			off = 64;
			filesz = memsz = 56 * (uint64_t)phnum;
			break;
		case 7: /* PT_TLS */
			off = 0x1800;
			filesz = below(64);
			memsz = filesz + below(4096);
			break;
		}
		vaddr += off;
		if (chance(15))
			off = chance(50) ? rnd_len() : off + below(0x3000);
		if (chance(15))
			vaddr = chance(50) ? rnd_ptr(1) : vaddr + below(0x3000);
		if (chance(10))
			filesz = rnd_len();
		if (chance(10))
			memsz = chance(50) ? rnd_len() : filesz - below(16);
		*(uint64_t *)(ph + 8) = off;
		*(uint64_t *)(ph + 16) = vaddr;
		*(uint64_t *)(ph + 24) = vaddr;
		*(uint64_t *)(ph + 32) = filesz;
		*(uint64_t *)(ph + 40) = memsz;
		*(uint64_t *)(ph + 48) = chance(90) ? 0x1000 : rnd_len();
	}
	/* mov $60, %eax; xor %edi, %edi; syscall: exit(0). */
	memcpy(f + 0x1000, "\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05", 9);
	static const char *const interps[] = {"/tmp/fz/exe2", "/tmp/fz/exe", "/tmp/fz/sh", "/nonexistent", "/tmp/fz"};
	const char *in = interps[below(sizeof interps / sizeof interps[0])];
	memcpy(f + 0x1100, in, strlen(in) + (chance(90) ? 1 : 0));
	if (chance(10))
		memset(f + 0x1100, 'x', 32); /* no NUL */
	for (int i = (int)below(4); i > 0; i--)
		f[below(0x200)] ^= (unsigned char)(1 << below(8));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd >= 0) {
		write(fd, f, chance(90) ? sizeof f : below(sizeof f));
		close(fd);
	}
}

/* clear_leftovers removes what earlier batches left behind them, in the
 * parent before each batch: files under /tmp/fz and /dev/shm (fallocate of
 * a gigabyte, say), System V segments, mounts where uk has no mount
 * namespaces. Left there, they could keep the sandbox's memory full, and
 * a batch starting with no memory could not clear them itself. */
static void clear_leftovers(void) {
	for (int i = 0; i < 64 && umount2(MOUNTPOINT, MNT_DETACH) == 0; i++)
		;
	nftw("/tmp/fz", rmone, 16, FTW_DEPTH | FTW_PHYS);
	nftw("/dev/shm", rmone, 16, FTW_DEPTH | FTW_PHYS);
	mkdir("/dev/shm", 01777);
	struct shmid_ds ds;
	int maxidx = shmctl(0, SHM_INFO, &ds);
	for (int i = 0; i <= maxidx && i < 4096; i++) {
		int id = shmctl(i, SHM_STAT, &ds);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
	}
}

static void child_setup(uint64_t seed, uint64_t batch) {
	rng = seed * 0x100000001b3ULL ^ (batch + 1) * 0x9e3779b97f4a7c15ULL;
	mypid = getpid();
	/* When the sandbox's memory runs out, uk's OOM killer is to choose
	 * the batch, never the parent (which set itself exempt). */
	FILE *adj = fopen("/proc/self/oom_score_adj", "w");
	if (adj) {
		fputs("1000\n", adj);
		fclose(adj);
	}
	/* The parent's reporting handlers are not the child's business. */
	struct sigaction dfl = {0};
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s <= 64; s++)
		sigaction(s, &dfl, NULL);
	/* A session of its own: kill(0, ...) and kill(-pgrp, ...) then reach
	 * only this batch's processes, never the parent. */
	setsid();
	/* Mounts stay in the child when uk has mount namespaces. */
	unshare(CLONE_NEWNS);

	char *m = mmap(NULL, SCRATCH + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(100);
	mprotect(m + SCRATCH, PAGE, PROT_NONE);
	scratch = m;
	ropage = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	nonepage = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* The parent cleared what earlier batches left (clear_leftovers);
	 * this one's files go in a fresh directory, relative paths too. */
	mkdir("/tmp", 0777);
	mkdir("/tmp/fz", 0777);
	chdir("/tmp/fz");
	mkdir("/tmp/fz/d", 0777);
	int f = open("/tmp/fz/f", O_RDWR | O_CREAT, 0644);
	if (f >= 0) {
		ftruncate(f, 2 * PAGE);
		filemap = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
		if (filemap == MAP_FAILED)
			filemap = NULL;
	}
	addfd(f);
	mknod("/tmp/fz/fifo", S_IFIFO | 0666, 0);
	symlink("f", "/tmp/fz/link");
	symlink("nonexistent", "/tmp/fz/dangling");
	symlink("loop", "/tmp/fz/loop");
	/* Executables, mostly not quite: ELF files with plausible headers
	 * and program headers (for the loader, which parses what any
	 * program can write), and a script whose interpreter is itself. */
	write_elf("/tmp/fz/exe");
	write_elf("/tmp/fz/exe2");
	int e;
	e = open("/tmp/fz/sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (e >= 0) {
		write(e, "#!/tmp/fz/sh x\n", 15);
		close(e);
	}
	execpaths[nexecpaths++] = "/tmp/fz/exe";
	execpaths[nexecpaths++] = "/tmp/fz/exe2";
	execpaths[nexecpaths++] = "/tmp/fz/sh";
	execpaths[nexecpaths++] = "/tmp/fz/f";
	execpaths[nexecpaths++] = "/tmp/fz";
	execpaths[nexecpaths++] = "/dev/null";
	execpaths[nexecpaths++] = "/tmp/fz/nonexistent";
	execpaths[nexecpaths++] = "";
	execpaths[nexecpaths++] = NULL;
	execpaths[nexecpaths++] = (const char *)0xffff800000000000ULL;

	int p[2];
	if (pipe2(p, O_NONBLOCK) == 0) {
		addfd(p[0]);
		addfd(p[1]);
	}
	if (pipe(p) == 0) {
		addfd(p[0]);
		addfd(p[1]);
	}
	addfd(open("/tmp/fz", O_RDONLY | O_DIRECTORY));
	addfd(open("/tmp/fz/fifo", O_RDWR | O_NONBLOCK));
	addfd(open("/dev/null", O_RDWR));
	addfd(open("/dev/zero", O_RDWR));
	addfd(open("/dev/urandom", O_RDONLY));
	addfd(open("/dev/full", O_WRONLY));
	addfd(open("/dev/ptmx", O_RDWR | O_NOCTTY));
	addfd(open("/proc/self/maps", O_RDONLY));
	addfd(open("/proc/self/status", O_RDONLY));
	addfd(open("/proc", O_RDONLY | O_DIRECTORY));
	addfd(open("/sys", O_RDONLY | O_DIRECTORY));
	addfd(open("/", O_PATH));
	addfd(syscall(SYS_eventfd2, 3, 0));
	addfd(syscall(SYS_epoll_create1, 0));
	addfd(syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0));
	uint64_t mask = 1ULL << (SIGUSR1 - 1);
	addfd(syscall(SYS_signalfd4, -1, &mask, 8, 0));
	addfd(syscall(SYS_memfd_create, "fz", 0));
	addfd(syscall(SYS_inotify_init1, 0));
	addfd(syscall(SYS_pidfd_open, mypid, 0));
	addfd(socket(AF_UNIX, SOCK_STREAM, 0));
	addfd(socket(AF_UNIX, SOCK_DGRAM, 0));
	addfd(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	addfd(socket(AF_INET, SOCK_STREAM, 0));
	addfd(socket(AF_INET, SOCK_DGRAM, 0));
	addfd(socket(AF_INET6, SOCK_STREAM, 0));
	addfd(socket(AF_INET6, SOCK_DGRAM, 0));
	addfd(socket(AF_INET, SOCK_RAW, 1));
	addfd(socket(AF_NETLINK, SOCK_RAW, 0));
	addfd(socket(AF_NETLINK, SOCK_DGRAM, 0));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0) {
		addfd(p[0]);
		addfd(p[1]);
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, p) == 0) {
		addfd(p[0]);
		addfd(p[1]);
	}
	/* A listening unix socket with a connection queued. */
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l >= 0) {
		unlink("/tmp/fz/sock");
		struct {
			unsigned short family;
			char path[108];
		} sa = {AF_UNIX, "/tmp/fz/sock"};
		if (bind(l, (void *)&sa, sizeof sa) == 0 && listen(l, 4) == 0) {
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			connect(c, (void *)&sa, sizeof sa);
			addfd(c);
		}
		addfd(l);
	}

	straddr = scratch;
	for (size_t i = 0; i < sizeof pathsrc / sizeof pathsrc[0]; i++)
		addpath(pathsrc[i]);
	char longp[PATH_MAX + 64];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = 0;
	addpath(longp);
	for (int i = 0; i < 200; i++)
		memcpy(longp + 2 * i, "a/", 2);
	longp[400] = 0;
	addpath(longp);
	/* A string with no NUL before the guard page. */
	memset(scratch + SCRATCH - 16, 'z', 16);
	paths[npaths++] = scratch + SCRATCH - 16;
	fill(scratch + STRAREA, SCRATCH - STRAREA);

	/* uk run's stdio is one host stream (what the console is), so a
	 * write to any of fds 0-2 lands in the report: they become /dev/null
	 * (stderr just before the calls start), and the host
	 * stream is fuzzed through read-only fds, which take ioctls but no
	 * writes. */
	addfd(open("/dev/console", O_RDONLY | O_NOCTTY));
	addfd(open("/dev/tty", O_RDONLY | O_NOCTTY | O_NONBLOCK));
	int null = open("/dev/null", O_RDWR);
	struct stat nst;
	if (null >= 0 && (fstat(null, &nst) != 0 || !S_ISCHR(nst.st_mode))) {
		/* An earlier batch replaced it (unlink and creat): put the
		 * device back, or the writes below would fill a file. */
		close(null);
		unlink("/dev/null");
		mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
		null = open("/dev/null", O_RDWR);
	}
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	} else {
		/* An earlier batch broke /dev/null (unlinked it, mounted
		 * over /dev): no stdio at all then. */
		close(0);
		close(1);
	}

	/* A signal every few milliseconds interrupts whatever call blocks (with
	 * EINTR: no SA_RESTART), so a blocking call costs one tick, not the
	 * batch. A fuzzed call may undo this; the parent's watchdog is the
	 * backstop. */
	arm_timer();
	/* Half the batches ignore the signals that would end them (kill of
	 * its own group with a random signal ends many a batch early), so
	 * that a process lives long enough to pile up state: fds, mappings,
	 * timers, children. Faults still end it. */
	if (chance(50)) {
		struct sigaction ign = {0};
		ign.sa_handler = SIG_IGN;
		for (int sig = 1; sig <= 64; sig++)
			if (sig != SIGALRM && sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE &&
			    sig != SIGTRAP && sig != SIGSYS && sig != SIGABRT && sig != SIGCHLD)
				sigaction(sig, &ign, NULL);
	}
}

struct fuzz_args {
	uint64_t batch;
	int calls, verbose, logfd;
	int thread; /* 0 the main thread, 1 the second one */
};

/* fuzz_calls makes a batch's calls. */
static void fuzz_calls(const struct fuzz_args *fa) {
	for (int c = 0; c < fa->calls; c++) {
		int idx = (int)below(nnrs);
		long nr = nrs[idx];
		int mm = is_mm_call(nr);
		uint64_t a[6];
		for (int i = 0; i < 6; i++)
			a[i] = gen(kinds[idx][i < (int)strlen(kinds[idx]) ? i : 6], mm);
		hint(nr, a);
		if (!neuter(nr, a))
			continue;
		refill_some();
		sh->nr = nr;
		for (int i = 0; i < 6; i++)
			sh->args[i] = a[i];
		sh->calls++;
		if (fa->verbose) {
			char buf[256], *p = buf;
			p = fmtstr(p, "sysfuzz: batch ");
			p = fmtdec(p, fa->batch);
			p = fmtstr(p, fa->thread ? " thread 2" : "");
			p = fmtstr(p, " call ");
			p = fmtdec(p, c);
			p = fmtstr(p, ": ");
			fmtcall(p, nr, a);
			put(fa->logfd, buf);
			put(fa->logfd, "\n");
		}
		switch (nr) {
		case SYS_fork:
		case SYS_vfork:
		case SYS_clone:
		case SYS_clone3:
			sys6fork(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
			break;
		default:
			sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		}
		repair(nr, a);
	}
}

static void *fuzz_thread(void *arg) {
	fuzz_calls(arg);
	return NULL;
}

static void child(uint64_t seed, uint64_t batch, int calls, int verbose, int logfd) {
	child_setup(seed, batch);
	if (verbose) {
		/* What the fds are, to read the calls below. */
		for (int i = 0; i < nfds; i++) {
			char link[64], target[128], buf[256], *p = buf;
			snprintf(link, sizeof link, "/proc/self/fd/%d", fds[i]);
			ssize_t n = readlink(link, target, sizeof target - 1);
			target[n > 0 ? n : 0] = 0;
			p = fmtstr(p, "sysfuzz: batch ");
			p = fmtdec(p, batch);
			p = fmtstr(p, " fd ");
			p = fmtdec(p, fds[i]);
			p = fmtstr(p, ": ");
			p = fmtstr(p, target);
			*p++ = '\n';
			*p = 0;
			put(logfd, buf);
		}
	}
	/* The log has its own fd; stderr joins stdin and stdout on
	 * /dev/null. */
	if (dup2(0, 2) < 0)
		close(2);
	if (!verbose)
		close(logfd);
	/* A third of the batches run a second thread making calls at the
	 * same time, on the same fds and memory: races between syscalls
	 * are where locking bugs live. */
	if (chance(33)) {
		static struct fuzz_args ta;
		ta = (struct fuzz_args){batch, calls / 2, verbose, logfd, 1};
		pthread_t th;
		pthread_create(&th, NULL, fuzz_thread, &ta);
	}
	struct fuzz_args ma = {batch, calls, verbose, logfd, 0};
	fuzz_calls(&ma);
	sh->done = 1;
	sys6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

/* ---- known crashers ---- */

/* regressions are calls that once crashed or hung uk. Every run makes them
 * first, each in a child set up like a batch's (the fd and address names
 * below are resolved there), so that a fix that regresses fails at once
 * instead of when the random search happens to find the call again. */
enum {
	SCR = -1000, /* scratch memory, past the strings */
	SCRSTR,      /* the start of scratch */
	RO,          /* the read-only page */
	NONE,        /* the PROT_NONE page */
	UDGRAM,      /* one end of a unix datagram socketpair */
	UDP4,        /* an unbound IPv4 UDP socket */
	NULLFD,      /* /dev/null open for writing */
	LOWBUF,      /* a buffer in the program's data, low enough that
	              * 2 GiB from it is still a user address range */
	HUGEIOV,     /* one iovec: 2 GiB at LOWBUF */
	USTREAMNB,   /* one end of a non-blocking unix stream socketpair */
	BIGMAP,      /* 1 GiB of fresh anonymous memory, never touched */
	URANDOM,     /* /dev/urandom open for reading */
};

static char lowbuf[4096];

struct regression {
	const char *what;
	long nr;
	int64_t args[6];
	const char *str[6]; /* a string argument instead, where not NULL */
};

/* A struct clone_args 71 bytes long: clone3 accepts any size from 64 on,
 * zero-extended, so its set_tid field is cut short. */
static const uint64_t clone_args71[9] = {0, 0, 0, 0, SIGCHLD, 0, 0, 0, 0};

static const struct regression regressions[] = {
	{"clone with exit signal 150 (not a signal)", SYS_clone, {150}},
	{"clone3 with a size that is not a multiple of 8", SYS_clone3, {(int64_t)clone_args71, 71}},
	{"creat through the magic link /proc/self/cwd", SYS_creat, {0, 0755}, {"/proc/self/cwd"}},
	{"O_CREAT open through /proc/self/fd/N", SYS_open, {0, O_WRONLY | O_CREAT, 0644}, {"@fd0"}},
	/* Huge lengths over small buffers: uk allocated (and zeroed) the
	 * whole length before copying, seconds of work and gigabytes. */
	{"sendto of 2 GiB from a small buffer", SYS_sendto, {UDGRAM, LOWBUF, 0x7ffff000}},
	{"recvfrom with a 2 GiB length", SYS_recvfrom, {UDP4, LOWBUF, 0x7ffff000, MSG_DONTWAIT}},
	{"writev of a 2 GiB iovec over a small buffer", SYS_writev, {NULLFD, HUGEIOV, 1}},
	{"stream send of 1 GiB of untouched memory", SYS_sendto, {USTREAMNB, BIGMAP, 1 << 30}},
	{"datagram send of 1 GiB of untouched memory", SYS_sendto, {UDGRAM, BIGMAP, 1 << 30}},
	/* Seconds of copying that no signal could stop, SIGKILL included. */
	{"sendfile of 2 GiB from /dev/urandom (the interval timer stops it)", SYS_sendfile, {NULLFD, URANDOM, 0, 0x7ffff000}},
};

static uint64_t resolve(int64_t v) {
	switch (v) {
	case SCR:
		return (uint64_t)scratch + STRAREA;
	case SCRSTR:
		return (uint64_t)scratch;
	case RO:
		return (uint64_t)ropage;
	case NONE:
		return (uint64_t)nonepage;
	case UDGRAM: {
		int sv[2];
		return socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 ? (uint64_t)sv[0] : (uint64_t)-1;
	}
	case UDP4:
		return (uint64_t)socket(AF_INET, SOCK_DGRAM, 0);
	case NULLFD:
		return (uint64_t)open("/dev/null", O_WRONLY);
	case LOWBUF:
		return (uint64_t)lowbuf;
	case USTREAMNB: {
		int sv[2];
		return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0 ? (uint64_t)sv[0] : (uint64_t)-1;
	}
	case URANDOM:
		return (uint64_t)open("/dev/urandom", O_RDONLY);
	case BIGMAP:
		return (uint64_t)mmap(NULL, 1 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	case HUGEIOV: {
		static struct iovec iov;
		iov.iov_base = lowbuf;
		iov.iov_len = 0x7ffff000;
		return (uint64_t)&iov;
	}
	}
	return (uint64_t)v;
}

static void regression_child(const struct regression *r) {
	child_setup(0, 0);
	uint64_t a[6];
	/* "@fd0" names the first fd of the setup (the scratch file) through
	 * /proc/self/fd. */
	char fdlink[64];
	snprintf(fdlink, sizeof fdlink, "/proc/self/fd/%d", nfds ? fds[0] : 0);
	for (int i = 0; i < 6; i++) {
		a[i] = resolve(r->args[i]);
		if (r->str[i])
			a[i] = (uint64_t)(strcmp(r->str[i], "@fd0") == 0 ? fdlink : r->str[i]);
	}
	switch (r->nr) {
	case SYS_fork:
	case SYS_vfork:
	case SYS_clone:
	case SYS_clone3:
		sys6fork(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		break;
	default:
		sys6(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	/* Give what the call started (a child's exit, a timer) a moment. */
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	sys6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

/* ---- the parent ---- */

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void lastcall(char *buf) {
	uint64_t a[6];
	for (int i = 0; i < 6; i++)
		a[i] = sh->args[i];
	fmtcall(buf, sh->nr, a);
}

static void sleep_ms(int ms) {
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* parent_signal reports a signal that reached the parent: a batch's call
 * got past the filters that keep the parent out of reach (or uk sent it a
 * signal it should not have). Without this the run would just end with
 * the signal's status, saying nothing about where it came from. */
static void parent_signal(int sig, siginfo_t *si, void *uc) {
	char buf[320], *p = buf;
	p = fmtstr(p, "sysfuzz: FATAL: the parent got signal ");
	p = fmtdec(p, sig);
	p = fmtstr(p, " (si_code ");
	p = fmtdec(p, (uint64_t)(int64_t)si->si_code);
	p = fmtstr(p, ", si_pid ");
	p = fmtdec(p, (uint64_t)(int64_t)si->si_pid);
	p = fmtstr(p, ", rip ");
	p = fmthex(p, (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
	p = fmtstr(p, ") during batch ");
	p = fmtdec(p, sh->batch);
	p = fmtstr(p, "; the batch's last call: ");
	uint64_t a[6];
	for (int i = 0; i < 6; i++)
		a[i] = sh->args[i];
	fmtcall(p, sh->nr, a);
	put(1, buf);
	put(1, "\n");
	_exit(5);
}

static void guard_parent(void) {
	/* Exempt from uk's OOM killer: a batch that fills the sandbox's
	 * memory is what must go (each sets 1000 for itself). */
	FILE *adj = fopen("/proc/self/oom_score_adj", "w");
	if (!adj || fputs("-1000\n", adj) < 0 || fclose(adj) != 0)
		printf("sysfuzz: cannot set oom_score_adj -1000: %s\n", strerror(errno));
	struct sigaction sa = {0};
	sa.sa_sigaction = parent_signal;
	sa.sa_flags = SA_SIGINFO;
	for (int s = 1; s <= 64; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD || s == SIGCONT || s == SIGURG || s == SIGWINCH)
			continue;
		sigaction(s, &sa, NULL);
	}
}

/* reap collects every exited child (clone may have made the parent the
 * parent of grandchildren too) and returns the status of pid, or -1 while
 * pid runs. */
static int reap(pid_t pid, int *status) {
	int found = 0;
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG | __WALL | WUNTRACED);
		if (w <= 0)
			break;
		if (w == pid) {
			if (WIFSTOPPED(st)) {
				/* It stopped itself (SIGSTOP to its own group),
				 * or made us its tracer (PTRACE_TRACEME) and
				 * stopped for a signal: let it go on. */
				ptrace(PTRACE_DETACH, pid, 0, 0);
				kill(pid, SIGCONT);
				continue;
			}
			*status = st;
			found = 1;
		}
	}
	return found ? 0 : -1;
}

int main(int argc, char **argv) {
	struct utsname u;
	if (uname(&u) != 0 || strstr(u.release, "-uk") == NULL) {
		fprintf(stderr, "sysfuzz: refusing to run: this kernel (%s) is not uk, and the fuzzer would change the machine\n",
			u.release);
		return 2;
	}
	if (argc < 2 || strcmp(argv[1], "fuzz") != 0) {
		fprintf(stderr, "usage: sysfuzz fuzz [-s SEED] [-t SECONDS] [-c CALLS] [-b FIRST] [-B COUNT] [-n SPEC] [-v]\n");
		return 2;
	}
	uint64_t seed = 1, first = 0, count = (uint64_t)-1;
	double budget = 10;
	int calls = 256, verbose = 0;
	const char *spec = NULL;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "-v")) {
			verbose = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "sysfuzz: %s needs a value\n", o);
			return 2;
		}
		i++;
		if (!strcmp(o, "-s"))
			seed = strtoull(v, NULL, 0);
		else if (!strcmp(o, "-t"))
			budget = atof(v);
		else if (!strcmp(o, "-c"))
			calls = atoi(v);
		else if (!strcmp(o, "-b"))
			first = strtoull(v, NULL, 0);
		else if (!strcmp(o, "-B"))
			count = strtoull(v, NULL, 0);
		else if (!strcmp(o, "-n"))
			spec = v;
		else {
			fprintf(stderr, "sysfuzz: unknown option %s\n", o);
			return 2;
		}
	}
	if (spec) {
		if (parse_spec(spec) != 0) {
			fprintf(stderr, "sysfuzz: bad -n list\n");
			return 2;
		}
	} else {
		for (int nr = 0; nr < MAXNR; nr++)
			nrs[nnrs++] = nr;
	}

	sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		printf("sysfuzz: FATAL: mmap of the shared page: %s\n", strerror(errno));
		return 3;
	}
	ppid = getpid();
	ppgid = getpgrp();
	guard_parent();
	int logfd = dup(2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("sysfuzz: seed %llu, %.0f s, %d calls a batch, %d syscall numbers\n",
	       (unsigned long long)seed, budget, calls, nnrs);

	for (size_t i = 0; i < sizeof regressions / sizeof regressions[0]; i++) {
		clear_leftovers();
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			regression_child(&regressions[i]);
		int st;
		double t0 = now();
		while (pid > 0 && reap(pid, &st) != 0) {
			if (now() - t0 > 10) {
				printf("sysfuzz: HANG: regression \"%s\" did not finish\n", regressions[i].what);
				return 4;
			}
			sleep_ms(5);
		}
		/* Each is one call and a 20 ms nap: seconds mean uk did far
		 * too much work for it. */
		if (now() - t0 > 3) {
			printf("sysfuzz: SLOW: regression \"%s\" took %.1f s\n", regressions[i].what, now() - t0);
			return 4;
		}
	}

	double start = now();
	uint64_t batches = 0, total = 0, signaled = 0, watchdog = 0, forkfail = 0;
	uint64_t bysig[65] = {0};
	char buf[256];
	for (uint64_t b = first; b - first < count && now() - start < budget; b++) {
		sh->calls = 0;
		sh->done = 0;
		sh->batch = b;
		sh->nr = (uint64_t)-1;
		clear_leftovers();
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			/* A batch may have used up some resource for a moment;
			 * give up only if forking keeps failing. */
			if (++forkfail > 50) {
				printf("sysfuzz: FATAL: fork keeps failing: %s\n", strerror(errno));
				return 3;
			}
			sleep_ms(20);
			continue;
		}
		forkfail = 0;
		if (pid == 0)
			child(seed, b, calls, verbose, logfd);

		uint64_t lastcalls = 0;
		double lastprogress = now(), killed = 0;
		int status = 0;
		while (reap(pid, &status) != 0) {
			sleep_ms(5);
			double t = now();
			if (sh->calls != lastcalls) {
				lastcalls = sh->calls;
				lastprogress = t;
			}
			if (!killed && t - lastprogress > 1) {
				/* No progress for a second: a fuzzed call
				 * undid the interval timer, or a call does not
				 * wake for signals. */
				lastcall(buf);
				printf("sysfuzz: watchdog: batch %llu stuck in %s; killing it\n",
				       (unsigned long long)b, buf);
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				killed = t;
				watchdog++;
			}
			if (killed && t - killed > 10) {
				lastcall(buf);
				printf("sysfuzz: HANG: batch %llu (seed %llu) survives SIGKILL; last call %s\n",
				       (unsigned long long)b, (unsigned long long)seed, buf);
				return 4;
			}
		}
		batches++;
		total += sh->calls;
		if (WIFSIGNALED(status)) {
			signaled++;
			if (WTERMSIG(status) < 65)
				bysig[WTERMSIG(status)]++;
			if (verbose) {
				lastcall(buf);
				printf("sysfuzz: batch %llu killed by signal %d after %s\n",
				       (unsigned long long)b, WTERMSIG(status), buf);
			}
		}
	}
	/* Leftover children of clone(CLONE_PARENT) and the like. */
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
	printf("sysfuzz: ok: seed %llu, %llu batches, %llu calls in %.1f s; %llu batches ended by a signal (",
	       (unsigned long long)seed, (unsigned long long)batches, (unsigned long long)total,
	       now() - start, (unsigned long long)signaled);
	int sep = 0;
	for (int s = 1; s < 65; s++)
		if (bysig[s]) {
			printf("%s%s %llu", sep ? ", " : "", strsignal(s), (unsigned long long)bysig[s]);
			sep = 1;
		}
	printf("), %llu by the watchdog\n", (unsigned long long)watchdog);
	return 0;
}
