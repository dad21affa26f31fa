/*
 * vsyscall: what old binaries and JVMs ask of the kernel beyond the usual:
 * the legacy vsyscall page (Linux's default vsyscall=xonly emulates calls
 * to its three entry points and refuses reads), getcpu and sysinfo.
 */
#include "uktest.h"

#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <time.h>

static sigjmp_buf jb;

static void onsegv(int sig) {
	(void)sig;
	siglongjmp(jb, 1);
}

int main(void) {
	time_t (*vtime)(time_t *) = (void *)0xffffffffff600400;
	int (*vgtod)(struct timeval *, struct timezone *) = (void *)0xffffffffff600000;
	long (*vgetcpu)(unsigned *, unsigned *, void *) = (void *)0xffffffffff600800;

	time_t now = time(NULL), t2 = 0;
	time_t t = vtime(&t2);
	CHECK("vsyscall time returns the time", t >= now && t - now < 5);
	CHECK("vsyscall time stores it", t2 == t);
	struct timeval tv = {0};
	CHECK("vsyscall gettimeofday returns 0", vgtod(&tv, NULL) == 0);
	CHECK("vsyscall gettimeofday fills tv", tv.tv_sec >= now && tv.tv_sec - now < 5 && tv.tv_usec < 1000000);
	unsigned cpu = 9999, node = 9999;
	CHECK("vsyscall getcpu returns 0", vgetcpu(&cpu, &node, NULL) == 0);
	CHECK("vsyscall getcpu gives a CPU", cpu < 4096 && node < 1024);

	/* xonly: the page cannot be read. */
	signal(SIGSEGV, onsegv);
	volatile int faulted = 0;
	if (sigsetjmp(jb, 1) == 0) {
		volatile unsigned char c = *(volatile unsigned char *)0xffffffffff600000;
		(void)c;
	} else {
		faulted = 1;
	}
	CHECK("reading the vsyscall page faults", faulted);
	signal(SIGSEGV, SIG_DFL);

	cpu = 9999;
	EXPECT_OK(syscall(SYS_getcpu, &cpu, NULL, NULL));
	CHECK("getcpu gives a CPU", cpu < 4096);
	int c = sched_getcpu();
	cpu_set_t set;
	EXPECT_OK(sched_getaffinity(0, sizeof set, &set));
	CHECK("sched_getcpu is a CPU of the affinity mask", c >= 0 && CPU_ISSET(c, &set));
	EXPECT_ERR(syscall(SYS_getcpu, (void *)8, NULL, NULL), EFAULT);

	struct sysinfo si;
	EXPECT_OK(sysinfo(&si));
	CHECK("sysinfo: some RAM", si.totalram > 0 && si.mem_unit > 0);
	CHECK("sysinfo: free <= total", si.freeram <= si.totalram);
	CHECK("sysinfo: a process", si.procs >= 1);
	CHECK("sysinfo: uptime", si.uptime >= 0);
	CHECK("_SC_PHYS_PAGES", sysconf(_SC_PHYS_PAGES) > 0);
	EXPECT_ERR(sysinfo((void *)8), EFAULT);
	return ukt_exit();
}
