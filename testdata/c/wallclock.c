/* wallclock.c: setting the wall clock, which under uk is the sandbox's
 * own. It sets CLOCK_REALTIME forward and back with clock_settime,
 * settimeofday and adjtimex's ADJ_SETOFFSET and checks that every way of
 * reading it (the vDSO, the syscalls, time()) follows while the monotonic
 * clock does not; that an absolute sleep on CLOCK_REALTIME ends when the
 * clock is set past its time; that a time before the monotonic clock is
 * refused; and adjtimex's discipline values read back as Linux keeps them.
 *
 * NEVER RUN THIS NATIVELY: as root it would set the machine's clock. It
 * refuses to start unless uname(2) says the kernel is uk; wallclock_test.go
 * holds what Linux answers. Only booleans and errno names are printed. */
#include "uktest.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>

static double clk(clockid_t id) {
	struct timespec t;
	clock_gettime(id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double rawclk(clockid_t id) {
	struct timespec t;
	syscall(SYS_clock_gettime, id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* moved reports whether every reading of the wall clock is about want
 * ahead of base (seconds), and the monotonic clock did not jump. */
static double taiOff; /* CLOCK_TAI - CLOCK_REALTIME, as the sandbox started */

static int moved(double base, double mono, double want) {
	struct timeval tv;
	gettimeofday(&tv, NULL);
	double r1 = clk(CLOCK_REALTIME), r2 = rawclk(CLOCK_REALTIME), r3 = tv.tv_sec + tv.tv_usec / 1e6;
	double r4 = time(NULL), r5 = clk(CLOCK_REALTIME_COARSE), tai = clk(CLOCK_TAI);
	double m = clk(CLOCK_MONOTONIC) - mono;
	int ok = 1;
	double rs[] = {r1, r2, r3, r5, tai - taiOff};
	for (int i = 0; i < 5; i++)
		if (rs[i] - base < want - 2 || rs[i] - base > want + 2)
			ok = 0;
	if (r4 - base < want - 3 || r4 - base > want + 3)
		ok = 0;
	return ok && m >= 0 && m < 2;
}

static void *sleeper(void *arg) {
	struct timespec *until = arg;
	double m0 = clk(CLOCK_MONOTONIC);
	int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, until, NULL);
	double took = clk(CLOCK_MONOTONIC) - m0;
	printf("absolute sleep ended by the setting: %d (%s)\n", took < 10, r ? errname(r) : "0");
	return NULL;
}

int main(void) {
	struct utsname u;
	if (uname(&u) != 0 || strstr(u.release, "-uk") == NULL) {
		fprintf(stderr, "wallclock: not under uk; refusing to set the machine's clock\n");
		return 2;
	}
	double base = clk(CLOCK_REALTIME), mono = clk(CLOCK_MONOTONIC);
	taiOff = clk(CLOCK_TAI) - base;

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1000;
	EXPECT_EQ(clock_settime(CLOCK_REALTIME, &ts), 0);
	printf("clock_settime +1000 s: %d\n", moved(base, mono, 1000));

	struct timeval tv;
	gettimeofday(&tv, NULL);
	tv.tv_sec -= 3000;
	EXPECT_EQ(settimeofday(&tv, NULL), 0);
	printf("settimeofday -3000 s: %d\n", moved(base, mono, -2000));

	struct timex tx = {.modes = ADJ_SETOFFSET | ADJ_NANO};
	tx.time.tv_sec = 2000;
	tx.time.tv_usec = 500000000;
	CHECK("ADJ_SETOFFSET", adjtimex(&tx) >= 0);
	printf("ADJ_SETOFFSET +2000.5 s: %d\n", moved(base, mono, 0.5));

	/* Not before the monotonic clock (boot). */
	ts.tv_sec = 1;
	ts.tv_nsec = 0;
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EINVAL);

	/* An absolute sleep 20 s ahead ends when the clock is set past it
	 * (a kernel that missed the setting makes it last its 20 s). */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_t th;
	pthread_create(&th, NULL, sleeper, &until);
	usleep(200000);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 7200;
	int set = clock_settime(CLOCK_REALTIME, &ts);
	pthread_join(th, NULL); /* its line first, whenever it wakes */
	printf("set past the sleep: %d\n", set);

	/* timerfds on CLOCK_REALTIME: an absolute one fires when the clock
	 * is set past it; one with TFD_TIMER_CANCEL_ON_SET reads ECANCELED
	 * once; a relative one does not move. */
	int abs = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	int can = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	int rel = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	struct itimerspec its = {0};
	clock_gettime(CLOCK_REALTIME, &its.it_value);
	its.it_value.tv_sec += 3600;
	timerfd_settime(abs, TFD_TIMER_ABSTIME, &its, NULL);
	timerfd_settime(can, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
	struct itimerspec relspec = {.it_value = {3600, 0}};
	timerfd_settime(rel, 0, &relspec, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 7200;
	EXPECT_EQ(clock_settime(CLOCK_REALTIME, &ts), 0);
	uint64_t n = 0;
	struct pollfd pfd = {.fd = abs, .events = POLLIN};
	poll(&pfd, 1, 10000);
	ssize_t got = read(abs, &n, 8);
	printf("absolute timerfd fired at the setting: %zd, %llu\n", got, (unsigned long long)n);
	errno = 0;
	got = read(can, &n, 8);
	printf("cancel-on-set timerfd: %zd %s\n", got, errname(errno));
	errno = 0;
	got = read(can, &n, 8);
	printf("and then: %zd %s\n", got, errname(errno));
	errno = 0;
	got = read(rel, &n, 8);
	printf("relative timerfd: %zd %s\n", got, errname(errno));

	/* A POSIX timer set for an absolute time an hour ahead fires when the
	 * clock is set past it; a relative one does not move. */
	timer_t tabs, trel;
	struct sigevent sev = {.sigev_notify = SIGEV_NONE};
	timer_create(CLOCK_REALTIME, &sev, &tabs);
	timer_create(CLOCK_REALTIME, &sev, &trel);
	struct itimerspec pts = {0}, left;
	clock_gettime(CLOCK_REALTIME, &pts.it_value);
	pts.it_value.tv_sec += 3600;
	timer_settime(tabs, TIMER_ABSTIME, &pts, NULL);
	struct itimerspec prel = {.it_value = {3600, 0}};
	timer_settime(trel, 0, &prel, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1800;
	EXPECT_EQ(clock_settime(CLOCK_REALTIME, &ts), 0);
	timer_gettime(tabs, &left);
	printf("absolute POSIX timer: about 1800 s left: %d\n", left.it_value.tv_sec > 1790 && left.it_value.tv_sec <= 1800);
	timer_gettime(trel, &left);
	printf("relative POSIX timer: about 3600 s left: %d\n", left.it_value.tv_sec > 3590 && left.it_value.tv_sec <= 3600);

	/* The discipline: what is set reads back; ADJ_TIMECONST adds 4 in
	 * microsecond mode; the status's read-only bits stay. */
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_FREQUENCY | ADJ_MAXERROR | ADJ_ESTERROR | ADJ_STATUS | ADJ_TIMECONST | ADJ_TICK | ADJ_MICRO;
	tx.freq = 100 << 16;
	tx.maxerror = 4000;
	tx.esterror = 300;
	tx.status = STA_PLL | STA_CLK;
	tx.constant = 3;
	tx.tick = 10001;
	int state = adjtimex(&tx);
	memset(&tx, 0, sizeof tx);
	adjtimex(&tx);
	/* Linux adds 500 us a second to maxerror. */
	printf("freq %ld maxerror about 4000 %d esterror %ld status %#x constant %ld tick %ld state %d\n", tx.freq >> 16,
	       tx.maxerror >= 4000 && tx.maxerror <= 5000, tx.esterror, tx.status, tx.constant, tx.tick, state);
	tx.modes = ADJ_FREQUENCY;
	tx.freq = 1000 << 16;
	adjtimex(&tx);
	printf("freq clamped to %ld ppm\n", tx.freq >> 16);
	tx.modes = ADJ_STATUS;
	tx.status = 0;
	printf("synchronized: state %d\n", adjtimex(&tx));
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	tx.offset = 1234;
	adjtimex(&tx);
	tx.modes = ADJ_OFFSET_SS_READ;
	adjtimex(&tx);
	/* Linux slews it by 500 us a second. */
	printf("adjtime offset kept: %d\n", tx.offset >= 234 && tx.offset <= 1234);
	return ukt_exit();
}
