/* fs_ops: the file-system system calls and their errors, compared with
 * native Linux. argv[1] is a scratch directory to create and work in (a
 * host temp dir natively, /tmp/... in the sandbox). Only deterministic
 * values are printed: modes, sizes, link counts, errno names. */
#include "uktest.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <utime.h>

static void put(const char *path, const char *s) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		printf("put %s: FAIL\n", path);
		ukt_failures++;
	}
	close(fd);
}

static long fsize(const char *path) {
	struct stat st;
	return lstat(path, &st) == 0 ? (long)st.st_size : -1;
}

static long fmode(const char *path) {
	struct stat st;
	return lstat(path, &st) == 0 ? (long)st.st_mode : -1;
}

static long fnlink(const char *path) {
	struct stat st;
	return lstat(path, &st) == 0 ? (long)st.st_nlink : -1;
}

static void opens(void) {
	int fd = EXPECT_OK(open("a", O_RDWR | O_CREAT | O_EXCL, 0640));
	EXPECT_ERR(open("a", O_RDWR | O_CREAT | O_EXCL, 0640), EEXIST);
	EXPECT_EQ(fmode("a"), S_IFREG | 0640);
	EXPECT_EQ(write(fd, "hello world", 11), 11);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 11);
	EXPECT_EQ(lseek(fd, -5, SEEK_END), 6);
	char buf[64] = {0};
	EXPECT_EQ(read(fd, buf, sizeof buf), 5);
	CHECK("read after lseek gives world", strcmp(buf, "world") == 0);
	EXPECT_ERR(lseek(fd, -100, SEEK_SET), EINVAL);
	EXPECT_EQ(pwrite(fd, "J", 1, 0), 1);
	EXPECT_EQ(pread(fd, buf, 5, 0), 5);
	CHECK("pwrite/pread at 0", memcmp(buf, "Jello", 5) == 0);
	EXPECT_OK(close(fd));

	EXPECT_ERR(open("missing", O_RDONLY), ENOENT);
	EXPECT_ERR(open("missing/x", O_RDONLY), ENOENT);
	EXPECT_ERR(open("a/x", O_RDONLY), ENOTDIR);
	EXPECT_ERR(open("a/", O_RDONLY), ENOTDIR);
	EXPECT_ERR(open("", O_RDONLY), ENOENT);
	EXPECT_ERR(open(".", O_WRONLY), EISDIR);
	EXPECT_ERR(open("a", O_RDONLY | O_DIRECTORY), ENOTDIR);
	EXPECT_ERR(open("newdir", O_RDONLY | O_CREAT | O_DIRECTORY, 0755), EINVAL);
	EXPECT_ERR(open("a/", O_RDWR | O_CREAT, 0644), EISDIR);
	char longname[300];
	memset(longname, 'n', 256);
	longname[256] = 0;
	EXPECT_ERR(open(longname, O_RDONLY | O_CREAT, 0644), ENAMETOOLONG);
	EXPECT_ERR(openat(-1, "a", O_RDONLY), EBADF);
	EXPECT_ERR(openat(12345, "a", O_RDONLY), EBADF);
	int afd = EXPECT_OK(open("a", O_RDONLY));
	EXPECT_ERR(openat(afd, "x", O_RDONLY), ENOTDIR);
	fd = EXPECT_OK(openat(afd, "/", O_RDONLY | O_DIRECTORY));
	close(fd);
	EXPECT_ERR(write(afd, "x", 1), EBADF);
	close(afd);

	fd = EXPECT_OK(open("a", O_WRONLY | O_TRUNC));
	EXPECT_EQ(fsize("a"), 0);
	close(fd);
	put("a", "12345");
	fd = EXPECT_OK(open("a", O_WRONLY | O_APPEND));
	EXPECT_EQ(write(fd, "678", 3), 3);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 8);
	EXPECT_EQ(pwrite(fd, "9", 1, 0), 1);
	EXPECT_EQ(fsize("a"), 9);
	close(fd);

	fd = EXPECT_OK(creat("c", 0600));
	EXPECT_EQ(fmode("c"), S_IFREG | 0600);
	EXPECT_ERR(read(fd, buf, 1), EBADF);
	close(fd);

	mode_t old = umask(077);
	EXPECT_EQ(umask(077), 077);
	fd = EXPECT_OK(open("u", O_WRONLY | O_CREAT, 0666));
	close(fd);
	EXPECT_EQ(fmode("u"), S_IFREG | 0600);
	umask(old);

	/* O_PATH descriptors allow fstat and *at, not I/O. */
	fd = EXPECT_OK(open("a", O_PATH));
	EXPECT_ERR(read(fd, buf, 1), EBADF);
	struct stat st;
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 9);
	EXPECT_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	close(fd);

	/* A dup shares the offset; O_CLOEXEC sets FD_CLOEXEC. */
	fd = EXPECT_OK(open("a", O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int fd2 = dup(fd);
	EXPECT_EQ(read(fd, buf, 3), 3);
	EXPECT_EQ(lseek(fd2, 0, SEEK_CUR), 3);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	EXPECT_OK(ioctl(fd, FIONCLEX));
	EXPECT_EQ(fcntl(fd, F_GETFD), 0);
	EXPECT_OK(ioctl(fd, FIOCLEX));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int avail = -1;
	EXPECT_OK(ioctl(fd, FIONREAD, &avail));
	EXPECT_EQ(avail, 6);
	close(fd);
	close(fd2);
}

static void stats(void) {
	struct stat st;
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(S_ISREG(st.st_mode), 1);
	EXPECT_EQ(st.st_nlink, 1);
	EXPECT_ERR(stat("missing", &st), ENOENT);
	EXPECT_ERR(stat("a/b", &st), ENOTDIR);
	EXPECT_ERR(stat("", &st), ENOENT);
	EXPECT_ERR(fstatat(AT_FDCWD, "a", &st, 0x40000), EINVAL);
	EXPECT_ERR(fstat(-1, &st), EBADF);
	EXPECT_OK(symlink("a", "sl"));
	EXPECT_OK(lstat("sl", &st));
	EXPECT_EQ(S_ISLNK(st.st_mode), 1);
	EXPECT_EQ(st.st_size, 1);
	EXPECT_OK(stat("sl", &st));
	EXPECT_EQ(S_ISREG(st.st_mode), 1);
	EXPECT_OK(fstatat(AT_FDCWD, "sl", &st, AT_SYMLINK_NOFOLLOW));
	EXPECT_EQ(S_ISLNK(st.st_mode), 1);
	struct statx sx;
	EXPECT_OK(statx(AT_FDCWD, "a", 0, STATX_BASIC_STATS, &sx));
	EXPECT_EQ((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, 1);
	EXPECT_EQ(sx.stx_size, 9);
	EXPECT_EQ(sx.stx_mode & 07777, 0640);
	EXPECT_ERR(statx(AT_FDCWD, "a", 0, 0x80000000u, &sx), EINVAL);
	EXPECT_ERR(statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx), ENOENT);
	int pfd[2];
	EXPECT_OK(pipe(pfd));
	EXPECT_OK(fstat(pfd[0], &st));
	EXPECT_EQ(S_ISFIFO(st.st_mode), 1);
	EXPECT_OK(fstatat(pfd[0], "", &st, AT_EMPTY_PATH));
	EXPECT_EQ(S_ISFIFO(st.st_mode), 1);
	EXPECT_ERR(lseek(pfd[0], 0, SEEK_SET), ESPIPE);
	close(pfd[0]);
	close(pfd[1]);
}

static void dirs(void) {
	EXPECT_OK(mkdir("d", 0755));
	EXPECT_EQ(fmode("d"), S_IFDIR | 0755);
	EXPECT_EQ(fnlink("d"), 2);
	EXPECT_ERR(mkdir("d", 0755), EEXIST);
	EXPECT_ERR(mkdir("a", 0755), EEXIST);
	EXPECT_ERR(mkdir("missing/d", 0755), ENOENT);
	EXPECT_OK(mkdir("d/sub", 0700));
	EXPECT_EQ(fnlink("d"), 3);
	EXPECT_OK(mkdir("d/sub2/", 0700));
	EXPECT_ERR(rmdir("d"), ENOTEMPTY);
	EXPECT_ERR(rmdir("a"), ENOTDIR);
	EXPECT_ERR(rmdir("d/sub/."), EINVAL);
	EXPECT_ERR(rmdir("missing"), ENOENT);
	EXPECT_ERR(unlink("d"), EISDIR);
	EXPECT_OK(rmdir("d/sub2"));
	EXPECT_ERR(mkdirat(-1, "x", 0755), EBADF);
	int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
	EXPECT_OK(mkdirat(dfd, "viafd", 0755));
	EXPECT_OK(unlinkat(dfd, "viafd", AT_REMOVEDIR));
	EXPECT_ERR(unlinkat(dfd, "sub", 0), EISDIR);
	EXPECT_ERR(unlinkat(dfd, "sub", 0x4000), EINVAL);
	EXPECT_ERR(read(dfd, NULL, 0), EISDIR);
	close(dfd);

	/* getdents64: 50 entries, listed with a small buffer. */
	EXPECT_OK(mkdir("many", 0755));
	char name[64];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof name, "many/f%02d", i);
		put(name, "x");
	}
	dfd = EXPECT_OK(open("many", O_RDONLY | O_DIRECTORY));
	char buf[256];
	int count = 0, dots = 0, sum = 0;
	long n;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
				dots++;
				CHECK("dot entries are DT_DIR", d->d_type == DT_DIR);
			} else {
				count++;
				sum += atoi(d->d_name + 1);
				if (d->d_type != DT_REG)
					CHECK("file entries are DT_REG", 0);
			}
			off += d->d_reclen;
		}
	}
	EXPECT_EQ(n, 0);
	EXPECT_EQ(count, 50);
	EXPECT_EQ(dots, 2);
	EXPECT_EQ(sum, 1225);
	EXPECT_OK(lseek(dfd, 0, SEEK_SET));
	EXPECT_ERR(syscall(SYS_getdents64, dfd, buf, 10), EINVAL);
	close(dfd);
	int ffd = open("a", O_RDONLY);
	EXPECT_ERR(syscall(SYS_getdents64, ffd, buf, sizeof buf), ENOTDIR);
	close(ffd);
	DIR *dp = opendir("many");
	int seen = 0;
	struct dirent *de;
	while ((de = readdir(dp)) != NULL)
		seen++;
	closedir(dp);
	EXPECT_EQ(seen, 52);

	/* chdir, fchdir, getcwd. */
	char start[4096], cwd[4096];
	EXPECT_OK(getcwd(start, sizeof start) != NULL ? 0 : -1);
	EXPECT_OK(chdir("d/sub"));
	EXPECT_OK(getcwd(cwd, sizeof cwd) != NULL ? 0 : -1);
	CHECK("getcwd after chdir ends in /d/sub", strlen(cwd) > 6 && strcmp(cwd + strlen(cwd) - 6, "/d/sub") == 0);
	EXPECT_ERR(syscall(SYS_getcwd, cwd, 1), ERANGE);
	EXPECT_OK(chdir(".."));
	EXPECT_OK(chdir(".."));
	EXPECT_OK(getcwd(cwd, sizeof cwd) != NULL ? 0 : -1);
	CHECK("chdir .. twice returns", strcmp(cwd, start) == 0);
	EXPECT_ERR(chdir("a"), ENOTDIR);
	EXPECT_ERR(chdir("missing"), ENOENT);
	dfd = open("d", O_RDONLY);
	EXPECT_OK(fchdir(dfd));
	EXPECT_OK(access("sub", F_OK));
	EXPECT_OK(chdir(start));
	close(dfd);
	ffd = open("a", O_RDONLY);
	EXPECT_ERR(fchdir(ffd), ENOTDIR);
	close(ffd);
	EXPECT_ERR(fchdir(-1), EBADF);
}

static void links(void) {
	EXPECT_OK(link("a", "hard"));
	EXPECT_EQ(fnlink("a"), 2);
	EXPECT_ERR(link("a", "hard"), EEXIST);
	EXPECT_ERR(link("d", "dlink"), EPERM);
	EXPECT_ERR(link("missing", "x"), ENOENT);
	EXPECT_OK(unlink("hard"));
	EXPECT_EQ(fnlink("a"), 1);
	EXPECT_ERR(unlink("hard"), ENOENT);

	char buf[64] = {0};
	EXPECT_EQ(readlink("sl", buf, sizeof buf), 1);
	CHECK("readlink gives the target", strcmp(buf, "a") == 0);
	EXPECT_ERR(readlink("a", buf, sizeof buf), EINVAL);
	EXPECT_ERR(readlink("missing", buf, sizeof buf), ENOENT);
	EXPECT_OK(symlink("a-rather-long-target-name", "sl2"));
	EXPECT_EQ(readlink("sl2", buf, 4), 4);
	EXPECT_ERR(symlink("x", "sl"), EEXIST);
	EXPECT_ERR(symlink("", "empty"), ENOENT);
	EXPECT_OK(symlink("loop2", "loop1"));
	EXPECT_OK(symlink("loop1", "loop2"));
	EXPECT_ERR(open("loop1", O_RDONLY), ELOOP);
	EXPECT_ERR(open("sl", O_RDONLY | O_NOFOLLOW), ELOOP);
	EXPECT_OK(symlink("d", "dl"));
	EXPECT_OK(access("dl/sub", F_OK));
	EXPECT_ERR(rmdir("dl"), ENOTDIR);
	EXPECT_OK(unlink("dl"));
	EXPECT_OK(symlink("dangling-target", "dangle"));
	int fd = EXPECT_OK(open("dangle", O_WRONLY | O_CREAT, 0644));
	close(fd);
	EXPECT_EQ(fsize("dangling-target"), 0);

	/* Unlinked but open files stay readable. */
	put("gone", "still here");
	fd = open("gone", O_RDONLY);
	EXPECT_OK(unlink("gone"));
	struct stat st;
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_nlink, 0);
	EXPECT_EQ(read(fd, buf, sizeof buf), 10);
	close(fd);
}

static void renames(void) {
	put("r1", "one");
	put("r2", "two");
	EXPECT_OK(rename("r1", "r2"));
	EXPECT_EQ(fsize("r2"), 3);
	EXPECT_ERR(rename("r1", "r3"), ENOENT);
	EXPECT_OK(mkdir("rd1", 0755));
	EXPECT_OK(mkdir("rd2", 0755));
	put("rd2/x", "x");
	EXPECT_ERR(rename("rd1", "rd2"), ENOTEMPTY);
	EXPECT_ERR(rename("r2", "rd1"), EISDIR);
	EXPECT_ERR(rename("rd1", "r2"), ENOTDIR);
	EXPECT_ERR(rename("rd1", "rd1/inside"), EINVAL);
	EXPECT_OK(rename("rd1", "rd3"));
	EXPECT_OK(rename("rd3", "rd2/x2"));
	EXPECT_OK(rename("r2", "r2"));
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "r2", AT_FDCWD, "a", RENAME_NOREPLACE), EEXIST);
	EXPECT_OK(syscall(SYS_renameat2, AT_FDCWD, "r2", AT_FDCWD, "a", RENAME_EXCHANGE));
	EXPECT_EQ(fsize("a"), 3);
	EXPECT_EQ(fsize("r2"), 9);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "r2", AT_FDCWD, "nope", RENAME_EXCHANGE), ENOENT);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "r2", AT_FDCWD, "a", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
	EXPECT_OK(syscall(SYS_renameat2, AT_FDCWD, "r2", AT_FDCWD, "a", RENAME_EXCHANGE));
	EXPECT_ERR(rename("", "x"), ENOENT);
}

static void attrs(void) {
	EXPECT_OK(chmod("a", 0604));
	EXPECT_EQ(fmode("a"), S_IFREG | 0604);
	int fd = open("a", O_RDONLY);
	EXPECT_OK(fchmod(fd, 0640));
	EXPECT_EQ(fmode("a"), S_IFREG | 0640);
	EXPECT_OK(fchmodat(AT_FDCWD, "a", 04755, 0));
	EXPECT_EQ(fmode("a"), S_IFREG | 04755);
	EXPECT_ERR(chmod("missing", 0644), ENOENT);
	EXPECT_OK(chown("a", 65534, 65534));
	struct stat st;
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(st.st_uid, 65534);
	EXPECT_EQ(st.st_gid, 65534);
	EXPECT_EQ(st.st_mode & 07777, 0755);
	EXPECT_OK(fchown(fd, 0, -1));
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(st.st_uid, 0);
	EXPECT_EQ(st.st_gid, 65534);
	EXPECT_OK(lchown("sl", 65534, 65534));
	EXPECT_OK(lstat("sl", &st));
	EXPECT_EQ(st.st_uid, 65534);
	EXPECT_OK(stat("sl", &st));
	EXPECT_EQ(st.st_uid, 0);
	EXPECT_OK(fchownat(AT_FDCWD, "a", 0, 0, 0));
	EXPECT_OK(chmod("a", 0640));
	close(fd);

	struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
	EXPECT_OK(utimensat(AT_FDCWD, "a", ts, 0));
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
	EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
	EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
	EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {5, 0}};
	EXPECT_OK(utimensat(AT_FDCWD, "a", omit, 0));
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
	EXPECT_EQ(st.st_mtim.tv_sec, 5);
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	EXPECT_ERR(utimensat(AT_FDCWD, "a", bad, 0), EINVAL);
	EXPECT_ERR(utimensat(AT_FDCWD, "missing", ts, 0), ENOENT);
	struct timeval tv[2] = {{100, 5}, {200, 6}};
	EXPECT_OK(utimes("a", tv));
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(st.st_mtim.tv_sec, 200);
	EXPECT_EQ(st.st_mtim.tv_nsec, 6000);
	struct utimbuf ub = {300, 400};
	EXPECT_OK(utime("a", &ub));
	EXPECT_OK(stat("a", &st));
	EXPECT_EQ(st.st_atim.tv_sec, 300);
	EXPECT_EQ(st.st_mtim.tv_sec, 400);
	fd = open("a", O_RDONLY);
	EXPECT_OK(futimens(fd, ts));
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
	close(fd);
	EXPECT_OK(utimensat(AT_FDCWD, "sl", ts, AT_SYMLINK_NOFOLLOW));

	EXPECT_OK(access("a", R_OK | W_OK));
	EXPECT_ERR(access("a", X_OK), EACCES);
	EXPECT_OK(access("d", X_OK));
	EXPECT_ERR(access("missing", F_OK), ENOENT);
	EXPECT_ERR(access("a", 8), EINVAL);
	EXPECT_OK(faccessat(AT_FDCWD, "sl", F_OK, AT_SYMLINK_NOFOLLOW));

	EXPECT_OK(truncate("a", 100));
	EXPECT_EQ(fsize("a"), 100);
	EXPECT_ERR(truncate("a", -1), EINVAL);
	EXPECT_ERR(truncate("d", 0), EISDIR);
	EXPECT_ERR(truncate("missing", 0), ENOENT);
	fd = open("a", O_RDWR);
	EXPECT_OK(ftruncate(fd, 2));
	EXPECT_EQ(fsize("a"), 2);
	EXPECT_OK(ftruncate(fd, 8192));
	char buf[16];
	EXPECT_EQ(pread(fd, buf, 4, 4000), 4);
	CHECK("truncate extends with zeros", memcmp(buf, "\0\0\0\0", 4) == 0);
	EXPECT_ERR(ftruncate(fd, -1), EINVAL);
	EXPECT_EQ(lseek(fd, 0, SEEK_DATA), 0);
	EXPECT_ERR(lseek(fd, 9000, SEEK_DATA), ENXIO);
	EXPECT_OK(fallocate(fd, 0, 0, 20000));
	EXPECT_EQ(fsize("a"), 20000);
	EXPECT_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 40000));
	EXPECT_EQ(fsize("a"), 20000);
	EXPECT_ERR(fallocate(fd, 0, -1, 10), EINVAL);
	EXPECT_ERR(fallocate(fd, 0, 0, 0), EINVAL);
	EXPECT_OK(fsync(fd));
	EXPECT_OK(fdatasync(fd));
	EXPECT_OK(syncfs(fd));
	EXPECT_OK(sync_file_range(fd, 0, 0, 0));
	EXPECT_OK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0 ? 0 : -1);
	close(fd);
	fd = open("a", O_RDONLY);
	EXPECT_ERR(ftruncate(fd, 0), EINVAL);
	EXPECT_ERR(fallocate(fd, 0, 0, 10), EBADF);
	close(fd);
	sync();
}

static void data(void) {
	put("src", "0123456789abcdef");
	int in = open("src", O_RDONLY);
	int out = open("dst", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	off_t off = 4;
	EXPECT_EQ(sendfile(out, in, &off, 6), 6);
	EXPECT_EQ(off, 10);
	EXPECT_EQ(lseek(in, 0, SEEK_CUR), 0);
	EXPECT_EQ(sendfile(out, in, NULL, 100), 16);
	EXPECT_EQ(lseek(in, 0, SEEK_CUR), 16);
	EXPECT_EQ(fsize("dst"), 22);
	EXPECT_ERR(sendfile(in, out, NULL, 1), EBADF);
	close(out);
	out = open("dst2", O_RDWR | O_CREAT | O_TRUNC, 0644);
	loff_t ioff = 2, ooff = 0;
	EXPECT_EQ(copy_file_range(in, &ioff, out, &ooff, 5, 0), 5);
	EXPECT_EQ(ioff, 7);
	EXPECT_EQ(ooff, 5);
	char buf[32] = {0};
	EXPECT_EQ(pread(out, buf, sizeof buf, 0), 5);
	CHECK("copy_file_range copied", strcmp(buf, "23456") == 0);
	EXPECT_ERR(copy_file_range(in, &ioff, out, &ooff, 5, 1), EINVAL);
	close(in);
	close(out);

	/* Shared mappings write the file; private ones do not. */
	int fd = open("mapped", O_RDWR | O_CREAT | O_TRUNC, 0644);
	EXPECT_OK(ftruncate(fd, 8192));
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("mmap MAP_SHARED of a file", p != MAP_FAILED);
	memcpy(p + 4096, "shared", 6);
	EXPECT_EQ(pread(fd, buf, 6, 4096), 6);
	CHECK("write through a shared map reaches the file", memcmp(buf, "shared", 6) == 0);
	EXPECT_EQ(pwrite(fd, "FILE", 4, 0), 4);
	CHECK("file write shows in the shared map", memcmp(p, "FILE", 4) == 0);
	munmap(p, 8192);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK("private map sees the file", memcmp(p, "FILE", 4) == 0);
	memcpy(p, "priv", 4);
	EXPECT_EQ(pread(fd, buf, 4, 0), 4);
	CHECK("private write stays private", memcmp(buf, "FILE", 4) == 0);
	munmap(p, 8192);
	close(fd);
	fd = open("mapped", O_RDONLY);
	errno = 0;
	CHECK("writable shared map of a read-only fd is refused",
	      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EACCES);
	close(fd);

	/* memfd: an unlinked tmpfs file. */
	fd = EXPECT_OK(memfd_create("thing", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	EXPECT_EQ(write(fd, "memfd", 5), 5);
	struct stat st;
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 5);
	EXPECT_EQ(st.st_nlink, 0);
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	char path[64], link[256] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	EXPECT_OK(readlink(path, link, sizeof link));
	CHECK("memfd link is /memfd:thing (deleted)", strcmp(link, "/memfd:thing (deleted)") == 0);
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), 0);
	EXPECT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);
	fd = memfd_create("nosealing", 0);
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	close(fd);
	char longname[300];
	memset(longname, 'm', 260);
	longname[260] = 0;
	EXPECT_ERR(memfd_create(longname, 0), EINVAL);
	EXPECT_ERR(memfd_create("x", 0x100), EINVAL);

	/* Record locks and flock are granted. */
	fd = open("src", O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	EXPECT_OK(fcntl(fd, F_SETLK, &fl));
	fl.l_type = F_RDLCK;
	EXPECT_OK(fcntl(fd, F_GETLK, &fl));
	EXPECT_EQ(fl.l_type, F_UNLCK);
	fl.l_type = 99;
	EXPECT_ERR(fcntl(fd, F_SETLK, &fl), EINVAL);
	EXPECT_OK(flock(fd, LOCK_EX));
	EXPECT_OK(flock(fd, LOCK_UN));
	EXPECT_ERR(flock(fd, 0), EINVAL);
	close(fd);
	fd = open("src", O_RDONLY);
	fl.l_type = F_WRLCK;
	EXPECT_ERR(fcntl(fd, F_SETLK, &fl), EBADF);
	close(fd);
}

static void nodes(void) {
	EXPECT_OK(mknod("fifo", S_IFIFO | 0644, 0));
	EXPECT_EQ(fmode("fifo"), S_IFIFO | 0644);
	EXPECT_OK(mkfifo("fifo2", 0600));
	int fd2, fd = EXPECT_OK(open("fifo", O_RDONLY | O_NONBLOCK));
	fd2 = open("fifo", O_WRONLY | O_NONBLOCK);
	EXPECT_OK(fd2);
	close(fd2);
	EXPECT_OK(close(fd));
	EXPECT_ERR(open("fifo", O_WRONLY | O_NONBLOCK), ENXIO);
	EXPECT_OK(mknod("nul", S_IFCHR | 0666, makedev(1, 3)));
	struct stat st;
	EXPECT_OK(stat("nul", &st));
	EXPECT_EQ(major(st.st_rdev), 1);
	EXPECT_EQ(minor(st.st_rdev), 3);
	fd = EXPECT_OK(open("nul", O_WRONLY));
	EXPECT_EQ(write(fd, "x", 1), 1);
	close(fd);
	EXPECT_OK(mknod("plain", 0644, 0));
	EXPECT_EQ(fmode("plain"), S_IFREG | 0644);
	EXPECT_ERR(mknod("d2", S_IFDIR | 0755, 0), EPERM);
	EXPECT_ERR(mknod("fifo", S_IFIFO | 0644, 0), EEXIST);
}

/* As an unprivileged euid, permission bits apply. */
static void perms(void) {
	put("secret", "s");
	EXPECT_OK(chmod("secret", 0600));
	EXPECT_OK(mkdir("locked", 0755));
	EXPECT_OK(mkdir("open", 0777));
	EXPECT_OK(chmod("open", 01777));
	put("open/rootfile", "r");
	EXPECT_OK(setresuid(-1, 65534, 0));
	EXPECT_ERR(open("secret", O_RDONLY), EACCES);
	EXPECT_ERR(mkdir("locked/x", 0755), EACCES);
	EXPECT_ERR(chmod("secret", 0644), EPERM);
	EXPECT_ERR(chown("secret", 65534, 65534), EPERM);
	EXPECT_ERR(unlink("open/rootfile"), EPERM);
	int fd = EXPECT_OK(open("open/mine", O_WRONLY | O_CREAT, 0644));
	close(fd);
	EXPECT_OK(unlink("open/mine"));
	EXPECT_ERR(faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS), EACCES);
	EXPECT_OK(access("secret", R_OK));
	EXPECT_ERR(chroot("."), EPERM);
	EXPECT_OK(setresuid(-1, 0, -1));
	EXPECT_OK(open("secret", O_RDONLY) >= 0 ? 0 : -1);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: fs_ops DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
		perror(argv[1]);
		return 2;
	}
	if (chdir(argv[1]) != 0) {
		perror(argv[1]);
		return 2;
	}
	umask(022);
	opens();
	stats();
	dirs();
	links();
	renames();
	attrs();
	data();
	nodes();
	perms();
	return ukt_exit();
}
