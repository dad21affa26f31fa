/*
 * tmpfile.c: open(2) with O_TMPFILE, naming the unnamed file with linkat(2)
 * (through AT_EMPTY_PATH and through /proc/self/fd/N, as LTP's openat03),
 * and rename(2) onto an ancestor directory. Run as root in a fresh directory
 * of a tmpfs: argv[1] is created and used as the working directory.
 */
#include "uktest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#define RAW_O_TMPFILE 020000000 /* __O_TMPFILE, without O_DIRECTORY */
#define RAW_O_LARGEFILE 0100000 /* glibc defines O_LARGEFILE as 0 on x86-64 */

struct open_how_ {
	uint64_t flags, mode, resolve;
};

static char base[4096];

/* entries counts the names in dir besides "." and "..". */
static int entries(const char *dir) {
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* fdlink reads /proc/self/fd/FD. */
static const char *fdlink(int fd) {
	static char buf[4096];
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

/* unnamed_in reports whether /proc/self/fd/FD shows an unnamed file of dir
 * (relative to base) as Linux does: "DIR/#INO (deleted)". */
static int unnamed_in(int fd, const char *dir) {
	struct stat st;
	char want[4096 + 64];
	if (fstat(fd, &st) != 0)
		return 0;
	snprintf(want, sizeof want, "%s%s%s/#%lu (deleted)", base, *dir ? "/" : "", dir, (unsigned long)st.st_ino);
	if (strcmp(fdlink(fd), want) != 0) {
		printf("  readlink %s, want %s\n", fdlink(fd), want);
		return 0;
	}
	return 1;
}

static long nlink_of(int fd) {
	struct stat st;
	return fstat(fd, &st) == 0 ? (long)st.st_nlink : -1;
}

static void proc_path(char *buf, size_t len, int fd) {
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static void test_errors(void) {
	printf("-- errors\n");
	EXPECT_OK(mkdir("d", 0755));
	int f = EXPECT_OK(open("file", O_CREAT | O_WRONLY, 0644));
	close(f);
	EXPECT_OK(symlink("d", "dlink"));
	EXPECT_ERR(open("d", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	EXPECT_ERR(open("d", O_TMPFILE | O_RDONLY | O_TRUNC, 0600), EINVAL);
	EXPECT_ERR(open("d", O_TMPFILE | O_CREAT | O_RDWR, 0600), EINVAL);
	EXPECT_ERR(open("d", RAW_O_TMPFILE | O_RDWR, 0600), EINVAL);
	EXPECT_ERR(open("file", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	EXPECT_ERR(open("file/", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	EXPECT_ERR(open("missing", O_TMPFILE | O_RDWR, 0600), ENOENT);
	EXPECT_ERR(open("", O_TMPFILE | O_RDWR, 0600), ENOENT);
	EXPECT_ERR(open("dlink", O_TMPFILE | O_RDWR | O_NOFOLLOW, 0600), ENOTDIR);
	EXPECT_ERR(open("/proc", O_TMPFILE | O_RDWR, 0600), EOPNOTSUPP);
	int fd = EXPECT_OK(open("dlink", O_TMPFILE | O_RDWR, 0600));
	close(fd);
	/* open(2) drops every other flag of an O_PATH open; openat2 refuses. */
	fd = EXPECT_OK(open("d", O_TMPFILE | O_PATH | O_RDWR, 0600));
	struct stat st;
	EXPECT_OK(fstat(fd, &st));
	CHECK("O_PATH|O_TMPFILE opens the directory", S_ISDIR(st.st_mode));
	EXPECT_EQ(fcntl(fd, F_GETFL), O_PATH | O_DIRECTORY);
	close(fd);
	struct open_how_ how = {.flags = O_TMPFILE | O_PATH | O_RDWR, .mode = 0600};
	EXPECT_ERR(syscall(SYS_openat2, AT_FDCWD, "d", &how, sizeof how), EINVAL);
	how.flags = O_TMPFILE | O_RDWR;
	fd = EXPECT_OK(syscall(SYS_openat2, AT_FDCWD, "d", &how, sizeof how));
	close(fd);
	/* RESOLVE_IN_ROOT makes dirfd the root even of an absolute path: it
	 * must be a directory. RESOLVE_BENEATH refuses an absolute path first. */
	int pfd[2];
	EXPECT_OK(pipe(pfd));
	int file = EXPECT_OK(open("/proc/self/status", O_RDONLY));
	struct open_how_ in_root = {.flags = O_RDONLY, .resolve = 0x10 /* RESOLVE_IN_ROOT */};
	struct open_how_ beneath = {.flags = O_RDONLY, .resolve = 0x08 /* RESOLVE_BENEATH */};
	EXPECT_ERR(syscall(SYS_openat2, pfd[0], "/d", &in_root, sizeof in_root), ENOTDIR);
	EXPECT_ERR(syscall(SYS_openat2, file, "/d", &in_root, sizeof in_root), ENOTDIR);
	EXPECT_ERR(syscall(SYS_openat2, 999, "/d", &in_root, sizeof in_root), EBADF);
	EXPECT_ERR(syscall(SYS_openat2, pfd[0], "d", &beneath, sizeof beneath), ENOTDIR);
	EXPECT_ERR(syscall(SYS_openat2, 999, "/d", &beneath, sizeof beneath), EXDEV);
	close(pfd[0]);
	close(pfd[1]);
	close(file);
	/* devtmpfs is a tmpfs: it makes unnamed files too. */
	fd = EXPECT_OK(open("/dev", O_TMPFILE | O_RDWR, 0600));
	close(fd);
}

static void test_single(void) {
	printf("-- single file (openat03 test01)\n");
	static char buf[1024];
	memset(buf, 1, sizeof buf);
	int fd = EXPECT_OK(openat(AT_FDCWD, "d", O_TMPFILE | O_RDWR, 0666));
	struct stat st, dst;
	EXPECT_OK(fstat(fd, &st));
	EXPECT_OK(stat("d", &dst));
	EXPECT_EQ(st.st_mode, S_IFREG | 0644);
	EXPECT_EQ(st.st_nlink, 0);
	EXPECT_EQ(st.st_size, 0);
	CHECK("same device as its directory", st.st_dev == dst.st_dev);
	EXPECT_EQ(fcntl(fd, F_GETFL), O_TMPFILE | O_RDWR | RAW_O_LARGEFILE);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(write(fd, buf, sizeof buf), sizeof buf);
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 4096);
	EXPECT_EQ(st.st_blocks, 8);
	EXPECT_EQ(entries("d"), 0);
	CHECK("readlink shows d/#INO (deleted)", unnamed_in(fd, "d"));

	char path[64];
	proc_path(path, sizeof path, fd);
	EXPECT_OK(linkat(AT_FDCWD, path, AT_FDCWD, "d/tmpfile", AT_SYMLINK_FOLLOW));
	EXPECT_EQ(nlink_of(fd), 1);
	EXPECT_EQ(entries("d"), 1);
	struct stat named;
	EXPECT_OK(stat("d/tmpfile", &named));
	CHECK("the name is the open file", named.st_ino == st.st_ino && named.st_size == 4096);
	CHECK("readlink still shows #INO (deleted)", unnamed_in(fd, "d"));
	EXPECT_OK(linkat(fd, "", AT_FDCWD, "d/tmpfile2", AT_EMPTY_PATH));
	EXPECT_EQ(nlink_of(fd), 2);
	EXPECT_ERR(linkat(fd, "", AT_FDCWD, "d/tmpfile2", AT_EMPTY_PATH), EEXIST);
	EXPECT_OK(unlink("d/tmpfile"));
	EXPECT_OK(unlink("d/tmpfile2"));
	EXPECT_EQ(nlink_of(fd), 0);
	/* Named once, it is an ordinary file: no name brings it back. */
	EXPECT_ERR(linkat(fd, "", AT_FDCWD, "d/again", AT_EMPTY_PATH), ENOENT);
	EXPECT_ERR(linkat(AT_FDCWD, path, AT_FDCWD, "d/again", AT_SYMLINK_FOLLOW), ENOENT);
	/* Without AT_SYMLINK_FOLLOW the magic link itself would be linked:
	 * across filesystems. */
	EXPECT_ERR(linkat(AT_FDCWD, path, AT_FDCWD, "d/again", 0), EXDEV);
	EXPECT_OK(close(fd));
	EXPECT_EQ(entries("d"), 0);
}

static void test_excl_and_access(void) {
	printf("-- O_EXCL, access mode\n");
	int fd = EXPECT_OK(open("d", O_TMPFILE | O_WRONLY | O_EXCL, 0600));
	char path[64], c;
	proc_path(path, sizeof path, fd);
	EXPECT_EQ(write(fd, "x", 1), 1);
	EXPECT_ERR(read(fd, &c, 1), EBADF);
	EXPECT_ERR(linkat(fd, "", AT_FDCWD, "d/x", AT_EMPTY_PATH), ENOENT);
	EXPECT_ERR(linkat(AT_FDCWD, path, AT_FDCWD, "d/x", AT_SYMLINK_FOLLOW), ENOENT);
	EXPECT_EQ(fcntl(fd, F_GETFL), O_TMPFILE | O_WRONLY | RAW_O_LARGEFILE);
	close(fd);
	EXPECT_EQ(entries("d"), 0);
}

static void test_survival(void) {
	printf("-- contents after close\n");
	int fd = EXPECT_OK(open("d", O_TMPFILE | O_RDWR, 0600));
	EXPECT_EQ(write(fd, "hello", 5), 5);
	EXPECT_OK(linkat(fd, "", AT_FDCWD, "d/kept", AT_EMPTY_PATH));
	EXPECT_OK(close(fd));
	char buf[16] = {0};
	fd = EXPECT_OK(open("d/kept", O_RDONLY));
	EXPECT_EQ(read(fd, buf, sizeof buf), 5);
	CHECK("contents kept", strcmp(buf, "hello") == 0);
	close(fd);
	EXPECT_OK(unlink("d/kept"));

	/* A second description through /proc/self/fd shares the file, and
	 * can name it after the first one is closed. */
	fd = EXPECT_OK(open("d", O_TMPFILE | O_RDWR, 0600));
	EXPECT_EQ(write(fd, "again", 5), 5);
	char path[64];
	proc_path(path, sizeof path, fd);
	int fd2 = EXPECT_OK(open(path, O_RDONLY));
	struct stat a, b;
	fstat(fd, &a);
	fstat(fd2, &b);
	CHECK("reopened through /proc is the same file", a.st_ino == b.st_ino && b.st_size == 5);
	EXPECT_OK(close(fd));
	EXPECT_OK(linkat(fd2, "", AT_FDCWD, "d/late", AT_EMPTY_PATH));
	EXPECT_OK(close(fd2));
	memset(buf, 0, sizeof buf);
	fd = EXPECT_OK(open("d/late", O_RDONLY));
	EXPECT_EQ(read(fd, buf, sizeof buf), 5);
	CHECK("contents kept", strcmp(buf, "again") == 0);
	close(fd);
	EXPECT_OK(unlink("d/late"));
}

static void test_creat_magic(void) {
	printf("-- O_CREAT through /proc/self/fd\n");
	char path[64], buf[8] = {0};
	int fd = EXPECT_OK(open("d/plain", O_CREAT | O_RDWR, 0600));
	proc_path(path, sizeof path, fd);
	int fd2 = EXPECT_OK(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600));
	EXPECT_EQ(write(fd2, "via", 3), 3);
	EXPECT_EQ(pread(fd, buf, sizeof buf, 0), 3);
	CHECK("written through the magic link", strcmp(buf, "via") == 0);
	EXPECT_ERR(open(path, O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
	close(fd2);
	close(fd);
	EXPECT_OK(unlink("d/plain"));
	fd = EXPECT_OK(open("d", O_TMPFILE | O_RDWR, 0600));
	proc_path(path, sizeof path, fd);
	fd2 = EXPECT_OK(open(path, O_CREAT | O_RDWR, 0600));
	EXPECT_EQ(nlink_of(fd2), 0);
	close(fd2);
	close(fd);
	EXPECT_EQ(entries("d"), 0);
}

static void test_removed_dirs(void) {
	printf("-- removed directories (openat03 test02)\n");
	int fds[10];
	char path[64];
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof path, "t02_%d", i);
		EXPECT_OK(mkdir(path, 0700));
		EXPECT_OK(chdir(path));
		fds[i] = EXPECT_OK(open(".", O_TMPFILE | O_RDWR, 0600));
	}
	for (int i = 9; i >= 0; i--) {
		EXPECT_OK(chdir(".."));
		snprintf(path, sizeof path, "t02_%d", i);
		EXPECT_OK(rmdir(path));
	}
	static char buf[4096], got[4096];
	memset(buf, 7, sizeof buf);
	int ok = 1;
	for (int i = 0; i < 10; i++) {
		ok &= write(fds[i], buf, sizeof buf) == sizeof buf;
		ok &= pread(fds[i], got, sizeof got, 0) == sizeof got && memcmp(buf, got, sizeof buf) == 0;
	}
	CHECK("files of removed directories read and write", ok);
	CHECK("readlink of the innermost", unnamed_in(fds[9], "t02_0/t02_1/t02_2/t02_3/t02_4/t02_5/t02_6/t02_7/t02_8/t02_9"));

	/* A removed directory still makes unnamed files, but takes no name. */
	EXPECT_OK(mkdir("gone", 0700));
	int dir = EXPECT_OK(open("gone", O_PATH | O_DIRECTORY));
	EXPECT_OK(rmdir("gone"));
	int fd = EXPECT_OK(openat(dir, ".", O_TMPFILE | O_RDWR, 0600));
	EXPECT_ERR(linkat(fd, "", dir, "x", AT_EMPTY_PATH), ENOENT);
	EXPECT_OK(linkat(fds[0], "", AT_FDCWD, "from_gone", AT_EMPTY_PATH));
	EXPECT_EQ(nlink_of(fds[0]), 1);
	EXPECT_OK(unlink("from_gone"));
	close(fd);
	close(dir);
	for (int i = 0; i < 10; i++)
		close(fds[i]);
}

static void test_modes(void) {
	printf("-- modes (openat03 test03)\n");
	static const mode_t perms[] = {0, 07777, 001, 0755, 0644, 0440};
	mode_t mask = umask(022);
	for (unsigned i = 0; i < sizeof perms / sizeof perms[0]; i++) {
		char name[32];
		int fd = open("d", O_TMPFILE | O_RDWR, perms[i]);
		snprintf(name, sizeof name, "d/m%u", i);
		struct stat st;
		int ok = fd >= 0 && write(fd, "abc", 3) == 3 &&
			 linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0 && lstat(name, &st) == 0;
		printf("mode %04o: %s %04o\n", (unsigned)perms[i], ok ? "ok" : "FAIL", ok ? (unsigned)(st.st_mode & 07777) : 0);
		if (!ok || (st.st_mode & 07777) != (perms[i] & ~022))
			ukt_failures++;
		unlink(name);
		close(fd);
	}
	umask(mask);

	/* A setgid directory gives its group. */
	EXPECT_OK(mkdir("sg", 0755));
	EXPECT_OK(chown("sg", 0, 1234));
	EXPECT_OK(chmod("sg", 02775));
	int fd = EXPECT_OK(open("sg", O_TMPFILE | O_RDWR, 0640));
	struct stat st;
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_gid, 1234);
	EXPECT_EQ(st.st_uid, 0);
	close(fd);
	EXPECT_OK(rmdir("sg"));
}

static void test_rename_ancestor(void) {
	printf("-- rename onto an ancestor\n");
	EXPECT_OK(mkdir("a", 0755));
	EXPECT_OK(mkdir("a/b", 0755));
	int fd = EXPECT_OK(open("a/b/f", O_CREAT | O_WRONLY, 0644));
	close(fd);
	EXPECT_ERR(rename("a/b/f", "a"), ENOTEMPTY);
	EXPECT_ERR(rename("a/b/f", "a/b"), ENOTEMPTY);
	EXPECT_ERR(rename("a/b/f", base), ENOTEMPTY);
	EXPECT_ERR(rename("a/b/f", "a/"), ENOTDIR);
	EXPECT_ERR(rename("a/b/f", "a/b/.."), EBUSY);
	EXPECT_ERR(rename("a/b/f", "."), EBUSY);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "a/b/f", AT_FDCWD, "a", RENAME_EXCHANGE), EINVAL);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "a/b/f", AT_FDCWD, "a", RENAME_NOREPLACE), EEXIST);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "a/b/f", AT_FDCWD, "a/b/..", RENAME_NOREPLACE), EEXIST);
	EXPECT_ERR(rename("a/b", "a"), ENOTEMPTY);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "a/b", AT_FDCWD, "a", RENAME_EXCHANGE), EINVAL);
	EXPECT_ERR(rename("a", "a/b/c"), EINVAL);
	EXPECT_ERR(rename("a", "a/b"), EINVAL);
	EXPECT_ERR(rename("a", "a/b/f"), EINVAL);
	EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "a/b", RENAME_EXCHANGE), EINVAL);
	/* The ordinary type rules where no ancestor is involved. */
	EXPECT_OK(mkdir("c", 0755));
	EXPECT_ERR(rename("a/b/f", "c"), EISDIR);
	EXPECT_ERR(rename("c", "a/b/f"), ENOTDIR);
	EXPECT_OK(rename("a/b/f", "a/b/f"));
	EXPECT_OK(unlink("a/b/f"));
	EXPECT_OK(rmdir("a/b"));
	EXPECT_OK(rmdir("a"));
	EXPECT_OK(rmdir("c"));
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: tmpfile DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0 || !getcwd(base, sizeof base)) {
		perror(argv[1]);
		return 2;
	}
	umask(022);
	test_errors();
	test_single();
	test_excl_and_access();
	test_survival();
	test_creat_magic();
	test_removed_dirs();
	test_modes();
	test_rename_ancestor();
	EXPECT_OK(unlink("dlink"));
	EXPECT_OK(unlink("file"));
	EXPECT_OK(rmdir("d"));
	EXPECT_EQ(entries("."), 0);
	return ukt_exit();
}
