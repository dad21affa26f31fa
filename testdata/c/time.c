/* time: clocks, sleeps and their resolution. Only relations are printed (a
 * clock never goes back, a sleep lasts at least what was asked), never times. */
#include "uktest.h"

#include <sys/time.h>
#include <time.h>

static const struct {
	clockid_t id;
	const char *name;
} clocks[] = {
	{CLOCK_REALTIME, "REALTIME"},
	{CLOCK_MONOTONIC, "MONOTONIC"},
	{CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID"},
	{CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID"},
	{CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"},
	{CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
	{CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"},
	{CLOCK_BOOTTIME, "BOOTTIME"},
	{CLOCK_TAI, "TAI"},
};

static long long ns(struct timespec t) {
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long now(clockid_t c) {
	struct timespec t;
	clock_gettime(c, &t);
	return ns(t);
}

static long long rawnow(clockid_t c) {
	struct timespec t;
	syscall(SYS_clock_gettime, c, &t);
	return ns(t);
}

static int valid(struct timespec t) {
	return t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < 1000000000L;
}

static void gettime(void) {
	char what[96];
	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		struct timespec t = {-1, -1}, r = {-1, -1};
		int ok = clock_gettime(clocks[i].id, &t) == 0 && valid(t);
		snprintf(what, sizeof what, "clock_gettime(CLOCK_%s)", clocks[i].name);
		CHECK(what, ok);
		ok = syscall(SYS_clock_gettime, clocks[i].id, &t) == 0 && valid(t);
		snprintf(what, sizeof what, "syscall clock_gettime(CLOCK_%s)", clocks[i].name);
		CHECK(what, ok);
		ok = clock_getres(clocks[i].id, &r) == 0 && r.tv_sec == 0 && r.tv_nsec > 0;
		snprintf(what, sizeof what, "clock_getres(CLOCK_%s) in (0, 1s)", clocks[i].name);
		CHECK(what, ok);
	}
	struct timespec t, r;
	EXPECT_ERR(syscall(SYS_clock_gettime, 42, &t), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8), EFAULT);
	EXPECT_ERR(syscall(SYS_clock_getres, 42, &r), EINVAL);
	EXPECT_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
	EXPECT_OK(clock_getres(CLOCK_MONOTONIC, &r));
	CHECK("CLOCK_MONOTONIC resolution <= 1 ms", r.tv_sec == 0 && r.tv_nsec <= 1000000);

	int back = 0;
	long long prev = now(CLOCK_MONOTONIC);
	for (int i = 0; i < 1000; i++) {
		long long n = now(CLOCK_MONOTONIC);
		back |= n < prev;
		prev = n;
	}
	prev = rawnow(CLOCK_MONOTONIC);
	for (int i = 0; i < 1000; i++) {
		long long n = rawnow(CLOCK_MONOTONIC);
		back |= n < prev;
		prev = n;
	}
	CHECK("CLOCK_MONOTONIC never goes back in 2000 reads", !back);
	long long m = now(CLOCK_MONOTONIC), b = now(CLOCK_BOOTTIME);
	CHECK("BOOTTIME >= MONOTONIC", b >= m);
	long long c = now(CLOCK_MONOTONIC_COARSE), f = now(CLOCK_MONOTONIC);
	CHECK("MONOTONIC_COARSE within 1 s of MONOTONIC", llabs(f - c) < 1000000000LL);
	c = now(CLOCK_REALTIME_COARSE), f = now(CLOCK_REALTIME);
	CHECK("REALTIME_COARSE within 1 s of REALTIME", llabs(f - c) < 1000000000LL);

	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	time_t t1 = time(NULL);
	time_t t2 = syscall(SYS_time, NULL);
	time_t t3;
	syscall(SYS_time, &t3);
	CHECK("REALTIME after 2020", rt.tv_sec > 1577836800);
	CHECK("time() within 1 s of CLOCK_REALTIME", llabs(t1 - rt.tv_sec) <= 1);
	CHECK("syscall time() within 1 s of CLOCK_REALTIME", llabs(t2 - rt.tv_sec) <= 1);
	CHECK("syscall time(&t) stores the time", llabs(t3 - rt.tv_sec) <= 1);
	struct timeval tv;
	struct timezone tz;
	EXPECT_OK(gettimeofday(&tv, NULL));
	CHECK("gettimeofday within 1 s of CLOCK_REALTIME",
	      llabs(tv.tv_sec - rt.tv_sec) <= 1 && tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	EXPECT_OK(syscall(SYS_gettimeofday, &tv, &tz));
	CHECK("syscall gettimeofday within 1 s", llabs(tv.tv_sec - rt.tv_sec) <= 1);
	EXPECT_OK(syscall(SYS_gettimeofday, NULL, NULL));
	EXPECT_ERR(syscall(SYS_gettimeofday, (void *)8, NULL), EFAULT);

	/* CPU time grows while the program computes. */
	long long p0 = now(CLOCK_PROCESS_CPUTIME_ID), th0 = now(CLOCK_THREAD_CPUTIME_ID);
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 50000000UL; i++)
		x += i;
	long long p1 = now(CLOCK_PROCESS_CPUTIME_ID), th1 = now(CLOCK_THREAD_CPUTIME_ID);
	CHECK("PROCESS_CPUTIME_ID grows with computation", p1 > p0);
	CHECK("THREAD_CPUTIME_ID grows with computation", th1 > th0);
}

static void sleeps(void) {
	struct timespec req = {0, 10 * 1000000L}, rem = {-1, -1};
	long long t0 = now(CLOCK_MONOTONIC);
	EXPECT_OK(nanosleep(&req, &rem));
	long long t1 = now(CLOCK_MONOTONIC);
	CHECK("nanosleep(10 ms) sleeps at least 10 ms", t1 - t0 >= 10000000LL);
	CHECK("nanosleep(10 ms) returns within 5 s", t1 - t0 < 5000000000LL);
	struct timespec zero = {0, 0};
	EXPECT_OK(nanosleep(&zero, NULL));
	struct timespec bad = {0, 1000000000L};
	EXPECT_ERR(nanosleep(&bad, NULL), EINVAL);
	struct timespec neg = {-1, 0};
	EXPECT_ERR(nanosleep(&neg, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_nanosleep, (void *)8, NULL), EFAULT);

	/* Absolute sleeps end at or after the target; a past target returns at once. */
	struct timespec target;
	clock_gettime(CLOCK_MONOTONIC, &target);
	target.tv_nsec += 20 * 1000000L;
	if (target.tv_nsec >= 1000000000L) {
		target.tv_sec++;
		target.tv_nsec -= 1000000000L;
	}
	EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL), 0);
	CHECK("TIMER_ABSTIME sleep on MONOTONIC ends after the target", now(CLOCK_MONOTONIC) >= ns(target));
	clock_gettime(CLOCK_REALTIME, &target);
	target.tv_sec += 0;
	target.tv_nsec += 15 * 1000000L;
	if (target.tv_nsec >= 1000000000L) {
		target.tv_sec++;
		target.tv_nsec -= 1000000000L;
	}
	EXPECT_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, NULL), 0);
	CHECK("TIMER_ABSTIME sleep on REALTIME ends after the target", now(CLOCK_REALTIME) >= ns(target));
	struct timespec past = {1, 0};
	t0 = now(CLOCK_MONOTONIC);
	EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
	CHECK("TIMER_ABSTIME in the past returns within 1 s", now(CLOCK_MONOTONIC) - t0 < 1000000000LL);
	struct timespec rel = {0, 5 * 1000000L};
	t0 = now(CLOCK_MONOTONIC);
	EXPECT_EQ(clock_nanosleep(CLOCK_BOOTTIME, 0, &rel, NULL), 0);
	CHECK("relative clock_nanosleep(BOOTTIME, 5 ms) sleeps at least 5 ms", now(CLOCK_MONOTONIC) - t0 >= 5000000LL);
	EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_nanosleep, 42, 0, &rel, NULL), EINVAL);
}

int main(void) {
	gettime();
	sleeps();
	return ukt_exit();
}
