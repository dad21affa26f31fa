/* procuserns: /proc/PID/uid_map, gid_map and setgroups of the initial
 * user namespace (uk's one) compared with Linux: every id maps to itself,
 * the maps are written already (EPERM), and setgroups says "allow", which
 * may be written again, while "deny" is EPERM. */
#include "uktest.h"

#include <fcntl.h>

static void show(const char *path) {
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	printf("%s: %s", path, n > 0 ? buf : "(nothing)\n");
}

static void try_write(const char *path, const char *text) {
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("open %s: %s\n", path, errname(errno));
		return;
	}
	errno = 0;
	ssize_t n = write(fd, text, strlen(text));
	printf("write %s to %s: %s\n", text, path, n < 0 ? errname(errno) : "ok");
	close(fd);
}

int main(void) {
	show("/proc/self/uid_map");
	show("/proc/self/gid_map");
	show("/proc/self/setgroups");
	try_write("/proc/self/uid_map", "0 0 1");
	try_write("/proc/self/gid_map", "0 0 1");
	try_write("/proc/self/setgroups", "allow");
	try_write("/proc/self/setgroups", "deny");
	show("/proc/self/setgroups");
	return ukt_exit();
}
