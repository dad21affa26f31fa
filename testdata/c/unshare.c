// unshare: unshare(2) of what a task can stop sharing. Every line is the
// same on Linux (as root) and under uk; namespace flags are left out:
// mount namespaces are mountns.c's, and uk answers the other kinds but
// time as a kernel without them (EINVAL).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *sleeper(void *arg) {
	(void)arg;
	usleep(200000);
	return 0;
}

static void try(const char *what, int flags) {
	int r = unshare(flags);
	printf("unshare(%s) = %d%s%s\n", what, r, r ? " " : "", r ? strerror(errno) : "");
}

int main(void) {
	try("0", 0);
	try("CLONE_FILES", CLONE_FILES);
	try("CLONE_FS", CLONE_FS);
	try("CLONE_SYSVSEM", CLONE_SYSVSEM);
	// A single-threaded process shares nothing: these are no-ops.
	try("CLONE_THREAD", CLONE_THREAD);
	try("CLONE_VM", CLONE_VM);
	try("CLONE_SIGHAND", CLONE_SIGHAND);
	try("bad bit 0x4", 0x4);
	try("CLONE_PTRACE", CLONE_PTRACE);

	pthread_t p;
	pthread_create(&p, 0, sleeper, 0);
	// Now the memory and signal handlers are shared with a thread.
	try("CLONE_VM, threaded", CLONE_VM);
	try("CLONE_SIGHAND, threaded", CLONE_SIGHAND);
	// The descriptor table is shared with the thread: unsharing copies it,
	// and a descriptor opened after that is ours alone but works.
	try("CLONE_FILES, threaded", CLONE_FILES);
	int fd = open("/dev/null", O_RDONLY);
	printf("open after unshare: %s\n", fd >= 0 ? "ok" : strerror(errno));
	char c;
	printf("read /dev/null: %zd\n", read(fd, &c, 1));
	pthread_join(p, 0);
	return 0;
}
