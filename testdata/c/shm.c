/*
 * shm.c: System V shared memory (shmget, shmat, shmdt, shmctl).
 *
 * A segment shared across fork; IPC_STAT's fields; keys and their errors;
 * attach addresses (SHM_RND, SHM_REMAP, an occupied address); a read-only
 * attachment that faults on write; mprotect splitting an attachment (each
 * piece counts in shm_nattch) and shmdt taking all pieces; IPC_RMID while
 * attached (the id keeps working until the last detach, the key does not);
 * IPC_SET, SHM_LOCK, IPC_INFO, SHM_INFO, SHM_STAT; and what another user
 * may not do. It prints no ids, addresses, pids or times: only whether
 * they are what they should be. Every segment it makes is removed.
 *
 * Checking another user's rights needs root (setuid); the argument
 * "nouser" leaves that out for a native run as an ordinary user.
 */
#include "uktest.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define PAGE 4096L

static sigjmp_buf jump;

static void on_segv(int sig) {
	(void)sig;
	siglongjmp(jump, 1);
}

/* wrote reports whether a byte store to p completed (0: SIGSEGV). */
static int wrote(volatile char *p) {
	if (sigsetjmp(jump, 1))
		return 0;
	*p = 'x';
	return 1;
}

static struct shmid_ds st(int id) {
	struct shmid_ds ds;
	memset(&ds, 0xff, sizeof ds);
	if (shmctl(id, IPC_STAT, &ds) != 0)
		printf("IPC_STAT: %s FAIL\n", errname(errno));
	return ds;
}

/* mapsline prints the /proc/self/maps entry that starts at p, without its
 * address range and with the inode number compared to id. */
static void mapsline(void *p, int id) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	if (!f) {
		printf("/proc/self/maps: %s FAIL\n", errname(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned long start, end, off, ino;
		char perms[8], dev[16], name[256] = "";
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %255[^\n]", &start, &end, perms, &off, dev, &ino, name) < 6)
			continue;
		if (start != (unsigned long)p)
			continue;
		char *n = name;
		while (*n == ' ')
			n++;
		printf("maps: %s %08lx %s ino==id:%d %s pages:%ld\n", perms, off, dev, ino == (unsigned long)id, n,
		       (long)(end - start) / PAGE);
	}
	fclose(f);
}

/* sysvipc prints the /proc/sysvipc/shm line of segment id, comparing
 * what varies with what it should be. (Not shm_lpid: here the last to
 * touch the segment is a child that exited, which Linux records and uk,
 * whose lpid follows only shmat and shmdt, does not.) */
static void sysvipc(int id) {
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int seen = 0;
	if (!f) {
		printf("/proc/sysvipc/shm: %s FAIL\n", errname(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		int key, shmid, cpid, lpid;
		unsigned mode, uid, gid, cuid, cgid;
		unsigned long size, nattch, rss, swap;
		long long atime, dtime, ctime;
		if (sscanf(line, "%d %d %o %lu %d %d %lu %u %u %u %u %lld %lld %lld %lu %lu", &key, &shmid, &mode, &size,
			   &cpid, &lpid, &nattch, &uid, &gid, &cuid, &cgid, &atime, &dtime, &ctime, &rss, &swap) != 16 ||
		    shmid != id)
			continue;
		seen = 1;
		printf("sysvipc: key %d perms %o size %lu cpid==pid:%d nattch %lu owner==me:%d "
		       "times:%d rss %lu swap %lu\n",
		       key, mode, size, cpid == getpid(), nattch,
		       uid == getuid() && cuid == getuid() && gid == getgid() && cgid == getgid(),
		       atime > 0 && dtime > 0 && ctime > 0, rss, swap);
	}
	fclose(f);
	CHECK("/proc/sysvipc/shm lists the segment", seen);
}

/* asuser runs fn in a child whose uid and gid are 65534 and returns its
 * exit status. */
static int asuser(void (*fn)(int, int), int a, int b) {
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0) {
			printf("setuid: %s FAIL\n", errname(errno));
			_exit(1);
		}
		fn(a, b);
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void nobody(int key, int id) {
	struct shmid_ds ds;
	EXPECT_ERR(shmget(key, 0, 0600), EACCES);
	EXPECT_EQ(shmget(key, 0, 0) == id, 1);
	EXPECT_ERR(shmat(id, NULL, 0) == (void *)-1 ? -1 : 0, EACCES);
	EXPECT_ERR(shmctl(id, IPC_STAT, &ds), EACCES);
	EXPECT_EQ(shmctl(id & 0x7fff, SHM_STAT_ANY, &ds) == id, 1);
	EXPECT_ERR(shmctl(id, IPC_RMID, NULL), EPERM);
	EXPECT_ERR(shmctl(id, IPC_SET, &ds), EPERM);
	EXPECT_ERR(shmctl(id, SHM_LOCK, NULL), EPERM);
}

static void reader(int id, int unused) {
	(void)unused;
	char *p = shmat(id, NULL, SHM_RDONLY);
	CHECK("others attach 0644 read-only", p != (void *)-1);
	if (p != (void *)-1) {
		printf("others read: %s\n", p);
		shmdt(p);
	}
	EXPECT_ERR(shmat(id, NULL, 0) == (void *)-1 ? -1 : 0, EACCES);
	EXPECT_ERR(shmctl(id, IPC_RMID, NULL), EPERM);
}

int main(int argc, char **argv) {
	int others = !(argc > 1 && strcmp(argv[1], "nouser") == 0);
	struct sigaction sa = {.sa_handler = on_segv};
	sigaction(SIGSEGV, &sa, NULL);
	/* Keys of this run only: a native run must not meet another's. */
	key_t key = 0x756b0000 | (getpid() & 0xffff), nokey = key ^ 0x8000;
	for (int i = 0; i < 2; i++) {
		int stale = shmget(i ? key : nokey, 0, 0);
		if (stale >= 0)
			shmctl(stale, IPC_RMID, NULL);
	}

	/* Creation and IPC_STAT. */
	int id = EXPECT_OK(shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600));
	struct shmid_ds ds = st(id);
	CHECK("shm_segsz == 10000", ds.shm_segsz == 10000);
	CHECK("shm_nattch == 0", ds.shm_nattch == 0);
	CHECK("shm_cpid == getpid()", ds.shm_cpid == getpid());
	CHECK("shm_lpid == 0", ds.shm_lpid == 0);
	CHECK("shm_perm.mode == 0600", ds.shm_perm.mode == 0600);
	CHECK("shm_perm.__key == IPC_PRIVATE", ds.shm_perm.__key == IPC_PRIVATE);
	CHECK("uid, gid, cuid, cgid", ds.shm_perm.uid == getuid() && ds.shm_perm.cuid == getuid() &&
	      ds.shm_perm.gid == getgid() && ds.shm_perm.cgid == getgid());
	CHECK("shm_atime == 0, shm_dtime == 0, shm_ctime set", ds.shm_atime == 0 && ds.shm_dtime == 0 && ds.shm_ctime > 0);

	/* Shared across fork: the child writes, the parent reads. */
	char *p = shmat(id, NULL, 0);
	CHECK("shmat", p != (void *)-1);
	CHECK("shmat is page aligned", ((unsigned long)p & (PAGE - 1)) == 0);
	CHECK("a new segment reads zeros", p[0] == 0 && p[9999] == 0);
	ds = st(id);
	CHECK("attached: shm_nattch == 1", ds.shm_nattch == 1);
	CHECK("attached: shm_lpid == getpid(), shm_atime set", ds.shm_lpid == getpid() && ds.shm_atime > 0);
	mapsline(p, id);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK("child: shm_nattch == 2", st(id).shm_nattch == 2);
		strcpy(p + 5000, "written by the child");
		p[12287] = 'z'; /* the rest of the last page is the segment's too */
		_exit(ukt_failures ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK("child exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("parent reads: %s\n", p + 5000);
	CHECK("the segment's last page is shared whole", p[12287] == 'z');
	ds = st(id);
	CHECK("child gone: shm_nattch == 1", ds.shm_nattch == 1);
	CHECK("child gone: shm_dtime set", ds.shm_dtime > 0);
	sysvipc(id);

	/* Detached, the id alone keeps the contents. */
	EXPECT_OK(shmdt(p));
	EXPECT_ERR(shmdt(p), EINVAL);
	CHECK("detached: shm_nattch == 0", st(id).shm_nattch == 0);
	p = shmat(id, NULL, 0);
	printf("reattached reads: %s\n", p + 5000);

	/* Attach addresses. */
	char *area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERR(shmat(id, area + 1, 0) == (void *)-1 ? -1 : 0, EINVAL);
	EXPECT_ERR(shmat(id, area, 0) == (void *)-1 ? -1 : 0, EINVAL); /* occupied */
	EXPECT_ERR(shmat(id, NULL, SHM_REMAP) == (void *)-1 ? -1 : 0, EINVAL);
	char *q = shmat(id, area, SHM_REMAP);
	CHECK("SHM_REMAP replaces a mapping", q == area);
	printf("remapped reads: %s\n", q + 5000);
	CHECK("past the segment the old mapping stays", area[3 * PAGE] == 0);
	EXPECT_OK(shmdt(q));
	EXPECT_OK(munmap(area, 4 * PAGE));
	q = shmat(id, area + 123, SHM_RND);
	CHECK("SHM_RND rounds down", q == area);
	EXPECT_OK(shmdt(q));
	EXPECT_ERR(shmdt(area), EINVAL);
	EXPECT_ERR(shmdt(p + 1), EINVAL);
	EXPECT_ERR(shmat(-1, NULL, 0) == (void *)-1 ? -1 : 0, EINVAL);
	EXPECT_ERR(shmat(id + 1, NULL, 0) == (void *)-1 ? -1 : 0, EINVAL);

	/* Read-only attachments. */
	char *r = shmat(id, NULL, SHM_RDONLY);
	CHECK("SHM_RDONLY attach", r != (void *)-1);
	printf("read-only reads: %s\n", r + 5000);
	CHECK("a write to a SHM_RDONLY attachment faults", !wrote(r + 5000));
	EXPECT_ERR(mprotect(r, PAGE, PROT_READ | PROT_WRITE), EACCES);
	EXPECT_OK(mprotect(r, PAGE, PROT_READ | PROT_EXEC));
	CHECK("the writable attachment writes", wrote(p + 1));
	EXPECT_OK(shmdt(r));

	/* mprotect splits an attachment: each piece is an attach; shmdt takes
	 * them all. */
	EXPECT_OK(mprotect(p + PAGE, PAGE, PROT_READ));
	CHECK("split in three: shm_nattch == 3", st(id).shm_nattch == 3);
	EXPECT_OK(shmdt(p));
	CHECK("shmdt of the pieces: shm_nattch == 0", st(id).shm_nattch == 0);

	/* IPC_SET and SHM_LOCK. */
	memset(&ds, 0, sizeof ds);
	ds.shm_perm.uid = getuid();
	ds.shm_perm.gid = getgid();
	ds.shm_perm.mode = 01640;
	EXPECT_OK(shmctl(id, IPC_SET, &ds));
	CHECK("IPC_SET: mode 0640", st(id).shm_perm.mode == 0640);
	ds.shm_perm.uid = (uid_t)-1;
	EXPECT_ERR(shmctl(id, IPC_SET, &ds), EINVAL);
	EXPECT_OK(shmctl(id, SHM_LOCK, NULL));
	CHECK("SHM_LOCK: mode has SHM_LOCKED", st(id).shm_perm.mode == (SHM_LOCKED | 0640));
	EXPECT_OK(shmctl(id, SHM_UNLOCK, NULL));
	CHECK("SHM_UNLOCK: mode 0640", st(id).shm_perm.mode == 0640);

	/* IPC_INFO, SHM_INFO, SHM_STAT. */
	struct shminfo info;
	int maxidx = EXPECT_OK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info));
	CHECK("IPC_INFO: shmmin 1, shmseg == shmmni, shmmax >= 10000",
	      info.shmmin == 1 && info.shmseg == info.shmmni && info.shmmax >= 10000);
	CHECK("IPC_INFO returns at least the segment's index", maxidx >= (id & 0x7fff));
	struct shm_info use;
	CHECK("SHM_INFO returns the same", shmctl(0, SHM_INFO, (struct shmid_ds *)&use) == maxidx);
	CHECK("SHM_INFO: used_ids >= 1, shm_tot >= 3, shm_rss >= 3", use.used_ids >= 1 && use.shm_tot >= 3 && use.shm_rss >= 3);
	int found = 0;
	for (int i = 0; i <= maxidx; i++)
		if (shmctl(i, SHM_STAT, &ds) == id)
			found = ds.shm_segsz == 10000;
	CHECK("SHM_STAT by index finds the segment", found);
	/* Raw calls: the C library may judge these itself. */
	EXPECT_ERR(syscall(SYS_shmctl, id, IPC_STAT | 0x100, &ds), EINVAL); /* no IPC_64 on x86-64 */
	EXPECT_ERR(syscall(SYS_shmctl, id, 999, &ds), EINVAL);
	EXPECT_ERR(syscall(SYS_shmctl, -1, IPC_STAT, &ds), EINVAL);
	EXPECT_ERR(syscall(SYS_shmctl, id, IPC_STAT, 8), EFAULT);
	EXPECT_ERR(syscall(SYS_shmctl, id, IPC_SET, 8), EFAULT);
	EXPECT_ERR(syscall(SYS_shmctl, id, IPC_INFO, 8), EFAULT);
	EXPECT_OK(shmctl(id, IPC_RMID, NULL));
	EXPECT_ERR(shmctl(id, IPC_STAT, &ds), EINVAL);
	EXPECT_ERR(shmctl(id, IPC_RMID, NULL), EINVAL);

	/* Keys. */
	EXPECT_ERR(shmget(IPC_PRIVATE, 0, 0600), EINVAL);
	EXPECT_ERR(shmget(nokey, PAGE, 0600), ENOENT);
	int kid = EXPECT_OK(shmget(key, 2 * PAGE, IPC_CREAT | IPC_EXCL | 0644));
	CHECK("shmget finds the key", shmget(key, PAGE, 0) == kid);
	CHECK("IPC_CREAT finds the key", shmget(key, 0, IPC_CREAT | 0600) == kid);
	EXPECT_ERR(shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERR(shmget(key, 2 * PAGE + 1, 0), EINVAL);
	CHECK("shm_perm.__key is the key", st(kid).shm_perm.__key == key);

	/* Another user. */
	p = shmat(kid, NULL, 0);
	strcpy(p, "for everyone");
	if (others) {
		CHECK("nobody is refused a 0644 segment's writes", asuser(reader, kid, 0) == 0);
		EXPECT_OK(shmctl(kid, IPC_SET, &(struct shmid_ds){.shm_perm = {.uid = getuid(), .gid = getgid(), .mode = 0600}}));
		CHECK("nobody is refused a 0600 segment", asuser(nobody, key, kid) == 0);
	} else {
		EXPECT_OK(shmctl(kid, IPC_SET, &(struct shmid_ds){.shm_perm = {.uid = getuid(), .gid = getgid(), .mode = 0600}}));
	}

	/* IPC_RMID while attached: the id works on, the key does not. */
	EXPECT_OK(shmctl(kid, IPC_RMID, NULL));
	ds = st(kid);
	CHECK("removed: shm_perm.mode has SHM_DEST", ds.shm_perm.mode == (SHM_DEST | 0600));
	CHECK("removed: shm_perm.__key == IPC_PRIVATE", ds.shm_perm.__key == IPC_PRIVATE);
	CHECK("removed: shm_nattch == 1", ds.shm_nattch == 1);
	EXPECT_ERR(shmget(key, 0, 0), ENOENT);
	char *again = shmat(kid, NULL, 0);
	CHECK("a removed, attached segment attaches again", again != (void *)-1);
	printf("the removed segment reads: %s\n", again);
	CHECK("removed: shm_nattch == 2", st(kid).shm_nattch == 2);
	int kid2 = EXPECT_OK(shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0600));
	CHECK("the key makes a new segment", kid2 != kid && st(kid2).shm_perm.__key == key);
	EXPECT_OK(shmctl(kid2, IPC_RMID, NULL));
	EXPECT_OK(shmdt(again));
	CHECK("removed: shm_nattch == 1 again", st(kid).shm_nattch == 1);
	pid = fork();
	if (pid == 0) {
		printf("the child reads the removed segment: %s\n", p);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	EXPECT_OK(shmdt(p));
	EXPECT_ERR(shmctl(kid, IPC_STAT, &ds), EINVAL);
	EXPECT_ERR(shmat(kid, NULL, 0) == (void *)-1 ? -1 : 0, EINVAL);
	return ukt_exit();
}
