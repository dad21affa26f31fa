// hostile_ns: namespaces made and dropped in a loop must give back what
// they held. 200 children each make mount, IPC and UTS namespaces, fill a
// tmpfs mounted there, a System V segment and a message queue, and exit
// without cleaning up; under uk (run with --mem 32M) the rounds together
// hold several times the sandbox's memory, so a namespace whose objects
// outlived its last task would make later rounds fail. Then one process
// makes 300 mount namespaces in turn, each dropping the one before and
// replacing the tmpfs it copied from it with a new one it fills: the
// memory comes back only if both the dropped namespaces and the unmounted
// filesystems give theirs back.
#include "uktest.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/stat.h>

#define ROUNDS 200
#define CHUNK (256 << 10)

static char dir[] = "/tmp/hostile_nsXXXXXX";

static int round_child(void) {
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS))
		return 10;
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) || mount("t", dir, "tmpfs", 0, NULL))
		return 11;
	char path[64];
	snprintf(path, sizeof path, "%s/fill", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	static char buf[CHUNK];
	memset(buf, 'x', sizeof buf);
	if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf)
		return 12;
	int id = shmget(IPC_PRIVATE, CHUNK, IPC_CREAT | 0600);
	char *p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	if (p == (char *)-1)
		return 13;
	memset(p, 'y', CHUNK);
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	struct {
		long type;
		char text[8000];
	} m = {1, {0}};
	if (q < 0 || msgsnd(q, &m, sizeof m.text, 0) || msgsnd(q, &m, sizeof m.text, 0))
		return 14;
	if (sethostname("hostile", 7))
		return 15;
	return 0; // everything left behind
}

int main(void) {
	if (!mkdtemp(dir)) {
		printf("mkdtemp: FAIL\n");
		return 1;
	}
	// Natively the host's mounts stay out of it.
	if (unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("unshare: FAIL %s\n", errname(errno));
		return 1;
	}
	int ok = 0, first_bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0)
			_exit(round_child());
		int st;
		waitpid(c, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else if (!first_bad)
			first_bad = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
	}
	printf("rounds that left their namespaces full: %d of %d (first failure %d)\n", ok, ROUNDS, first_bad);
	CHECK("every round had the room the ones before gave back", ok == ROUNDS);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		int before = ukt_lines("/proc/self/mountinfo");
		char path[64];
		snprintf(path, sizeof path, "%s/fill", dir);
		static char buf[CHUNK];
		for (int i = 0; i < 300; i++) {
			// The copy of the last round's tmpfs goes; so must the
			// namespace left behind, which held the other mount of it,
			// or its file's pages would stay.
			int bad = unshare(CLONE_NEWNS) || (i > 0 && umount(dir)) || mount("t", dir, "tmpfs", 0, NULL);
			int fd = bad ? -1 : open(path, O_CREAT | O_WRONLY, 0644);
			if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf || close(fd)) {
				printf("unshare, umount, mount and fill, round %d: FAIL %s\n", i, errname(errno));
				_exit(1);
			}
		}
		CHECK("300 namespaces later the mount table has one more line", ukt_lines("/proc/self/mountinfo") == before + 1);
		fflush(stdout);
		_exit(ukt_failures != 0);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("the namespace loop exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_OK(rmdir(dir));
	return ukt_exit();
}
