/* mqueue.c: POSIX message queues (mq_open, mq_unlink, mq_timedsend,
 * mq_timedreceive, mq_notify, mq_getsetattr) and the mqueue filesystem,
 * compared with Linux: attributes and their checks, priorities (highest
 * first, FIFO within one), blocking sends and receives woken by another
 * process, timeouts, signals (EINTR, SA_RESTART), notification by signal
 * (with its siginfo), SIGEV_NONE and SIGEV_THREAD, poll, the status line
 * read(2) returns, errors in Linux's order, permissions for an
 * unprivileged user, /proc/sys/fs/mqueue, RLIMIT_MSGQUEUE, and a mount of
 * the filesystem. Natively it runs as root; every queue name holds the
 * pid (never printed) and every queue is unlinked. */
#include "uktest.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <dirent.h>
#include <time.h>

static char names[8][64];
static const char *self;

/* qname returns the name of this run's queue number i ("/ukmq-PID-i"). */
static const char *qname(int i) {
	if (!names[i][0])
		snprintf(names[i], sizeof names[i], "/ukmq-%d-%d", (int)getpid(), i);
	return names[i];
}

static mqd_t mkq(int i, int flags, long maxmsg, long msgsize) {
	struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	return mq_open(qname(i), O_CREAT | O_EXCL | flags, 0600, &a);
}

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
	}
}

/* after returns the absolute CLOCK_REALTIME time ms from now. */
static struct timespec after(int ms) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static void show_attr(mqd_t q) {
	struct mq_attr a;
	if (mq_getattr(q, &a) == -1) {
		printf("getattr: FAIL %s\n", errname(errno));
		ukt_failures++;
		return;
	}
	printf("attr: flags=%#lx maxmsg=%ld msgsize=%ld curmsgs=%ld\n", a.mq_flags, a.mq_maxmsg, a.mq_msgsize,
	       a.mq_curmsgs);
}

/* status prints the queue's read(2) line, its NOTIFY_PID field replaced
 * by whether it is want_pid. */
static void status(const char *what, mqd_t q, pid_t want_pid) {
	char buf[128];
	lseek(q, 0, SEEK_SET);
	ssize_t n = read(q, buf, sizeof buf - 1);
	if (n < 0) {
		printf("%s: read FAIL %s\n", what, errname(errno));
		ukt_failures++;
		return;
	}
	buf[n] = 0;
	char *p = strstr(buf, "NOTIFY_PID:");
	if (!p) {
		printf("%s: FAIL no NOTIFY_PID in %s", what, buf);
		ukt_failures++;
		return;
	}
	int pid = atoi(p + 11);
	*p = 0;
	printf("%s: %zd bytes \"%sNOTIFY_PID:%s\"\n", what, n, buf,
	       pid == want_pid ? "(expected)" : "(other)");
}

static void basics(void) {
	umask(0);
	mqd_t q = EXPECT_OK(mkq(0, O_RDWR, 4, 64));
	show_attr(q);
	int fl = fcntl(q, F_GETFD);
	CHECK("mq_open's descriptor is close-on-exec", fl == FD_CLOEXEC);
	CHECK("F_GETFL is O_RDWR", (fcntl(q, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDWR);
	struct stat st;
	EXPECT_OK(fstat(q, &st));
	printf("fstat: mode=%o size=%ld nlink=%ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
	EXPECT_ERR(mkq(0, O_RDWR, 4, 64), EEXIST);
	mqd_t q2 = EXPECT_OK(mq_open(qname(0), O_CREAT | O_WRONLY, 0600, NULL));
	show_attr(q2);

	/* Priorities: highest first, FIFO within one. */
	const char *msgs[] = {"a1", "b5", "c1", "d5", "e0", "f32767"};
	unsigned prios[] = {1, 5, 1, 5, 0, 32767};
	for (int i = 0; i < 4; i++)
		EXPECT_OK(mq_send(q2, msgs[i], strlen(msgs[i]), prios[i]));
	show_attr(q);
	status("status with 4 messages", q, 0);
	for (int i = 0; i < 2; i++) {
		char buf[64];
		unsigned pr = 99;
		ssize_t n = mq_receive(q, buf, sizeof buf, &pr);
		printf("receive: %zd \"%.*s\" prio %u\n", n, (int)(n > 0 ? n : 0), buf, pr);
	}
	for (int i = 4; i < 6; i++)
		EXPECT_OK(mq_send(q, msgs[i], strlen(msgs[i]), prios[i]));
	for (int i = 0; i < 4; i++) {
		char buf[64];
		unsigned pr = 99;
		ssize_t n = mq_receive(q, buf, sizeof buf, &pr);
		printf("receive: %zd \"%.*s\" prio %u\n", n, (int)(n > 0 ? n : 0), buf, pr);
	}
	EXPECT_OK(mq_send(q, "", 0, 3));
	{
		char buf[64];
		EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 0);
	}
	/* A message of exactly mq_msgsize bytes, and a buffer of exactly it. */
	char big[65];
	memset(big, 'x', sizeof big);
	EXPECT_ERR(mq_send(q, big, 65, 0), EMSGSIZE);
	EXPECT_OK(mq_send(q, big, 64, 0));
	EXPECT_ERR(mq_receive(q, big, 63, NULL), EMSGSIZE);
	EXPECT_EQ(mq_receive(q, big, 64, NULL), 64);

	/* The status line: read at offsets, lseek, EOF. */
	char buf[128];
	EXPECT_OK(mq_send(q, "hello", 5, 0));
	EXPECT_OK(mq_send(q, "abc", 3, 9));
	lseek(q, 0, SEEK_SET);
	ssize_t n = read(q, buf, 10);
	printf("read 10: %zd \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
	n = read(q, buf, sizeof buf);
	printf("read rest: %zd \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
	EXPECT_EQ(read(q, buf, sizeof buf), 0);
	EXPECT_EQ(lseek(q, 0, SEEK_END), 80);
	EXPECT_ERR(read(q2, buf, sizeof buf), EBADF);
	EXPECT_ERR(write(q, "x", 1), EINVAL);
	status("status with 2 messages", q, 0);

	/* Access modes. */
	mqd_t ro = EXPECT_OK(mq_open(qname(0), O_RDONLY));
	EXPECT_ERR(mq_send(ro, "x", 1, 0), EBADF);
	EXPECT_ERR(mq_receive(q2, buf, sizeof buf, NULL), EBADF);
	EXPECT_ERR(mq_receive(q2, buf, 1, NULL), EBADF);
	EXPECT_EQ(mq_receive(ro, buf, sizeof buf, NULL), 3);
	EXPECT_EQ(mq_receive(ro, buf, sizeof buf, NULL), 5);

	/* mq_setattr changes only O_NONBLOCK. */
	struct mq_attr na = {.mq_flags = O_NONBLOCK, .mq_maxmsg = 100, .mq_msgsize = 1000, .mq_curmsgs = 7}, old;
	EXPECT_OK(mq_setattr(q, &na, &old));
	printf("old: flags=%#lx maxmsg=%ld msgsize=%ld curmsgs=%ld\n", old.mq_flags, old.mq_maxmsg, old.mq_msgsize,
	       old.mq_curmsgs);
	show_attr(q);
	CHECK("F_GETFL has O_NONBLOCK", fcntl(q, F_GETFL) & O_NONBLOCK);
	show_attr(ro);
	na.mq_flags = O_NONBLOCK | 1;
	EXPECT_ERR(mq_setattr(q, &na, NULL), EINVAL);
	EXPECT_ERR(mq_setattr(-1, &na, NULL), EINVAL);
	na.mq_flags = 0;
	EXPECT_ERR(mq_setattr(-1, &na, NULL), EBADF);
	EXPECT_ERR(syscall(SYS_mq_getsetattr, q, (void *)8, NULL), EFAULT);
	EXPECT_ERR(syscall(SYS_mq_getsetattr, q, NULL, (void *)8), EFAULT);
	EXPECT_OK(syscall(SYS_mq_getsetattr, q, NULL, NULL));

	/* O_NONBLOCK: EAGAIN on an empty and on a full queue. */
	EXPECT_ERR(mq_receive(q, buf, sizeof buf, NULL), EAGAIN);
	for (int i = 0; i < 4; i++)
		EXPECT_OK(mq_send(q, "m", 1, i));
	EXPECT_ERR(mq_send(q, "m", 1, 0), EAGAIN);
	show_attr(q);

	/* Timeouts on the blocking descriptor (q2 is O_WRONLY, ro O_RDONLY). */
	struct timespec ts = after(30);
	EXPECT_ERR(mq_timedsend(q2, "m", 1, 0, &ts), ETIMEDOUT);
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	EXPECT_ERR(mq_timedsend(q2, "m", 1, 0, &ts), ETIMEDOUT);
	EXPECT_EQ(mq_timedreceive(ro, buf, sizeof buf, NULL, &ts), 1);
	EXPECT_OK(mq_timedsend(q2, "m", 1, 0, &ts));
	ts.tv_nsec = 1000000000;
	EXPECT_ERR(mq_timedsend(q2, "m", 1, 0, &ts), EINVAL);
	EXPECT_ERR(mq_timedreceive(ro, buf, sizeof buf, NULL, &ts), EINVAL);
	ts.tv_nsec = -1;
	EXPECT_ERR(mq_timedreceive(ro, buf, sizeof buf, NULL, &ts), EINVAL);
	EXPECT_ERR(syscall(SYS_mq_timedreceive, ro, buf, sizeof buf, NULL, (void *)8), EFAULT);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(mq_receive(ro, buf, sizeof buf, NULL), 1);
	ts = after(30);
	EXPECT_ERR(mq_timedreceive(ro, buf, sizeof buf, NULL, &ts), ETIMEDOUT);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	EXPECT_ERR(mq_timedreceive(ro, buf, sizeof buf, NULL, &ts), EINVAL);
	/* A fault storing the message loses it, as on Linux. */
	EXPECT_OK(mq_send(q, "lost", 4, 0));
	EXPECT_ERR(syscall(SYS_mq_timedreceive, ro, (void *)8, 64, NULL, NULL), EFAULT);
	EXPECT_OK(mq_send(q, "lost", 4, 0));
	EXPECT_ERR(syscall(SYS_mq_timedreceive, ro, buf, 64, (void *)8, NULL), EFAULT);
	EXPECT_ERR(syscall(SYS_mq_timedsend, q, (void *)8, 4, 0, NULL), EFAULT);
	show_attr(q);

	/* Unlinked while open: the queue works on, its name is free. */
	EXPECT_OK(mq_unlink(qname(0)));
	EXPECT_ERR(mq_unlink(qname(0)), ENOENT);
	EXPECT_ERR(mq_open(qname(0), O_RDWR), ENOENT);
	EXPECT_OK(mq_send(q, "still", 5, 0));
	EXPECT_EQ(mq_receive(ro, buf, sizeof buf, NULL), 5);
	mqd_t q3 = EXPECT_OK(mkq(0, O_RDWR, 2, 8));
	show_attr(q3);
	EXPECT_OK(mq_unlink(qname(0)));
	mq_close(q3);
	mq_close(ro);
	mq_close(q2);
	mq_close(q);
}

static void errors(void) {
	char longname[300];
	memset(longname, 'n', sizeof longname);
	longname[256] = 0;
	struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
	EXPECT_ERR(mq_open("noslash", O_RDWR), EINVAL); /* glibc's check */
	EXPECT_ERR(syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL), EACCES);
	EXPECT_ERR(syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL), ENOENT);
	EXPECT_ERR(syscall(SYS_mq_open, ".", O_RDWR | O_CREAT, 0600, NULL), EACCES);
	EXPECT_ERR(syscall(SYS_mq_open, "..", O_RDWR | O_CREAT, 0600, NULL), EACCES);
	EXPECT_ERR(syscall(SYS_mq_open, longname, O_RDWR | O_CREAT, 0600, NULL), ENAMETOOLONG);
	longname[255] = 0;
	EXPECT_ERR(syscall(SYS_mq_open, longname, O_RDWR, 0600, NULL), ENOENT);
	EXPECT_ERR(syscall(SYS_mq_open, (void *)8, O_RDWR | O_CREAT, 0600, NULL), EFAULT);
	EXPECT_ERR(syscall(SYS_mq_open, qname(1) + 1, O_RDWR | O_CREAT, 0600, (void *)8), EFAULT);
	EXPECT_ERR(syscall(SYS_mq_open, (void *)8, O_RDWR | O_CREAT, 0600, (void *)8), EFAULT);
	EXPECT_ERR(mq_open(qname(1), O_RDWR), ENOENT);
	a.mq_maxmsg = 0;
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = -1;
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = 4;
	a.mq_msgsize = 0;
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_msgsize = 64;
	a.mq_maxmsg = 65537;
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = 4;
	a.mq_msgsize = (16 << 20) + 1;
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	/* (Whether root may pass msg_max depends on CAP_SYS_RESOURCE, which
	 * the host's root may lack: not tested here.) */
	a.mq_maxmsg = 10;
	a.mq_msgsize = 128;
	mqd_t q = EXPECT_OK(mq_open(qname(1), O_RDWR | O_CREAT | O_EXCL, 0640, &a));
	show_attr(q);
	/* Attributes count only for a new queue. */
	a.mq_maxmsg = 0;
	mqd_t q2 = EXPECT_OK(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a));
	show_attr(q2);
	mq_close(q2);
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_WRONLY), EINVAL);
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_WRONLY | O_CREAT | O_EXCL, 0600, NULL), EEXIST);
	EXPECT_ERR(mq_send(q, "x", 1, 32768), EINVAL);
	EXPECT_ERR(mq_send(-1, "x", 1, 32768), EINVAL);
	EXPECT_ERR(mq_send(-1, "x", 1, 0), EBADF);
	EXPECT_ERR(mq_send(0x7ffffff, "x", 1, 0), EBADF);
	EXPECT_ERR(mq_send(1, "x", 1, 0), EBADF);
	char buf[200];
	EXPECT_ERR(mq_receive(1, buf, sizeof buf, NULL), EBADF);
	struct timespec bad = {0, -5};
	EXPECT_ERR(mq_timedsend(-1, "x", 1, 32768, &bad), EINVAL);
	EXPECT_ERR(syscall(SYS_mq_timedsend, -1, "x", 1, 32768, (void *)8), EFAULT);
	EXPECT_ERR(mq_send(q, buf, 129, 0), EMSGSIZE);
	EXPECT_ERR(mq_receive(q, buf, 127, NULL), EMSGSIZE);
	EXPECT_ERR(mq_notify(-1, NULL), EBADF);
	EXPECT_ERR(mq_notify(1, NULL), EBADF);
	struct sigevent ev = {.sigev_notify = 99};
	EXPECT_ERR(mq_notify(-1, &ev), EINVAL);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 65;
	EXPECT_ERR(mq_notify(q, &ev), EINVAL);
	ev.sigev_signo = -1;
	EXPECT_ERR(mq_notify(q, &ev), EINVAL);
	ev.sigev_signo = SIGUSR1;
	EXPECT_ERR(mq_notify(-1, &ev), EBADF);
	EXPECT_ERR(syscall(SYS_mq_notify, q, (void *)8), EFAULT);
	EXPECT_ERR(syscall(SYS_mq_unlink, ""), ENOENT);
	EXPECT_ERR(syscall(SYS_mq_unlink, "a/b"), EACCES);
	EXPECT_ERR(syscall(SYS_mq_unlink, (void *)8), EFAULT);
	EXPECT_ERR(mq_unlink("noslash"), EINVAL); /* glibc's check */
	EXPECT_OK(mq_unlink(qname(1)));
	mq_close(q);
}

/* Blocking calls woken by another process. */
static void blocking(void) {
	mqd_t q = EXPECT_OK(mkq(2, O_RDWR, 2, 16));
	char buf[16];
	unsigned pr = 0;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		msleep(50);
		mq_send(q, "wake", 4, 7);
		_exit(0);
	}
	ssize_t n = mq_receive(q, buf, sizeof buf, &pr);
	printf("blocked receive: %zd \"%.*s\" prio %u\n", n, (int)(n > 0 ? n : 0), buf, pr);
	waitpid(c, NULL, 0);
	show_attr(q);

	/* A full queue: the sender waits for a receiver, whose room it takes. */
	EXPECT_OK(mq_send(q, "one", 3, 1));
	EXPECT_OK(mq_send(q, "two", 3, 1));
	fflush(stdout);
	c = fork();
	if (c == 0) {
		msleep(50);
		char b[16];
		ssize_t m = mq_receive(q, b, sizeof b, NULL);
		printf("child received %zd \"%.*s\"\n", m, (int)(m > 0 ? m : 0), b);
		fflush(stdout);
		_exit(0);
	}
	struct timespec ts = after(10000);
	int r = mq_timedsend(q, "three", 5, 1, &ts);
	waitpid(c, NULL, 0);
	printf("blocked send: %d\n", r);
	for (int i = 0; i < 2; i++) {
		n = mq_receive(q, buf, sizeof buf, &pr);
		printf("then: %zd \"%.*s\" prio %u\n", n, (int)(n > 0 ? n : 0), buf, pr);
	}

	/* Two waiting receivers are served in order of arrival. */
	fflush(stdout);
	pid_t k1 = fork();
	if (k1 == 0) {
		char b[16];
		ssize_t m = mq_receive(q, b, sizeof b, NULL);
		printf("first receiver got \"%.*s\"\n", (int)(m > 0 ? m : 0), b);
		fflush(stdout);
		_exit(0);
	}
	msleep(50);
	pid_t k2 = fork();
	if (k2 == 0) {
		char b[16];
		ssize_t m = mq_receive(q, b, sizeof b, NULL);
		printf("second receiver got \"%.*s\"\n", (int)(m > 0 ? m : 0), b);
		fflush(stdout);
		_exit(0);
	}
	msleep(50);
	/* (Results printed once the children are done: their lines and ours
	 * would race.) */
	int r1 = mq_send(q, "x1", 2, 0);
	waitpid(k1, NULL, 0);
	int r2 = mq_send(q, "x2", 2, 5);
	waitpid(k2, NULL, 0);
	printf("sends to waiting receivers: %d %d\n", r1, r2);
	show_attr(q);
	EXPECT_OK(mq_unlink(qname(2)));
	mq_close(q);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) {
	(void)sig;
	got_usr1++;
}

/* Signals: EINTR without SA_RESTART, a restart with it. */
static void interrupted(void) {
	mqd_t q = EXPECT_OK(mkq(3, O_RDWR, 1, 16));
	char buf[16];
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		msleep(100);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	struct timespec ts = after(10000);
	EXPECT_ERR(mq_timedreceive(q, buf, sizeof buf, NULL, &ts), EINTR);
	waitpid(c, NULL, 0);
	CHECK("handler ran", got_usr1 == 1);
	EXPECT_OK(mq_send(q, "full", 4, 0));
	c = fork();
	if (c == 0) {
		msleep(100);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	ts = after(10000);
	EXPECT_ERR(mq_timedsend(q, "more", 4, 0, &ts), EINTR);
	waitpid(c, NULL, 0);
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 4);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	c = fork();
	if (c == 0) {
		msleep(100);
		kill(parent, SIGUSR1);
		msleep(50);
		mq_send(q, "after", 5, 2);
		_exit(0);
	}
	ts = after(10000);
	ssize_t n = mq_timedreceive(q, buf, sizeof buf, NULL, &ts);
	printf("restarted receive: %zd \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
	waitpid(c, NULL, 0);
	CHECK("handler ran again", got_usr1 == 3);
	signal(SIGUSR1, SIG_DFL);
	EXPECT_OK(mq_unlink(qname(3)));
	mq_close(q);
}

static volatile sig_atomic_t notified, n_code, n_pid, n_uid, n_value, n_signo;
static void on_notify(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	notified++;
	n_signo = sig;
	n_code = si->si_code;
	n_pid = si->si_pid;
	n_uid = si->si_uid;
	n_value = si->si_value.sival_int;
}

static int wait_notified(int want) {
	for (int i = 0; i < 500 && notified < want; i++)
		msleep(10);
	return notified;
}

static void notify(void) {
	mqd_t q = EXPECT_OK(mkq(4, O_RDWR, 4, 16));
	char buf[16];
	int r;
	struct sigaction sa = {.sa_sigaction = on_notify, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR2, &sa, NULL);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
	ev.sigev_value.sival_int = 4242;
	status("before mq_notify", q, 0);
	EXPECT_OK(mq_notify(q, &ev));
	status("registered", q, getpid());
	EXPECT_ERR(mq_notify(q, &ev), EBUSY);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		/* Another process: EBUSY, and its unregistering changes nothing. */
		EXPECT_ERR(mq_notify(q, &ev), EBUSY);
		EXPECT_OK(mq_notify(q, NULL));
		mq_send(q, "from child", 10, 1);
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	EXPECT_EQ(wait_notified(1), 1);
	printf("siginfo: signo=%d code=%d (SI_MESGQ=%d) value=%d uid=%d pid is the sender's: %s\n", (int)n_signo,
	       (int)n_code, SI_MESGQ, (int)n_value, (int)n_uid, n_pid == c ? "yes" : "no");
	status("after the notification", q, 0);
	/* Gone once sent: another message sends nothing. */
	EXPECT_OK(mq_send(q, "again", 5, 1));
	msleep(20);
	EXPECT_EQ(notified, 1);
	/* Only a transition from empty notifies. */
	EXPECT_OK(mq_notify(q, &ev));
	EXPECT_OK(mq_send(q, "third", 5, 1));
	msleep(20);
	EXPECT_EQ(notified, 1);
	status("still registered", q, getpid());
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL) > 0, 1);
	EXPECT_OK(mq_send(q, "fourth", 6, 1));
	EXPECT_EQ(wait_notified(2), 2);
	CHECK("the sender is us", n_pid == getpid());
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 6);

	/* A receiver waiting takes the message: no notification, it stays. */
	EXPECT_OK(mq_notify(q, &ev));
	c = fork();
	if (c == 0) {
		char b[16];
		ssize_t m = mq_receive(q, b, sizeof b, NULL);
		printf("waiting receiver got %zd\n", m);
		fflush(stdout);
		_exit(0);
	}
	msleep(100);
	r = mq_send(q, "direct", 6, 1);
	waitpid(c, NULL, 0);
	printf("direct send: %d\n", r);
	msleep(20);
	EXPECT_EQ(notified, 2);
	status("registered after a direct send", q, getpid());
	show_attr(q);

	/* Unregistering with NULL. */
	EXPECT_OK(mq_notify(q, NULL));
	status("unregistered", q, 0);
	EXPECT_OK(mq_notify(q, NULL));
	EXPECT_OK(mq_send(q, "quiet", 5, 1));
	msleep(20);
	EXPECT_EQ(notified, 2);
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 5);

	/* SIGEV_NONE registers and sends nothing; signal 0 likewise. */
	ev.sigev_notify = SIGEV_NONE;
	EXPECT_OK(mq_notify(q, &ev));
	status("SIGEV_NONE", q, getpid());
	EXPECT_OK(mq_send(q, "none", 4, 1));
	status("SIGEV_NONE fired", q, 0);
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 4);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 0;
	EXPECT_OK(mq_notify(q, &ev));
	status("signal 0", q, getpid());
	EXPECT_OK(mq_send(q, "zero", 4, 1));
	status("signal 0 fired", q, 0);
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 4);
	msleep(20);
	EXPECT_EQ(notified, 2);

	/* A registration of a process that exited is gone. */
	c = fork();
	if (c == 0) {
		struct sigevent e2 = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
		_exit(mq_notify(q, &e2) == 0 ? 0 : 1);
	}
	waitpid(c, &st, 0);
	printf("child registered: exit %d\n", WEXITSTATUS(st));
	ev.sigev_signo = SIGUSR2;
	EXPECT_OK(mq_notify(q, &ev));
	EXPECT_OK(mq_notify(q, NULL));

	/* Exec closes mq_open's descriptors (close-on-exec): the process's
	 * registration made through one goes, so after the exec it may
	 * register again. */
	c = fork();
	if (c == 0) {
		mqd_t cq = mq_open(qname(4), O_RDONLY);
		struct sigevent e2 = {.sigev_notify = SIGEV_NONE};
		if (cq < 0 || mq_notify(cq, &e2) != 0)
			_exit(3);
		execl(self, self, "after-exec", qname(4), (char *)NULL);
		_exit(4);
	}
	waitpid(c, &st, 0);
	printf("exec child: exit %d\n", WEXITSTATUS(st));
	status("after the exec child", q, 0);

	/* Closing a descriptor of the queue drops the closer's registration. */
	mqd_t q2 = EXPECT_OK(mq_open(qname(4), O_RDONLY));
	EXPECT_OK(mq_notify(q2, &ev));
	status("registered through q2", q, getpid());
	mq_close(q2);
	status("after closing q2", q, 0);
	signal(SIGUSR2, SIG_DFL);
	EXPECT_OK(mq_unlink(qname(4)));
	mq_close(q);
}

static pthread_mutex_t th_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t th_cv = PTHREAD_COND_INITIALIZER;
static int th_value = -1;

static void on_thread(union sigval v) {
	pthread_mutex_lock(&th_mu);
	th_value = v.sival_int;
	pthread_cond_signal(&th_cv);
	pthread_mutex_unlock(&th_mu);
}

/* SIGEV_THREAD: glibc's helper thread hears the kernel on a netlink
 * socket and starts the function. */
static void thread_notify(void) {
	mqd_t q = EXPECT_OK(mkq(5, O_RDWR, 4, 16));
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_thread};
	ev.sigev_value.sival_int = 77;
	EXPECT_OK(mq_notify(q, &ev));
	status("SIGEV_THREAD", q, getpid());
	EXPECT_ERR(mq_notify(q, &ev), EBUSY);
	EXPECT_OK(mq_send(q, "t", 1, 0));
	pthread_mutex_lock(&th_mu);
	struct timespec ts = after(5000);
	while (th_value == -1 && pthread_cond_timedwait(&th_cv, &th_mu, &ts) == 0) {
	}
	printf("notification thread ran with value %d\n", th_value);
	pthread_mutex_unlock(&th_mu);
	status("SIGEV_THREAD fired", q, 0);
	/* Registered and removed again: the helper frees its state. */
	EXPECT_OK(mq_notify(q, &ev));
	EXPECT_OK(mq_notify(q, NULL));
	/* The raw call checks the socket: not one, or not netlink. */
	char cookie[32] = {0};
	struct sigevent raw = {.sigev_notify = SIGEV_THREAD, .sigev_signo = 1};
	raw.sigev_value.sival_ptr = cookie;
	EXPECT_ERR(syscall(SYS_mq_notify, q, &raw), ENOTSOCK);
	raw.sigev_signo = -1;
	EXPECT_ERR(syscall(SYS_mq_notify, q, &raw), EBADF);
	raw.sigev_value.sival_ptr = (void *)8;
	EXPECT_ERR(syscall(SYS_mq_notify, q, &raw), EFAULT);
	EXPECT_OK(mq_unlink(qname(5)));
	mq_close(q);
}

static void polling(void) {
	mqd_t q = EXPECT_OK(mkq(6, O_RDWR, 2, 16));
	mqd_t wo = EXPECT_OK(mq_open(qname(6), O_WRONLY));
	struct pollfd p[2] = {{q, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0},
			      {wo, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0}};
	EXPECT_EQ(poll(p, 2, 0), 2);
	printf("empty: %#x %#x\n", p[0].revents, p[1].revents);
	EXPECT_OK(mq_send(q, "a", 1, 0));
	EXPECT_EQ(poll(p, 2, 0), 2);
	printf("one message: %#x %#x\n", p[0].revents, p[1].revents);
	EXPECT_OK(mq_send(q, "b", 1, 0));
	EXPECT_EQ(poll(p, 2, 0), 2);
	printf("full: %#x %#x\n", p[0].revents, p[1].revents);
	char buf[16];
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
	EXPECT_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
	/* A poll for input woken by another process's send. */
	p[0].events = POLLIN;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		msleep(50);
		mq_send(q, "c", 1, 0);
		_exit(0);
	}
	EXPECT_EQ(poll(p, 1, 10000), 1);
	printf("woken: %#x\n", p[0].revents);
	waitpid(c, NULL, 0);
	EXPECT_OK(mq_unlink(qname(6)));
	mq_close(wo);
	mq_close(q);
}

/* As nobody: permissions, the unprivileged limits, unlinking others'
 * queues. */
static void as_nobody(void) {
	if (setgid(65534) != 0 || setuid(65534) != 0) {
		printf("setuid: FAIL\n");
		ukt_failures++;
		return;
	}
	EXPECT_ERR(mq_open(qname(7), O_RDONLY), EACCES);
	EXPECT_ERR(mq_open(qname(7), O_WRONLY), EACCES);
	EXPECT_ERR(mq_open(qname(7), O_RDWR | O_CREAT, 0600, NULL), EACCES);
	EXPECT_ERR(mq_open(qname(7), O_RDWR | O_CREAT | O_EXCL, 0600, NULL), EEXIST);
	EXPECT_ERR(mq_unlink(qname(7)), EACCES); /* glibc's, for the kernel's EPERM */
	EXPECT_ERR(syscall(SYS_mq_unlink, qname(7) + 1), EPERM);
	mqd_t r = EXPECT_OK(mq_open(qname(0), O_RDONLY));
	EXPECT_ERR(mq_open(qname(0), O_WRONLY), EACCES);
	mq_close(r);
	EXPECT_ERR(mq_unlink(qname(0)), EACCES);
	struct mq_attr a = {.mq_maxmsg = 11, .mq_msgsize = 128};
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = 10;
	a.mq_msgsize = 8193;
	EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_msgsize = 8192;
	mqd_t q = EXPECT_OK(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a));
	show_attr(q);
	struct stat st;
	EXPECT_OK(fstat(q, &st));
	printf("owner: %d %d\n", (int)st.st_uid, (int)st.st_gid);
	mq_close(q);
	mqd_t d = EXPECT_OK(mq_open(qname(1), O_RDWR | O_CREAT, 0600, NULL));
	show_attr(d);
	mq_close(d);
	EXPECT_OK(mq_unlink(qname(1)));
	EXPECT_ERR(open("/proc/sys/fs/mqueue/msg_max", O_WRONLY), EACCES);
}

static void permissions(void) {
	mqd_t q = EXPECT_OK(mkq(7, O_RDWR, 2, 16));
	mqd_t q0 = EXPECT_OK(mq_open(qname(0), O_RDWR | O_CREAT | O_EXCL, 0644, NULL));
	ukt_in_child("as nobody", as_nobody);
	EXPECT_OK(mq_unlink(qname(7)));
	EXPECT_OK(mq_unlink(qname(0)));
	mq_close(q);
	mq_close(q0);
}

static void rlimit(void) {
	struct rlimit rl;
	getrlimit(RLIMIT_MSGQUEUE, &rl);
	printf("RLIMIT_MSGQUEUE: %ld %ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		struct rlimit small = {4096, 4096};
		setrlimit(RLIMIT_MSGQUEUE, &small);
		struct mq_attr a = {.mq_maxmsg = 10, .mq_msgsize = 8192};
		EXPECT_ERR(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a), EMFILE);
		a.mq_maxmsg = 2;
		a.mq_msgsize = 1024;
		mqd_t q = EXPECT_OK(mq_open(qname(1), O_RDWR | O_CREAT, 0600, &a));
		/* 2*1024 + 4*48 of 4096 reserved: a second one does not fit. */
		EXPECT_ERR(mq_open(qname(2), O_RDWR | O_CREAT, 0600, &a), EMFILE);
		EXPECT_OK(mq_unlink(qname(1)));
		/* Still open: its bytes are still reserved. */
		EXPECT_ERR(mq_open(qname(2), O_RDWR | O_CREAT, 0600, &a), EMFILE);
		mq_close(q);
		mqd_t q2 = EXPECT_OK(mq_open(qname(2), O_RDWR | O_CREAT, 0600, &a));
		mq_close(q2);
		EXPECT_OK(mq_unlink(qname(2)));
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("rlimit child: exit %d\n", WEXITSTATUS(st));
}

static void sysctls(void) {
	const char *files[] = {"queues_max", "msg_max", "msgsize_max", "msg_default", "msgsize_default"};
	for (int i = 0; i < 5; i++) {
		char path[64], buf[32] = {0};
		snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", files[i]);
		int fd = open(path, O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
		printf("%s: %s", files[i], n > 0 ? buf : "FAIL\n");
		if (fd >= 0)
			close(fd);
	}
	/* Writes of values out of range fail; the current value is accepted. */
	const char *writes[] = {"0\n", "65537\n", "abc\n", "10\n"};
	for (int i = 0; i < 4; i++) {
		int fd = open("/proc/sys/fs/mqueue/msg_max", O_WRONLY);
		errno = 0;
		ssize_t n = write(fd, writes[i], strlen(writes[i]));
		printf("write msg_max %.*s: %s\n", (int)strlen(writes[i]) - 1, writes[i],
		       n < 0 ? errname(errno) : "ok");
		close(fd);
	}
}

static void filesystem(void) {
	char dir[64], path[128];
	snprintf(dir, sizeof dir, "/tmp/ukmq-%d", (int)getpid());
	EXPECT_OK(mkdir(dir, 0755));
	if (EXPECT_OK(mount("none", dir, "mqueue", 0, NULL)) == -1) {
		rmdir(dir);
		return;
	}
	struct statfs sf;
	EXPECT_OK(statfs(dir, &sf));
	printf("statfs: type %#lx namelen %ld\n", (long)sf.f_type, (long)sf.f_namelen);
	struct stat st;
	EXPECT_OK(stat(dir, &st));
	printf("root: mode %o uid %d\n", st.st_mode, (int)st.st_uid);

	mqd_t q = EXPECT_OK(mkq(0, O_RDWR, 3, 32));
	EXPECT_OK(mq_send(q, "1234567", 7, 1));
	snprintf(path, sizeof path, "%s%s", dir, qname(0));
	EXPECT_OK(stat(path, &st));
	printf("queue file: mode %o size %ld nlink %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
	int fd = EXPECT_OK(open(path, O_RDONLY));
	char buf[128];
	ssize_t n = read(fd, buf, sizeof buf);
	printf("read through the mount: %zd \"%.*s\"\n", n, (int)(n > 0 ? n - 1 : 0), buf);
	/* The opened file is a queue descriptor too. */
	EXPECT_EQ(mq_receive(fd, buf, sizeof buf, NULL), 7);
	close(fd);
	int found = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, qname(0) + 1) == 0)
			found = e->d_type == DT_REG;
	if (d)
		closedir(d);
	CHECK("readdir lists the queue", found);

	/* open(2) with O_CREAT makes a queue with the default attributes. */
	snprintf(path, sizeof path, "%s%s", dir, qname(1));
	fd = EXPECT_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	close(fd);
	mqd_t q1 = EXPECT_OK(mq_open(qname(1), O_RDWR));
	show_attr(q1);
	mq_close(q1);
	EXPECT_OK(unlink(path));
	EXPECT_ERR(mq_open(qname(1), O_RDWR), ENOENT);
	snprintf(path, sizeof path, "%s/sub-%d", dir, (int)getpid());
	EXPECT_ERR(mkdir(path, 0755), EPERM);
	EXPECT_ERR(mknod(path, S_IFIFO | 0600, 0), EPERM);
	EXPECT_ERR(symlink("x", path), EPERM);
	/* mq_unlink shows through the mount. */
	snprintf(path, sizeof path, "%s%s", dir, qname(0));
	EXPECT_OK(mq_unlink(qname(0)));
	EXPECT_ERR(stat(path, &st), ENOENT);
	mq_close(q);
	EXPECT_OK(umount(dir));
	EXPECT_OK(rmdir(dir));
}

/* after_exec runs in a process that registered on queue name before its
 * exec: its registration must be gone. */
static int after_exec(const char *name) {
	mqd_t q = mq_open(name, O_RDONLY);
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	int r = mq_notify(q, &ev);
	int e = errno;
	printf("after exec, mq_notify: %d %s\n", r, r ? errname(e) : "");
	mq_notify(q, NULL);
	return 0;
}

int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[1], "after-exec") == 0)
		return after_exec(argv[2]);
	self = argv[0];
	basics();
	errors();
	blocking();
	interrupted();
	notify();
	thread_notify();
	polling();
	permissions();
	rlimit();
	sysctls();
	filesystem();
	return ukt_exit();
}
