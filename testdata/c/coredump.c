/* coredump.c: core dumps as Linux writes them with the default
 * core_pattern ("core" in the working directory; LTP's waitpid05, kill11,
 * waitid10): a core-dumping signal with RLIMIT_CORE set leaves an ELF core
 * file and WCOREDUMP (CLD_DUMPED for waitid), whose registers name the
 * signal and whose memory holds what the process wrote; without the limit,
 * for a signal that only terminates, or for a process made non-dumpable,
 * neither file nor bit. `coredump probe` exits 0 only where this machine's
 * own core_pattern is plain "core" and RLIMIT_CORE may be raised to
 * unlimited, which the comparison needs. */
#include "uktest.h"
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char marker[4096] __attribute__((aligned(4096))) = "not yet";

static int plain_pattern(void) {
	char b[64] = {0};
	int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);
	if (fd < 0)
		return 0;
	read(fd, b, sizeof b - 1);
	close(fd);
	int pid = 0;
	fd = open("/proc/sys/kernel/core_uses_pid", O_RDONLY);
	if (fd >= 0) {
		char c = '0';
		read(fd, &c, 1);
		pid = c == '1';
		close(fd);
	}
	struct rlimit r;
	getrlimit(RLIMIT_CORE, &r);
	return strcmp(b, "core\n") == 0 && !pid && r.rlim_max == RLIM_INFINITY;
}

/* run forks a child that does what, and reports how it ended. */
static int run(const char *name, int limit, int dumpable, void (*what)(void)) {
	unlink("core");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		struct rlimit r = {limit ? RLIM_INFINITY : 0, RLIM_INFINITY};
		setrlimit(RLIMIT_CORE, &r);
		if (!dumpable)
			prctl(PR_SET_DUMPABLE, 0);
		what();
		_exit(0);
	}
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	int st;
	waitpid(c, &st, 0);
	struct stat sb;
	int file = stat("core", &sb) == 0;
	printf("%s: signal %d, WCOREDUMP %d, si_code %s, core file %d\n", name, WTERMSIG(st), WCOREDUMP(st) != 0,
	       si.si_code == CLD_DUMPED ? "CLD_DUMPED" : si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", file);
	return file;
}

static void segv(void) {
	strcpy(marker, "written before the crash");
	*(volatile int *)8 = 1;
}
static void quit(void) { raise(SIGQUIT); }
static void term(void) { raise(SIGTERM); }

/* check reads the core and checks what it says about the crash. */
static void check(void) {
	int fd = open("core", O_RDONLY);
	static char b[1 << 20];
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	CHECK("an ELF core of x86-64", n > (ssize_t)sizeof *eh && !memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
	                                     eh->e_type == ET_CORE && eh->e_machine == EM_X86_64);
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + eh->e_phoff);
	int cursig = -1, marked = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_NOTE && ph[i].p_offset + ph[i].p_filesz <= (size_t)n) {
			for (size_t o = ph[i].p_offset; o + 12 <= ph[i].p_offset + ph[i].p_filesz;) {
				Elf64_Nhdr *nh = (Elf64_Nhdr *)(b + o);
				size_t desc = o + 12 + ((nh->n_namesz + 3) & ~3u);
				if (nh->n_type == NT_PRSTATUS)
					cursig = *(short *)(b + desc + 12);
				o = desc + ((nh->n_descsz + 3) & ~3u);
			}
		}
		unsigned long m = (unsigned long)marker;
		if (ph[i].p_type == PT_LOAD && m >= ph[i].p_vaddr && m < ph[i].p_vaddr + ph[i].p_filesz) {
			off_t at = ph[i].p_offset + (m - ph[i].p_vaddr);
			char got[32] = {0};
			fd = open("core", O_RDONLY);
			pread(fd, got, sizeof got - 1, at);
			close(fd);
			marked = !strcmp(got, "written before the crash");
		}
	}
	EXPECT_EQ(cursig, SIGSEGV);
	CHECK("the core holds what the process wrote", marked);
}

int main(int argc, char **argv) {
	if (argc > 1 && !strcmp(argv[1], "probe"))
		return plain_pattern() ? 0 : 1;
	char d[64];
	snprintf(d, sizeof d, "/dev/shm/uk_core_%d", getpid());
	mkdir(d, 0700);
	chdir(d);
	if (run("SIGSEGV, RLIMIT_CORE unlimited", 1, 1, segv))
		check();
	run("SIGSEGV, RLIMIT_CORE 0", 0, 1, segv);
	run("SIGQUIT, RLIMIT_CORE unlimited", 1, 1, quit);
	run("SIGTERM, RLIMIT_CORE unlimited", 1, 1, term);
	run("SIGSEGV, not dumpable", 1, 0, segv);
	unlink("core");
	chdir("/");
	rmdir(d);
	return ukt_exit();
}
