/*
 * membarrier.c: membarrier(2) with the cases of LTP's membarrier01: QUERY,
 * the barriers, registration before PRIVATE_EXPEDITED (EPERM without it),
 * GET_REGISTRATIONS (Linux 6.3), registration inherited by fork, shared by
 * a vfork child (one address space), undone by exec, and EINVAL for
 * unknown commands and flags.
 *
 * uk offers no SYNC_CORE or RSEQ variants (QUERY leaves them out and each
 * is EINVAL, as on a Linux built without them) while this host's Linux
 * does, so QUERY's mask is printed only for the commands uk offers, and
 * for the other four the program checks only that each behaves as the
 * mask says, in a child whose registrations do not reach the rest.
 */
#include "uktest.h"

#include <pthread.h>

#define MB_QUERY 0
#define MB_GLOBAL (1 << 0)
#define MB_GLOBAL_EXPEDITED (1 << 1)
#define MB_REGISTER_GLOBAL_EXPEDITED (1 << 2)
#define MB_PRIVATE_EXPEDITED (1 << 3)
#define MB_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#define MB_PRIVATE_EXPEDITED_SYNC_CORE (1 << 5)
#define MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE (1 << 6)
#define MB_PRIVATE_EXPEDITED_RSEQ (1 << 7)
#define MB_REGISTER_PRIVATE_EXPEDITED_RSEQ (1 << 8)
#define MB_GET_REGISTRATIONS (1 << 9)
#define MB_FLAG_CPU 1

/* What every Linux 6.3+ without nohz_full offers, and uk too. */
#define MB_COMMON (MB_GLOBAL | MB_GLOBAL_EXPEDITED | MB_REGISTER_GLOBAL_EXPEDITED | MB_PRIVATE_EXPEDITED | \
		   MB_REGISTER_PRIVATE_EXPEDITED | MB_GET_REGISTRATIONS)

static long mb(int cmd, unsigned flags, int cpu) { return syscall(SYS_membarrier, cmd, flags, cpu); }

static volatile int stop;
static void *spin(void *arg) {
	(void)arg;
	while (!stop)
		__asm__ volatile("pause");
	return NULL;
}

/* The variants uk leaves out: each as QUERY says, registered or not. */
static void variants(void) {
	long mask = mb(MB_QUERY, 0, 0);
	static const int pairs[2][2] = {{MB_PRIVATE_EXPEDITED_SYNC_CORE, MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE},
					{MB_PRIVATE_EXPEDITED_RSEQ, MB_REGISTER_PRIVATE_EXPEDITED_RSEQ}};
	for (int i = 0; i < 2; i++) {
		int cmd = pairs[i][0], reg = pairs[i][1];
		int offered = (mask & cmd) && (mask & reg);
		CHECK("the command and its registration are offered together", !!(mask & cmd) == !!(mask & reg));
		errno = 0;
		long r = mb(cmd, 0, 0);
		CHECK("unregistered: EPERM if offered, else EINVAL", r == -1 && errno == (offered ? EPERM : EINVAL));
		errno = 0;
		r = mb(reg, 0, 0);
		CHECK("register: 0 if offered, else EINVAL", offered ? r == 0 : r == -1 && errno == EINVAL);
		errno = 0;
		r = mb(cmd, 0, 0);
		CHECK("registered: 0 if offered, else EINVAL", offered ? r == 0 : r == -1 && errno == EINVAL);
	}
	/* Only the RSEQ command takes MEMBARRIER_CMD_FLAG_CPU. */
	errno = 0;
	long r = mb(MB_PRIVATE_EXPEDITED_RSEQ, MB_FLAG_CPU, 0);
	CHECK("RSEQ with FLAG_CPU as QUERY says", (mask & MB_PRIVATE_EXPEDITED_RSEQ) ? r == 0 : r == -1 && errno == EINVAL);
	EXPECT_ERR(mb(MB_PRIVATE_EXPEDITED_RSEQ, 2, 0), EINVAL);
}

/* A vfork child shares the address space, so its registration is the
 * parent's too. */
static void after_exec(void) {
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), 0);
	EXPECT_ERR(mb(MB_PRIVATE_EXPEDITED, 0, 0), EPERM);
	pid_t c = vfork();
	if (c == 0) {
		mb(MB_REGISTER_PRIVATE_EXPEDITED, 0, 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), MB_REGISTER_PRIVATE_EXPEDITED);
	EXPECT_EQ(mb(MB_PRIVATE_EXPEDITED, 0, 0), 0);
}

static void forked(void) {
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), MB_REGISTER_GLOBAL_EXPEDITED | MB_REGISTER_PRIVATE_EXPEDITED);
	EXPECT_EQ(mb(MB_PRIVATE_EXPEDITED, 0, 0), 0);
	fflush(stdout);
	execl("/proc/self/exe", "membarrier", "exec", (char *)NULL);
	printf("exec: FAIL %s\n", errname(errno));
}

int main(int argc, char **argv) {
	if (argc > 1) {
		after_exec();
		return ukt_exit();
	}
	long mask = EXPECT_OK(mb(MB_QUERY, 0, 0));
	printf("QUERY & the commands uk offers: %#lx\n", mask & MB_COMMON);
	CHECK("QUERY has GET_REGISTRATIONS (Linux 6.3)", mask & MB_GET_REGISTRATIONS);
	EXPECT_ERR(mb(MB_QUERY, 1, 0), EINVAL);
	EXPECT_ERR(mb(MB_GLOBAL, 1, 0), EINVAL);
	EXPECT_ERR(mb(MB_PRIVATE_EXPEDITED, MB_FLAG_CPU, 0), EINVAL);
	EXPECT_ERR(mb(MB_GET_REGISTRATIONS, 1, 0), EINVAL);
	EXPECT_ERR(mb(-1, 0, 0), EINVAL);
	EXPECT_ERR(mb(3, 0, 0), EINVAL);
	EXPECT_ERR(mb(1 << 10, 0, 0), EINVAL);
	EXPECT_ERR(mb(1 << 30, 0, 0), EINVAL);

	EXPECT_EQ(mb(MB_GLOBAL, 0, 0), 0);
	EXPECT_EQ(mb(MB_GLOBAL, 0, 12345), 0); /* cpu_id is ignored without FLAG_CPU */
	EXPECT_EQ(mb(MB_GLOBAL_EXPEDITED, 0, 0), 0); /* no registration needed */
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), 0);
	EXPECT_ERR(mb(MB_PRIVATE_EXPEDITED, 0, 0), EPERM);

	EXPECT_EQ(mb(MB_REGISTER_PRIVATE_EXPEDITED, 0, 0), 0);
	EXPECT_EQ(mb(MB_REGISTER_PRIVATE_EXPEDITED, 0, 0), 0);
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), MB_REGISTER_PRIVATE_EXPEDITED);
	EXPECT_EQ(mb(MB_PRIVATE_EXPEDITED, 0, 0), 0);
	/* With another thread running: the barrier reaches its CPU. */
	pthread_t th;
	pthread_create(&th, NULL, spin, NULL);
	EXPECT_EQ(mb(MB_PRIVATE_EXPEDITED, 0, 0), 0);
	EXPECT_EQ(mb(MB_GLOBAL, 0, 0), 0);
	stop = 1;
	pthread_join(th, NULL);

	EXPECT_EQ(mb(MB_REGISTER_GLOBAL_EXPEDITED, 0, 0), 0);
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), MB_REGISTER_GLOBAL_EXPEDITED | MB_REGISTER_PRIVATE_EXPEDITED);
	EXPECT_EQ(mb(MB_GLOBAL_EXPEDITED, 0, 0), 0);

	ukt_in_child("fork inherits the registrations; exec drops them", forked);
	ukt_in_child("SYNC_CORE and RSEQ as QUERY says", variants);
	EXPECT_EQ(mb(MB_GET_REGISTRATIONS, 0, 0), MB_REGISTER_GLOBAL_EXPEDITED | MB_REGISTER_PRIVATE_EXPEDITED);
	return ukt_exit();
}
