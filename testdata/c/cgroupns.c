// cgroupns: cgroup namespaces. A new one has an identity of its own and is
// rooted at the caller's cgroup, so /proc/self/cgroup reads "0::/" in it;
// children inherit it; setns enters another's; it needs CAP_SYS_ADMIN.
#include "uktest.h"

#include <fcntl.h>
#include <sched.h>

static void link_of(const char *path, char *out, size_t n) {
	ssize_t r = readlink(path, out, n - 1);
	out[r < 0 ? 0 : r] = 0;
}

// show_cgroup prints the unified hierarchy's line of /proc/self/cgroup
// (a host may list v1 hierarchies before it).
static void show_cgroup(const char *who) {
	char buf[256];
	int found = 0;
	FILE *f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(buf, sizeof buf, f))
		if (strncmp(buf, "0::", 3) == 0) {
			printf("%s: /proc/self/cgroup: %s", who, buf);
			found = 1;
		}
	if (!found)
		printf("%s: /proc/self/cgroup: FAIL\n", who);
	if (f)
		fclose(f);
}

static char before[64];

static void fresh(void) {
	char after[64], child[64];
	EXPECT_OK(unshare(CLONE_NEWCGROUP));
	link_of("/proc/self/ns/cgroup", after, sizeof after);
	CHECK("a new namespace has a link of its own", strncmp(after, "cgroup:[", 8) == 0 && strcmp(after, before) != 0);
	show_cgroup("in the new namespace");
	int fd = EXPECT_OK(open("/proc/self/ns/cgroup", O_RDONLY));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		link_of("/proc/self/ns/cgroup", child, sizeof child);
		_exit(strcmp(child, after) != 0);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("a child inherits it", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_ERR(setns(fd, CLONE_NEWIPC), EINVAL);
	EXPECT_OK(setns(fd, CLONE_NEWCGROUP));
	EXPECT_OK(setns(fd, 0));
	EXPECT_OK(syscall(SYS_clone, CLONE_NEWCGROUP | SIGCHLD, 0, 0, 0, 0) == 0 ? (_exit(0), 0) : 0);
	wait(&st);
	EXPECT_OK(setresuid(1000, 1000, 1000));
	EXPECT_ERR(unshare(CLONE_NEWCGROUP), EPERM);
	EXPECT_ERR(setns(fd, CLONE_NEWCGROUP), EPERM);
}

int main(void) {
	link_of("/proc/self/ns/cgroup", before, sizeof before);
	ukt_in_child("unshare(CLONE_NEWCGROUP)", fresh);
	return ukt_exit();
}
