/*
 * hostile_pipes: an unprivileged user makes more pipe buffers than Linux's
 * per-user pipe limits allow: well over pipe-user-pages-soft (16384 pages)
 * worth of default pipes, pipes grown past pipe-max-size (1 MiB), grown
 * while over the soft limit, and shrunk below what they hold. It drops to
 * nobody first if started as root (the limits do not bind CAP_SYS_RESOURCE).
 *
 * What a safe kernel does (Linux's fs/pipe.c): it counts the buffer slots
 * of every pipe against the user who made it; once the user is past
 * pipe-user-pages-soft a new pipe gets the minimum of 2 pages instead of
 * 16, and F_SETPIPE_SZ may not grow a pipe (EPERM); above pipe-max-size it
 * is EPERM for an unprivileged user; a size below the unread data is
 * EBUSY; closing pipes gives their pages back to the user. So one user's
 * pipes can hold at most about pipe-user-pages-soft pages plus 2 per pipe.
 *
 * Runs in well under a second; the same output natively and under uk
 * (natively other pipes of nobody's count too, so the number of full-size
 * pipes is printed only as "about 1024").
 */
#include "uktest.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>

#define NPIPES 1300

static int rd[NPIPES], wr[NPIPES];

static void drop_to_nobody(void) {
	if (getuid() != 0)
		return;
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		printf("FAIL dropping to nobody: %s\n", errname(errno));
		exit(1);
	}
}

static int mkpipe(int i) {
	int p[2];
	if (pipe(p))
		return -1;
	rd[i] = p[0];
	wr[i] = p[1];
	return 0;
}

static void setsz(const char *what, int fd, int size) {
	int r = fcntl(fd, F_SETPIPE_SZ, size);
	if (r < 0)
		printf("%s: F_SETPIPE_SZ %d: %s\n", what, size, errname(errno));
	else
		printf("%s: F_SETPIPE_SZ %d: %d\n", what, size, r);
}

int main(void) {
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
	setrlimit(RLIMIT_NOFILE, &rl);
	drop_to_nobody();
	printf("pipe-max-size %s", "");
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	char line[64] = "?\n";
	if (f) {
		fgets(line, sizeof line, f);
		fclose(f);
	}
	printf("%s", line);

	/* Default pipes until well past the soft limit. */
	int full = 0, small = 0, made = 0;
	for (int i = 0; i < NPIPES; i++) {
		if (mkpipe(i)) {
			printf("pipe %d: %s\n", i, errname(errno));
			break;
		}
		made++;
		int sz = fcntl(rd[i], F_GETPIPE_SZ);
		if (sz == 65536)
			full++;
		else if (sz == 8192)
			small++;
		else
			printf("pipe %d: size %d\n", i, sz);
	}
	printf("made %d pipes: about 1024 at 65536: %s; the rest at 8192: %s\n", made,
	       full >= 1000 && full <= 1024 ? "yes" : "no", full + small == made ? "yes" : "no");

	/* Over the soft limit: growing is EPERM, shrinking is not. */
	int last = made - 1;
	setsz("over the soft limit, grow", wr[last], 65536);
	setsz("over the soft limit, shrink", wr[last], 4096);
	/* A small pipe still holds what fits: one page, then EAGAIN. */
	fcntl(wr[last], F_SETFL, O_NONBLOCK);
	static char buf[16384];
	ssize_t w = write(wr[last], buf, sizeof buf);
	printf("write 16384 to a one-page pipe: %zd\n", w);

	/* Give the pipes back: the user's count drops with them. */
	for (int i = 0; i < made; i++) {
		close(rd[i]);
		close(wr[i]);
	}
	if (mkpipe(0)) {
		printf("FAIL pipe: %s\n", errname(errno));
		return 1;
	}
	printf("after closing them, a new pipe: %d\n", fcntl(rd[0], F_GETPIPE_SZ));
	setsz("past pipe-max-size", wr[0], 2 << 20);
	setsz("at pipe-max-size", wr[0], 1 << 20);
	fcntl(wr[0], F_SETFL, O_NONBLOCK);
	w = write(wr[0], buf, sizeof buf);
	printf("wrote %zd\n", w);
	setsz("below the unread data", wr[0], 4096);
	setsz("just enough for it", wr[0], 16384);
	return 0;
}
