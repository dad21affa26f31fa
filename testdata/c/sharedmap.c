/*
 * sharedmap: mappings own their pages. A shared file mapping outlives its
 * file's name and descriptor, across fork (LTP's results page); truncation
 * unmaps (SIGBUS past the end, never another process's data); mprotect
 * honours the rights the file was opened with; the vDSO is private to each
 * process and vvar is never writable.
 *
 * Modes: "ltp" (the harness sequence on /dev/shm, /tmp and a memfd),
 * "truncate", "rights", "vdso", "anonloop ROUNDS", "ranges", "all" (all but
 * vdso: a host kernel that seals its system mappings, as Linux 6.15+ can,
 * refuses the vDSO's mprotect, so that mode is compared with what an
 * unsealed Linux does rather than with the host).
 */
#include "uktest.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PAGE 4096

static sigjmp_buf jump;
static volatile int last_sig, last_code;

static void on_fault(int sig, siginfo_t *si, void *ctx) {
	(void)ctx;
	last_sig = sig;
	last_code = si->si_code;
	siglongjmp(jump, 1);
}

static void catch_faults(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* probe reads (or writes) one byte and says what happened: "ok", or the
 * signal and its code. */
static const char *probe(volatile char *p, int write) {
	static char buf[64];
	last_sig = 0;
	if (sigsetjmp(jump, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		return "ok";
	}
	snprintf(buf, sizeof buf, "%s/%s", last_sig == SIGBUS ? "SIGBUS" : last_sig == SIGSEGV ? "SIGSEGV" : "other",
		 last_code == BUS_ADRERR && last_sig == SIGBUS ? "BUS_ADRERR"
		 : last_code == SEGV_ACCERR && last_sig == SIGSEGV ? "SEGV_ACCERR"
		 : last_code == SEGV_MAPERR && last_sig == SIGSEGV ? "SEGV_MAPERR" : "code?");
	return buf;
}

static long futex(int *uaddr, int op, int val) {
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* ltp_results repeats what every LTP test does with its results page. */
static void ltp_results(const char *kind) {
	char path[64];
	int fd;
	if (strcmp(kind, "memfd") == 0) {
		fd = memfd_create("ltp_results", 0);
	} else {
		snprintf(path, sizeof path, "%s/uk_sharedmap_%d", kind, getpid());
		fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	}
	if (fd < 0) {
		printf("%s: open: %s FAIL\n", kind, errname(errno));
		return;
	}
	if (ftruncate(fd, PAGE) != 0)
		printf("%s: ftruncate FAIL\n", kind);
	int *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("%s: mmap: %s FAIL\n", kind, errname(errno));
		return;
	}
	if (strcmp(kind, "memfd") != 0) {
		if (fchmod(fd, 0666) != 0)
			printf("%s: chmod FAIL\n", kind);
		if (unlink(path) != 0)
			printf("%s: unlink FAIL\n", kind);
	}
	close(fd);
	m[0] = 0;
	m[1] = 0;
	pid_t pid = fork();
	if (pid == 0) {
		m[0] = 42; /* the pass counter */
		__atomic_store_n(&m[1], 1, __ATOMIC_SEQ_CST);
		futex(&m[1], FUTEX_WAKE, 1);
		msync(m, PAGE, MS_SYNC);
		_exit(0);
	}
	while (__atomic_load_n(&m[1], __ATOMIC_SEQ_CST) == 0)
		futex(&m[1], FUTEX_WAIT, 0);
	int st;
	waitpid(pid, &st, 0);
	printf("%s: child exit %d, parent reads %d\n", kind, WIFEXITED(st) ? WEXITSTATUS(st) : -1, m[0]);
	munmap(m, PAGE);
}

static int tmpfile_of(size_t size) {
	char path[64];
	snprintf(path, sizeof path, "/tmp/uk_sharedmap_t%d", getpid());
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	unlink(path);
	if (fd >= 0 && ftruncate(fd, size) != 0)
		printf("ftruncate FAIL\n");
	return fd;
}

/* truncation: the old mapping faults with SIGBUS, re-extension shows the
 * file's new (zero) contents, a private mapping past the end faults too,
 * and pages the attacker had mapped never show another process's data. */
static void truncation(void) {
	const int n = 64;
	int fd = tmpfile_of(n * PAGE);
	char *s = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	memset(s, 'A', n * PAGE);
	p[PAGE] = 'P'; /* a private copy of page 1 */
	printf("before: shared %c private %c/%c\n", s[0], p[0], p[PAGE]);
	ftruncate(fd, 0);
	printf("after ftruncate 0: shared read %s, shared write %s\n", probe(s, 0), probe(s + 5 * PAGE, 1));
	printf("after ftruncate 0: private read %s, private copy read %s\n", probe(p, 0), probe(p + PAGE, 0));
	ftruncate(fd, n * PAGE);
	printf("re-extended: shared reads %d, private reads %d\n", s[0], p[PAGE]);

	/* The attacker truncates its mapped file, then a child fills freshly
	 * allocated memory with a secret; the attacker scans its old mapping. */
	memset(s, 'B', n * PAGE);
	ftruncate(fd, 0);
	int pipefd[2];
	pipe(pipefd);
	pid_t pid = fork();
	if (pid == 0) {
		char *mine = mmap(NULL, 4 * n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(mine, 'S', 4 * n * PAGE);
		write(pipefd[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	read(pipefd[0], &c, 1);
	int readable = 0, secret = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(probe(s + i * PAGE, 0), "ok") == 0) {
			readable++;
			if (s[i * PAGE] == 'S')
				secret++;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("attacker after truncate: %d pages readable, %d show the secret\n", readable, secret);
	close(fd);
}

/* punch: a hole punched in a mapped file reads as zeros through a shared
 * mapping; a private copy made before keeps its contents. */
static void punch(void) {
	int fd = tmpfile_of(8 * PAGE);
	char *s = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	memset(s, 'A', 8 * PAGE);
	p[2 * PAGE] = 'P';
	(void)p[3 * PAGE];
	int r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE + 100, 4 * PAGE);
	printf("punch: %s\n", r ? errname(errno) : "ok");
	printf("shared: %c %d %d %d %d %c\n", s[PAGE + 99], s[PAGE + 100], s[2 * PAGE], s[4 * PAGE], s[5 * PAGE + 99], s[5 * PAGE + 100]);
	printf("private: copy %c, file page %d\n", p[2 * PAGE], p[3 * PAGE]);
	struct stat st;
	fstat(fd, &st);
	printf("size %ld\n", (long)st.st_size);
	close(fd);
}

/* rights: mprotect may not exceed what the open mode allows. */
static void rights(void) {
	int fd = tmpfile_of(PAGE);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	char *sh = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	char *pr = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
	printf("shared of O_RDONLY: mmap PROT_WRITE %s\n",
	       mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED ? errname(errno) : "ok");
	printf("shared of O_RDONLY: mprotect PROT_WRITE %s\n",
	       mprotect(sh, PAGE, PROT_READ | PROT_WRITE) ? errname(errno) : "ok");
	printf("shared of O_RDONLY: write %s\n", probe(sh, 1));
	printf("private of O_RDONLY: mprotect PROT_WRITE %s\n",
	       mprotect(pr, PAGE, PROT_READ | PROT_WRITE) ? errname(errno) : "ok");
	pr[0] = 'x';
	printf("private write stays private: file reads %d\n", sh[0]);
	printf("shared of O_RDONLY: mprotect PROT_EXEC %s\n", mprotect(sh, PAGE, PROT_READ | PROT_EXEC) ? errname(errno) : "ok");
	close(ro);
	close(fd);
}

/* vvar: the data page(s) below the image, named in /proc/self/maps, may
 * never become writable. */
static void vvar(void) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[256];
	int found = 0;
	while (f && fgets(line, sizeof line, f)) {
		if (strstr(line, "[vvar]")) {
			unsigned long lo, hi;
			sscanf(line, "%lx-%lx", &lo, &hi);
			found = 1;
			printf("mprotect vvar write: %s\n", mprotect((void *)lo, PAGE, PROT_READ | PROT_WRITE) ? errname(errno) : "ok");
			printf("vvar write: %s\n", probe((char *)lo, 1));
		}
	}
	if (f)
		fclose(f);
	if (!found)
		printf("no [vvar] in maps FAIL\n");
}

static int vdso_first_byte_after_exec(const char *self) {
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(self, self, "vdso-peek", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[32] = {0};
	read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return atoi(buf);
}

/* vdso: patching one's vDSO changes nobody else's; vvar stays read-only. */
static void vdso(const char *self) {
	unsigned char *v = (unsigned char *)getauxval(AT_SYSINFO_EHDR);
	if (!v) {
		printf("no vDSO FAIL\n");
		return;
	}
	int orig = v[0];
	int rw = mprotect(v, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	printf("mprotect vdso rwx: %s\n", rw ? errname(errno) : "ok");
	if (rw) /* sealed, as Linux 6.15+ may make system mappings */
		return;
	v[0] = (unsigned char)(orig ^ 0xff);
	printf("patched here: %s\n", v[0] == (orig ^ 0xff) ? "yes" : "no");
	int after = vdso_first_byte_after_exec(self);
	printf("a new program's vdso is the original: %s\n", after == orig ? "yes" : "no");
	pid_t pid = fork();
	if (pid == 0) {
		v[0] = 0x11; /* the child's own copy */
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("a forked child's write stays in the child: %s\n", v[0] == (orig ^ 0xff) ? "yes" : "no");
	v[0] = (unsigned char)orig;

}

/* anonloop: shared anonymous memory goes back when unmapped. */
static void anonloop(int rounds) {
	for (int i = 0; i < rounds; i++) {
		size_t len = 1 << 20;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			printf("round %d: mmap %s FAIL\n", i, errname(errno));
			return;
		}
		memset(m, i, len);
		munmap(m, len);
	}
	/* memfd + close: the mapping keeps the object. */
	int fd = memfd_create("x", 0);
	ftruncate(fd, PAGE);
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	printf("anon rounds %d done; memfd after close: write %s\n", rounds, probe(m, 1));
}

/* ranges: argument checks that must not crash or wrap. */
static void ranges(void) {
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *r = mremap(m, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0xfffffffffffff000ul);
	printf("mremap to the top: %s\n", r == MAP_FAILED ? errname(errno) : "ok");
	printf("madvise wrapping: %s\n", madvise(m, ~0ul - PAGE, MADV_DONTNEED) ? errname(errno) : "ok");
	unsigned char vec[8];
	printf("mincore huge: %s\n", mincore(m, 1ul << 60, vec) ? errname(errno) : "ok");
	printf("mincore one: %s %d\n", mincore(m, PAGE, vec) ? errname(errno) : "ok", vec[0] & 1);
	printf("mprotect wrapping: %s\n", mprotect(m, ~0ul - 2 * PAGE, PROT_READ) ? errname(errno) : "ok");
	printf("munmap wrapping: %s\n", munmap(m, ~0ul - 2 * PAGE) ? errname(errno) : "ok");
}

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "all";
	if (strcmp(mode, "vdso-peek") == 0) {
		unsigned char *v = (unsigned char *)getauxval(AT_SYSINFO_EHDR);
		printf("%d\n", v ? v[0] : -1);
		return 0;
	}
	catch_faults();
	int all = strcmp(mode, "all") == 0;
	if (all || strcmp(mode, "ltp") == 0) {
		ltp_results("/dev/shm");
		ltp_results("/tmp");
		ltp_results("memfd");
	}
	if (all || strcmp(mode, "truncate") == 0)
		truncation();
	if (all || strcmp(mode, "punch") == 0)
		punch();
	if (all || strcmp(mode, "rights") == 0)
		rights();
	if (strcmp(mode, "vdso") == 0) {
		vvar();
		vdso(argv[0]);
	}
	if (all || strcmp(mode, "anonloop") == 0)
		anonloop(argc > 2 ? atoi(argv[2]) : 100);
	if (all || strcmp(mode, "ranges") == 0)
		ranges();
	return 0;
}
