/* fsedges.c: file-system edge cases LTP's metadata tests check, compared
 * with Linux's tmpfs (/dev/shm natively): the *at calls with AT_EMPTY_PATH
 * on an O_PATH descriptor (fchmodat2_01) against the f* calls, which
 * refuse one; getdents of a removed directory (getdents02); statx's
 * mount-root attribute (statx12), its attribute mask and a birth time
 * only when asked; a NULL path with AT_EMPTY_PATH (Linux 6.11); readlink
 * with a negative size; which truncations and chowns stamp the times;
 * fcntl on an O_PATH descriptor; and, as uid 65534 on root's files,
 * O_NOATIME, utimensat's UTIME_NOW/UTIME_OMIT and security.* attributes
 * (which need CAP_SYS_ADMIN to change, not the file's mode), and an
 * attribute name that is only a prefix; and chattr's inode flags
 * (FS_IOC_GETFLAGS/SETFLAGS, which tmpfs keeps since Linux 6.0: LTP's
 * utimensat01, unlink09, setxattr03): what an immutable or append-only
 * file or directory refuses, and a no-atime file's reads. */
#include "uktest.h"
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/falloc.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x2000
#endif

static struct stat S(const char *p) { struct stat s; memset(&s, 0, sizeof s); lstat(p, &s); return s; }
static int later(struct timespec a, struct timespec b) { return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec); }
static unsigned statx_attr(const char *p, unsigned long long *mask) {
	struct statx x;
	memset(&x, 0, sizeof x);
	if (syscall(SYS_statx, AT_FDCWD, p, 0, STATX_BASIC_STATS, &x) != 0)
		return ~0u;
	*mask = x.stx_attributes_mask;
	return (unsigned)x.stx_attributes;
}

static int getflags(const char *p) {
	int fd = open(p, O_RDONLY | O_NONBLOCK), fl = -1;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &fl) < 0)
		fl = -errno;
	if (fd >= 0)
		close(fd);
	return fl;
}
static long setflags(const char *p, int fl) {
	int fd = open(p, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	long r = ioctl(fd, FS_IOC_SETFLAGS, &fl);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* chattr's flags, as root. */
static void inode_flags(void) {
	close(creat("i", 0666));
	close(creat("a", 0666));
	mkdir("di", 0777);
	mkdir("da", 0777);
	close(creat("da/old", 0666));
	EXPECT_EQ(getflags("i"), 0);
	EXPECT_ERR(setflags("i", FS_COMPR_FL), EOPNOTSUPP);
	EXPECT_OK(setflags("i", FS_IMMUTABLE_FL));
	EXPECT_EQ(getflags("i"), FS_IMMUTABLE_FL);
	unsigned long long mask;
	CHECK("statx shows immutable", statx_attr("i", &mask) & STATX_ATTR_IMMUTABLE);
	CHECK("statx mask knows immutable, append, nodump", (mask & 0x70) == 0x70);
	EXPECT_ERR(open("i", O_WRONLY), EPERM);
	int fd = EXPECT_OK(open("i", O_RDONLY));
	close(fd);
	EXPECT_ERR(access("i", W_OK), EPERM);
	EXPECT_ERR(unlink("i"), EPERM);
	EXPECT_ERR(rename("i", "i2"), EPERM);
	EXPECT_ERR(link("i", "i3"), EPERM);
	EXPECT_ERR(chmod("i", 0600), EPERM);
	EXPECT_ERR(chown("i", 1, 1), EPERM);
	EXPECT_ERR(utimensat(AT_FDCWD, "i", NULL, 0), EPERM);
	EXPECT_ERR(truncate("i", 0), EPERM);
	EXPECT_ERR(setxattr("i", "user.x", "1", 1, 0), EPERM);
	EXPECT_OK(setflags("i", 0));
	EXPECT_OK(chmod("i", 0644));

	EXPECT_OK(setflags("a", FS_APPEND_FL));
	EXPECT_ERR(open("a", O_WRONLY), EPERM);
	EXPECT_ERR(open("a", O_WRONLY | O_APPEND | O_TRUNC), EPERM);
	fd = EXPECT_OK(open("a", O_WRONLY | O_APPEND));
	EXPECT_EQ(write(fd, "xy", 2), 2);
	EXPECT_ERR(ftruncate(fd, 0), EPERM);
	EXPECT_ERR(fcntl(fd, F_SETFL, 0), EPERM);
	EXPECT_OK(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
	EXPECT_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1), EPERM);
	close(fd);
	struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	EXPECT_OK(utimensat(AT_FDCWD, "a", NULL, 0));
	EXPECT_ERR(utimensat(AT_FDCWD, "a", now_omit, 0), EPERM);
	EXPECT_ERR(unlink("a"), EPERM);
	EXPECT_ERR(truncate("a", 0), EPERM);
	EXPECT_OK(setflags("a", 0));

	EXPECT_OK(setflags("di", FS_IMMUTABLE_FL));
	EXPECT_ERR(creat("di/new", 0644), EPERM);
	EXPECT_ERR(mkdir("di/sub", 0755), EPERM);
	EXPECT_OK(setflags("di", 0));
	EXPECT_OK(setflags("da", FS_APPEND_FL));
	fd = EXPECT_OK(creat("da/new", 0644));
	close(fd);
	EXPECT_ERR(unlink("da/old"), EPERM);
	EXPECT_ERR(rename("da/old", "da/moved"), EPERM);
	EXPECT_OK(setflags("da", 0));

	/* A no-atime file's reads leave its access time. */
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	utimensat(AT_FDCWD, "i", old, 0);
	EXPECT_OK(setflags("i", FS_NOATIME_FL | FS_NODUMP_FL));
	char c;
	fd = open("i", O_RDONLY);
	read(fd, &c, 1);
	close(fd);
	EXPECT_EQ(S("i").st_atime, 1000);
	EXPECT_OK(setflags("i", 0));

	/* Where there are no flags: a pipe, a proc file. */
	int p[2];
	pipe(p);
	int fl;
	EXPECT_ERR(ioctl(p[0], FS_IOC_GETFLAGS, &fl), ENOTTY);
	EXPECT_EQ(getflags("/proc/self/status"), -ENOTTY);
}

static void as_nobody(void) {
	/* Root's files, where nobody has write permission or not. */
	EXPECT_OK(setegid(65534));
	EXPECT_OK(seteuid(65534));
	EXPECT_ERR(open("r644", O_RDONLY | O_NOATIME), EPERM);
	int fd = EXPECT_OK(open("r644", O_RDONLY));
	EXPECT_ERR(fcntl(fd, F_SETFL, O_NOATIME), EPERM);
	close(fd);
	struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	struct timespec now_now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	EXPECT_ERR(utimensat(AT_FDCWD, "r666", now_omit, 0), EPERM);
	EXPECT_ERR(utimensat(AT_FDCWD, "r644", now_omit, 0), EPERM);
	EXPECT_OK(utimensat(AT_FDCWD, "r666", now_now, 0));
	EXPECT_ERR(utimensat(AT_FDCWD, "r644", now_now, 0), EACCES);
	EXPECT_ERR(setxattr("r666", "security.uk", "1", 1, 0), EPERM);
	EXPECT_ERR(setxattr("r644", "security.uk", "1", 1, 0), EPERM);
	EXPECT_ERR(removexattr("r666", "security.uk"), EPERM);
	char v[8];
	EXPECT_ERR(getxattr("r600", "security.none", v, sizeof v), ENODATA);
	EXPECT_ERR(getxattr("r600", "user.none", v, sizeof v), EACCES);
	EXPECT_ERR(setflags("r644", FS_NODUMP_FL), EPERM);
	EXPECT_OK(seteuid(0));
	EXPECT_OK(setegid(0));
}

int main(void) {
	char d[64];
	snprintf(d, sizeof d, "/dev/shm/uk_fsedges_%d", getpid());
	mkdir(d, 0755);
	chdir(d);
	umask(0);

	/* AT_EMPTY_PATH on an O_PATH descriptor names its file; the f*
	 * calls take no O_PATH descriptor. */
	mkdir("dir", 0700);
	int pfd = EXPECT_OK(open("dir", O_PATH | O_DIRECTORY));
	EXPECT_OK(syscall(SYS_fchmodat2, pfd, "", 0751, AT_EMPTY_PATH));
	EXPECT_EQ(S("dir").st_mode & 07777, 0751);
	EXPECT_OK(fchownat(pfd, "", 1, 2, AT_EMPTY_PATH));
	EXPECT_EQ(S("dir").st_uid, 1);
	EXPECT_OK(utimensat(pfd, "", NULL, AT_EMPTY_PATH));
	EXPECT_ERR(fchmod(pfd, 0700), EBADF);
	EXPECT_ERR(fchown(pfd, 0, 0), EBADF);
	EXPECT_ERR(futimens(pfd, NULL), EBADF);
	symlink("dir", "link");
	int lfd = EXPECT_OK(open("link", O_PATH | O_NOFOLLOW));
	EXPECT_ERR(syscall(SYS_fchmodat2, lfd, "", 0700, AT_EMPTY_PATH), EOPNOTSUPP);
	/* fcntl on O_PATH: F_GETFL and the fd flags only. */
	CHECK("F_GETFL on O_PATH shows O_PATH", fcntl(pfd, F_GETFL) & O_PATH);
	EXPECT_ERR(fcntl(pfd, F_SETFL, O_NONBLOCK), EBADF);
	EXPECT_OK(fcntl(pfd, F_SETFD, FD_CLOEXEC));
	EXPECT_ERR(fcntl(pfd, F_GETLK, &(struct flock){0}), EBADF);

	/* A NULL path with AT_EMPTY_PATH is the empty path; without, EFAULT. */
	struct stat st;
	struct statx sx;
	EXPECT_OK(syscall(SYS_newfstatat, pfd, NULL, &st, AT_EMPTY_PATH));
	EXPECT_OK(syscall(SYS_statx, pfd, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	EXPECT_ERR(syscall(SYS_newfstatat, pfd, NULL, &st, 0), EFAULT);
	EXPECT_ERR(syscall(SYS_statx, pfd, NULL, 0, STATX_BASIC_STATS, &sx), EFAULT);
	EXPECT_ERR(syscall(SYS_statx, -1, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx), EBADF);

	/* statx: the mount root's attribute, the bits every file's mask has,
	 * and the birth time reported only when asked. */
	unsigned long long mask;
	CHECK("statx / is a mount root", statx_attr("/", &mask) & STATX_ATTR_MOUNT_ROOT);
	CHECK("statx of a mount's root: mask says the bit is known", mask & STATX_ATTR_MOUNT_ROOT);
	close(creat("f", 0644));
	CHECK("statx f is no mount root", !(statx_attr("f", &mask) & STATX_ATTR_MOUNT_ROOT));
	CHECK("statx f: mask has automount, mount root, DAX", (mask & 0x203000) == 0x203000);
	EXPECT_OK(syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
	CHECK("statx without STATX_BTIME reports none", !(sx.stx_mask & STATX_BTIME));

	/* getdents of a removed directory fails with ENOENT, . and .. too. */
	mkdir("gone", 0755);
	int gfd = EXPECT_OK(open("gone", O_RDONLY | O_DIRECTORY));
	EXPECT_OK(rmdir("gone"));
	char buf[4096];
	EXPECT_ERR(syscall(SYS_getdents64, gfd, buf, sizeof buf), ENOENT);
	close(gfd);

	/* readlink's size is an int: 0xffffffff is -1. */
	EXPECT_ERR(syscall(SYS_readlink, "link", buf, 0xffffffffUL), EINVAL);
	EXPECT_EQ(syscall(SYS_readlink, "link", buf, 0x100000010UL), 3);

	/* A truncation to the size a file has stamps it all the same, by
	 * path or descriptor; chown(-1, -1) stamps the change time. */
	int fd = open("t", O_CREAT | O_RDWR, 0644);
	write(fd, "abc", 3);
	struct stat a = S("t");
	usleep(20000);
	truncate("t", 3);
	struct stat b = S("t");
	CHECK("truncate to the same size: mtime stamped", later(b.st_mtim, a.st_mtim));
	CHECK("truncate to the same size: ctime stamped", later(b.st_ctim, a.st_ctim));
	usleep(20000);
	truncate("t", 2);
	struct stat c = S("t");
	CHECK("truncate to a new size: mtime stamped", later(c.st_mtim, b.st_mtim));
	usleep(20000);
	ftruncate(fd, 2);
	struct stat e = S("t");
	CHECK("ftruncate to the same size: mtime stamped", later(e.st_mtim, c.st_mtim));
	usleep(20000);
	chown("t", -1, -1);
	struct stat g = S("t");
	CHECK("chown(-1, -1): ctime stamped", later(g.st_ctim, e.st_ctim));
	CHECK("chown(-1, -1): mtime kept", !later(g.st_mtim, e.st_mtim));
	close(fd);

	/* An attribute name that is only a namespace prefix. */
	EXPECT_ERR(setxattr("f", "user.", "1", 1, 0), EINVAL);
	EXPECT_ERR(setxattr("f", "trusted.", "1", 1, 0), EINVAL);
	EXPECT_ERR(setxattr("f", "nonamespace", "1", 1, 0), EOPNOTSUPP);

	if (geteuid() == 0) {
		close(creat("r644", 0644));
		close(creat("r666", 0666));
		close(creat("r600", 0600));
		as_nobody();
		inode_flags();
	} else {
		printf("not root: the checks as uid 65534 are left out\n");
	}

	chdir("/");
	snprintf(buf, sizeof buf, "rm -rf %s", d);
	system(buf);
	return ukt_exit();
}
