/* fd: file descriptor table operations on the standard streams: ioctl on a
 * non-terminal, fcntl, dup/dup2/dup3, close, and /proc/self/exe.
 * The harness runs it with stdin and stdout pipes and only fds 0-2 open. */
#include "uktest.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

static const char *accmode(int fl) {
	switch (fl & O_ACCMODE) {
	case O_RDONLY: return "O_RDONLY";
	case O_WRONLY: return "O_WRONLY";
	case O_RDWR: return "O_RDWR";
	}
	return "?";
}

static void ioctls(void) {
	struct termios t;
	struct winsize ws;
	EXPECT_ERR(ioctl(0, TCGETS, &t), ENOTTY);
	EXPECT_ERR(ioctl(0, TIOCGWINSZ, &ws), ENOTTY);
	EXPECT_ERR(ioctl(1, TCGETS, &t), ENOTTY);
	EXPECT_ERR(ioctl(99, TCGETS, &t), EBADF);
	CHECK("isatty(0) == 0", isatty(0) == 0);
	CHECK("isatty(1) == 0", isatty(1) == 0);
}

static void fcntls(void) {
	EXPECT_EQ(fcntl(1, F_GETFD), 0);
	EXPECT_EQ(fcntl(1, F_SETFD, FD_CLOEXEC), 0);
	EXPECT_EQ(fcntl(1, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(1, F_SETFD, 0), 0);
	EXPECT_EQ(fcntl(1, F_GETFD), 0);
	int fl0 = fcntl(0, F_GETFL), fl1 = fcntl(1, F_GETFL);
	printf("stdin access mode: %s\n", accmode(fl0));
	printf("stdout access mode: %s\n", accmode(fl1));
	CHECK("stdin is not O_NONBLOCK", (fl0 & O_NONBLOCK) == 0);

	EXPECT_EQ(fcntl(1, F_DUPFD, 10), 10);
	EXPECT_EQ(fcntl(10, F_GETFD), 0);
	EXPECT_EQ(fcntl(1, F_DUPFD, 10), 11);
	EXPECT_EQ(fcntl(1, F_DUPFD_CLOEXEC, 20), 20);
	EXPECT_EQ(fcntl(20, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(write(10, "write via F_DUPFD\n", 18), 18);
	EXPECT_EQ(write(20, "write via F_DUPFD_CLOEXEC\n", 26), 26);
	EXPECT_ERR(fcntl(1, F_DUPFD, -1), EINVAL);
	EXPECT_ERR(fcntl(1, F_DUPFD, 1 << 30), EINVAL);
	EXPECT_ERR(fcntl(99, F_GETFD), EBADF);
	EXPECT_ERR(fcntl(99, F_GETFL), EBADF);
	EXPECT_OK(close(10));
	EXPECT_OK(close(11));
	EXPECT_OK(close(20));

	/* O_NONBLOCK lives in the open file description, shared by dups. */
	int d = EXPECT_EQ(dup(1), 3);
	EXPECT_OK(fcntl(d, F_SETFL, fl1 | O_NONBLOCK));
	CHECK("F_SETFL on a dup shows on the original", (fcntl(1, F_GETFL) & O_NONBLOCK) != 0);
	EXPECT_OK(fcntl(1, F_SETFL, fl1));
	CHECK("and clears through it", (fcntl(d, F_GETFL) & O_NONBLOCK) == 0);
	EXPECT_OK(close(d));
}

static void dups(void) {
	EXPECT_EQ(dup(1), 3);
	EXPECT_EQ(write(3, "write via dup\n", 14), 14);
	EXPECT_EQ(dup2(1, 5), 5);
	EXPECT_EQ(write(5, "write via dup2\n", 15), 15);
	EXPECT_EQ(dup2(1, 1), 1);
	EXPECT_EQ(dup2(0, 5), 5);
	printf("fd 5 after dup2(0, 5): %s\n", accmode(fcntl(5, F_GETFL)));
	EXPECT_ERR(dup2(1, -1), EBADF);
	EXPECT_ERR(dup2(99, 6), EBADF);
	EXPECT_ERR(dup(99), EBADF);
	EXPECT_EQ(dup3(1, 6, O_CLOEXEC), 6);
	EXPECT_EQ(fcntl(6, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(write(6, "write via dup3\n", 15), 15);
	EXPECT_EQ(dup3(1, 7, 0), 7);
	EXPECT_EQ(fcntl(7, F_GETFD), 0);
	EXPECT_ERR(dup3(1, 1, 0), EINVAL);
	EXPECT_ERR(dup3(1, 8, 0x1234), EINVAL);
	EXPECT_EQ(dup(1), 4);
	EXPECT_OK(close(3));
	EXPECT_ERR(close(3), EBADF);
	EXPECT_ERR(write(3, "x", 1), EBADF);
	EXPECT_EQ(dup(1), 3);
	EXPECT_ERR(close(-1), EBADF);
	for (int fd = 3; fd <= 7; fd++)
		close(fd);
}

static void exe(const char *argv0) {
	char buf[4096];
	memset(buf, 0, sizeof buf);
	long n = EXPECT_OK(readlink("/proc/self/exe", buf, sizeof buf - 1));
	const char *b0 = strrchr(argv0, '/');
	b0 = b0 ? b0 + 1 : argv0;
	const char *b1 = strrchr(buf, '/');
	CHECK("/proc/self/exe is an absolute path", n > 0 && buf[0] == '/');
	CHECK("/proc/self/exe ends in the program's basename", b1 && strcmp(b1 + 1, b0) == 0);
	char small[3];
	EXPECT_EQ(readlink("/proc/self/exe", small, sizeof small), 3);
	EXPECT_ERR(readlink("/proc/self/exe", buf, 0), EINVAL);
}

int main(int argc, char **argv) {
	(void)argc;
	int extra = 0;
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			extra++;
	CHECK("only fds 0, 1 and 2 are open at start", extra == 0);
	ioctls();
	fcntls();
	dups();
	exe(argv[0]);
	return ukt_exit();
}
