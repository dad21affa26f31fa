/* enosys: system call numbers Linux leaves unassigned return ENOSYS, and the
 * program carries on. (335 and 336 are taken by uretprobe/uprobe since
 * Linux 6.11; the block up to 423 is otherwise reserved and unused.) */
#include "uktest.h"

int main(void) {
	EXPECT_ERR(syscall(387), ENOSYS);
	EXPECT_ERR(syscall(400, 1, 2, 3), ENOSYS);
	EXPECT_ERR(syscall(1000), ENOSYS);
	EXPECT_RAW(raw_syscall1(387, 0), -ENOSYS);
	printf("still running\n");
	return ukt_exit();
}
