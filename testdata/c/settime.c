/* settime.c: clock_settime, settimeofday, adjtimex and clock_adjtime as
 * Linux checks them, without changing the clock (this program also runs
 * natively as root: every call here either fails or sets nothing new).
 * Errors in their order, the unprivileged refusals, reads of the clock
 * discipline, writing back what was read (LTP adjtimex01's way), and the
 * timex padding left as the caller had it (adjtimex03). wallclock.c sets
 * the clock, under uk only. */
#include "uktest.h"

#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

static void unprivileged(void) {
	if (setuid(65534) != 0) {
		printf("FAIL setuid\n");
		return;
	}
	struct timespec ts = {1 << 30, 0};
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EPERM);
	ts.tv_nsec = 1000000000;
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EINVAL); /* validity first */
	struct timeval tv = {1 << 30, 0};
	EXPECT_ERR(settimeofday(&tv, NULL), EPERM);
	EXPECT_ERR(syscall(SYS_settimeofday, NULL, NULL), EPERM);
	struct timex tx = {0};
	CHECK("adjtimex read", adjtimex(&tx) >= 0);
	tx.modes = ADJ_FREQUENCY;
	EXPECT_ERR(adjtimex(&tx), EPERM);
	tx.modes = ADJ_OFFSET_SS_READ;
	CHECK("adjtime read", adjtimex(&tx) >= 0);
	tx.modes = 0x8000; /* ADJ_ADJTIME without the singleshot bit */
	EXPECT_ERR(adjtimex(&tx), EINVAL);
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	tx.offset = 0;
	EXPECT_ERR(adjtimex(&tx), EPERM);
	tx.modes = ADJ_TICK;
	tx.tick = 1;
	EXPECT_ERR(adjtimex(&tx), EPERM); /* privilege before the tick's range */
}

int main(void) {
	struct timespec ts = {1 << 30, 0};
	EXPECT_ERR(clock_settime(CLOCK_MONOTONIC, &ts), EINVAL);
	EXPECT_ERR(clock_settime(CLOCK_BOOTTIME, &ts), EINVAL);
	EXPECT_ERR(clock_settime(CLOCK_REALTIME_COARSE, &ts), EINVAL);
	EXPECT_ERR(clock_settime(-1, &ts), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void *)8), EINVAL);
	EXPECT_ERR(clock_settime(CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, (void *)8), EINVAL);
	EXPECT_ERR(clock_settime(CLOCK_THREAD_CPUTIME_ID, &ts), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8), EFAULT);
	ts.tv_nsec = 1000000000;
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EINVAL);
	ts.tv_nsec = -1;
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EINVAL);
	ts.tv_sec = 0x7fffffffffffffffL;
	EXPECT_ERR(clock_settime(CLOCK_REALTIME, &ts), EINVAL);

	struct timeval tv = {1 << 30, 1000000};
	EXPECT_ERR(settimeofday(&tv, NULL), EINVAL);
	tv.tv_usec = -1;
	EXPECT_ERR(settimeofday(&tv, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_settimeofday, (void *)8, NULL), EFAULT);
	EXPECT_ERR(syscall(SYS_settimeofday, NULL, (void *)8), EFAULT);
	struct timezone tz = {16 * 60, 0};
	EXPECT_ERR(settimeofday(NULL, &tz), EINVAL);
	tz.tz_minuteswest = -16 * 60;
	EXPECT_ERR(settimeofday(NULL, &tz), EINVAL);
	EXPECT_EQ(syscall(SYS_settimeofday, NULL, NULL), 0);

	/* adjtimex: read, then write back what was read. */
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	int r = adjtimex(&tx);
	CHECK("adjtimex read", r == TIME_OK || r == TIME_ERROR || r == TIME_INS || r == TIME_DEL || r == TIME_OOP || r == TIME_WAIT);
	CHECK("precision 1", tx.precision == 1);
	printf("tolerance %ld\n", tx.tolerance);
	struct timex back = tx;
	back.modes = ADJ_FREQUENCY | ADJ_ESTERROR | ADJ_STATUS | ADJ_TICK;
	CHECK("write back", adjtimex(&back) >= 0);
	struct timex again;
	memset(&again, 0, sizeof again);
	adjtimex(&again);
	printf("written back, read again: freq %d status %d tick %d esterror %d\n", again.freq == tx.freq,
	       again.status == tx.status, again.tick == tx.tick, again.esterror == tx.esterror);
	struct timex bad = tx;
	bad.modes = ADJ_TICK;
	bad.tick = 900000 / 100 - 1;
	EXPECT_ERR(adjtimex(&bad), EINVAL);
	bad.tick = 1100000 / 100 + 1;
	EXPECT_ERR(adjtimex(&bad), EINVAL);
	bad = tx;
	bad.modes = ADJ_FREQUENCY;
	bad.freq = 0x7fffffffffffffffL;
	EXPECT_ERR(adjtimex(&bad), EINVAL);
	bad = tx;
	bad.modes = ADJ_SETOFFSET;
	bad.time.tv_sec = 0;
	bad.time.tv_usec = 1000000;
	EXPECT_ERR(adjtimex(&bad), EINVAL);
	bad.modes = ADJ_SETOFFSET | ADJ_NANO;
	bad.time.tv_usec = -1;
	EXPECT_ERR(adjtimex(&bad), EINVAL);
	EXPECT_ERR(syscall(SYS_adjtimex, (void *)8), EFAULT);
	memset(&bad, 0, sizeof bad);
	EXPECT_ERR(clock_adjtime(CLOCK_MONOTONIC, &bad), EOPNOTSUPP);
	EXPECT_ERR(clock_adjtime(-1, &bad), EOPNOTSUPP); /* a CPU clock's id */
	EXPECT_ERR(clock_adjtime(100, &bad), EINVAL);
	EXPECT_ERR(clock_adjtime(CLOCK_BOOTTIME, &bad), EOPNOTSUPP);
	EXPECT_ERR(syscall(SYS_clock_adjtime, CLOCK_REALTIME, (void *)8), EFAULT);
	CHECK("clock_adjtime read", clock_adjtime(CLOCK_REALTIME, &bad) >= 0);

	/* The padding comes back as the caller left it. */
	unsigned char raw[sizeof(struct timex)];
	memset(raw, 0xa5, sizeof raw);
	((struct timex *)raw)->modes = 0;
	adjtimex((struct timex *)raw);
	printf("padding kept: %d\n", raw[4] == 0xa5 && raw[44] == 0xa5 && raw[116] == 0xa5 && raw[164] == 0xa5 &&
					     raw[sizeof raw - 1] == 0xa5);

	ukt_in_child("unprivileged", unprivileged);
	return ukt_exit();
}
