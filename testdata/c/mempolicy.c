/* mempolicy: NUMA memory policies on a machine of one node (LTP's
 * get_mempolicy, set_mempolicy and mbind cases that need no second node):
 * a thread's policy as set_mempolicy gives it and get_mempolicy reports
 * it, with every mode and mode flag and their errors; a range's policy
 * from mbind, which get_mempolicy(MPOL_F_ADDR) reports while the rest of
 * the mapping keeps none; node masks read and written as Linux does;
 * set_mempolicy_home_node and migrate_pages; a child inheriting its
 * parent's policy; node 0 in sysfs. procps calls get_mempolicy at every
 * ps and top. */
#include "uktest.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_PREFERRED_MANY 5
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NUMA_BALANCING (1 << 13)
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4
#define MPOL_MF_STRICT 1
#define MPOL_MF_MOVE 2
#define MPOL_MF_MOVE_ALL 4

static long set_pol(int mode, unsigned long *mask, unsigned long maxnode) {
	return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}

static long get_pol(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags) {
	return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}

static long mbind_(void *addr, unsigned long len, int mode, unsigned long *mask, unsigned long maxnode, unsigned flags) {
	return syscall(SYS_mbind, addr, len, mode, mask, maxnode, flags);
}

// show prints the thread's policy (or addr's, with MPOL_F_ADDR).
static void show(const char *label, void *addr, unsigned long flags) {
	int mode = -1;
	unsigned long mask[2] = {~0UL, ~0UL};
	long r = get_pol(&mode, mask, 128, addr, flags);
	if (r)
		printf("%s: get_mempolicy %s\n", label, errname(errno));
	else
		printf("%s: mode %#x mask %lx %lx\n", label, mode, mask[0], mask[1]);
}

// cat prints a sysfs file's first line.
static void cat(const char *path) {
	char line[128] = "";
	FILE *f = fopen(path, "r");
	if (f) {
		fgets(line, sizeof line, f);
		fclose(f);
	}
	line[strcspn(line, "\n")] = 0;
	printf("%s: %s\n", path, f ? line : errname(errno));
}

int main(void) {
	unsigned long one = 1, two = 2, three = 3, none = 0;
	/* The node sysfs shows (libnuma and numactl read it). */
	cat("/sys/devices/system/node/online");
	cat("/sys/devices/system/node/possible");
	cat("/sys/devices/system/node/has_memory");
	cat("/sys/devices/system/node/node0/distance");
	char want[64];
	snprintf(want, sizeof want, "0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
	FILE *cl = fopen("/sys/devices/system/node/node0/cpulist", "r");
	char got[64] = "";
	if (cl) {
		fgets(got, sizeof got, cl);
		fclose(cl);
	}
	got[strcspn(got, "\n")] = 0;
	CHECK("node 0 has every CPU", strcmp(got, want) == 0 || (strcmp(want, "0-0") == 0 && strcmp(got, "0") == 0));
	show("at start", NULL, 0);
	show("allowed", NULL, MPOL_F_MEMS_ALLOWED);
	int m = -1;
	unsigned long big[40] = {0};
	EXPECT_OK(get_pol(&m, NULL, 0, NULL, 0));
	EXPECT_ERR(get_pol(&m, big, 0, NULL, 0), EINVAL);
	EXPECT_ERR(get_pol(&m, big, 64, NULL, 8), EINVAL);
	EXPECT_ERR(get_pol(&m, big, 64, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE), EINVAL);
	EXPECT_ERR(get_pol(&m, big, 64, (void *)4096, 0), EINVAL);
	EXPECT_ERR(get_pol(&m, big, 64, NULL, MPOL_F_NODE), EINVAL);
	EXPECT_ERR(get_pol(&m, big, 64 * 4096 + 128, NULL, 0), EINVAL);
	EXPECT_ERR(get_pol((int *)8, big, 64, NULL, 0), EFAULT);
	EXPECT_ERR(get_pol(&m, (unsigned long *)8, 64, NULL, 0), EFAULT);
	/* The words a mask of 200 nodes takes, zeros past the first. */
	memset(big, 0xff, sizeof big);
	EXPECT_OK(get_pol(&m, big, 200, NULL, MPOL_F_MEMS_ALLOWED));
	printf("mask of 200: %lx %lx %lx %lx %lx\n", big[0], big[1], big[2], big[3], big[4]);

	/* Every mode. */
	EXPECT_OK(set_pol(MPOL_BIND, &one, 64));
	show("bind 0", NULL, 0);
	EXPECT_OK(set_pol(MPOL_BIND, &three, 64));
	show("bind 0-1", NULL, 0);
	EXPECT_ERR(set_pol(MPOL_BIND, &two, 64), EINVAL);
	EXPECT_ERR(set_pol(MPOL_BIND, NULL, 0), EINVAL);
	EXPECT_ERR(set_pol(MPOL_BIND, &one, 1), EINVAL); /* maxnode 1: no bits */
	EXPECT_ERR(set_pol(MPOL_DEFAULT, &one, 64), EINVAL);
	EXPECT_OK(set_pol(MPOL_PREFERRED, &one, 64));
	show("preferred 0", NULL, 0);
	EXPECT_OK(set_pol(MPOL_PREFERRED, NULL, 0));
	show("preferred none (local)", NULL, 0);
	EXPECT_OK(set_pol(MPOL_LOCAL, NULL, 0));
	show("local", NULL, 0);
	EXPECT_ERR(set_pol(MPOL_LOCAL, &one, 64), EINVAL);
	EXPECT_OK(set_pol(MPOL_PREFERRED_MANY, &one, 64));
	show("preferred many", NULL, 0);
	EXPECT_OK(set_pol(MPOL_INTERLEAVE, &one, 64));
	show("interleave", NULL, 0);
	show("interleave's next node", NULL, MPOL_F_NODE);
	EXPECT_ERR(set_pol(7 + 1, &one, 64), EINVAL);
	EXPECT_ERR(set_pol(-1, &one, 64), EINVAL);
	/* Mode flags. */
	EXPECT_ERR(set_pol(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &one, 64), EINVAL);
	EXPECT_OK(set_pol(MPOL_BIND | MPOL_F_STATIC_NODES, &three, 64));
	show("bind static 0-1", NULL, 0);
	EXPECT_ERR(set_pol(MPOL_BIND | MPOL_F_STATIC_NODES, &two, 64), EINVAL);
	EXPECT_OK(set_pol(MPOL_BIND | MPOL_F_RELATIVE_NODES, &two, 64));
	show("bind relative 1", NULL, 0);
	EXPECT_ERR(set_pol(MPOL_PREFERRED | MPOL_F_STATIC_NODES, NULL, 0), EINVAL);
	EXPECT_OK(set_pol(MPOL_BIND | MPOL_F_NUMA_BALANCING, &one, 64));
	show("bind numa balancing", NULL, 0);
	EXPECT_ERR(set_pol(MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING, &one, 64), EINVAL);
	/* Masks: past MAX_NUMNODES (1024) must be clear, at most a page. */
	memset(big, 0, sizeof big);
	big[0] = 1;
	big[20] = 1; /* node 1280 */
	EXPECT_ERR(set_pol(MPOL_BIND, big, 2000), EINVAL);
	big[20] = 0;
	big[10] = 1; /* node 640: within MAX_NUMNODES, not online */
	EXPECT_OK(set_pol(MPOL_BIND, big, 2000));
	EXPECT_ERR(set_pol(MPOL_BIND, big, 4096 * 8 + 2), EINVAL);
	EXPECT_ERR(set_pol(MPOL_BIND, (unsigned long *)8, 64), EFAULT);

	/* A child keeps its parent's policy. */
	EXPECT_OK(set_pol(MPOL_INTERLEAVE, &one, 64));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		show("child", NULL, 0);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_OK(set_pol(MPOL_DEFAULT, NULL, 0));
	show("default again", NULL, 0);

	/* mbind: a range's own policy. */
	char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_OK(set_pol(MPOL_PREFERRED, &one, 64));
	EXPECT_OK(mbind_(p + 4096, 2 * 4096, MPOL_BIND, &one, 64, 0));
	show("mbind range", p + 4096, MPOL_F_ADDR);
	show("mbind range end", p + 3 * 4096 - 1, MPOL_F_ADDR);
	show("outside the range (not the thread's)", p, MPOL_F_ADDR);
	show("past it", p + 3 * 4096, MPOL_F_ADDR);
	show("its node", p + 4096, MPOL_F_ADDR | MPOL_F_NODE);
	EXPECT_ERR(get_pol(&m, NULL, 0, (void *)4096, MPOL_F_ADDR), EFAULT);
	EXPECT_OK(mbind_(p, 4096 + 1, MPOL_INTERLEAVE | MPOL_F_STATIC_NODES, &one, 64, MPOL_MF_MOVE | MPOL_MF_STRICT));
	show("two pages, rounded", p + 4096, MPOL_F_ADDR);
	show("third page untouched", p + 2 * 4096, MPOL_F_ADDR);
	EXPECT_ERR(mbind_(p + 1, 4096, MPOL_BIND, &one, 64, 0), EINVAL);
	EXPECT_ERR(mbind_(p, 4096, MPOL_BIND, &one, 64, 8), EINVAL);
	EXPECT_ERR(mbind_(p, 4096, MPOL_BIND, &two, 64, 0), EINVAL);
	EXPECT_ERR(mbind_(p, 4096, MPOL_BIND, NULL, 0, 0), EINVAL);
	EXPECT_ERR(mbind_(p, 4096, 9, &one, 64, 0), EINVAL);
	EXPECT_OK(mbind_(p, 0, MPOL_BIND, &two, 64, 0)); /* nothing to do: no check of the mask */
	EXPECT_ERR(mbind_(p, -4096UL, MPOL_BIND, &one, 64, 0), EINVAL);
	EXPECT_OK(mbind_(p, -1UL, MPOL_BIND, &one, 64, 0)); /* rounds to 0 */
	EXPECT_OK(mbind_(p, 4 * 4096, MPOL_DEFAULT, NULL, 0, MPOL_MF_STRICT));
	show("default range", p + 4096, MPOL_F_ADDR);
	EXPECT_OK(munmap(p + 2 * 4096, 4096));
	EXPECT_ERR(mbind_(p, 4 * 4096, MPOL_BIND, &one, 64, 0), EFAULT);
	show("a failed mbind changes nothing", p, MPOL_F_ADDR);
	EXPECT_OK(mbind_(p, 4096, MPOL_BIND, &one, 64, MPOL_MF_MOVE_ALL)); /* root has CAP_SYS_NICE */

	/* set_mempolicy_home_node: for MPOL_BIND and MPOL_PREFERRED_MANY
	 * ranges; ENOENT for one with no policy. */
	EXPECT_OK(syscall(SYS_set_mempolicy_home_node, p, 4096, 0, 0));
	EXPECT_ERR(syscall(SYS_set_mempolicy_home_node, p + 4096, 4096, 0, 0), ENOENT);
	EXPECT_OK(mbind_(p + 4096, 4096, MPOL_INTERLEAVE, &one, 64, 0));
	EXPECT_ERR(syscall(SYS_set_mempolicy_home_node, p, 2 * 4096, 0, 0), EOPNOTSUPP);
	EXPECT_ERR(syscall(SYS_set_mempolicy_home_node, p, 4096, 1, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_set_mempolicy_home_node, p, 4096, 0, 1), EINVAL);
	EXPECT_ERR(syscall(SYS_set_mempolicy_home_node, p + 1, 4096, 0, 0), EINVAL);

	/* migrate_pages: every page is on node 0 already. */
	EXPECT_EQ(syscall(SYS_migrate_pages, 0, 64, &one, &one), 0);
	EXPECT_EQ(syscall(SYS_migrate_pages, getpid(), 64, &one, &three), 0);
	EXPECT_ERR(syscall(SYS_migrate_pages, 0, 64, &one, &none), EINVAL);
	EXPECT_ERR(syscall(SYS_migrate_pages, ukt_unused_pid(), 64, &one, &one), ESRCH);
	EXPECT_ERR(syscall(SYS_migrate_pages, 0, 64, (unsigned long *)8, &one), EFAULT);
	return ukt_exit();
}
