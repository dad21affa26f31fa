// sigaltstack_top: signals handled on an alternate stack that ends where
// its mapping ends, with nothing mapped above (as Go's signal stacks can
// sit). rt_sigreturn must read the frame without touching the unmapped
// page above it.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static volatile int hits;

static void handler(int sig) {
	(void)sig;
	hits++;
}

int main(void) {
	size_t size = 4 * 4096;
	char *m = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 1;
	munmap(m + size, 4096); // nothing mapped just above the stack
	stack_t ss = {.ss_sp = m, .ss_size = size, .ss_flags = 0};
	sigaltstack(&ss, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, 0);
	for (int i = 0; i < 3; i++)
		raise(SIGUSR1);
	printf("handled %d signals on an alternate stack ending at its mapping's end\n", hits);
	return 0;
}
