/*
 * sysv_sem.c: System V semaphores (semget, semop, semtimedop, semctl).
 *
 * Keys and their errors; semctl's commands, their limits and errors;
 * semop's all-or-none rule (an operation that cannot go leaves every value
 * as it was), operations on one semaphore twice, IPC_NOWAIT, timeouts;
 * tasks sleeping in forked children: which one a change wakes, what
 * GETNCNT and GETZCNT count (a complex operation counts only on the
 * semaphore it waits for), a signal (EINTR even with SA_RESTART), IPC_RMID
 * (EIDRM); SEM_UNDO: applied when the process exits, clamped at 0, cleared
 * by SETVAL, kept by a thread's exit (threads share the undo list), and
 * waking a sleeper; what another user may do (setuid in a child); and
 * /proc/sysvipc/sem. It prints no ids, pids or times: only whether they
 * are what they should be. Every set it makes is removed.
 */
#include "uktest.h"

#include <pthread.h>
#include <signal.h>
#include <grp.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

#define BAD ((void *)8)

static int mkset(int n) { return semget(IPC_PRIVATE, n, IPC_CREAT | 0600); }

/* gone_set is the id of a set removed: no set can have it (another
 * process's set may have the id next to ours). */
static int gone_set(void) {
	int g = mkset(1);
	semctl(g, 0, IPC_RMID);
	return g;
}

static long ctl(int id, int num, int cmd, long arg) { return syscall(SYS_semctl, id, num, cmd, arg); }

static int setval(int id, int num, int v) { return semctl(id, num, SETVAL, (union semun){.val = v}); }

static int getval(int id, int num) { return semctl(id, num, GETVAL); }

static int op1(int id, int num, int op, int flg) {
	struct sembuf b = {.sem_num = num, .sem_op = op, .sem_flg = flg};
	return semop(id, &b, 1);
}

/* waitcnt waits up to 10 s for semctl(cmd) of semaphore num to be want. */
static int waitcnt(int id, int num, int cmd, int want) {
	for (int i = 0; i < 10000; i++) {
		if (semctl(id, num, cmd) == want)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* child forks a process that makes the n operations (with a timeout if ts)
 * and exits with 0 or the errno. */
static pid_t child(int id, struct sembuf *sops, int n, const struct timespec *ts) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int r = ts ? semtimedop(id, sops, n, ts) : semop(id, sops, n);
		_exit(r == 0 ? 0 : errno);
	}
	return p;
}

static pid_t child1(int id, int num, int op, int flg) {
	struct sembuf b = {.sem_num = num, .sem_op = op, .sem_flg = flg};
	return child(id, &b, 1, NULL);
}

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

static void keys(void) {
	char path[] = "/tmp/sysv_semXXXXXX";
	int fd = mkstemp(path);
	key_t key = ftok(path, 'S');
	CHECK("ftok", fd >= 0 && key != -1);
	EXPECT_ERR(semget(key, 1, 0600), ENOENT);
	int id = EXPECT_OK(semget(key, 3, IPC_CREAT | IPC_EXCL | 0600));
	EXPECT_ERR(semget(key, 3, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERR(semget(key, 4, 0), EINVAL);
	CHECK("semget(key, 2, 0) is the set", semget(key, 2, 0) == id);
	CHECK("semget(key, 0, IPC_CREAT) is the set", semget(key, 0, IPC_CREAT) == id);
	EXPECT_OK(semctl(id, 0, IPC_RMID));
	EXPECT_ERR(semget(key, 1, 0), ENOENT);
	EXPECT_ERR(semctl(id, 0, IPC_RMID), EINVAL);
	close(fd);
	unlink(path);

	EXPECT_ERR(semget(IPC_PRIVATE, 0, 0600), EINVAL);
	EXPECT_ERR(semget(IPC_PRIVATE, -1, 0600), EINVAL);
	EXPECT_ERR(semget(IPC_PRIVATE, 32001, 0600), EINVAL);
}

/* limits compares IPC_INFO with /proc/sys/kernel/sem. */
static void limits(int id) {
	long msl = 0, mns = 0, opm = 0, mni = 0;
	FILE *f = fopen("/proc/sys/kernel/sem", "r");
	CHECK("/proc/sys/kernel/sem", f && fscanf(f, "%ld %ld %ld %ld", &msl, &mns, &opm, &mni) == 4);
	if (f)
		fclose(f);
	struct seminfo si;
	memset(&si, 0xff, sizeof si);
	long maxidx = EXPECT_OK(semctl(0, 0, IPC_INFO, (union semun){.__buf = &si}));
	CHECK("IPC_INFO is the highest index", maxidx >= (id & 0x7fff));
	CHECK("IPC_INFO semmsl", si.semmsl == msl);
	CHECK("IPC_INFO semmns", si.semmns == mns);
	CHECK("IPC_INFO semopm", si.semopm == opm);
	CHECK("IPC_INFO semmni", si.semmni == mni);
	CHECK("IPC_INFO semvmx", si.semvmx == 32767);
	CHECK("IPC_INFO semaem, semusz", si.semaem == 32767 && si.semusz == 20);
	memset(&si, 0xff, sizeof si);
	EXPECT_OK(semctl(0, 0, SEM_INFO, (union semun){.__buf = &si}));
	CHECK("SEM_INFO counts sets and semaphores", si.semusz >= 1 && si.semaem >= 3);
	EXPECT_ERR(semctl(-1, 0, IPC_INFO, (union semun){.__buf = &si}), EINVAL);
	EXPECT_ERR(ctl(0, 0, IPC_INFO, (long)BAD), EFAULT);

	struct semid_ds ds;
	CHECK("SEM_STAT returns the id", semctl(id & 0x7fff, 0, SEM_STAT, (union semun){.buf = &ds}) == id);
	CHECK("SEM_STAT_ANY returns the id", semctl(id & 0x7fff, 0, SEM_STAT_ANY, (union semun){.buf = &ds}) == id);
}

static void control(void) {
	int id = EXPECT_OK(mkset(3));
	struct semid_ds ds;
	memset(&ds, 0xff, sizeof ds);
	EXPECT_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	CHECK("IPC_STAT nsems", ds.sem_nsems == 3);
	CHECK("IPC_STAT mode", (ds.sem_perm.mode & 0777) == 0600);
	CHECK("IPC_STAT owner", ds.sem_perm.uid == geteuid() && ds.sem_perm.cuid == geteuid());
	CHECK("IPC_STAT key", ds.sem_perm.__key == IPC_PRIVATE);
	CHECK("IPC_STAT otime 0, ctime set", ds.sem_otime == 0 && ds.sem_ctime != 0);

	EXPECT_EQ(getval(id, 1), 0);
	EXPECT_OK(setval(id, 1, 5));
	EXPECT_EQ(getval(id, 1), 5);
	EXPECT_EQ(semctl(id, 1, GETPID), getpid());
	EXPECT_EQ(semctl(id, 0, GETPID), 0);
	EXPECT_EQ(semctl(id, 1, GETNCNT), 0);
	EXPECT_EQ(semctl(id, 1, GETZCNT), 0);
	EXPECT_OK(setval(id, 1, 32767));
	EXPECT_ERR(setval(id, 1, 32768), ERANGE);
	EXPECT_ERR(setval(id, 1, -1), ERANGE);
	EXPECT_ERR(setval(-5, 1, -1), EINVAL);
	EXPECT_ERR(setval(gone_set(), 1, -1), ERANGE);
	EXPECT_ERR(setval(gone_set(), 1, 1), EINVAL);
	EXPECT_ERR(setval(id, 3, 1), EINVAL);
	EXPECT_ERR(setval(id, -1, 1), EINVAL);
	EXPECT_ERR(getval(id, 3), EINVAL);
	EXPECT_ERR(ctl(id, 0, 99, 0), EINVAL);
	EXPECT_ERR(ctl(id, 0, IPC_STAT | 0x100, (long)&ds), EINVAL);

	unsigned short vals[3] = {1, 2, 3}, got[3] = {9, 9, 9};
	EXPECT_OK(semctl(id, 0, SETALL, (union semun){.array = vals}));
	EXPECT_OK(semctl(id, 0, GETALL, (union semun){.array = got}));
	CHECK("GETALL after SETALL", got[0] == 1 && got[1] == 2 && got[2] == 3);
	vals[2] = 32768;
	EXPECT_ERR(semctl(id, 0, SETALL, (union semun){.array = vals}), ERANGE);
	EXPECT_EQ(getval(id, 2), 3);
	EXPECT_ERR(ctl(id, 0, SETALL, (long)BAD), EFAULT);
	EXPECT_ERR(ctl(id, 0, GETALL, (long)BAD), EFAULT);
	EXPECT_ERR(ctl(id, 0, IPC_STAT, (long)BAD), EFAULT);
	EXPECT_ERR(ctl(id, 0, IPC_SET, (long)BAD), EFAULT);

	ds.sem_perm.mode = 0640;
	EXPECT_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
	memset(&ds, 0, sizeof ds);
	semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
	CHECK("IPC_SET mode", (ds.sem_perm.mode & 0777) == 0640);
	ds.sem_perm.uid = (uid_t)-1;
	EXPECT_ERR(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}), EINVAL);

	limits(id);
	EXPECT_OK(semctl(id, 0, IPC_RMID));
	EXPECT_ERR(getval(id, 0), EINVAL);
}

static void ops(void) {
	int id = EXPECT_OK(mkset(3));
	struct sembuf two[2] = {{0, -1, 0}, {1, -1, IPC_NOWAIT}};
	EXPECT_OK(setval(id, 0, 1));
	EXPECT_ERR(semop(id, two, 2), EAGAIN);
	EXPECT_EQ(getval(id, 0), 1);
	EXPECT_OK(setval(id, 1, 1));
	EXPECT_OK(semop(id, two, 2));
	CHECK("both went", getval(id, 0) == 0 && getval(id, 1) == 0);

	struct sembuf dup[2] = {{0, 1, 0}, {0, -1, 0}};
	EXPECT_OK(semop(id, dup, 2));
	struct sembuf upwait[2] = {{0, 2, 0}, {0, -2, IPC_NOWAIT}};
	EXPECT_OK(semop(id, upwait, 2));
	struct sembuf zero2[2] = {{0, 1, 0}, {0, 0, IPC_NOWAIT}};
	EXPECT_ERR(semop(id, zero2, 2), EAGAIN);
	EXPECT_EQ(getval(id, 0), 0);
	EXPECT_OK(op1(id, 0, 0, IPC_NOWAIT));
	EXPECT_OK(op1(id, 2, 32767, 0));
	EXPECT_ERR(op1(id, 2, 1, 0), ERANGE);
	struct sembuf over[2] = {{1, 1, 0}, {2, 1, 0}};
	EXPECT_ERR(semop(id, over, 2), ERANGE);
	EXPECT_EQ(getval(id, 1), 0);
	EXPECT_ERR(op1(id, 2, 0, IPC_NOWAIT), EAGAIN);
	EXPECT_OK(setval(id, 2, 0));

	EXPECT_ERR(semop(id, two, 0), EINVAL);
	EXPECT_ERR(semop(id, BAD, 501), E2BIG);
	EXPECT_ERR(syscall(SYS_semop, id, BAD, 0xffffffffUL), E2BIG);
	EXPECT_ERR(semop(id, BAD, 1), EFAULT);
	EXPECT_ERR(semop(-1, two, 1), EINVAL);
	EXPECT_ERR(semop(gone_set(), two, 1), EINVAL);
	EXPECT_ERR(op1(id, 3, 1, 0), EFBIG);
	EXPECT_ERR(semtimedop(id, two, 0, BAD), EFAULT);
	struct timespec bad = {0, 1000000000};
	EXPECT_ERR(semtimedop(id, two, 1, &bad), EINVAL);
	bad.tv_sec = -1, bad.tv_nsec = 0;
	EXPECT_ERR(semtimedop(id, two, 1, &bad), EINVAL);

	struct sembuf dec = {0, -1, 0};
	struct timespec ts = {0, 50000000}, t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_ERR(semtimedop(id, &dec, 1, &ts), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK("semtimedop waited its timeout", ms >= 45);
	struct timespec none = {0, 0};
	EXPECT_ERR(semtimedop(id, &dec, 1, &none), EAGAIN);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 0);
	struct semid_ds ds;
	semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
	CHECK("semop set otime", ds.sem_otime != 0);
	EXPECT_OK(semctl(id, 0, IPC_RMID));
}

static void on_usr1(int sig) { (void)sig; }

static void sleepers(void) {
	int id = EXPECT_OK(mkset(2));
	/* Two decrements in line: one unit wakes the first. */
	pid_t a = child1(id, 0, -1, 0);
	CHECK("first sleeper counted", waitcnt(id, 0, GETNCNT, 1));
	pid_t b = child1(id, 0, -1, 0);
	CHECK("second sleeper counted", waitcnt(id, 0, GETNCNT, 2));
	EXPECT_OK(op1(id, 0, 1, 0));
	int st;
	CHECK("the first in line went first", waitpid(-1, &st, 0) == a);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 1);
	EXPECT_OK(op1(id, 0, 1, 0));
	reap("second sleeper", b);

	/* A larger decrement first does not hold up a smaller one. */
	a = child1(id, 0, -2, 0);
	CHECK("-2 counted", waitcnt(id, 0, GETNCNT, 1));
	b = child1(id, 0, -1, 0);
	CHECK("-1 counted", waitcnt(id, 0, GETNCNT, 2));
	EXPECT_OK(op1(id, 0, 1, 0));
	reap("-1 went past -2", b);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 1);
	EXPECT_OK(op1(id, 0, 2, 0));
	reap("-2 went", a);

	/* Waits for zero. */
	EXPECT_OK(setval(id, 1, 2));
	a = child1(id, 1, 0, 0);
	CHECK("zero waiter counted", waitcnt(id, 1, GETZCNT, 1));
	EXPECT_OK(op1(id, 1, -1, 0));
	EXPECT_EQ(semctl(id, 1, GETZCNT), 1);
	EXPECT_OK(op1(id, 1, -1, 0));
	reap("zero waiter", a);

	/* A complex operation counts on the semaphore it waits for. */
	EXPECT_OK(setval(id, 0, 1));
	struct sembuf both[2] = {{0, -1, 0}, {1, -1, 0}};
	a = child(id, both, 2, NULL);
	CHECK("complex sleeper counted on 1", waitcnt(id, 1, GETNCNT, 1));
	EXPECT_EQ(semctl(id, 0, GETNCNT), 0);
	EXPECT_EQ(semctl(id, 1, GETZCNT), 0);
	EXPECT_EQ(getval(id, 0), 1);
	b = child1(id, 1, -1, 0);
	CHECK("simple sleeper behind it", waitcnt(id, 1, GETNCNT, 2));
	EXPECT_OK(op1(id, 1, 1, 0));
	reap("complex sleeper", a);
	CHECK("both of its operations done", getval(id, 0) == 0 && getval(id, 1) == 0);
	EXPECT_EQ(semctl(id, 1, GETNCNT), 1);
	EXPECT_OK(op1(id, 1, 1, 0));
	reap("simple sleeper", b);

	/* One complex operation going can let an earlier one go: the
	 * sleepers are looked at again. */
	struct sembuf first[2] = {{0, -1, 0}, {1, 1, 0}}, second[2] = {{1, -1, 0}, {0, 1, 0}};
	a = child(id, first, 2, NULL);
	CHECK("first complex sleeper counted", waitcnt(id, 0, GETNCNT, 1));
	b = child(id, second, 2, NULL);
	CHECK("second complex sleeper counted", waitcnt(id, 1, GETNCNT, 1));
	EXPECT_OK(op1(id, 1, 1, 0));
	if (!waitcnt(id, 0, GETNCNT, 0)) {
		printf("the first complex sleeper still sleeps: FAIL\n");
		ukt_failures++;
		op1(id, 0, 1, 0);
	}
	reap("first complex sleeper", a);
	reap("second complex sleeper", b);
	CHECK("after both", getval(id, 0) == 0 && getval(id, 1) == 1);
	EXPECT_OK(setval(id, 1, 0));

	/* A signal with a handler (SA_RESTART too): EINTR. */
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	a = child1(id, 0, -1, 0);
	CHECK("sleeper to interrupt", waitcnt(id, 0, GETNCNT, 1));
	kill(a, SIGUSR1);
	reap("semop interrupted", a);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 0);
	struct sembuf dec = {0, -1, 0};
	struct timespec ts = {30, 0};
	a = child(id, &dec, 1, &ts);
	CHECK("timed sleeper to interrupt", waitcnt(id, 0, GETNCNT, 1));
	kill(a, SIGUSR1);
	reap("semtimedop interrupted", a);
	EXPECT_OK(setval(id, 1, 1));
	a = child1(id, 1, 0, 0);
	CHECK("zero waiter to interrupt", waitcnt(id, 1, GETZCNT, 1));
	kill(a, SIGUSR1);
	reap("wait for zero interrupted", a);

	/* IPC_RMID wakes every sleeper with EIDRM. */
	a = child1(id, 0, -1, 0);
	b = child1(id, 1, 0, 0);
	CHECK("sleepers before IPC_RMID", waitcnt(id, 0, GETNCNT, 1) && waitcnt(id, 1, GETZCNT, 1));
	EXPECT_OK(semctl(id, 0, IPC_RMID));
	reap("decrement at IPC_RMID", a);
	reap("wait for zero at IPC_RMID", b);
}

static int undo_id;

static void *undo_thread(void *arg) {
	(void)arg;
	if (op1(undo_id, 0, 1, SEM_UNDO) != 0)
		printf("thread semop: FAIL %s\n", errname(errno));
	return NULL;
}

static void undo_threads(void) {
	pthread_t th;
	pthread_create(&th, NULL, undo_thread, NULL);
	pthread_join(th, NULL);
	EXPECT_EQ(getval(undo_id, 0), 1);
}

static void undo(void) {
	int id = EXPECT_OK(mkset(2));
	undo_id = id;
	pid_t a = child1(id, 0, 2, SEM_UNDO);
	reap("+2 with SEM_UNDO", a);
	EXPECT_EQ(getval(id, 0), 0);
	EXPECT_OK(setval(id, 0, 5));
	a = child1(id, 0, -3, SEM_UNDO);
	reap("-3 with SEM_UNDO", a);
	EXPECT_EQ(getval(id, 0), 5);
	EXPECT_EQ(semctl(id, 0, GETPID), a);

	/* The undo is clamped at 0, and SETVAL clears it. */
	int p[2], q[2];
	pipe(p);
	pipe(q);
	fflush(stdout);
	a = fork();
	if (a == 0) {
		char c;
		op1(id, 1, 3, SEM_UNDO);
		op1(id, 0, 3, SEM_UNDO);
		write(p[1], "x", 1);
		read(q[0], &c, 1);
		_exit(0);
	}
	char c;
	read(p[0], &c, 1);
	EXPECT_OK(op1(id, 1, -2, 0));
	EXPECT_OK(setval(id, 0, 7));
	write(q[1], "x", 1);
	reap("child with undos", a);
	EXPECT_EQ(getval(id, 1), 0);
	EXPECT_EQ(getval(id, 0), 7);

	/* A thread's exit keeps the process's undo list; the process's
	 * exit applies it. */
	EXPECT_OK(setval(id, 0, 0));
	ukt_in_child("thread with SEM_UNDO", undo_threads);
	EXPECT_EQ(getval(id, 0), 0);

	/* An undo at exit wakes a sleeper. */
	EXPECT_OK(setval(id, 0, 1));
	fflush(stdout);
	a = fork();
	if (a == 0) {
		op1(id, 0, -1, SEM_UNDO);
		write(p[1], "x", 1);
		read(q[0], &c, 1);
		_exit(0);
	}
	read(p[0], &c, 1);
	pid_t b = child1(id, 0, -1, 0);
	CHECK("sleeper behind the holder", waitcnt(id, 0, GETNCNT, 1));
	write(q[1], "x", 1);
	reap("holder", a);
	reap("woken by the holder's undo", b);
	EXPECT_EQ(getval(id, 0), 0);

	/* An adjustment beyond -32768 is ERANGE, and changes nothing. */
	EXPECT_OK(op1(id, 1, 32767, SEM_UNDO));
	EXPECT_OK(op1(id, 1, -32767, 0));
	EXPECT_OK(op1(id, 1, 1, SEM_UNDO));
	EXPECT_OK(op1(id, 1, -1, 0));
	EXPECT_ERR(op1(id, 1, 1, SEM_UNDO), ERANGE);
	EXPECT_EQ(getval(id, 1), 0);
	EXPECT_OK(op1(id, 1, 1, 0));
	EXPECT_OK(setval(id, 1, 0));
	close(p[0]), close(p[1]), close(q[0]), close(q[1]);
	EXPECT_OK(semctl(id, 0, IPC_RMID));
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
	struct semid_ds ds;
	if (!nobody())
		return;
	EXPECT_ERR(getval(id, 0), EACCES);
	EXPECT_ERR(op1(id, 0, 0, IPC_NOWAIT), EACCES);
	EXPECT_ERR(op1(id, 0, 1, 0), EACCES);
	EXPECT_ERR(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}), EACCES);
	EXPECT_ERR(semctl(id & 0x7fff, 0, SEM_STAT, (union semun){.buf = &ds}), EACCES);
	CHECK("SEM_STAT_ANY", semctl(id & 0x7fff, 0, SEM_STAT_ANY, (union semun){.buf = &ds}) == id);
	EXPECT_ERR(setval(id, 0, 1), EACCES);
	EXPECT_ERR(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}), EPERM);
	EXPECT_ERR(semctl(id, 0, IPC_RMID), EPERM);
}

static void as_nobody_read(void) {
	int id = perm_id;
	if (!nobody())
		return;
	EXPECT_EQ(getval(id, 0), 4);
	EXPECT_OK(op1(id, 1, 0, IPC_NOWAIT));
	EXPECT_ERR(op1(id, 0, -1, IPC_NOWAIT), EACCES);
	unsigned short v[2];
	EXPECT_OK(semctl(id, 0, GETALL, (union semun){.array = v}));
	EXPECT_ERR(semctl(id, 0, SETALL, (union semun){.array = v}), EACCES);
}

static void perms(void) {
	perm_id = EXPECT_OK(mkset(2));
	EXPECT_OK(setval(perm_id, 0, 4));
	ukt_in_child("mode 0600 as nobody", as_nobody);
	struct semid_ds ds;
	semctl(perm_id, 0, IPC_STAT, (union semun){.buf = &ds});
	ds.sem_perm.mode = 0604;
	EXPECT_OK(semctl(perm_id, 0, IPC_SET, (union semun){.buf = &ds}));
	ukt_in_child("mode 0604 as nobody", as_nobody_read);
	EXPECT_OK(semctl(perm_id, 0, IPC_RMID));
}

static void sysvipc(void) {
	int id = EXPECT_OK(semget(IPC_PRIVATE, 7, IPC_CREAT | 0640));
	FILE *f = fopen("/proc/sysvipc/sem", "r");
	char line[512];
	int found = 0;
	CHECK("/proc/sysvipc/sem header", f && fgets(line, sizeof line, f) &&
		strcmp(line, "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n") == 0);
	while (f && fgets(line, sizeof line, f)) {
		int key, sid;
		unsigned mode, nsems;
		if (sscanf(line, "%d %d %o %u", &key, &sid, &mode, &nsems) == 4 && sid == id) {
			found = 1;
			printf("sysvipc/sem: key %d perms %o nsems %u\n", key, mode, nsems);
		}
	}
	if (f)
		fclose(f);
	CHECK("/proc/sysvipc/sem lists the set", found);
	EXPECT_OK(semctl(id, 0, IPC_RMID));
}

int main(void) {
	keys();
	control();
	ops();
	sleepers();
	undo();
	perms();
	sysvipc();
	return ukt_exit();
}
