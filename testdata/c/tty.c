/* tty: a hostile program that tries to change the user's terminal through
 * its standard streams, and to leave it changed.
 *
 *   tty set   make stdin raw (cfmakeraw, tcsetattr) and its window 7x13
 *             (TIOCSWINSZ), read both back (they must read back as set:
 *             the program's terminal has them), print "set", then wait
 *             for a byte on stdin (or to be killed with uk).
 *   as PID 1 (the /init of `uk boot`): the same, then call getppid (where
 *             a test makes uk panic) and wait for SIGTERM, SIGINT or
 *             SIGHUP (which end it with status 0) or for uk to be killed.
 *
 * What a safe kernel does: the program's terminal state is the sandbox's
 * own; the host's terminal keeps its settings and window size while the
 * program runs and after uk ends, however it ends (only `uk boot` changes
 * it, to raw mode, and puts it back on every exit path it can catch; a
 * guard process covers the others). Bounded: a 20 s alarm.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static void bye(int sig) {
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv) {
	alarm(20);
	int init = getpid() == 1;
	if (!init && (argc < 2 || strcmp(argv[1], "set") != 0)) {
		fprintf(stderr, "usage: tty set\n");
		return 2;
	}
	struct termios t, back;
	if (tcgetattr(0, &t) != 0) {
		perror("tcgetattr");
		return 1;
	}
	cfmakeraw(&t);
	if (tcsetattr(0, TCSANOW, &t) != 0) {
		perror("tcsetattr");
		return 1;
	}
	struct winsize w = {.ws_row = 7, .ws_col = 13}, wb;
	if (ioctl(0, TIOCSWINSZ, &w) != 0) {
		perror("TIOCSWINSZ");
		return 1;
	}
	if (tcgetattr(0, &back) != 0 || (back.c_lflag & (ICANON | ECHO)) != 0 || ioctl(0, TIOCGWINSZ, &wb) != 0 ||
	    wb.ws_row != 7 || wb.ws_col != 13) {
		printf("FAIL: the settings did not read back\r\n");
		return 1;
	}
	if (init) {
		/* Before "set": the test signals uk as soon as it reads it. */
		signal(SIGTERM, bye);
		signal(SIGINT, bye);
		signal(SIGHUP, bye);
	}
	printf("set\r\n");
	fflush(stdout);
	if (init) {
		getppid(); /* the test's stand-in kernel bug panics here */
		for (;;)
			pause();
	}
	char c;
	read(0, &c, 1);
	return 0;
}
