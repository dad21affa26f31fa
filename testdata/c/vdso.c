/* vdso: the clocks through the vDSO (glibc's clock_gettime) agree with the
 * raw syscall within 1 ms and never go back over a million reads;
 * AT_SYSINFO_EHDR points at an ELF image. With the argument "only", it just
 * reads CLOCK_MONOTONIC through libc many times (for --strace checks). */
#include "uktest.h"
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec ts) { return ts.tv_sec * 1000000000LL + ts.tv_nsec; }

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "only") == 0) {
		struct timespec ts;
		long long last = 0;
		int back = 0;
		for (int i = 0; i < 100000; i++) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			back |= ns(ts) < last;
			last = ns(ts);
		}
		CHECK("100000 libc reads of CLOCK_MONOTONIC never go back", !back);
		return ukt_exit();
	}
	const unsigned char *eh = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	CHECK("AT_SYSINFO_EHDR is an ELF image", eh && memcmp(eh, "\177ELF", 4) == 0);
	struct {
		const char *name;
		clockid_t id;
	} clocks[] = {
		{"CLOCK_REALTIME", CLOCK_REALTIME},
		{"CLOCK_MONOTONIC", CLOCK_MONOTONIC},
		{"CLOCK_BOOTTIME", CLOCK_BOOTTIME},
		{"CLOCK_REALTIME_COARSE", CLOCK_REALTIME_COARSE},
		{"CLOCK_MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE},
		{"CLOCK_TAI", CLOCK_TAI},
	};
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		struct timespec a, b, c;
		syscall(SYS_clock_gettime, clocks[i].id, &a);
		clock_gettime(clocks[i].id, &b);
		syscall(SYS_clock_gettime, clocks[i].id, &c);
		/* Coarse clocks may lag by a tick (4 ms at HZ=250). */
		long long slack = strstr(clocks[i].name, "COARSE") ? 10000000 : 1000000;
		char what[96];
		snprintf(what, sizeof what, "%s: vDSO within 1 ms of the syscall", clocks[i].name);
		CHECK(what, ns(b) >= ns(a) - slack && ns(b) <= ns(c) + slack);
	}
	struct timespec ts;
	long long last = 0;
	int back = 0;
	for (int i = 0; i < 1000000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		back |= ns(ts) < last;
		last = ns(ts);
	}
	CHECK("a million vDSO reads of CLOCK_MONOTONIC never go back", !back);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t t1 = time(NULL);
	// time() reads the coarse clock, which Linux updates once a tick: just
	// after a second begins it may still show the previous second.
	CHECK("gettimeofday and time agree", t1 >= tv.tv_sec - 1 && t1 <= tv.tv_sec + 1);
	return ukt_exit();
}
