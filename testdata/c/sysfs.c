/* sysfs.c: the old sysfs(2) compared with Linux (LTP's sysfs01-06): the
 * index of a filesystem type by name and back, the count, and EINVAL and
 * EFAULT. The host knows more types than uk, so only relations print. */
#include "uktest.h"

int main(void) {
	long n = syscall(SYS_sysfs, 3);
	printf("count positive %d\n", n > 0);
	long i = syscall(SYS_sysfs, 1, "proc");
	printf("proc has an index %d\n", i >= 0 && i < n);
	char name[64] = {0};
	EXPECT_OK(syscall(SYS_sysfs, 2, i, name));
	printf("index %s back to its name: %s\n", i >= 0 ? "of proc" : "-", name);
	long t = syscall(SYS_sysfs, 1, "tmpfs");
	EXPECT_OK(syscall(SYS_sysfs, 2, t, name));
	printf("tmpfs back: %s\n", name);
	EXPECT_ERR(syscall(SYS_sysfs, 1, "nosuchfs"), EINVAL);
	EXPECT_ERR(syscall(SYS_sysfs, 1, ""), ENOENT);
	EXPECT_ERR(syscall(SYS_sysfs, 1, (char *)-1), EFAULT);
	EXPECT_ERR(syscall(SYS_sysfs, 2, n, name), EINVAL);
	EXPECT_ERR(syscall(SYS_sysfs, 2, -1L, name), EINVAL);
	EXPECT_ERR(syscall(SYS_sysfs, 2, 0, (char *)-1), EFAULT);
	EXPECT_ERR(syscall(SYS_sysfs, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_sysfs, 4), EINVAL);
	EXPECT_ERR(syscall(SYS_sysfs, -1), EINVAL);
	return ukt_exit();
}
