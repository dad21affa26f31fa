// ipcns: IPC namespaces. A new one is empty: System V objects and POSIX
// message queues of another namespace are out of reach by key and by name,
// ids start again, /proc/sysvipc and an mqueue mount show the namespace's
// own; setns enters another's. Everything runs below a child that made a
// namespace of its own first, so that natively no object reaches the
// host's.
#include "uktest.h"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>

#define KEY 0x75b1

static void objects(const char *who) {
	int q = msgget(KEY, IPC_CREAT | 0600);
	int m = shmget(KEY, 4096, IPC_CREAT | 0600);
	int s = semget(KEY, 1, IPC_CREAT | 0600);
	printf("%s: msgget %s, shmget %s, semget %s\n", who, q >= 0 ? "ok" : errname(errno), m >= 0 ? "ok" : errname(errno),
	       s >= 0 ? "ok" : errname(errno));
	printf("%s: first ids %d %d %d\n", who, q, m, s);
	struct mq_attr a = {.mq_maxmsg = 2, .mq_msgsize = 16};
	mqd_t d = mq_open("/ipcns-q", O_CREAT | O_RDWR, 0600, &a);
	printf("%s: mq_open: %s\n", who, d != (mqd_t)-1 ? "ok" : errname(errno));
	printf("%s: /proc/sysvipc/msg, shm, sem lines: %d %d %d\n", who, ukt_lines("/proc/sysvipc/msg"), ukt_lines("/proc/sysvipc/shm"),
	       ukt_lines("/proc/sysvipc/sem"));
}

static void empty(void) {
	EXPECT_ERR(msgget(KEY, 0), ENOENT);
	EXPECT_ERR(shmget(KEY, 0, 0), ENOENT);
	EXPECT_ERR(semget(KEY, 0, 0), ENOENT);
	EXPECT_ERR(mq_open("/ipcns-q", O_RDONLY), ENOENT);
	printf("/proc/sysvipc/msg, shm, sem lines: %d %d %d\n", ukt_lines("/proc/sysvipc/msg"), ukt_lines("/proc/sysvipc/shm"),
	       ukt_lines("/proc/sysvipc/sem"));
}

static void fresh(void) {
	EXPECT_OK(unshare(CLONE_NEWIPC));
	empty();
	objects("the new namespace");
	// Its own mqueue mount shows its queue only.
	char dir[] = "/tmp/ipcnsXXXXXX";
	if (!mkdtemp(dir)) {
		printf("mkdtemp: FAIL\n");
		return;
	}
	EXPECT_OK(unshare(CLONE_NEWNS));
	EXPECT_OK(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
	EXPECT_OK(mount("mqueue", dir, "mqueue", 0, NULL));
	DIR *dp = opendir(dir);
	struct dirent *e;
	while (dp && (e = readdir(dp)))
		if (e->d_name[0] != '.')
			printf("in the mqueue mount: %s\n", e->d_name);
	if (dp)
		closedir(dp);
	EXPECT_OK(umount2(dir, 0));
	EXPECT_OK(rmdir(dir));
}

static int holderPid;

static void entered(void) {
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/ns/ipc", holderPid);
	int fd = EXPECT_OK(open(p, O_RDONLY));
	EXPECT_OK(unshare(CLONE_NEWIPC));
	EXPECT_ERR(msgget(KEY, 0), ENOENT);
	EXPECT_ERR(setns(fd, CLONE_NEWUTS), EINVAL);
	EXPECT_OK(setns(fd, CLONE_NEWIPC));
	EXPECT_OK(msgget(KEY, 0));
	EXPECT_OK(mq_open("/ipcns-q", O_RDONLY));
	struct {
		long type;
		char text[8];
	} m = {7, "hello"};
	EXPECT_OK(msgsnd(msgget(KEY, 0), &m, 6, 0));
}

static void unprivileged(void) {
	EXPECT_OK(setresuid(1000, 1000, 1000));
	EXPECT_ERR(unshare(CLONE_NEWIPC), EPERM);
}

// outer runs in a namespace of its own: it holds objects for the others
// to look for.
static void outer(void) {
	EXPECT_OK(unshare(CLONE_NEWIPC));
	empty();
	objects("the outer namespace");
	ukt_in_child("unshare(CLONE_NEWIPC)", fresh);
	CHECK("the outer queue is still there", msgget(KEY, 0) >= 0);
	EXPECT_ERR(syscall(SYS_clone, CLONE_NEWIPC | CLONE_SYSVSEM | SIGCHLD, 0, 0, 0, 0), EINVAL);

	holderPid = getpid();
	ukt_in_child("setns(CLONE_NEWIPC)", entered);
	struct {
		long type;
		char text[8];
	} m;
	int q = msgget(KEY, 0);
	CHECK("the message sent after setns is here", msgrcv(q, &m, sizeof m.text, 7, IPC_NOWAIT) == 6 && strcmp(m.text, "hello") == 0);
	ukt_in_child("unprivileged", unprivileged);
	EXPECT_OK(msgctl(q, IPC_RMID, NULL));
	EXPECT_OK(shmctl(shmget(KEY, 0, 0), IPC_RMID, NULL));
	EXPECT_OK(semctl(semget(KEY, 0, 0), 0, IPC_RMID));
	EXPECT_OK(mq_unlink("/ipcns-q"));
}

int main(void) {
	ukt_in_child("outer", outer);
	return ukt_exit();
}
