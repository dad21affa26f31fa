/* acct.c: BSD process accounting compared with Linux (LTP's acct01 and
 * acct02): acct(2)'s checks, and the acct_v3 record written when a
 * process ends: a child that exits, one killed by a signal, one that
 * executed a program. Only this program's children's records are read
 * (natively the file also gets every other process that ends meanwhile). */
#include "uktest.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

struct acct_v3 {
	char ac_flag, ac_version;
	uint16_t ac_tty;
	uint32_t ac_exitcode, ac_uid, ac_gid, ac_pid, ac_ppid, ac_btime;
	float ac_etime;
	uint16_t ac_utime, ac_stime, ac_mem, ac_io, ac_rw, ac_minflt, ac_majflt, ac_swaps;
	char ac_comm[16];
};

static unsigned long uncomp(uint16_t c) { return (unsigned long)(c & 0x1fff) << (((c >> 13) & 7) * 3); }

static void show(int fd, pid_t pid, const char *what) {
	struct acct_v3 r;
	int found = 0;
	lseek(fd, 0, SEEK_SET);
	while (read(fd, &r, sizeof r) == sizeof r) {
		if (r.ac_pid != (uint32_t)pid) continue;
		found++;
		long age = (long)time(NULL) - (long)r.ac_btime;
		printf("%s: flag %x version %d exitcode %x uid %u gid %u ppid is mine %d comm %.16s\n", what, r.ac_flag, r.ac_version,
		       r.ac_exitcode, r.ac_uid, r.ac_gid, r.ac_ppid == (uint32_t)getpid(), r.ac_comm);
		printf("%s: started within 60 s %d, elapsed under 60 s %d, cpu under 10 s %d\n", what, age >= 0 && age < 60,
		       r.ac_etime >= 0 && r.ac_etime < 6000, uncomp(r.ac_utime) + uncomp(r.ac_stime) < 1000);
	}
	printf("%s: %d records\n", what, found);
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return acct(NULL) == 0 ? 0 : 1; /* does native Linux let us? */
	if (argc == 2 && strcmp(argv[1], "child") == 0)
		return 0; /* executed by the "execed" child */
	char path[] = "/tmp/acct.XXXXXX";
	int fd = mkstemp(path);
	/* checks */
	EXPECT_ERR(acct("/"), EISDIR);
	EXPECT_ERR(acct("/dev/null"), EACCES);
	EXPECT_ERR(acct("/tmp/does/not/exist"), ENOENT);
	EXPECT_ERR(acct("/etc/passwd/"), ENOTDIR);
	EXPECT_ERR(acct((char *)-1), EFAULT);
	char longname[PATH_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	EXPECT_ERR(acct(longname), ENAMETOOLONG);
	pid_t c = fork();
	if (c == 0) {
		setuid(65534);
		EXPECT_ERR(acct(path), EPERM);
		EXPECT_ERR(acct(NULL), EPERM);
		EXPECT_ERR(acct((char *)-1), EPERM);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_OK(acct(path));
	EXPECT_OK(acct(path)); /* again: the same file, still on */

	pid_t exited = fork();
	if (exited == 0) _exit(3);
	waitpid(exited, NULL, 0);
	pid_t killed = fork();
	if (killed == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	waitpid(killed, NULL, 0);
	pid_t execed = fork();
	if (execed == 0) {
		execl("/proc/self/exe", "acct", "child", (char *)NULL);
		_exit(127);
	}
	waitpid(execed, NULL, 0);
	EXPECT_OK(acct(NULL));
	pid_t after = fork();
	if (after == 0) _exit(0);
	waitpid(after, NULL, 0);

	show(fd, exited, "exited");
	show(fd, killed, "killed");
	show(fd, execed, "execed");
	show(fd, after, "after off");
	struct stat st;
	fstat(fd, &st);
	printf("whole records %d\n", st.st_size % sizeof(struct acct_v3) == 0);
	unlink(path);
	return ukt_exit();
}
