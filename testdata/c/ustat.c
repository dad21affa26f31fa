/* ustat.c: ustat(2) and vhangup(2) compared with Linux (LTP's ustat01,
 * ustat02, vhangup01, vhangup02): the free counts of a mounted
 * filesystem named by its device number, EINVAL for a number no
 * filesystem has, EFAULT; vhangup needs CAP_SYS_TTY_CONFIG and succeeds
 * without a controlling terminal. */
#include "uktest.h"
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

struct ustat_buf {
	int f_tfree;
	unsigned long f_tinode;
	char f_fname[6];
	char f_fpack[6];
};

static long ustat_(unsigned dev, void *buf) { return syscall(SYS_ustat, dev, buf); }

/* encode is Linux's new_encode_dev: the 32-bit device number ustat takes. */
static unsigned encode(dev_t d) {
	unsigned maj = major(d), min = minor(d);
	return (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
}

static void check(const char *path) {
	struct stat st;
	struct statfs sf;
	struct ustat_buf u;
	memset(&u, 0x7f, sizeof u);
	stat(path, &st);
	EXPECT_OK(ustat_(encode(st.st_dev), &u));
	statfs(path, &sf);
	int zeros = 1;
	for (int i = 0; i < 6; i++) zeros &= u.f_fname[i] == 0 && u.f_fpack[i] == 0;
	/* the counts match statfs's, give or take what others write meanwhile */
	long db = (long)(unsigned)u.f_tfree - (long)(unsigned)sf.f_bfree, di = (long)u.f_tinode - (long)sf.f_ffree;
	printf("%s: names zero %d, blocks as statfs %d, inodes as statfs %d\n", path, zeros, db > -65536 && db < 65536, di > -65536 && di < 65536);
}

int main(void) {
	check("/");
	check("/dev/shm");
	check("/proc");
	struct ustat_buf u;
	EXPECT_ERR(ustat_((unsigned)-1, &u), EINVAL);
	struct stat st;
	stat("/", &st);
	EXPECT_ERR(ustat_(encode(st.st_dev), (void *)-1), EFAULT);
	EXPECT_ERR(ustat_(encode(makedev(4000, 77777)), &u), EINVAL);

	pid_t c = fork();
	if (c == 0) {
		setsid();
		EXPECT_OK(vhangup());
		setuid(65534);
		EXPECT_ERR(vhangup(), EPERM);
		fflush(stdout);
		_exit(0);
	}
	int status;
	waitpid(c, &status, 0);
	printf("child status %x\n", status);
	return ukt_exit();
}
