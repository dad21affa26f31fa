/* crash: dies of the fault signal argv[1] asks for, after printing a line.
 *   null      write through a NULL pointer                SIGSEGV
 *   addr      write to 0xdead0000 (a known fault address)  SIGSEGV
 *   munmap    touch a page after munmap                    SIGSEGV
 *   mprotect  write to a page made PROT_READ               SIGSEGV
 *   ud2       undefined instruction                        SIGILL
 *   int3      breakpoint                                   SIGTRAP
 *   div0      integer division by zero                     SIGFPE
 *   abort     abort(3)                                     SIGABRT */
#include "uktest.h"

#include <sys/mman.h>

int main(int argc, char **argv) {
	if (argc != 2) {
		printf("usage: crash MODE\n");
		return 2;
	}
	const char *m = argv[1];
	long pg = sysconf(_SC_PAGESIZE);
	printf("before %s\n", m);
	if (strcmp(m, "null") == 0) {
		int *volatile p = NULL;
		*(volatile int *)p = 1;
	} else if (strcmp(m, "addr") == 0) {
		*(volatile int *)0xdead0000UL = 1;
	} else if (strcmp(m, "munmap") == 0) {
		char *volatile p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 1;
		munmap(p, pg);
		p[0] = 2;
	} else if (strcmp(m, "mprotect") == 0) {
		char *volatile p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 1;
		mprotect(p, pg, PROT_READ);
		printf("read after mprotect: %d\n", p[0]);
		p[0] = 2;
	} else if (strcmp(m, "ud2") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(m, "int3") == 0) {
		__asm__ volatile("int3");
	} else if (strcmp(m, "div0") == 0) {
		/* In assembly: gcc turns a C division by a known numerator into
		 * compares without a div instruction. */
		int zero = 0;
		__asm__ volatile("movl $7, %%eax\n\tcltd\n\tidivl %0" : : "r"(zero) : "eax", "edx");
	} else if (strcmp(m, "abort") == 0) {
		abort();
	} else {
		printf("unknown mode\n");
		return 2;
	}
	printf("survived %s\n", m);
	return 1;
}
