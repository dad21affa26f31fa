/* pty: pseudo-terminals under `uk run`, as script(1), tmux and Python's
 * pty module use them: /dev/ptmx opens a master, ptsname names its slave
 * under /dev/pts, the slave is a terminal with Linux's default modes; a
 * child that starts a session and opens the slave gets it as its
 * controlling terminal, which /dev/tty then opens, and what it writes
 * comes out of the master with ONLCR's \r\n; its input is echoed back;
 * once no one holds the slave, reading the master fails with EIO. */
#include "uktest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

// drain reads what the master has within a short wait and prints it with
// \r and \n made visible.
static void drain(const char *label, int m) {
	char buf[256], out[512];
	int n = 0, o = 0;
	struct pollfd p = {.fd = m, .events = POLLIN};
	while (n < (int)sizeof buf - 1 && poll(&p, 1, 2000) == 1) {
		int r = read(m, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			break;
		n += r;
		if (memchr(buf, '!', n))
			break; /* the child's last line ends with '!' */
		p.revents = 0;
	}
	for (int i = 0; i < n && o < (int)sizeof out - 3; i++) {
		if (buf[i] == '\r')
			o += sprintf(out + o, "\\r");
		else if (buf[i] == '\n')
			o += sprintf(out + o, "\\n");
		else
			out[o++] = buf[i];
	}
	out[o] = 0;
	printf("%s: %s\n", label, out);
}

int main(void) {
	/* A master whose slave has been closed: POLLHUP, and EIO to a read. */
	int m2 = EXPECT_OK(posix_openpt(O_RDWR | O_NOCTTY));
	unlockpt(m2);
	close(EXPECT_OK(open(ptsname(m2), O_RDWR | O_NOCTTY)));
	struct pollfd hp = {.fd = m2, .events = POLLIN};
	EXPECT_EQ(poll(&hp, 1, 0), 1);
	printf("closed slave: revents %#x\n", hp.revents);
	char b2;
	EXPECT_ERR(read(m2, &b2, 1), EIO);
	close(m2);

	int m = EXPECT_OK(posix_openpt(O_RDWR | O_NOCTTY));
	EXPECT_OK(grantpt(m));
	EXPECT_OK(unlockpt(m));
	char *name = ptsname(m);
	CHECK("the slave is under /dev/pts", name && strncmp(name, "/dev/pts/", 9) == 0);
	int s = EXPECT_OK(open(name, O_RDWR | O_NOCTTY));
	CHECK("the slave is a terminal", isatty(s));
	CHECK("the master is a terminal", isatty(m));
	struct termios t;
	EXPECT_OK(tcgetattr(s, &t));
	printf("defaults: ICANON %d ECHO %d ONLCR %d ICRNL %d ISIG %d VINTR %d VEOF %d\n", !!(t.c_lflag & ICANON),
	       !!(t.c_lflag & ECHO), !!(t.c_oflag & ONLCR), !!(t.c_iflag & ICRNL), !!(t.c_lflag & ISIG), t.c_cc[VINTR],
	       t.c_cc[VEOF]);
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	EXPECT_OK(ioctl(m, TIOCSWINSZ, &ws));
	/* s stays open until the child is done: a master whose slave no one
	 * holds reads EIO, which the child's open would race with. */

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(m);
		close(s);
		setsid();
		int fd = open(name, O_RDWR); /* a session leader's first terminal */
		int tty = open("/dev/tty", O_RDWR);
		struct winsize w = {0};
		ioctl(fd, TIOCGWINSZ, &w);
		char line[64];
		int n = snprintf(line, sizeof line, "ctty %d tty %d pgrp %d %dx%d\n", fd >= 0, tty >= 0,
				 tcgetpgrp(fd) == getpgrp(), w.ws_col, w.ws_row);
		write(tty >= 0 ? tty : fd, line, n);
		/* read a line the parent types, and answer */
		char in[64] = {0};
		int r = read(fd, in, sizeof in - 1);
		n = snprintf(line, sizeof line, "got %d: %.*s!", r, r > 0 ? r - 1 : 0, in);
		write(fd, line, n);
		usleep(100000);
		_exit(0);
	}
	drain("child says", m);
	EXPECT_EQ(write(m, "abc\r", 4), 4); /* typed: echoed, and a line for the child (ICRNL) */
	drain("after typing", m);
	int st;
	waitpid(c, &st, 0);
	CHECK("child exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(s);
	char b;
	EXPECT_ERR(read(m, &b, 1), EIO);
	return ukt_exit();
}
