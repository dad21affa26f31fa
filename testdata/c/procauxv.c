/* procauxv: /proc/PID/auxv compared with Linux: the auxiliary vector exec
 * gave the program, key and value words up to AT_NULL, each value what
 * getauxval(3) returns; a forked child has its parent's, another process
 * reads it too, and a zombie's does not open (ESRCH). */
#include "uktest.h"

#include <fcntl.h>
#include <sys/auxv.h>

static ssize_t readall(const char *path, unsigned long *buf, size_t size) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = 0, r;
	while ((r = read(fd, (char *)buf + n, size - n)) > 0)
		n += r;
	close(fd);
	return n;
}

int main(void) {
	static unsigned long v[512], w[512];
	ssize_t n = readall("/proc/self/auxv", v, sizeof v);
	CHECK("auxv reads, whole words in pairs", n > 0 && n % 16 == 0);
	size_t pairs = n / 16;
	CHECK("it ends with AT_NULL", pairs > 0 && v[2 * (pairs - 1)] == AT_NULL && v[2 * pairs - 1] == 0);
	int same = 1, seen_random = 0, seen_entry = 0, seen_phdr = 0, seen_pagesz = 0;
	for (size_t i = 0; i + 1 < pairs; i++) {
		unsigned long key = v[2 * i], val = v[2 * i + 1];
		/* glibc answers AT_HWCAP and AT_HWCAP2 from what it made of
		 * them at start-up, not the vector. */
		if (key != AT_HWCAP && key != AT_HWCAP2 && getauxval(key) != val) {
			printf("key %lu: auxv %#lx, getauxval %#lx\n", key, val, getauxval(key));
			same = 0;
		}
		seen_random |= key == AT_RANDOM;
		seen_entry |= key == AT_ENTRY;
		seen_phdr |= key == AT_PHDR;
		seen_pagesz |= key == AT_PAGESZ && val == 4096;
	}
	CHECK("every value is getauxval's", same);
	CHECK("AT_RANDOM, AT_ENTRY, AT_PHDR there, AT_PAGESZ 4096", seen_random && seen_entry && seen_phdr && seen_pagesz);

	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return 1;
	pid_t c = fork();
	if (c == 0) {
		ssize_t m = readall("/proc/self/auxv", w, sizeof w);
		char ok = m == n && memcmp(v, w, n) == 0;
		write(up[1], &ok, 1);
		char x;
		read(down[0], &x, 1); /* until the parent has read ours */
		_exit(0);
	}
	char ok = 0;
	read(up[0], &ok, 1);
	CHECK("a forked child's is its parent's", ok);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/auxv", c);
	ssize_t m = readall(path, w, sizeof w);
	CHECK("the parent reads the child's", m == n && memcmp(v, w, n) == 0);
	write(down[1], "x", 1);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	EXPECT_EQ(readall(path, w, sizeof w), -ESRCH);
	waitpid(c, NULL, 0);
	return ukt_exit();
}
