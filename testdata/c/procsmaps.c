/* procsmaps: /proc/PID/smaps and smaps_rollup compared with Linux, for the
 * memory a program makes itself: a private anonymous region written whole
 * (Anonymous, Private_Dirty), a shared anonymous one (not anonymous: shmem,
 * private while one process maps it), both after a fork (Shared_Dirty, Pss
 * halved, in the parent and the child, which has touched the shared
 * region: uk counts a shared object's pages in each mapping's range, Linux
 * only those a process has mapped), after the child is reaped (private
 * again), under mlock (Locked, "lo"), the rollup's sums, and a zombie's
 * files (smaps empty, smaps_rollup ESRCH). Every page is written, so no
 * page is counted that the program did not touch (Linux maps none
 * ahead for anonymous memory). 128 pages: more than a fork copies at once
 * instead of sharing them (uk's forkCopyMax). */
#include "uktest.h"

#include <fcntl.h>
#include <sys/mman.h>

#define APAGES 128
#define BPAGES 8

static char buf[1 << 20];

static ssize_t readall(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	int e = errno;
	close(fd);
	if (r < 0)
		return -e;
	buf[n] = 0;
	return n;
}

/* field returns the kB value of name in the entry starting at addr of the
 * last smaps read, or -1. */
static long field(void *addr, const char *name) {
	char head[32];
	snprintf(head, sizeof head, "%lx-", (unsigned long)addr);
	char *e = strstr(buf, head);
	if (e == NULL || (e != buf && e[-1] != '\n'))
		return -1;
	char *end = strstr(e + 1, "VmFlags:");
	char key[64];
	snprintf(key, sizeof key, "\n%s:", name);
	char *f = strstr(e, key);
	if (f == NULL || (end != NULL && f > end))
		return -1;
	return strtol(f + strlen(key), NULL, 10);
}

/* hasflag reports whether the VmFlags of the entry at addr name flag. */
static int hasflag(void *addr, const char *flag) {
	char head[32];
	snprintf(head, sizeof head, "%lx-", (unsigned long)addr);
	char *e = strstr(buf, head);
	char *f = e ? strstr(e, "VmFlags:") : NULL;
	if (f == NULL)
		return -1;
	char *nl = strchr(f, '\n');
	char want[8];
	snprintf(want, sizeof want, " %s ", flag);
	char *at = strstr(f, want);
	return at != NULL && (nl == NULL || at < nl);
}

static void show(const char *who, const char *what, void *addr) {
	if (readall("/proc/self/smaps") <= 0) {
		printf("%s: smaps unreadable\n", who);
		return;
	}
	printf("%s %s: Size %ld Rss %ld Pss %ld Pss_Dirty %ld Shared_Dirty %ld Private_Dirty %ld Anonymous %ld Locked %ld\n",
	       who, what, field(addr, "Size"), field(addr, "Rss"), field(addr, "Pss"), field(addr, "Pss_Dirty"),
	       field(addr, "Shared_Dirty"), field(addr, "Private_Dirty"), field(addr, "Anonymous"), field(addr, "Locked"));
	printf("%s %s flags: rd %d wr %d sh %d ms %d lo %d\n", who, what, hasflag(addr, "rd"), hasflag(addr, "wr"),
	       hasflag(addr, "sh"), hasflag(addr, "ms"), hasflag(addr, "lo"));
}

int main(void) {
	char *a = mmap(NULL, APAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = mmap(NULL, BPAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap", a != MAP_FAILED && b != MAP_FAILED);
	memset(a, 1, APAGES * 4096);
	memset(b, 2, BPAGES * 4096);
	show("alone", "private", a);
	show("alone", "shared", b);

	int go[2], done[2];
	CHECK("pipes", pipe(go) == 0 && pipe(done) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* Linux copies no page table entries of a shared mapping at
		 * fork: until the child touches the region it counts none of
		 * it. uk counts a shared object's pages in every mapping's
		 * range, so the child reads every page first. */
		volatile char sum = 0;
		for (int i = 0; i < BPAGES; i++)
			sum += b[i * 4096];
		write(done[1], "x", 1);
		char c;
		read(go[0], &c, 1);
		show("child", "private", a);
		show("child", "shared", b);
		write(done[1], "x", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	char c;
	read(done[0], &c, 1);
	show("forked", "private", a);
	show("forked", "shared", b);
	write(go[1], "x", 1);
	read(done[0], &c, 1);
	write(go[1], "x", 1);
	CHECK("wait", waitpid(pid, NULL, 0) == pid);
	/* The child's memory is gone once it is reaped (uk may take a moment
	 * more to let go of its pages). */
	for (int i = 0; i < 500; i++) {
		readall("/proc/self/smaps");
		if (field(a, "Private_Dirty") == APAGES * 4)
			break;
		usleep(10000);
	}
	show("reaped", "private", a);
	show("reaped", "shared", b);

	CHECK("mlock", mlock(a, APAGES * 4096) == 0);
	show("locked", "private", a);
	CHECK("munlock", munlock(a, APAGES * 4096) == 0);

	ssize_t n = readall("/proc/self/smaps_rollup");
	CHECK("smaps_rollup reads", n > 0);
	char *nl = strchr(buf, '\n');
	CHECK("its first line names [rollup]", nl != NULL && nl - buf > 9 && strncmp(nl - 9, " [rollup]", 9) == 0);
	long rss = -1, anon = -1, pssanon = -1, pssshmem = -1, pss = -1;
	char *f;
	if ((f = strstr(buf, "\nRss:")))
		rss = strtol(f + 5, NULL, 10);
	if ((f = strstr(buf, "\nPss:")))
		pss = strtol(f + 5, NULL, 10);
	if ((f = strstr(buf, "\nAnonymous:")))
		anon = strtol(f + 11, NULL, 10);
	if ((f = strstr(buf, "\nPss_Anon:")))
		pssanon = strtol(f + 10, NULL, 10);
	if ((f = strstr(buf, "\nPss_Shmem:")))
		pssshmem = strtol(f + 11, NULL, 10);
	CHECK("rollup: Anonymous counts the private region", anon >= APAGES * 4);
	CHECK("rollup: Pss_Anon too", pssanon >= APAGES * 4);
	CHECK("rollup: Pss_Shmem counts the shared one", pssshmem >= BPAGES * 4);
	CHECK("rollup: Rss holds both", rss >= APAGES * 4 + BPAGES * 4);
	CHECK("rollup: Pss no more than Rss", pss > 0 && pss <= rss);

	/* A zombie: no memory. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	char path[64];
	for (int i = 0; i < 500; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		if (readall(path) > 0 && strstr(buf, ") Z ") != NULL)
			break;
		usleep(10000);
	}
	snprintf(path, sizeof path, "/proc/%d/smaps", pid);
	n = readall(path);
	printf("zombie smaps: %s\n", n < 0 ? errname(-n) : n == 0 ? "empty" : "not empty");
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
	n = readall(path);
	printf("zombie smaps_rollup: %s\n", n < 0 ? errname(-n) : n == 0 ? "empty" : "not empty");
	waitpid(pid, NULL, 0);
	return ukt_failures != 0;
}
