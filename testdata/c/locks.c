/* locks.c: advisory file locks between processes and descriptions,
 * compared with Linux (LTP's fcntl record-lock and flock cases): F_GETLK's
 * report of a conflicting lock (type, range, pid), F_SETLK's EAGAIN, read
 * locks shared, unlocking the middle of a lock, locks merged and split,
 * POSIX locks dropped when any descriptor of the file is closed, F_SETLKW
 * waiting for a release, EDEADLK for a wait that would close a cycle,
 * open file description locks (owned by the description, pid -1,
 * conflicting with POSIX locks), flock (per description, shared by dup
 * and fork, apart from record locks, released with the last descriptor)
 * and the argument errors. */
#include "uktest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>

static char path[64];
static pid_t parent;

static int setlk(int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* getlk prints what F_GETLK (or F_OFD_GETLK) says of a lock of type. */
static void getlk(const char *what, int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl) != 0) {
		printf("%s: FAIL %s\n", what, errname(errno));
		return;
	}
	if (fl.l_type == F_UNLCK) {
		printf("%s: unlocked\n", what);
		return;
	}
	printf("%s: %s at %ld len %ld by %s\n", what, fl.l_type == F_WRLCK ? "write" : "read", (long)fl.l_start,
	       (long)fl.l_len, fl.l_pid == parent ? "the parent" : fl.l_pid == -1 ? "-1" : "another");
}

/* inchild runs fn in a child and waits for it. */
static void inchild(void (*fn)(void)) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void probe(void) {
	int fd = open(path, O_RDWR);
	getlk("write over [0,5)", fd, F_GETLK, F_WRLCK, 0, 5);
	getlk("read over [0,5)", fd, F_GETLK, F_RDLCK, 0, 5);
	getlk("write over [45,50)", fd, F_GETLK, F_WRLCK, 45, 5);
	getlk("write over [30,45)", fd, F_GETLK, F_WRLCK, 30, 15);
	getlk("write over [100,+)", fd, F_GETLK, F_WRLCK, 100, 0);
	errno = 0;
	int r = setlk(fd, F_SETLK, F_WRLCK, 0, 5);
	printf("F_SETLK write over [0,5): %d %s\n", r, r ? errname(errno) : "");
	r = setlk(fd, F_SETLK, F_RDLCK, 200, 10);
	printf("F_SETLK read over [200,210): %d\n", r);
	close(fd);
}

static int ready[2];

/* sleeping waits until process pid waits in the kernel ('S' in
 * /proc/PID/stat): a child blocked in F_SETLKW (up to 10 s). */
static void sleeping(pid_t pid) {
	char path[64], st[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		st[0] = 0;
		if (f) {
			fgets(st, sizeof st, f);
			fclose(f);
		}
		char *p = strrchr(st, ')');
		if (p && p[1] && p[2] == 'S')
			return;
		usleep(10000);
	}
}

static void waiter(void) {
	int fd = open(path, O_RDWR);
	write(ready[1], "r", 1);
	int r = setlk(fd, F_SETLKW, F_WRLCK, 0, 1);
	printf("the child's F_SETLKW: %d\n", r);
}

static void deadlocker(void) {
	int fd = open(path, O_RDWR);
	setlk(fd, F_SETLK, F_WRLCK, 1, 1);
	write(ready[1], "r", 1);
	int r = setlk(fd, F_SETLKW, F_WRLCK, 0, 1); /* held by the parent */
	printf("the child's wait ends: %d\n", r);
}

static void flock_child(void) {
	int fd = open(path, O_RDWR);
	errno = 0;
	int r = flock(fd, LOCK_EX | LOCK_NB);
	printf("another description's LOCK_EX|LOCK_NB: %d %s\n", r, r ? errname(errno) : "");
	r = flock(fd, LOCK_SH | LOCK_NB);
	printf("another description's LOCK_SH|LOCK_NB: %d %s\n", r, r ? errname(errno) : "");
}

int main(void) {
	parent = getpid();
	snprintf(path, sizeof path, "/tmp/uk_locks_%d", getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "0123456789", 10);

	EXPECT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	inchild(probe);
	/* One lock over [0,100), then the middle unlocked. */
	EXPECT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	EXPECT_OK(setlk(fd, F_SETLK, F_UNLCK, 40, 20));
	inchild(probe);
	/* Read locks: the child can share them, not write. */
	EXPECT_OK(setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	EXPECT_OK(setlk(fd, F_SETLK, F_RDLCK, 0, 10));
	inchild(probe);
	/* A lock to the end of the file, from a negative length. */
	EXPECT_OK(setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	EXPECT_OK(setlk(fd, F_SETLK, F_WRLCK, 50, -20));
	inchild(probe);
	/* Closing any descriptor of the file drops the process's locks. */
	int other = open(path, O_RDONLY);
	close(other);
	inchild(probe);

	/* F_SETLKW waits for the lock to go. */
	pipe(ready);
	EXPECT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		waiter();
		fflush(stdout);
		_exit(0);
	}
	char b;
	read(ready[0], &b, 1);
	sleeping(c);
	printf("the parent unlocks\n");
	fflush(stdout);
	int unlocked = setlk(fd, F_SETLK, F_UNLCK, 0, 1); /* reported after the child, which wakes now */
	waitpid(c, NULL, 0);
	EXPECT_OK(unlocked);

	/* EDEADLK: the child holds [1,2) and waits for [0,1). */
	EXPECT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
	fflush(stdout);
	c = fork();
	if (c == 0) {
		deadlocker();
		fflush(stdout);
		_exit(0);
	}
	read(ready[0], &b, 1);
	sleeping(c); /* the child waits for [0,1) before the parent asks for [1,2) */
	EXPECT_ERR(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
	fflush(stdout);
	unlocked = setlk(fd, F_SETLK, F_UNLCK, 0, 1);
	waitpid(c, NULL, 0);
	EXPECT_OK(unlocked);

	/* Open file description locks. */
	int a = open(path, O_RDWR), d = open(path, O_RDWR);
	EXPECT_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	EXPECT_ERR(setlk(d, F_OFD_SETLK, F_WRLCK, 5, 1), EAGAIN);
	EXPECT_ERR(setlk(d, F_SETLK, F_WRLCK, 5, 1), EAGAIN); /* a POSIX lock meets it too */
	getlk("OFD lock seen from another description", d, F_OFD_GETLK, F_WRLCK, 0, 1);
	getlk("and by F_GETLK", d, F_GETLK, F_WRLCK, 0, 1);
	EXPECT_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 2, 3)); /* its own: no conflict */
	int e = open(path, O_RDONLY);
	close(e); /* closing another descriptor keeps OFD locks */
	EXPECT_ERR(setlk(d, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1};
	EXPECT_ERR(fcntl(d, F_OFD_SETLK, &fl), EINVAL);
	close(a); /* the description's last reference: its locks go */
	EXPECT_OK(setlk(d, F_OFD_SETLK, F_WRLCK, 0, 1));
	close(d);

	/* flock. */
	int f1 = open(path, O_RDWR), f2 = open(path, O_RDWR);
	EXPECT_OK(flock(f1, LOCK_EX));
	EXPECT_ERR(flock(f2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	EXPECT_OK(setlk(f2, F_SETLK, F_WRLCK, 0, 1)); /* record locks are apart */
	int f3 = dup(f1);
	EXPECT_OK(flock(f3, LOCK_EX)); /* the same description */
	inchild(flock_child);
	EXPECT_OK(flock(f1, LOCK_SH)); /* converted */
	inchild(flock_child);
	close(f1);
	EXPECT_ERR(flock(f2, LOCK_EX | LOCK_NB), EWOULDBLOCK); /* f3 still holds it */
	close(f3);
	EXPECT_OK(flock(f2, LOCK_EX | LOCK_NB));
	EXPECT_OK(flock(f2, LOCK_UN));
	EXPECT_OK(flock(f2, LOCK_UN));
	EXPECT_ERR(flock(f2, 64), EINVAL);
	EXPECT_OK(flock(f2, LOCK_SH | 32)); /* LOCK_MAND: ignored */

	/* Errors. */
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
	EXPECT_ERR(setlk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
	EXPECT_ERR(setlk(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
	EXPECT_ERR(setlk(fd, F_SETLK, F_WRLCK, 0x7fffffffffffffffL, 2), EOVERFLOW);
	EXPECT_ERR(setlk(fd, F_SETLK, F_WRLCK, 5, -10), EINVAL);
	EXPECT_ERR(setlk(fd, F_GETLK, F_UNLCK, 0, 1), EINVAL);
	EXPECT_ERR(setlk(fd, F_SETLK, 7, 0, 1), EINVAL);
	unlink(path);
	return ukt_exit();
}
