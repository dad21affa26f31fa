/*
 * sysv_msg.c: System V message queues (msgget, msgsnd, msgrcv, msgctl).
 *
 * Keys and their errors; msgrcv's choice of message (type 0, > 0, < 0,
 * MSG_EXCEPT), MSG_NOERROR and E2BIG, MSG_COPY; a full queue (bytes and
 * count), IPC_NOWAIT; sleepers in forked children: a receiver handed a
 * message, a receiver whose buffer is too small, a sender waiting for
 * room, a signal (EINTR even with SA_RESTART), IPC_RMID (EIDRM); msgctl's
 * commands and errors; what another user may do (setuid in a child); and
 * /proc/sysvipc/msg. It prints no ids, pids or times: only whether they
 * are what they should be. Every queue it makes is removed.
 */
#include "uktest.h"

#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>

#define BAD ((void *)8)

struct msg {
	long mtype;
	char mtext[16384];
};

static struct msg m;

static int mkq(void) { return msgget(IPC_PRIVATE, IPC_CREAT | 0600); }

/* gone_queue is the id of a queue removed: no queue can have it
 * (another process's queue may have the id next to ours). */
static int gone_queue(void) {
	int g = mkq();
	msgctl(g, IPC_RMID, NULL);
	return g;
}

static int snd(int id, long type, const char *text, int flags) {
	struct msg *b = malloc(sizeof *b);
	b->mtype = type;
	size_t n = strlen(text);
	memcpy(b->mtext, text, n);
	int r = msgsnd(id, b, n, flags);
	int e = errno;
	free(b);
	errno = e;
	return r;
}

static int sndn(int id, long type, size_t n, int flags) {
	struct msg *b = calloc(1, sizeof *b);
	b->mtype = type;
	int r = msgsnd(id, b, n, flags);
	int e = errno;
	free(b);
	errno = e;
	return r;
}

/* rcv receives into m and prints the message's type and text. */
static void rcv(int id, size_t size, long type, int flags) {
	memset(&m, 0, sizeof m);
	errno = 0;
	long n = msgrcv(id, &m, size, type, flags);
	if (n < 0)
		printf("msgrcv(size %zu, type %ld, flags %#o): -1 %s\n", size, type, flags, errname(errno));
	else
		printf("msgrcv(size %zu, type %ld, flags %#o): %ld type %ld \"%.*s\"\n", size, type, flags, n, m.mtype,
		       (int)n, m.mtext);
}

static struct msqid_ds st(int id) {
	struct msqid_ds ds;
	memset(&ds, 0xff, sizeof ds);
	if (msgctl(id, IPC_STAT, &ds) != 0)
		printf("IPC_STAT: %s FAIL\n", errname(errno));
	return ds;
}

static long qnum(int id) { return (long)st(id).msg_qnum; }

/* reap prints how child p ended: "0" or its errno's name. */
static void reap(const char *what, pid_t p) {
	int st;
	if (waitpid(p, &st, 0) != p) {
		printf("%s: waitpid FAIL\n", what);
		ukt_failures++;
		return;
	}
	printf("%s: %s\n", what, WIFEXITED(st) ? errname(WEXITSTATUS(st)) : "killed");
}

/* settle gives a child time to go to sleep in its call. */
static void settle(void) { usleep(300000); }

static long sysctl(const char *name) {
	char path[64];
	long v = -1;
	snprintf(path, sizeof path, "/proc/sys/kernel/%s", name);
	FILE *f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &v) != 1)
		printf("%s: FAIL\n", path);
	if (f)
		fclose(f);
	return v;
}

static void keys(void) {
	char path[] = "/tmp/sysv_msgXXXXXX";
	int fd = mkstemp(path);
	key_t key = ftok(path, 'M');
	CHECK("ftok", fd >= 0 && key != -1);
	EXPECT_ERR(msgget(key, 0600), ENOENT);
	int id = EXPECT_OK(msgget(key, IPC_CREAT | IPC_EXCL | 0600));
	EXPECT_ERR(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK("msgget(key, 0) is the queue", msgget(key, 0) == id);
	EXPECT_OK(msgctl(id, IPC_RMID, NULL));
	EXPECT_ERR(msgget(key, 0), ENOENT);
	EXPECT_ERR(msgctl(id, IPC_RMID, NULL), EINVAL);
	close(fd);
	unlink(path);
}

static void choose(void) {
	int id = EXPECT_OK(mkq());
	EXPECT_OK(snd(id, 3, "three", 0));
	EXPECT_OK(snd(id, 1, "one-a", 0));
	EXPECT_OK(snd(id, 2, "two", 0));
	EXPECT_OK(snd(id, 1, "one-b", 0));
	EXPECT_OK(snd(id, 5, "five", 0));
	struct msqid_ds ds = st(id);
	CHECK("IPC_STAT qnum, cbytes", ds.msg_qnum == 5 && ds.msg_cbytes == 22);
	CHECK("IPC_STAT lspid", ds.msg_lspid == getpid() && ds.msg_lrpid == 0);
	CHECK("IPC_STAT stime set, rtime 0", ds.msg_stime != 0 && ds.msg_rtime == 0);
	CHECK("IPC_STAT qbytes is msgmnb", (long)ds.msg_qbytes == sysctl("msgmnb"));
	CHECK("IPC_STAT mode", (ds.msg_perm.mode & 0777) == 0600 && ds.msg_perm.uid == geteuid());

	/* MSG_COPY takes nothing. */
	EXPECT_ERR(msgrcv(id, &m, 100, 1, MSG_COPY), EINVAL);
	EXPECT_ERR(msgrcv(id, &m, 100, 1, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT), EINVAL);
	rcv(id, 100, 1, MSG_COPY | IPC_NOWAIT);
	rcv(id, 100, 4, MSG_COPY | IPC_NOWAIT);
	rcv(id, 100, 5, MSG_COPY | IPC_NOWAIT);
	rcv(id, 2, 1, MSG_COPY | IPC_NOWAIT);
	rcv(id, 2, 1, MSG_COPY | IPC_NOWAIT | MSG_NOERROR);
	EXPECT_ERR(msgrcv(id, BAD, 100, 1, MSG_COPY | IPC_NOWAIT), EFAULT);
	EXPECT_EQ(qnum(id), 5);

	rcv(id, 100, 1, 0);
	rcv(id, 100, -4, 0);
	rcv(id, 100, 3, MSG_EXCEPT);
	rcv(id, 100, 0, 0);
	rcv(id, 100, 9, IPC_NOWAIT);
	rcv(id, 100, LONG_MIN, 0);
	rcv(id, 100, 0, IPC_NOWAIT);

	EXPECT_OK(snd(id, 7, "0123456789", 0));
	rcv(id, 4, 0, IPC_NOWAIT);
	EXPECT_EQ(qnum(id), 1);
	rcv(id, 4, 0, IPC_NOWAIT | MSG_NOERROR);
	EXPECT_EQ(qnum(id), 0);
	EXPECT_OK(sndn(id, 9, 0, 0));
	rcv(id, 0, 0, 0);
	ds = st(id);
	CHECK("IPC_STAT lrpid, rtime", ds.msg_lrpid == getpid() && ds.msg_rtime != 0);
	CHECK("IPC_STAT empty", ds.msg_qnum == 0 && ds.msg_cbytes == 0);

	EXPECT_ERR(sndn(id, 0, 1, 0), EINVAL);
	EXPECT_ERR(sndn(id, -1, 1, 0), EINVAL);
	EXPECT_ERR(sndn(id, 1, 8193, 0), EINVAL);
	EXPECT_ERR(sndn(id, 1, (size_t)-1, 0), EINVAL);
	EXPECT_ERR(sndn(-1, 1, 1, 0), EINVAL);
	EXPECT_ERR(sndn(gone_queue(), 1, 1, 0), EINVAL);
	EXPECT_ERR(msgsnd(id, BAD, 1, 0), EFAULT);
	EXPECT_ERR(msgsnd(-1, BAD, 1, 0), EFAULT);
	EXPECT_OK(sndn(id, 1, 8192, 0));
	EXPECT_ERR(msgrcv(id, &m, (size_t)-1, 0, 0), EINVAL);
	EXPECT_ERR(msgrcv(-1, &m, 1, 0, 0), EINVAL);
	EXPECT_ERR(msgrcv(gone_queue(), &m, 1, 0, 0), EINVAL);
	EXPECT_ERR(msgrcv(id, BAD, 8192, 0, 0), EFAULT);
	EXPECT_EQ(qnum(id), 0);
	EXPECT_OK(msgctl(id, IPC_RMID, NULL));
}

/* has_cap reports whether capability n is in the effective set. */
static int has_cap(int n) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;
	while (f && fgets(line, sizeof line, f))
		sscanf(line, "CapEff: %llx", &eff);
	if (f)
		fclose(f);
	return (eff >> n) & 1;
}

static void full(void) {
	int id = EXPECT_OK(mkq());
	struct msqid_ds ds = st(id);
	ds.msg_qbytes = 16384;
	EXPECT_OK(msgctl(id, IPC_SET, &ds));
	EXPECT_OK(sndn(id, 1, 8192, 0));
	EXPECT_OK(sndn(id, 2, 8192, 0));
	EXPECT_ERR(sndn(id, 3, 1, IPC_NOWAIT), EAGAIN);
	EXPECT_OK(sndn(id, 3, 0, IPC_NOWAIT));

	/* A sender sleeps until a receive makes room. */
	fflush(stdout);
	pid_t a = fork();
	if (a == 0)
		_exit(sndn(id, 4, 100, 0) == 0 ? 0 : errno);
	settle();
	EXPECT_EQ(qnum(id), 3);
	rcv(id, 8192, 2, MSG_NOERROR | IPC_NOWAIT);
	reap("sender given room", a);
	EXPECT_EQ(qnum(id), 3);
	EXPECT_EQ(st(id).msg_cbytes, 8292);

	/* qbytes also bounds the number of messages. */
	ds = st(id);
	ds.msg_qbytes = 5;
	EXPECT_OK(msgctl(id, IPC_SET, &ds));
	rcv(id, 8192, 0, MSG_NOERROR | IPC_NOWAIT);
	rcv(id, 8192, 0, MSG_NOERROR | IPC_NOWAIT);
	rcv(id, 8192, 0, MSG_NOERROR | IPC_NOWAIT);
	for (int i = 0; i < 5; i++)
		sndn(id, 1, 0, IPC_NOWAIT);
	EXPECT_ERR(sndn(id, 1, 0, IPC_NOWAIT), EAGAIN);
	EXPECT_EQ(qnum(id), 5);
	/* Above msgmnb only with CAP_SYS_RESOURCE (which a container's
	 * root may lack). */
	ds.msg_qbytes = 1 << 20;
	int r = msgctl(id, IPC_SET, &ds);
	CHECK("qbytes above msgmnb as CAP_SYS_RESOURCE says",
	      has_cap(24) ? r == 0 && st(id).msg_qbytes == 1 << 20 : r == -1 && errno == EPERM);
	EXPECT_OK(msgctl(id, IPC_RMID, NULL));
}

static void on_usr1(int sig) { (void)sig; }

/* interrupt signals child p until it ends (it may not be asleep yet at the
 * first signal), then prints how it ended. */
static void interrupt(const char *what, pid_t p) {
	int st;
	for (int i = 0; i < 200; i++) {
		kill(p, SIGUSR1);
		usleep(50000);
		if (waitpid(p, &st, WNOHANG) == p) {
			printf("%s: %s\n", what, WIFEXITED(st) ? errname(WEXITSTATUS(st)) : "killed");
			return;
		}
	}
	printf("%s: FAIL (still asleep)\n", what);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	ukt_failures++;
}

/* rmid_wakes forks a child that sleeps in msgsnd on a full queue (send)
 * or in msgrcv on an empty one, removes the queue, and returns the child's
 * errno. A child that had not gone to sleep before the removal (EINVAL:
 * no such queue) is tried again with a longer wait. */
static int rmid_wakes(int send) {
	for (int ms = 100;; ms *= 2) {
		int id = mkq();
		if (send) {
			struct msqid_ds ds = st(id);
			ds.msg_qbytes = 1;
			msgctl(id, IPC_SET, &ds);
			sndn(id, 1, 1, 0);
		}
		fflush(stdout);
		pid_t p = fork();
		if (p == 0)
			_exit((send ? sndn(id, 1, 1, 0) : msgrcv(id, &m, 100, 0, 0)) < 0 ? errno : 0);
		usleep(ms * 1000);
		msgctl(id, IPC_RMID, NULL);
		int status;
		waitpid(p, &status, 0);
		int e = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (e != EINVAL || ms >= 6400)
			return e;
	}
}

static void sleepers(void) {
	int id = EXPECT_OK(mkq());
	/* A receiver is handed the message it waits for. */
	fflush(stdout);
	pid_t a = fork();
	if (a == 0) {
		long n = msgrcv(id, &m, 100, 6, 0);
		_exit(n == 3 && m.mtype == 6 && memcmp(m.mtext, "six", 3) == 0 ? 0 : n < 0 ? errno : 99);
	}
	settle();
	EXPECT_OK(snd(id, 5, "five", 0));
	EXPECT_OK(snd(id, 6, "six", 0));
	reap("receiver of type 6", a);
	EXPECT_EQ(qnum(id), 1);
	rcv(id, 100, 0, IPC_NOWAIT);

	/* One whose buffer is too small fails; the message stays. */
	a = fork();
	if (a == 0)
		_exit(msgrcv(id, &m, 2, 0, 0) < 0 ? errno : 0);
	settle();
	EXPECT_OK(snd(id, 1, "long", 0));
	reap("receiver with a small buffer", a);
	EXPECT_EQ(qnum(id), 1);
	rcv(id, 100, 0, IPC_NOWAIT);

	/* Signals: EINTR, even with SA_RESTART. */
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	fflush(stdout);
	a = fork();
	if (a == 0)
		_exit(msgrcv(id, &m, 100, 0, 0) < 0 ? errno : 0);
	interrupt("msgrcv interrupted", a);
	struct msqid_ds ds = st(id);
	ds.msg_qbytes = 10;
	EXPECT_OK(msgctl(id, IPC_SET, &ds));
	EXPECT_OK(sndn(id, 1, 10, 0));
	a = fork();
	if (a == 0)
		_exit(sndn(id, 1, 1, 0) < 0 ? errno : 0);
	interrupt("msgsnd interrupted", a);
	EXPECT_EQ(qnum(id), 1);

	EXPECT_OK(msgctl(id, IPC_RMID, NULL));

	/* IPC_RMID: EIDRM for sleeping senders and receivers. */
	printf("sender at IPC_RMID: %s\n", errname(rmid_wakes(1)));
	printf("receiver at IPC_RMID: %s\n", errname(rmid_wakes(0)));
}

static void control(void) {
	int id = EXPECT_OK(mkq());
	struct msginfo mi;
	memset(&mi, 0xff, sizeof mi);
	long maxidx = EXPECT_OK(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi));
	CHECK("IPC_INFO is the highest index", maxidx >= (id & 0x7fff));
	CHECK("IPC_INFO msgmax, msgmnb, msgmni",
	      mi.msgmax == sysctl("msgmax") && mi.msgmnb == sysctl("msgmnb") && mi.msgmni == sysctl("msgmni"));
	CHECK("IPC_INFO msgssz, msgseg", mi.msgssz == 16 && mi.msgseg == 0xffff);
	EXPECT_OK(snd(id, 1, "abc", 0));
	memset(&mi, 0xff, sizeof mi);
	EXPECT_OK(msgctl(0, MSG_INFO, (struct msqid_ds *)&mi));
	CHECK("MSG_INFO counts queues, messages, bytes", mi.msgpool >= 1 && mi.msgmap >= 1 && mi.msgtql >= 3);
	EXPECT_ERR(msgctl(-1, IPC_INFO, (struct msqid_ds *)&mi), EINVAL);
	EXPECT_ERR(msgctl(0, IPC_INFO, BAD), EFAULT);
	struct msqid_ds ds;
	CHECK("MSG_STAT returns the id", msgctl(id & 0x7fff, MSG_STAT, &ds) == id);
	CHECK("MSG_STAT_ANY returns the id", msgctl(id & 0x7fff, MSG_STAT_ANY, &ds) == id);
	EXPECT_ERR(msgctl(id, IPC_STAT, BAD), EFAULT);
	EXPECT_ERR(msgctl(id, IPC_SET, BAD), EFAULT);
	EXPECT_ERR(msgctl(id, 99, &ds), EINVAL);
	EXPECT_ERR(msgctl(id, -1, &ds), EINVAL);
	EXPECT_ERR(syscall(SYS_msgctl, id, IPC_STAT | 0x100, &ds), EINVAL);
	ds = st(id);
	ds.msg_perm.uid = (uid_t)-1;
	EXPECT_ERR(msgctl(id, IPC_SET, &ds), EINVAL);

	FILE *f = fopen("/proc/sysvipc/msg", "r");
	char line[512];
	int found = 0;
	CHECK("/proc/sysvipc/msg header",
	      f && fgets(line, sizeof line, f) &&
		      strcmp(line, "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n") == 0);
	while (f && fgets(line, sizeof line, f)) {
		int key, qid;
		unsigned mode;
		unsigned long cbytes, qn;
		if (sscanf(line, "%d %d %o %lu %lu", &key, &qid, &mode, &cbytes, &qn) == 5 && qid == id) {
			found = 1;
			printf("sysvipc/msg: key %d perms %o cbytes %lu qnum %lu\n", key, mode, cbytes, qn);
		}
	}
	if (f)
		fclose(f);
	CHECK("/proc/sysvipc/msg lists the queue", found);
	EXPECT_OK(msgctl(id, IPC_RMID, NULL));
}

static int perm_id;

/* nobody makes the process user and group 65534, in no other group. */
static int nobody(void) {
	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
		printf("becoming nobody: FAIL %s\n", errname(errno));
		ukt_failures++;
		return 0;
	}
	return 1;
}

static void as_nobody(void) {
	int id = perm_id;
	struct msqid_ds ds;
	if (!nobody())
		return;
	EXPECT_ERR(snd(id, 1, "x", IPC_NOWAIT), EACCES);
	EXPECT_ERR(msgrcv(id, &m, 10, 0, IPC_NOWAIT), EACCES);
	EXPECT_ERR(msgctl(id, IPC_STAT, &ds), EACCES);
	EXPECT_ERR(msgctl(id & 0x7fff, MSG_STAT, &ds), EACCES);
	CHECK("MSG_STAT_ANY", msgctl(id & 0x7fff, MSG_STAT_ANY, &ds) == id);
	EXPECT_ERR(msgctl(id, IPC_SET, &ds), EPERM);
	EXPECT_ERR(msgctl(id, IPC_RMID, NULL), EPERM);
	EXPECT_ERR(msgrcv(id, &m, 10, 0, IPC_NOWAIT | MSG_COPY), EACCES);
}

static void as_owner(void) {
	int id = perm_id;
	if (!nobody())
		return;
	EXPECT_OK(snd(id, 1, "y", IPC_NOWAIT));
	EXPECT_ERR(msgrcv(id, &m, 10, 0, IPC_NOWAIT), EACCES);
	struct msqid_ds ds;
	memset(&ds, 0, sizeof ds);
	ds.msg_perm.uid = 65534;
	ds.msg_perm.gid = 65534;
	ds.msg_perm.mode = 0620;
	ds.msg_qbytes = 16385;
	EXPECT_ERR(msgctl(id, IPC_SET, &ds), EPERM);
	ds.msg_qbytes = 100;
	EXPECT_OK(msgctl(id, IPC_SET, &ds));
}

static void perms(void) {
	perm_id = EXPECT_OK(mkq());
	EXPECT_OK(snd(perm_id, 1, "x", 0));
	ukt_in_child("mode 0600 as nobody", as_nobody);
	struct msqid_ds ds = st(perm_id);
	ds.msg_perm.uid = 65534;
	ds.msg_perm.mode = 0200;
	EXPECT_OK(msgctl(perm_id, IPC_SET, &ds));
	ukt_in_child("owned by nobody, mode 0200", as_owner);
	ds = st(perm_id);
	CHECK("nobody's IPC_SET", ds.msg_qbytes == 100 && (ds.msg_perm.mode & 0777) == 0620 && ds.msg_qnum == 2);
	EXPECT_OK(msgctl(perm_id, IPC_RMID, NULL));
}

int main(void) {
	keys();
	choose();
	full();
	sleepers();
	control();
	perms();
	return ukt_exit();
}
