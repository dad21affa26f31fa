/* movepages: move_pages on a machine of one node. A query (no node list)
 * gives the node of each page a process has, -EFAULT where nothing is
 * mapped and -ENOENT where a mapping has no page yet; a move to node 0
 * gives the same; another node fails with ENODEV after the entries before
 * it were answered; flags, pids and unreadable arrays fail as on Linux,
 * and a query stops at the first chunk of 16 addresses it cannot read.
 * Another process's pages are queried by pid, an unprivileged caller may
 * not use MPOL_MF_MOVE_ALL. Pages uk maps ahead of faults (a fault's
 * neighbours, a read of untouched memory) are not asked about: Linux
 * reports those as -ENOENT or -EFAULT (its zero page), uk has them. */
#include "uktest.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MPOL_MF_STRICT 1
#define MPOL_MF_MOVE 2
#define MPOL_MF_MOVE_ALL 4
#define UNSET 0x55555555

static long move_pages(int pid, unsigned long n, void **pages, const int *nodes, int *status, int flags) {
	return syscall(SYS_move_pages, pid, n, pages, nodes, status, flags);
}

static void print_status(const char *what, const int *st, int n) {
	printf("%s:", what);
	for (int i = 0; i < n; i++) {
		if (st[i] == UNSET)
			printf(" unset");
		else
			printf(" %d", st[i]);
	}
	printf("\n");
}

static void unset(int *st, int n) {
	for (int i = 0; i < n; i++)
		st[i] = UNSET;
}

/* MOVE_ALL needs CAP_SYS_NICE. */
static void unprivileged(void) {
	static char page[4096];
	void *pg[] = {page};
	int st[1];
	page[0] = 1;
	EXPECT_OK(setuid(65534));
	EXPECT_ERR(move_pages(0, 1, pg, NULL, st, MPOL_MF_MOVE_ALL), EPERM);
	EXPECT_OK(move_pages(0, 1, pg, NULL, st, MPOL_MF_MOVE));
	EXPECT_ERR(move_pages(getppid(), 1, pg, NULL, st, 0), EPERM); /* root's */
}

int main(void) {
	long ps = 4096;
	/* A large mapping touched at its start: the middle stays untouched. */
	char *a = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *hole = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, 64 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *sh = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || hole == MAP_FAILED || none == MAP_FAILED || sh == MAP_FAILED)
		return 1;
	a[0] = 1;
	sh[0] = 1;
	hole[0] = hole[2 * ps] = 1;
	munmap(hole + ps, ps);
	void *pg[] = {a, a + 17, a + (32 << 20), hole + ps, none + (32 << 20), sh, (void *)0, (void *)0x7ffffffff000, hole + 2 * ps};
	enum { N = sizeof pg / sizeof pg[0] };
	int st[N], nodes[N];

	printf("pages: touched, inside the touched page, untouched, unmapped, PROT_NONE, shared, 0, top, after the hole\n");
	unset(st, N);
	EXPECT_OK(move_pages(0, N, pg, NULL, st, 0));
	print_status("query", st, N);
	unset(st, N);
	EXPECT_OK(move_pages(getpid(), N, pg, NULL, st, 0));
	print_status("query by own pid", st, N);
	for (int i = 0; i < N; i++)
		nodes[i] = 0;
	unset(st, N);
	EXPECT_OK(move_pages(0, N, pg, nodes, st, MPOL_MF_MOVE));
	print_status("move to node 0", st, N);
	unset(st, N);
	EXPECT_OK(move_pages(0, N, pg, nodes, st, 0));
	print_status("move to node 0, no flags", st, N);
	EXPECT_OK(move_pages(0, 0, pg, NULL, st, 0));
	EXPECT_OK(move_pages(0, 0, NULL, NULL, NULL, 0));

	/* Nodes that cannot hold pages: the entries before are answered. */
	int bad[] = {1, -1, 1024, 5000};
	for (int b = 0; b < 4; b++) {
		nodes[0] = bad[b];
		unset(st, N);
		EXPECT_ERR(move_pages(0, 2, pg, nodes, st, MPOL_MF_MOVE), ENODEV);
		print_status("first node bad", st, 2);
		nodes[0] = 0;
		nodes[2] = bad[b];
		unset(st, N);
		EXPECT_ERR(move_pages(0, 4, pg, nodes, st, MPOL_MF_MOVE), ENODEV);
		print_status("third node bad", st, 4);
		nodes[2] = 0;
	}

	/* Flags and pids. */
	EXPECT_ERR(move_pages(0, 1, pg, NULL, st, MPOL_MF_STRICT), EINVAL);
	EXPECT_ERR(move_pages(0, 1, pg, NULL, st, 8), EINVAL);
	EXPECT_ERR(move_pages(0, 1, pg, NULL, st, 1 << 31), EINVAL);
	EXPECT_OK(move_pages(0, 1, pg, NULL, st, MPOL_MF_MOVE_ALL)); /* root */
	EXPECT_ERR(move_pages(ukt_unused_pid(), 1, pg, NULL, st, 0), ESRCH);
	EXPECT_ERR(move_pages(-1, 1, pg, NULL, st, 0), ESRCH);
	EXPECT_ERR(move_pages(0, 1, pg, NULL, st, 3), EINVAL);

	/* Unreadable and unwritable arrays. */
	EXPECT_ERR(move_pages(0, 1, (void *)8, NULL, st, 0), EFAULT);
	EXPECT_ERR(move_pages(0, 1, pg, NULL, (void *)8, 0), EFAULT);
	EXPECT_ERR(move_pages(0, 1, pg, (void *)8, st, 0), EFAULT);
	EXPECT_ERR(move_pages(0, 1, (void *)8, nodes, st, 0), EFAULT);
	EXPECT_ERR(move_pages(0, 1, pg, nodes, (void *)8, 0), EFAULT);

	/* An address array ending in an unmapped page: a query answers the
	 * whole chunks of 16 before it, a move every entry before it. */
	void **pp = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int *many = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int *mnodes = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pp == MAP_FAILED || many == MAP_FAILED || mnodes == MAP_FAILED)
		return 1;
	munmap(pp + 512, ps);
	for (int i = 0; i < 512; i++)
		pp[i] = a;
	void **tail = pp + 512 - 5; /* 5 readable entries, then the hole */
	int counts[] = {5, 6, 16, 1 << 20};
	for (int c = 0; c < 4; c++) {
		unset(many, 64);
		long r = move_pages(0, counts[c], tail, NULL, many, 0);
		printf("query of %d from 5 readable: %ld %s, status", counts[c], r, r < 0 ? errname(errno) : "ok");
		print_status("", many, 6);
		unset(many, 64);
		r = move_pages(0, counts[c], tail, mnodes, many, 0);
		printf("move of %d from 5 readable: %ld %s, status", counts[c], r, r < 0 ? errname(errno) : "ok");
		print_status("", many, 6);
	}
	unset(many, 1024);
	long r = move_pages(0, 1UL << 40, pp, NULL, many, 0);
	int last = -1;
	for (int i = 0; i < 1024; i++)
		if (many[i] != UNSET)
			last = i;
	printf("query of 2^40 from 512 readable: %ld %s, last status written %d (%d)\n", r, r < 0 ? errname(errno) : "ok", last,
	       many[0]);

	/* Another process's pages, by pid: what it touched after the fork. */
	int p[2];
	if (pipe(p) != 0)
		return 1;
	char *mine = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t k = fork();
	if (k == 0) {
		char *own = mmap(mine + (16 << 20), ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		own[0] = 1;
		write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	char x;
	read(p[0], &x, 1);
	void *kp[] = {mine + (16 << 20), mine + (48 << 20), (void *)0};
	unset(st, N);
	EXPECT_OK(move_pages(k, 3, kp, NULL, st, 0));
	print_status("the child's: its page, untouched, 0", st, 3);
	kill(k, SIGKILL);
	waitpid(k, NULL, 0);
	EXPECT_ERR(move_pages(k, 3, kp, NULL, st, 0), ESRCH);

	ukt_in_child("unprivileged", unprivileged);
	return ukt_exit();
}
