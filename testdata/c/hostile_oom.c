/*
 * hostile_oom: children that touch memory until the sandbox has none left.
 * Run it only under uk with a small --mem (hostile_test.go does):
 * natively, "hog" would take the host's memory.
 *
 * What a safe kernel does: when memory runs out, an OOM killer kills the
 * process holding the most of it (SIGKILL, seen by its parent through
 * wait) instead of failing whoever touches memory next; the other
 * processes, the parent included, go on with their memory intact, and the
 * memory of the victim is free again afterwards.
 *
 *   hostile_oom hog BIG       a child touches pages without end; the parent
 *                             then allocates BIG MiB to show the memory came back
 *   hostile_oom bystander A B a child takes A MiB and waits; a second child
 *                             then takes B MiB: the first (larger) one dies
 *   hostile_oom self          touches pages without end itself: it is the
 *                             victim (uk run's --report: limit "mem")
 *   hostile_oom shared P      the parent takes P MiB; a child drops its copy
 *                             and touches a MAP_SHARED|MAP_ANONYMOUS region
 *                             without end: those pages count as the child's
 *                             (Linux's RssShmem), so the child dies, not the
 *                             parent with more private memory
 *   hostile_oom exempt P F    the parent takes P MiB and sets its
 *                             oom_score_adj to -1000; a child (which
 *                             inherits it) sets 0, writes F MiB into a memfd
 *                             (memory no process's count shows) and touches
 *                             pages without end: it dies, though the parent
 *                             holds more, and its memfd goes with it
 *
 * It prints the victim's PID ("victim PID") so the test can match uk's
 * "killed process PID" line, and one line per outcome.
 */
#include "uktest.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MiB (1L << 20)
#define PAGE 4096

/* touch writes to every page of n bytes at p. */
static void touch(char *p, long n) {
	for (long i = 0; i < n; i += PAGE)
		p[i] = (char)(i / PAGE);
}

static char *map(long n) {
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		printf("FAIL: mmap %ld MiB: %s\n", n / MiB, errname(errno));
		exit(1);
	}
	return p;
}

/* The parent's own memory, which must come through intact. */
static char *mine;
#define MINE (4 * MiB)

static void fill_mine(void) {
	mine = map(MINE);
	for (long i = 0; i < MINE; i++)
		mine[i] = (char)(i * 7 + 3);
}

static void check_mine(void) {
	for (long i = 0; i < MINE; i++)
		if (mine[i] != (char)(i * 7 + 3)) {
			printf("FAIL: the parent's memory changed at %ld\n", i);
			return;
		}
	printf("parent memory intact\n");
}

static void report(const char *who, int status) {
	if (WIFSIGNALED(status))
		printf("%s: killed by %s\n", who, WTERMSIG(status) == SIGKILL ? "SIGKILL" : strsignal(WTERMSIG(status)));
	else
		printf("%s: exit %d\n", who, WEXITSTATUS(status));
}

static int hog(long big) {
	fill_mine();
	pid_t pid = fork();
	if (pid == 0) {
		/* 64 GiB of address space, touched until the kernel stops it. */
		long n = 64L << 30;
		char *p = map(n);
		touch(p, n);
		_exit(0);
	}
	printf("victim %d\n", pid);
	int status;
	waitpid(pid, &status, 0);
	report("hog", status);
	check_mine();
	/* The hog's memory is back: the parent can take most of it. */
	char *p = map(big * MiB);
	touch(p, big * MiB);
	printf("parent took %ld MiB after\n", big);
	return 0;
}

static int bystander(long a, long b) {
	fill_mine();
	int ready[2];
	if (pipe(ready))
		return 1;
	pid_t big = fork();
	if (big == 0) {
		char *p = map(a * MiB);
		touch(p, a * MiB);
		write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	char c;
	read(ready[0], &c, 1);
	printf("victim %d\n", big);
	pid_t small = fork();
	if (small == 0) {
		char *p = map(b * MiB);
		touch(p, b * MiB);
		/* Still alive, and the memory it wrote reads back. */
		for (long i = 0; i < b * MiB; i += PAGE)
			if (p[i] != (char)(i / PAGE))
				_exit(3);
		_exit(0);
	}
	int status;
	waitpid(small, &status, 0);
	report("second child", status);
	kill(big, SIGTERM); /* if the kernel killed nobody, end it */
	waitpid(big, &status, 0);
	report("first child", status);
	check_mine();
	return 0;
}

/* takes n MiB of private memory, touched. */
static char *take(long n) {
	char *p = map(n * MiB);
	touch(p, n * MiB);
	return p;
}

/* readint reads one number from a /proc file, or -9999. */
static long readint(const char *path) {
	FILE *f = fopen(path, "r");
	long v = -9999;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -9999;
		fclose(f);
	}
	return v;
}

static int writeadj(long v) {
	FILE *f = fopen("/proc/self/oom_score_adj", "w");
	if (!f)
		return -1;
	int ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int shared(long parent) {
	fill_mine();
	char *big = take(parent);
	pid_t pid = fork();
	if (pid == 0) {
		munmap(big, parent * MiB);
		long n = 64L << 30;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			_exit(4);
		touch(p, n);
		_exit(0);
	}
	printf("victim %d\n", pid);
	int status;
	waitpid(pid, &status, 0);
	report("shared hog", status);
	check_mine();
	return 0;
}

static int exempt(long parent, long file) {
	fill_mine();
	char *big = take(parent);
	if (writeadj(-1000)) {
		printf("FAIL: oom_score_adj -1000: %s\n", errname(errno));
		return 1;
	}
	printf("parent oom_score_adj %ld, oom_score %ld\n", readint("/proc/self/oom_score_adj"), readint("/proc/self/oom_score"));
	int ready[2];
	if (pipe(ready))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		long inherited = readint("/proc/self/oom_score_adj");
		munmap(big, parent * MiB);
		if (writeadj(0))
			_exit(5);
		long score = readint("/proc/self/oom_score");
		char line[128];
		int n = snprintf(line, sizeof line, "child inherits %ld, sets 0: oom_score %s\n", inherited,
		                 score >= 666 && score < 1000 ? "666 and up" : "out of range");
		write(ready[1], line, n);
		int fd = memfd_create("hoard", 0);
		static char chunk[MiB];
		memset(chunk, 0x5a, sizeof chunk);
		for (long i = 0; i < file; i++)
			if (write(fd, chunk, sizeof chunk) != sizeof chunk)
				_exit(6);
		long huge = 64L << 30;
		touch(map(huge), huge);
		_exit(0);
	}
	close(ready[1]);
	char line[128];
	int n = read(ready[0], line, sizeof line - 1);
	line[n > 0 ? n : 0] = 0;
	printf("victim %d\n%s", pid, line);
	int status;
	waitpid(pid, &status, 0);
	report("child", status);
	check_mine();
	/* The child's memfd went with it: the parent can take what it held. */
	take(file);
	printf("parent took %ld MiB after\n", file);
	return 0;
}

int main(int argc, char **argv) {
	if (argc >= 2 && !strcmp(argv[1], "self")) {
		long n = 64L << 30;
		touch(map(n), n);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "shared"))
		return shared(atol(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "exempt"))
		return exempt(atol(argv[2]), atol(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "hog"))
		return hog(atol(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "bystander"))
		return bystander(atol(argv[2]), atol(argv[3]));
	return 2;
}
