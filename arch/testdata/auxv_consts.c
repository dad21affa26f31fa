// Prints the kernel's AT_* auxiliary vector types for auxv_test.go.
#include <stdio.h>
#include <linux/auxvec.h>

#define P(x) printf("%s %lld\n", #x, (long long)(x))

int main(void) {
	P(AT_NULL); P(AT_IGNORE); P(AT_EXECFD); P(AT_PHDR); P(AT_PHENT); P(AT_PHNUM);
	P(AT_PAGESZ); P(AT_BASE); P(AT_FLAGS); P(AT_ENTRY); P(AT_NOTELF); P(AT_UID);
	P(AT_EUID); P(AT_GID); P(AT_EGID); P(AT_PLATFORM); P(AT_HWCAP); P(AT_CLKTCK);
	P(AT_SECURE); P(AT_BASE_PLATFORM); P(AT_RANDOM); P(AT_HWCAP2); P(AT_EXECFN);
	P(AT_SYSINFO_EHDR); P(AT_MINSIGSTKSZ);
	return 0;
}
