/* fhandle.c: name_to_handle_at and open_by_handle_at on tmpfs (/dev/shm)
 * compared with Linux (LTP's name_to_handle_at01/02 and
 * open_by_handle_at01/02): the handle's size and type, its errors, the
 * mount id, opening files and directories by handle, ESTALE once a file
 * lost its name, EPERM without CAP_DAC_READ_SEARCH, EOPNOTSUPP on proc. */
#include "uktest.h"
#include <fcntl.h>
#include <sys/stat.h>

struct fh {
	unsigned int handle_bytes;
	int handle_type;
	unsigned char f_handle[128];
};

static long n2h(int dfd, const char *p, void *h, void *mnt, int flags) {
	return syscall(SYS_name_to_handle_at, dfd, p, h, mnt, flags);
}
static long obh(int mfd, void *h, int flags) { return syscall(SYS_open_by_handle_at, mfd, h, flags); }

int main(void) {
	char dir[] = "/dev/shm/fhandle.XXXXXX";
	mkdtemp(dir);
	chdir(dir);
	int fd = open("file", O_CREAT | O_RDWR, 0644);
	write(fd, "contents", 8);
	mkdir("sub", 0755);
	int sf = open("sub/inner", O_CREAT | O_RDWR, 0644);
	close(sf);
	symlink("file", "link");
	int mfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct fh h;
	int mnt = -1;
	/* name_to_handle_at */
	h.handle_bytes = 0;
	EXPECT_ERR(n2h(AT_FDCWD, "file", &h, &mnt, 0x8000), EINVAL);
	EXPECT_ERR(n2h(AT_FDCWD, "nope", &h, &mnt, 0), ENOENT);
	h.handle_type = 77;
	EXPECT_ERR(n2h(AT_FDCWD, "file", &h, &mnt, 0), EOVERFLOW);
	printf("too small: bytes %u type %d\n", h.handle_bytes, h.handle_type);
	h.handle_bytes = 200;
	EXPECT_ERR(n2h(AT_FDCWD, "file", &h, &mnt, 0), EINVAL);
	h.handle_bytes = 128;
	EXPECT_ERR(n2h(AT_FDCWD, "file", (void *)-1, &mnt, 0), EFAULT);
	EXPECT_ERR(n2h(AT_FDCWD, "file", &h, (void *)-1, 0), EFAULT);
	EXPECT_ERR(n2h(AT_FDCWD, "/proc/self/status", &h, &mnt, 0), EOPNOTSUPP);
	EXPECT_OK(n2h(AT_FDCWD, "file", &h, &mnt, 0));
	printf("handle: bytes %u type %d\n", h.handle_bytes, h.handle_type);
	struct statx sx;
	statx(AT_FDCWD, "file", 0, STATX_MNT_ID, &sx);
	printf("mount id as statx %d\n", (unsigned long long)mnt == sx.stx_mnt_id);
	struct fh fileh = h, dirh, subh, linkh, goneh;
	dirh.handle_bytes = subh.handle_bytes = linkh.handle_bytes = goneh.handle_bytes = 128;
	EXPECT_OK(n2h(fd, "", &h, &mnt, AT_EMPTY_PATH));
	printf("by fd same handle %d\n", memcmp(&h, &fileh, 8 + fileh.handle_bytes) == 0);
	EXPECT_OK(n2h(AT_FDCWD, ".", &dirh, &mnt, 0));
	EXPECT_OK(n2h(mfd, "sub/inner", &subh, &mnt, 0));
	EXPECT_OK(n2h(AT_FDCWD, "link", &linkh, &mnt, 0));
	int g = open("gone", O_CREAT | O_RDWR, 0644);
	EXPECT_OK(n2h(g, "", &goneh, &mnt, AT_EMPTY_PATH));
	unlink("gone");
	close(g); /* open, Linux would still find it; closed, it is gone */
	/* open_by_handle_at */
	int o = obh(mfd, &fileh, O_RDONLY);
	EXPECT_OK(o < 0 ? -1 : 0);
	char buf[16] = {0};
	read(o, buf, 8);
	struct stat a, b;
	fstat(o, &a);
	stat("file", &b);
	printf("opened: %s, same inode %d\n", buf, a.st_ino == b.st_ino);
	close(o);
	o = obh(AT_FDCWD, &subh, O_RDWR);
	fstat(o, &a);
	stat("sub/inner", &b);
	printf("inner by cwd: same inode %d\n", o >= 0 && a.st_ino == b.st_ino);
	close(o);
	o = obh(mfd, &dirh, O_RDONLY | O_DIRECTORY);
	fstat(o, &a);
	printf("directory: is dir %d\n", o >= 0 && S_ISDIR(a.st_mode));
	close(o);
	EXPECT_ERR(obh(mfd, &dirh, O_RDWR), EISDIR);
	EXPECT_ERR(obh(mfd, &linkh, O_RDONLY), ELOOP);
	EXPECT_ERR(obh(mfd, &goneh, O_RDONLY), ESTALE);
	struct fh bad = fileh;
	memset(bad.f_handle, 0xff, bad.handle_bytes);
	EXPECT_ERR(obh(mfd, &bad, O_RDONLY), ESTALE);
	bad = fileh;
	bad.handle_bytes = 0;
	EXPECT_ERR(obh(mfd, &bad, O_RDONLY), EINVAL);
	bad.handle_bytes = 129;
	EXPECT_ERR(obh(mfd, &bad, O_RDONLY), EINVAL);
	bad = fileh;
	bad.handle_type = -1;
	EXPECT_ERR(obh(mfd, &bad, O_RDONLY), EINVAL);
	EXPECT_ERR(obh(mfd, (void *)-1, O_RDONLY), EFAULT);
	EXPECT_ERR(obh(99, &fileh, O_RDONLY), EBADF);
	o = obh(mfd, &fileh, O_RDONLY | O_CLOEXEC);
	printf("cloexec %d\n", fcntl(o, F_GETFD) == FD_CLOEXEC);
	close(o);
	pid_t c = fork();
	if (c == 0) {
		setuid(65534);
		EXPECT_ERR(obh(mfd, &fileh, O_RDONLY), EPERM);
		EXPECT_ERR(obh(mfd, (void *)-1, O_RDONLY), EFAULT); /* the handle is read first */
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	unlink("sub/inner");
	rmdir("sub");
	unlink("link");
	unlink("file");
	rmdir(dir);
	return ukt_exit();
}
