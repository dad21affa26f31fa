/* rusage.c: ru_maxrss compared with Linux (LTP's getrusage03): a
 * process's resident high-water mark in RUSAGE_SELF, across fork and
 * execve; a child's, and its waited-for children's, in the parent's
 * RUSAGE_CHILDREN once the parent waits (not before, not for children
 * reaped automatically); wait4's; VmHWM; RssShmem. Sizes print as relations with
 * a margin of 10 MB. */
#include "uktest.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define MB 1024L /* ru_maxrss is in KiB */

static long self_rss(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}
static long children_rss(void) {
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_maxrss;
}
static long status(const char *field) {
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, strlen(field)) == 0) v = atol(line + strlen(field));
	fclose(f);
	return v;
}
/* status_pair reads two fields of one /proc/self/status: separate reads
 * may see the resident set grow in between (the second read's buffer). */
static void status_pair(const char *f1, long *v1, const char *f2, long *v2) {
	char line[128];
	*v1 = *v2 = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, f1, strlen(f1)) == 0) *v1 = atol(line + strlen(f1));
		if (strncmp(line, f2, strlen(f2)) == 0) *v2 = atol(line + strlen(f2));
	}
	fclose(f);
}
static int near(long got, long want) { return got > want - 10 * MB && got < want + 10 * MB; }

static void consume(long mb) {
	volatile char *p = malloc(mb << 20);
	for (long i = 0; i < mb << 20; i += 4096) p[i] = 1;
}

static void state_z(pid_t pid) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			fgets(buf, sizeof buf, f);
			fclose(f);
			if (strstr(buf, ") Z ")) return;
		}
		usleep(1000);
	}
}

int main(int argc, char **argv) {
	if (argc == 4 && strcmp(argv[1], "compare") == 0) {
		/* after execve: both marks carry over */
		printf("after exec: self kept %d, children kept %d\n", self_rss() >= atol(argv[2]) - MB,
		       near(children_rss(), atol(argv[3])));
		return 0;
	}
	long init = self_rss();
	pid_t c = fork();
	if (c == 0) {
		/* natively the parent's mark may include the test harness's
		 * memory from before its execve, which the child's does not */
		printf("child self at most parent's %d, child's children 0: %d\n", self_rss() <= init + 10 * MB,
		       children_rss() == 0);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	c = fork();
	if (c == 0) {
		consume(40);
		_exit(0);
	}
	struct rusage ru;
	wait4(c, NULL, 0, &ru);
	printf("wait4 of a 40 MB child near 40 MB %d; children near 40 MB %d\n", near(ru.ru_maxrss, 40 * MB),
	       near(children_rss(), 40 * MB));
	/* a grandchild's peak reaches us through its parent */
	c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			consume(70);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("grandchild: children near 70 MB %d\n", near(children_rss(), 70 * MB));
	/* a zombie counts only once waited for */
	long before = children_rss();
	c = fork();
	if (c == 0) {
		consume(90);
		_exit(0);
	}
	state_z(c);
	printf("zombie not yet counted %d\n", children_rss() == before);
	waitpid(c, NULL, 0);
	printf("waited: near 90 MB %d\n", near(children_rss(), 90 * MB));
	/* children reaped automatically are not counted */
	signal(SIGCHLD, SIG_IGN);
	before = children_rss();
	c = fork();
	if (c == 0) {
		consume(100);
		_exit(0);
	}
	while (kill(c, 0) == 0) usleep(1000);
	printf("ignored SIGCHLD: unchanged %d\n", children_rss() == before);
	signal(SIGCHLD, SIG_DFL);
	/* our own: VmHWM is this memory's mark (natively, RUSAGE_SELF also
	 * holds the mark of the memory we were forked with before execve,
	 * the test harness's) */
	long hwm0 = status("VmHWM:");
	consume(30);
	long hwm, rss;
	status_pair("VmHWM:", &hwm, "VmRSS:", &rss);
	printf("VmHWM grew by about 30 MB %d, at least VmRSS %d, RUSAGE_SELF over 30 MB %d\n", hwm >= hwm0 + 25 * MB,
	       hwm >= rss, self_rss() > 30 * MB);
	/* the touched pages of a shared mapping are resident too (RssShmem),
	 * until it is unmapped */
	long sh0, rss0, sh1, rss1;
	status_pair("RssShmem:", &sh0, "VmRSS:", &rss0);
	long len = 20 * MB * 1024;
	char *shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (long i = 0; i < len; i += 4096) shm[i] = 1;
	status_pair("RssShmem:", &sh1, "VmRSS:", &rss1);
	munmap(shm, len);
	printf("shared mapping: RssShmem grew by about 20 MB %d, VmRSS too %d, back after munmap %d\n",
	       near(sh1 - sh0, 20 * MB), near(rss1 - rss0, 20 * MB), status("RssShmem:") < sh0 + 5 * MB);
	c = fork();
	if (c == 0) {
		char s[32], ch[32];
		snprintf(s, sizeof s, "%ld", self_rss());
		snprintf(ch, sizeof ch, "%ld", children_rss());
		execl("/proc/self/exe", "rusage", "compare", s, ch, (char *)NULL);
		_exit(127);
	}
	waitpid(c, NULL, 0);
	return ukt_exit();
}
