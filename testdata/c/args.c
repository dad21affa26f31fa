/* args: argv, envp and the auxiliary vector as the ELF loader lays them out. */
#include "uktest.h"

#include <elf.h>
#include <sys/auxv.h>

extern char _start[];

static int cmpstr(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base(const char *p) {
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int main(int argc, char **argv, char **envp) {
	printf("argc: %d\n", argc);
	printf("argv[0] basename: %s\n", base(argv[0]));
	for (int i = 1; i < argc; i++)
		printf("argv[%d]: \"%s\"\n", i, argv[i]);
	CHECK("argv[argc] == NULL", argv[argc] == NULL);
	CHECK("envp follows argv", envp == argv + argc + 1);

	/* The environment, sorted: its order is not part of the contract. */
	int n = 0;
	while (envp[n])
		n++;
	char **env = calloc(n + 1, sizeof *env);
	memcpy(env, envp, n * sizeof *env);
	qsort(env, n, sizeof *env, cmpstr);
	printf("envc: %d\n", n);
	for (int i = 0; i < n; i++)
		printf("env: \"%s\"\n", env[i]);
	CHECK("environ == envp", environ == envp);

	/* The auxiliary vector follows envp's NULL and ends with AT_NULL. */
	Elf64_auxv_t *av = (Elf64_auxv_t *)(envp + n + 1);
	int count = 0, seen_pagesz = 0;
	for (; av->a_type != AT_NULL && count < 128; av++, count++)
		if (av->a_type == AT_PAGESZ)
			seen_pagesz = 1;
	CHECK("auxv ends with AT_NULL", count < 128);
	CHECK("auxv on the stack has AT_PAGESZ", seen_pagesz);

	printf("AT_PAGESZ: %lu\n", getauxval(AT_PAGESZ));
	printf("AT_CLKTCK: %lu\n", getauxval(AT_CLKTCK));
	printf("AT_SECURE: %lu\n", getauxval(AT_SECURE));
	printf("AT_BASE: %lu\n", getauxval(AT_BASE));
	printf("AT_FLAGS: %lu\n", getauxval(AT_FLAGS));
	printf("AT_PHENT: %lu\n", getauxval(AT_PHENT));
	printf("AT_PHNUM: %lu\n", getauxval(AT_PHNUM));
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	printf("AT_PLATFORM: %s\n", plat ? plat : "(none)");
	CHECK("AT_HWCAP != 0", getauxval(AT_HWCAP) != 0);
	CHECK("AT_ENTRY == _start", getauxval(AT_ENTRY) == (unsigned long)_start);

	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	CHECK("AT_PHDR != 0", ph != NULL);
	int loads = 0;
	if (ph)
		for (unsigned long i = 0; i < getauxval(AT_PHNUM); i++)
			if (ph[i].p_type == PT_LOAD)
				loads++;
	CHECK("AT_PHDR points at the program headers (has PT_LOAD)", loads > 0);

	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	CHECK("AT_RANDOM != 0", rnd != NULL);
	if (rnd) {
		int nz = 0;
		for (int i = 0; i < 16; i++)
			nz |= rnd[i];
		CHECK("AT_RANDOM 16 bytes readable, not all zero", nz != 0);
	}

	const char *execfn = (const char *)getauxval(AT_EXECFN);
	CHECK("AT_EXECFN != 0", execfn != NULL);
	CHECK("AT_EXECFN equals argv[0]", execfn && strcmp(execfn, argv[0]) == 0);

	CHECK("AT_UID == getuid()", getauxval(AT_UID) == getuid());
	CHECK("AT_EUID == geteuid()", getauxval(AT_EUID) == geteuid());
	CHECK("AT_GID == getgid()", getauxval(AT_GID) == getgid());
	CHECK("AT_EGID == getegid()", getauxval(AT_EGID) == getegid());

	/* The initial stack pointer region: argv strings live above argv. */
	CHECK("argv[0] string above argv array", (uintptr_t)argv[0] > (uintptr_t)argv);
	return ukt_exit();
}
