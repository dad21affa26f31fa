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

int main(int argc, char **argv) {
	if (argc >= 3 && !strcmp(argv[1], "hog"))
		return hog(atol(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "bystander"))
		return bystander(atol(argv[2]), atol(argv[3]));
	return 2;
}
