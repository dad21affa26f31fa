/* exit: terminates in the way argv[1] names with status argv[2].
 *   exit N        libc exit(): atexit handlers run, stdio is flushed, exit_group
 *   return N      return from main
 *   exit_group N  raw exit_group(2), no atexit handlers
 *   sys_exit N    raw exit(2) of the only thread, which ends the process */
#include "uktest.h"

static void bye(void) {
	printf("atexit handler ran\n");
}

int main(int argc, char **argv) {
	if (argc != 3) {
		printf("usage: exit MODE STATUS\n");
		return 2;
	}
	int status = atoi(argv[2]);
	atexit(bye);
	printf("mode %s status %d\n", argv[1], status);
	fflush(stdout);
	if (strcmp(argv[1], "exit") == 0)
		exit(status);
	if (strcmp(argv[1], "return") == 0)
		return status;
	if (strcmp(argv[1], "exit_group") == 0)
		raw_syscall1(SYS_exit_group, status);
	if (strcmp(argv[1], "sys_exit") == 0)
		raw_syscall1(SYS_exit, status);
	printf("unknown mode or exit returned\n");
	return 3;
}
