/* hostmap FILE: mappings of a read-only file, as a program sees them.
 * FILE holds byte (i*7+3) % 251 at offset i and is 3 pages and 100 bytes
 * long. Under uk, a file of a read-only tree is mapped from the host file
 * itself: this checks what that must not change, against the same run
 * natively. Prints one line a check; exits 1 if one failed. With "hold"
 * as argv[2], it waits for the end of stdin once the file is mapped.
 *
 * hostmap scribble FILE...: under uk only. A thread writes junk over the
 * stub's scratch page (uk's stubs receive a host file's fd there before
 * they map it) without pause while the main thread maps each FILE (each a
 * new file for the stub: an install) and checks it reads as above. uk
 * must never map a wrong file: the program either prints "scribble ok N"
 * or is killed. hostmap many FILE...: the same without the scribbler: every
 * FILE reads right, however many there are.
 *
 * hostmap scribble-exec PROG ARGS...: under uk only. Clears the stub's
 * scratch page (the msghdr of host-file installs there included), then
 * execs PROG, which reuses the stub: its own installs must not find what
 * its predecessor left there.
 *
 * hostmap coherent FILE: FILE writable (a writable bind under uk), mapped
 * shared read-only, then written through write(2) and through a shared
 * writable mapping: the read-only mapping shows both, as does read(2).
 * Leaves "ZY" at the start of the file. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define SIZE (3 * PAGE + 100)

static int failed;

static void check(const char *what, int ok) {
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failed = 1;
}

static unsigned char want(long i) { return i < SIZE ? (unsigned char)((i * 7 + 3) % 251) : 0; }

/* same reports whether n bytes at p are the file's from offset off. */
static int same(const unsigned char *p, long off, long n) {
	for (long i = 0; i < n; i++)
		if (p[i] != want(off + i))
			return 0;
	return 1;
}

static char buf0[64];
static sigjmp_buf jump;
static void onbus(int sig) { siglongjmp(jump, sig); }

/* The stub's scratch page (platform/internal/stubproc: ScratchPage). */
#define SCRATCH ((volatile unsigned long *)0x7fffffff2000UL)

static void *scribbler(void *arg) {
	(void)arg;
	for (unsigned long x = 88172645463325252UL;;) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		SCRATCH[x % 512] = x;
		if (x & 1)
			SCRATCH[(x >> 9) % 512] = x & 0xffff; /* small numbers: plausible fds and lengths */
	}
	return NULL;
}

static int scribble(int n, char **files, int junk) {
	pthread_t t;
	if (junk && pthread_create(&t, NULL, scribbler, NULL) != 0)
		return 2;
	for (int i = 0; i < n; i++) {
		int fd = open(files[i], O_RDONLY);
		unsigned char *p = fd < 0 ? MAP_FAILED : mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED || !same(p, 0, SIZE)) {
			printf("FAIL: %s reads wrong\n", files[i]);
			return 1;
		}
	}
	printf("%s ok %d\n", junk ? "scribble" : "many", n);
	return 0;
}

static int coherent(const char *file) {
	int ro = open(file, O_RDONLY);
	unsigned char *p = ro < 0 ? MAP_FAILED : mmap(NULL, SIZE, PROT_READ, MAP_SHARED, ro, 0);
	check("a shared read-only mapping of a writable file reads it", p != MAP_FAILED && same(p, 0, SIZE));
	int rw = open(file, O_RDWR);
	check("write(2) to the file shows in the mapping", rw >= 0 && pwrite(rw, "Z", 1, 0) == 1 && p[0] == 'Z');
	unsigned char *q = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	unsigned char c = 0;
	if (q != MAP_FAILED)
		q[1] = 'Y';
	check("a write through a shared writable mapping shows in the read-only one",
	      q != MAP_FAILED && p[1] == 'Y' && same(p + 2, 2, SIZE - 2));
	check("and to read(2)", pread(ro, &c, 1, 1) == 1 && c == 'Y');
	munmap(q, SIZE);
	close(rw);
	check("and stays once the writer is closed", p[0] == 'Z' && p[1] == 'Y');
	return failed;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "scribble") == 0 || strcmp(argv[1], "many") == 0)
		return scribble(argc - 2, argv + 2, argv[1][0] == 's');
	if (strcmp(argv[1], "coherent") == 0 && argc > 2)
		return coherent(argv[2]);
	if (strcmp(argv[1], "scribble-exec") == 0 && argc > 2) {
		for (int i = 0; i < PAGE / 8; i++)
			SCRATCH[i] = 0;
		execv(argv[2], argv + 2);
		perror(argv[2]);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}

	unsigned char *rx = mmap(NULL, 4 * PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	check("private read-exec mapping reads the file, zeros past its end", rx != MAP_FAILED && same(rx, 0, 4 * PAGE));
	if (argc > 2 && strcmp(argv[2], "hold") == 0) {
		/* The test looks at the stubs' host mappings meanwhile. */
		printf("mapped\n");
		fflush(stdout);
		while (read(0, buf0, sizeof buf0) > 0)
			;
	}

	int pfd[2];
	unsigned char buf[2 * PAGE];
	check("write(2) from the mapping writes the file's bytes",
	      pipe(pfd) == 0 && write(pfd[1], rx + PAGE - 10, 2 * PAGE) == 2 * PAGE &&
		      read(pfd[0], buf, sizeof buf) == sizeof buf && same(buf, PAGE - 10, 2 * PAGE));

	unsigned char *rw = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	rw[PAGE + 5] = 0xaa;
	check("a write to a private writable mapping is the process's",
	      rw[PAGE + 5] == 0xaa && same(rw, 0, PAGE + 5) && same(rw + PAGE + 6, PAGE + 6, 2 * PAGE - 6));
	check("and not the file's", pread(fd, buf, 1, PAGE + 5) == 1 && buf[0] == want(PAGE + 5));
	unsigned char *ro2 = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	check("nor another mapping's", ro2 != MAP_FAILED && same(ro2, 0, 2 * PAGE));

	pid_t pid = fork();
	if (pid == 0) {
		/* The file's page first: its fault maps the file around the
		 * parent's copy, which the child has not touched yet. */
		int ok = same(rw + 2 * PAGE, 2 * PAGE, PAGE) && rw[PAGE + 5] == 0xaa;
		rw[PAGE + 5] = 0xbb;
		rw[2 * PAGE] = 0xcc;
		_exit(ok && rw[PAGE + 5] == 0xbb ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	check("a forked child sees the parent's copy and writes its own",
	      WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check("the parent keeps its copy and the file's page the child wrote",
	      rw[PAGE + 5] == 0xaa && same(rw + 2 * PAGE, 2 * PAGE, PAGE));

	check("MADV_DONTNEED gives the file's page back",
	      madvise(rw + PAGE, PAGE, MADV_DONTNEED) == 0 && same(rw, 0, 3 * PAGE));

	unsigned char *ro = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	check("mprotect makes a read-only private mapping writable",
	      ro != MAP_FAILED && ro[0] == want(0) && mprotect(ro, 3 * PAGE, PROT_READ | PROT_WRITE) == 0);
	ro[7] = 0x11;
	check("and a write to it is the process's", ro[7] == 0x11 && pread(fd, buf, 1, 7) == 1 && buf[0] == want(7));
	/* Faults on the pages beside it map the file around the copy. */
	check("the copy stays when the pages beside it are read", same(ro + 8, 8, 3 * PAGE - 8) && ro[7] == 0x11);

	unsigned char *sh = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	check("a shared read-only mapping reads the file", sh != MAP_FAILED && same(sh, 0, 3 * PAGE));
	check("and cannot become writable (EACCES)", mprotect(sh, PAGE, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);

	unsigned char *moved = mremap(rx, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, rw + 64 * PAGE);
	check("mremap moves a mapping of the file", moved != MAP_FAILED && same(moved, 0, 4 * PAGE));

	unsigned char *big = mmap(NULL, 6 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	signal(SIGBUS, onbus);
	volatile int sig = sigsetjmp(jump, 1);
	if (sig == 0)
		(void)*(volatile unsigned char *)(big + 5 * PAGE);
	check("a page wholly past the end of the file is SIGBUS", sig == SIGBUS);
	check("the last page's tail past the end reads zeros", same(big + 3 * PAGE, 3 * PAGE, PAGE));

	return failed;
}
