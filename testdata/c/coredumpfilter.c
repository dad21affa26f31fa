/* coredumpfilter: /proc/PID/coredump_filter compared with Linux: the form
 * of the value at start, values written in hex, decimal and octal read
 * back in hex, bits past the ninth dropped, bad numbers refused (EINVAL,
 * ERANGE), and the filter kept by a forked child and across execve. */
#include "uktest.h"

#include <fcntl.h>

static void show(const char *what, const char *path) {
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	printf("%s: %s", what, n > 0 ? buf : "unreadable\n");
}

static void set(const char *v) {
	int fd = open("/proc/self/coredump_filter", O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, v, strlen(v));
	int e = errno;
	if (fd >= 0)
		close(fd);
	printf("write %.*s: %s\n", (int)strcspn(v, "\n"), v, n == (ssize_t)strlen(v) ? "ok" : errname(e));
}

int main(int argc, char **argv) {
	if (argc > 1) {
		show("after execve", "/proc/self/coredump_filter");
		return 0;
	}
	/* The value at start is inherited from whoever started the test
	 * (natively the test runner's, which a service manager may have
	 * set): only its form is compared. */
	char buf[64] = "";
	int fd = open("/proc/self/coredump_filter", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	CHECK("it reads as eight hex digits and a newline", n == 9 && buf[8] == '\n' && strspn(buf, "0123456789abcdef") == 8);
	set("0x7f");
	show("after 0x7f", "/proc/self/coredump_filter");
	set("12345");
	show("after 12345 (only the low nine bits)", "/proc/self/coredump_filter");
	set("017\n");
	show("after 017", "/proc/self/coredump_filter");
	set("seven");
	set("0x1ff0000000");
	show("after the refused writes", "/proc/self/coredump_filter");
	set("0x23");
	pid_t pid = fork();
	if (pid == 0) {
		show("forked child", "/proc/self/coredump_filter");
		fflush(stdout);
		execl("/proc/self/exe", "coredumpfilter", "exec", (char *)NULL);
		_exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/coredump_filter", getpid());
	show("read by path", path);
	return ukt_failures != 0;
}
