/* patched: syscall sites of the form `mov eax, NR; syscall` (and glibc's
 * two read(2) sites, below) called often
 * enough that uk's sigsys platform rewrites them into jumps to its
 * trampoline (kernel/mm's patch.go, platform/sigsys's fastcall.go), and what
 * Linux guarantees at such a site, which must still hold after the rewrite:
 * the result in RAX, every other register (RCX and R11 aside: the return
 * address and the flags) and the flags and vector registers preserved, a
 * signal handler run at the syscall's return that finds and leaves the
 * interrupted FP state intact, SA_RESTART restarting a blocking read, a
 * nanosleep stopped and continued (restart_syscall), threads racing through
 * one site while it is rewritten, a forked child running the parent's
 * rewritten sites, and a thread with a GS base of its own.
 * `patched maps` only says whether uk's patch table is mapped after a hot
 * site, and whether the site across two pages was rewritten (test/e2e's
 * TestSyscallPatching). */
#include "uktest.h"
#include <asm/prctl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define HOT 200 /* calls of a site: far more than uk waits before patching */

/* Each function below is one site: `mov eax, NR; syscall` as glibc's
 * wrappers emit it. */
static __attribute__((noinline)) long site_getppid(void) {
	long r;
	__asm__ volatile("mov $110, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

static __attribute__((noinline)) long site_read(int fd, void *buf, long n) {
	long r;
	register long rdi __asm__("rdi") = fd;
	register void *rsi __asm__("rsi") = buf;
	register long rdx __asm__("rdx") = n;
	__asm__ volatile("mov $0, %%eax\n\tsyscall" : "=a"(r) : "r"(rdi), "r"(rsi), "r"(rdx) : "rcx", "r11", "memory");
	return r;
}

static __attribute__((noinline)) long site_nanosleep(const struct timespec *req, struct timespec *rem) {
	long r;
	register const struct timespec *rdi __asm__("rdi") = req;
	register struct timespec *rsi __asm__("rsi") = rem;
	__asm__ volatile("mov $35, %%eax\n\tsyscall" : "=a"(r) : "r"(rdi), "r"(rsi) : "rcx", "r11", "memory");
	return r;
}

/* glibc's read(2) sites, byte for byte: `xor eax, eax; syscall; cmp rax,
 * -4096; ja` (too short for the jump without the compare, which the patch
 * then replaces too: the branch after it must still see its flags), and
 * `mov edi, [rsp+8]; xor eax, eax; syscall` (its path in a process with
 * threads). site_read_xor returns -99 for an error, as the branch says. */
long site_read_xor(int fd, void *buf, long n);
long site_read_mt(int fd, void *buf, long n);
__asm__(".text\n"
	"site_read_xor:\n\t"
	"xor %eax, %eax\n\t"
	"syscall\n\t"
	"cmp $-4096, %rax\n\t"
	"ja 1f\n\t"
	"ret\n"
	"1:\tmov $-99, %rax\n\t"
	"ret\n"
	"site_read_mt:\n\t"
	"sub $24, %rsp\n\t"
	"mov %edi, 8(%rsp)\n\t"
	"mov 8(%rsp), %edi\n\t"
	"xor %eax, %eax\n\t"
	"syscall\n\t"
	"add $24, %rsp\n\t"
	"ret\n");

/* glibc's __open64_nocancel site, `mov edi, -100; syscall` with the number
 * set before; the second copy lies across a page boundary (its syscall on
 * the next page), which uk patches only while the process has one thread. */
long site_open_cwd(const char *path, int flags);
long site_open_cwd_split(const char *path, int flags);
extern const unsigned char site_open_cwd_split_mov[];
__asm__(".text\n"
	"site_open_cwd:\n\t"
	"mov %esi, %edx\n\t"
	"mov $257, %eax\n\t"
	"mov %rdi, %rsi\n\t"
	"mov $-100, %edi\n\t"
	"syscall\n\t"
	"ret\n"
	".p2align 12\n\t"
	".skip 4096 - 16\n"
	"site_open_cwd_split:\n\t"
	"mov %esi, %edx\n\t"
	"mov $257, %eax\n\t"
	"mov %rdi, %rsi\n\t"
	"nop\n\t"
	"nop\n\t"
	"nop\n"
	"site_open_cwd_split_mov:\n\t"
	"mov $-100, %edi\n\t" /* 4 bytes before the page's end */
	"syscall\n\t"
	"ret\n");

/* opens_at_cwd: both open sites hot, each open checked. */
static void opens_at_cwd(void) {
	long bad = 0;
	for (int i = 0; i < HOT; i++) {
		long fd = site_open_cwd(".", O_RDONLY | O_DIRECTORY);
		bad += fd < 0;
		close(fd);
		fd = site_open_cwd_split(".", O_RDONLY | O_DIRECTORY);
		bad += fd < 0;
		close(fd);
	}
	CHECK("glibc's open site, and one across a page boundary, hot", bad == 0);
	printf("open of a missing file: %ld\n", site_open_cwd_split("no-such-file", O_RDONLY));
}

/* glibc_reads: each read site made hot on a pipe, every byte checked,
 * and an error through the compare's branch. */
static void glibc_reads(void) {
	int p[2];
	char c;
	if (pipe(p) != 0)
		CHECK("pipe", 0);
	long bad = 0;
	for (int i = 0; i < HOT; i++) {
		char w = 'a' + i % 26;
		write(p[1], &w, 1);
		bad += site_read_xor(p[0], &c, 1) != 1 || c != w;
		write(p[1], &w, 1);
		bad += site_read_mt(p[0], &c, 1) != 1 || c != w;
	}
	CHECK("glibc's two read sites, hot", bad == 0);
	printf("read of a closed fd through the compare's branch: %ld\n", site_read_xor(-1, &c, 1));
	close(p[0]);
	close(p[1]);
}

/* regs_kept calls getpid from a site with every register, the flags (CF
 * set) and xmm0-xmm15 set to patterns, and reports whether all came back as
 * Linux leaves them: RCX the address after the syscall, R11 the flags, the
 * rest unchanged. */
__attribute__((used)) static uint64_t g_in[12], g_out[16];
__attribute__((used)) static uint8_t g_xin[256], g_xout[256];

static int regs_kept(void) {
	for (int i = 0; i < 12; i++)
		g_in[i] = 0x1111111111111111ull * (i + 1) ^ 0x0123456789abcdefull;
	for (int i = 0; i < 256; i++)
		g_xin[i] = (uint8_t)(i * 7 + 3);
	__asm__ volatile(
		"push %%rbp\n\tpush %%rbx\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
		"lea g_xin(%%rip), %%rax\n\t"
		"movdqu 0(%%rax), %%xmm0\n\tmovdqu 16(%%rax), %%xmm1\n\tmovdqu 32(%%rax), %%xmm2\n\tmovdqu 48(%%rax), %%xmm3\n\t"
		"movdqu 64(%%rax), %%xmm4\n\tmovdqu 80(%%rax), %%xmm5\n\tmovdqu 96(%%rax), %%xmm6\n\tmovdqu 112(%%rax), %%xmm7\n\t"
		"movdqu 128(%%rax), %%xmm8\n\tmovdqu 144(%%rax), %%xmm9\n\tmovdqu 160(%%rax), %%xmm10\n\tmovdqu 176(%%rax), %%xmm11\n\t"
		"movdqu 192(%%rax), %%xmm12\n\tmovdqu 208(%%rax), %%xmm13\n\tmovdqu 224(%%rax), %%xmm14\n\tmovdqu 240(%%rax), %%xmm15\n\t"
		"lea g_in(%%rip), %%rax\n\t"
		"mov 0(%%rax), %%rbx\n\tmov 8(%%rax), %%rdx\n\tmov 16(%%rax), %%rsi\n\tmov 24(%%rax), %%rdi\n\t"
		"mov 32(%%rax), %%rbp\n\tmov 40(%%rax), %%r8\n\tmov 48(%%rax), %%r9\n\tmov 56(%%rax), %%r10\n\t"
		"mov 64(%%rax), %%r12\n\tmov 72(%%rax), %%r13\n\tmov 80(%%rax), %%r14\n\tmov 88(%%rax), %%r15\n\t"
		"stc\n\t"
		"mov $39, %%eax\n\t"
		"syscall\n"
		"1:\n\t"
		"pushf\n\tpush %%r11\n\tpush %%rcx\n\t"
		"lea g_out(%%rip), %%rax\n\t"
		"mov %%rbx, 0(%%rax)\n\tmov %%rdx, 8(%%rax)\n\tmov %%rsi, 16(%%rax)\n\tmov %%rdi, 24(%%rax)\n\t"
		"mov %%rbp, 32(%%rax)\n\tmov %%r8, 40(%%rax)\n\tmov %%r9, 48(%%rax)\n\tmov %%r10, 56(%%rax)\n\t"
		"mov %%r12, 64(%%rax)\n\tmov %%r13, 72(%%rax)\n\tmov %%r14, 80(%%rax)\n\tmov %%r15, 88(%%rax)\n\t"
		"pop %%rcx\n\tmov %%rcx, 104(%%rax)\n\t"
		"pop %%rcx\n\tmov %%rcx, 112(%%rax)\n\t"
		"pop %%rcx\n\tmov %%rcx, 96(%%rax)\n\t"
		"lea 1b(%%rip), %%rcx\n\tmov %%rcx, 120(%%rax)\n\t"
		"lea g_xout(%%rip), %%rax\n\t"
		"movdqu %%xmm0, 0(%%rax)\n\tmovdqu %%xmm1, 16(%%rax)\n\tmovdqu %%xmm2, 32(%%rax)\n\tmovdqu %%xmm3, 48(%%rax)\n\t"
		"movdqu %%xmm4, 64(%%rax)\n\tmovdqu %%xmm5, 80(%%rax)\n\tmovdqu %%xmm6, 96(%%rax)\n\tmovdqu %%xmm7, 112(%%rax)\n\t"
		"movdqu %%xmm8, 128(%%rax)\n\tmovdqu %%xmm9, 144(%%rax)\n\tmovdqu %%xmm10, 160(%%rax)\n\tmovdqu %%xmm11, 176(%%rax)\n\t"
		"movdqu %%xmm12, 192(%%rax)\n\tmovdqu %%xmm13, 208(%%rax)\n\tmovdqu %%xmm14, 224(%%rax)\n\tmovdqu %%xmm15, 240(%%rax)\n\t"
		"pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbx\n\tpop %%rbp\n\t"
		:
		:
		: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	uint64_t flags = g_out[12], rcx = g_out[13], r11 = g_out[14], want_rcx = g_out[15];
	int ok = (flags & 1) == 1 && rcx == want_rcx && (r11 & 0xcd5) == (flags & 0xcd5);
	for (int i = 0; i < 12; i++)
		ok &= g_out[i] == g_in[i];
	ok &= memcmp(g_xin, g_xout, sizeof g_xin) == 0;
	return ok;
}

static volatile int alarms;
static volatile double handler_sum;

/* The handler uses the vector registers itself: the interrupted code's
 * must be back when it returns. */
static void on_alarm(int sig) {
	(void)sig;
	double s = 0;
	for (int i = 1; i < 100; i++)
		s += 1.0 / i;
	handler_sum = s;
	alarms++;
}

/* fp_across_signals: a loop keeps a value in xmm8 across patched syscalls
 * while SIGALRM handlers run at their returns. */
static int fp_across_signals(void) {
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 1000}, {0, 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
	int bad = 0;
	/* Bounded by time, not rounds: natively a round takes a tenth of a
	 * microsecond, and 200,000 of them once ended before 20 alarms of
	 * 1 ms had come (on an Intel Xeon VM). */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int round = 0; alarms < 20; round++) {
		if (round % 1024 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec > 5)
				break;
		}
		double v = round * 0.5, got;
		__asm__ volatile("movq %[v], %%xmm8\n\t"
				 "mov $110, %%eax\n\t"
				 "syscall\n\t"
				 "movq %%xmm8, %[got]"
				 : [got] "=r"(got)
				 : [v] "r"(v)
				 : "rax", "rcx", "r11", "xmm8", "memory");
		bad += got != v;
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	return bad == 0 && alarms >= 20;
}

static void on_usr1(int sig) { (void)sig; }

/* restarted_read: a read from a hot site blocks on a pipe, is interrupted
 * by a SA_RESTART handler, restarts, and gets the byte written later; the
 * same through glibc's short read site (which restarts in the entry). */
static void restarted_read_at(const char *what, long (*site)(int, void *, long)) {
	int p[2];
	char c;
	if (pipe(p) != 0)
		CHECK("pipe", 0);
	for (int i = 0; i < HOT; i++) {
		write(p[1], "w", 1);
		if (site(p[0], &c, 1) != 1 || c != 'w')
			CHECK("warm read", 0);
	}
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	pid_t kid = fork();
	if (kid == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		usleep(50000);
		write(p[1], "x", 1);
		_exit(0);
	}
	long n = site(p[0], &c, 1);
	printf("%s restarted after SA_RESTART handler: %ld %c\n", what, n, n == 1 ? c : '-');
	waitpid(kid, NULL, 0);
	close(p[0]);
	close(p[1]);
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* stopped_nanosleep: a nanosleep from a hot site is stopped and continued,
 * so the kernel restarts it with restart_syscall. */
static void stopped_nanosleep(void) {
	struct timespec zero = {0, 0}, req = {0, 300000000};
	for (int i = 0; i < HOT; i++)
		site_nanosleep(&zero, NULL);
	pid_t parent = getpid();
	pid_t kid = fork();
	if (kid == 0) {
		usleep(50000);
		kill(parent, SIGSTOP);
		usleep(50000);
		kill(parent, SIGCONT);
		_exit(0);
	}
	double t0 = now();
	long r = site_nanosleep(&req, NULL);
	double slept = now() - t0;
	printf("nanosleep stopped and continued: %ld, slept its time: %s\n", r, slept >= 0.29 ? "yes" : "no");
	waitpid(kid, NULL, 0);
}

static void restarted_read(void) {
	restarted_read_at("read", site_read);
	restarted_read_at("glibc's short read", site_read_xor);
}

/* read_racer: threads read through glibc's short read site while it is
 * rewritten (one may be between its xor and its syscall then). */
static void *read_racer(void *arg) {
	int p[2];
	char c;
	long bad = 0;
	if (pipe(p) != 0)
		return (void *)1L;
	for (int i = 0; i < 5000; i++) {
		write(p[1], "r", 1);
		bad += site_read_xor(p[0], &c, 1) != 1 || c != 'r';
	}
	close(p[0]);
	close(p[1]);
	return (void *)bad;
}

/* racing runs fn in 4 threads at once and returns the sum of their
 * results (failures). */
static long racing(void *(*fn)(void *)) {
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, fn, NULL);
	long bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	return bad;
}

static long ppid_seen;

static void *racer(void *arg) {
	long bad = 0;
	for (int i = 0; i < 20000; i++)
		bad += site_getppid() != ppid_seen;
	return (void *)bad;
}

/* own_gs: a thread with a GS base of its own calls a patched site: the
 * call works and GS still reads its own memory. */
static void *own_gs(void *arg) {
	static uint64_t gsmem[512];
	gsmem[0] = 0x5eed;
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, gsmem) != 0)
		return (void *)1L;
	long bad = 0;
	for (int i = 0; i < HOT; i++)
		bad += site_getppid() != ppid_seen;
	uint64_t v;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	uint64_t base = 0;
	syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
	return (void *)(bad + (v != 0x5eed) + (base != (uint64_t)gsmem));
}

/* maps_mode: after a hot site, is the table uk patches through in
 * /proc/self/maps? (Only under uk on sigsys with patching on.) */
static int maps_mode(void) {
	for (int i = 0; i < HOT; i++)
		site_getppid();
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof line, f))
		found |= strstr(line, "[uk-syscall-patches]") != NULL;
	printf("patch table mapped: %s\n", found ? "yes" : "no");
	/* The site across a page boundary, hot in a process with one thread,
	 * becomes `jmp [E]` where its `mov edi` began. */
	for (int i = 0; i < HOT; i++)
		close(site_open_cwd_split(".", O_RDONLY | O_DIRECTORY));
	const unsigned char *code = site_open_cwd_split_mov;
	printf("site across two pages patched: %s\n", code[0] == 0xff && code[1] == 0x24 && code[2] == 0x25 ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "maps") == 0)
		return maps_mode();
	ppid_seen = getppid();
	long bad = 0;
	for (int i = 0; i < HOT; i++)
		bad += site_getppid() != ppid_seen;
	CHECK("hot site returns getppid every time", bad == 0);
	int kept = 1;
	for (int i = 0; i < HOT; i++)
		kept &= regs_kept();
	CHECK("registers, flags and xmm0-15 as Linux leaves them", kept);
	CHECK("FP state across signal handlers at syscall returns", fp_across_signals());
	glibc_reads();
	opens_at_cwd();
	restarted_read();
	stopped_nanosleep();

	CHECK("4 threads racing through one site", racing(racer) == 0);
	CHECK("4 threads racing through glibc's short read site", racing(read_racer) == 0);

	pthread_t g;
	void *gr;
	pthread_create(&g, NULL, own_gs, NULL);
	pthread_join(g, &gr);
	CHECK("a thread with its own GS base", gr == NULL);

	pid_t kid = fork();
	if (kid == 0) {
		long b = 0;
		for (int i = 0; i < HOT; i++)
			b += site_getppid() != getppid();
		_exit(b != 0 || !regs_kept());
	}
	int st;
	waitpid(kid, &st, 0);
	CHECK("a forked child through the parent's patched sites", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return ukt_failures != 0;
}
