/*
 * rwvec.c: preadv, pwritev, preadv2 and pwritev2, with the cases of LTP's
 * preadv01/02, pwritev01/02, preadv201/202 and pwritev201/202: data at
 * offsets and at the file position (offset -1 for the *2 calls), the file
 * position left alone or moved, and the errors in Linux's order (EINVAL
 * for a negative offset before the descriptor is looked at, ESPIPE before
 * the access mode, flags checked only for a transfer of at least a byte,
 * EFAULT for a buffer that faults). Also the RWF_APPEND and RWF_NOAPPEND
 * flags and a pipe read with RWF_NOWAIT. Works in a fresh directory under
 * /tmp, removed at the end.
 */
#include "uktest.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#define RWF_NOAPPEND_ 0x20

static char dir[] = "/tmp/rwvec.XXXXXX";

/* minus1 is -1 as a count the compiler cannot see (it warns about a
 * negative count passed to preadv's declared buffer size). */
static volatile int minus1 = -1, over = 1025;

/* all reports whether the n bytes at p are c. */
static int all(const char *p, int n, char c) {
	for (int i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

static void reads(void) {
	char path[64];
	snprintf(path, sizeof path, "%s/file", dir);
	int fd = EXPECT_OK(open(path, O_RDWR | O_CREAT, 0644));
	char a[64], b[64];
	memset(a, 'a', 64);
	memset(b, 'b', 64);
	EXPECT_EQ(write(fd, a, 64), 64);
	EXPECT_EQ(write(fd, b, 64), 64);

	char buf[64];
	struct iovec iov[2] = {{buf, 64}, {NULL, 0}};
	/* preadv01: at an offset, the file position stays where it was. */
	EXPECT_OK(lseek(fd, 0, SEEK_SET));
	memset(buf, 0, 64);
	EXPECT_EQ(preadv(fd, iov, 1, 0), 64);
	CHECK("preadv 1 at 0 reads a", all(buf, 64, 'a'));
	EXPECT_EQ(preadv(fd, iov, 2, 0), 64);
	memset(buf, 0, 64);
	EXPECT_EQ(preadv(fd, iov, 1, 96), 32);
	CHECK("preadv at 96 reads 32 b", all(buf, 32, 'b'));
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);

	/* preadv201: offset -1 reads at the file position and moves it. */
	EXPECT_OK(lseek(fd, 64, SEEK_SET));
	memset(buf, 0, 64);
	EXPECT_EQ(preadv2(fd, iov, 2, 0, 0), 64);
	CHECK("preadv2 at 0 reads a", all(buf, 64, 'a'));
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 64);
	memset(buf, 0, 64);
	EXPECT_EQ(preadv2(fd, iov, 1, -1, 0), 64);
	CHECK("preadv2 at -1 reads b", all(buf, 64, 'b'));
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 128);
	EXPECT_EQ(preadv2(fd, iov, 1, -1, 0), 0);
	EXPECT_EQ(preadv2(fd, iov, 1, 0, RWF_NOWAIT), 64);

	/* A long vector is gathered in order. */
	char s[3][5] = {{0}};
	struct iovec three[3] = {{s[0], 4}, {s[1], 4}, {s[2], 4}};
	EXPECT_EQ(preadv(fd, three, 3, 60), 12);
	CHECK("preadv scatters in order", memcmp(s[0], "aaaa", 4) == 0 && memcmp(s[1], "bbbb", 4) == 0 &&
					      memcmp(s[2], "bbbb", 4) == 0);

	/* preadv02 and preadv202: the errors. */
	EXPECT_OK(ftruncate(fd, 4096));
	struct iovec neg[1] = {{buf, (size_t)-1}};
	EXPECT_ERR(preadv(fd, neg, 1, 0), EINVAL);
	EXPECT_ERR(preadv(fd, iov, minus1, 0), EINVAL);
	EXPECT_ERR(preadv(fd, iov, over, 0) /* UIO_MAXIOV + 1 */, EINVAL);
	EXPECT_ERR(preadv(fd, iov, 1, -1), EINVAL);
	EXPECT_ERR(preadv(-1, iov, 1, -1), EINVAL);
	EXPECT_ERR(preadv2(fd, iov, 1, -2, 0), EINVAL);
	struct iovec wild[1] = {{(char *)-1, 64}};
	EXPECT_ERR(preadv(fd, wild, 1, 0), EFAULT);
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec guarded[1] = {{none, 64}};
	EXPECT_ERR(preadv(fd, guarded, 1, 0), EFAULT);
	EXPECT_ERR(preadv(fd, (struct iovec *)none, 1, 0), EFAULT);
	EXPECT_ERR(preadv(-1, iov, 1, 0), EBADF);
	EXPECT_ERR(preadv2(fd, iov, 1, 1, -1), EOPNOTSUPP);
	EXPECT_ERR(preadv2(fd, iov, 1, 1, 0x40 /* RWF_ATOMIC */), EOPNOTSUPP);
	EXPECT_EQ(preadv2(fd, iov, 0, 1, -1), 0); /* nothing to move: flags unchecked */
	EXPECT_ERR(preadv2(fd, iov, 1, 1, RWF_APPEND | RWF_NOAPPEND_), EINVAL);
	int wo = EXPECT_OK(open(path, O_WRONLY));
	EXPECT_ERR(preadv(wo, iov, 1, 0), EBADF);
	EXPECT_ERR(preadv2(wo, iov, 1, -1, 0), EBADF);
	int dfd = EXPECT_OK(open(dir, O_RDONLY));
	EXPECT_ERR(preadv(dfd, iov, 1, 0), EISDIR);
	int p[2];
	EXPECT_OK(pipe(p));
	EXPECT_ERR(preadv(p[0], iov, 1, 0), ESPIPE);
	EXPECT_ERR(preadv(p[1], iov, 1, 0), ESPIPE); /* ESPIPE before the access mode */
	EXPECT_ERR(preadv2(p[0], iov, 1, -1, RWF_NOWAIT), EAGAIN);
	EXPECT_EQ(write(p[1], "xyz", 3), 3);
	EXPECT_EQ(preadv2(p[0], iov, 1, -1, RWF_NOWAIT), 3);
	close(p[0]);
	close(p[1]);
	close(dfd);
	close(wo);
	close(fd);
	munmap(none, 4096);
}

static void writes(void) {
	char path[64];
	snprintf(path, sizeof path, "%s/wfile", dir);
	int fd = EXPECT_OK(open(path, O_RDWR | O_CREAT, 0644));
	char zero[128] = {0}, buf[64], got[64];
	memset(buf, 'a', 64);
	struct iovec iov[2] = {{buf, 64}, {NULL, 0}};

	/* pwritev01: at an offset, the file position stays. */
	EXPECT_EQ(pwrite(fd, zero, 128, 0), 128);
	EXPECT_EQ(pwritev(fd, iov, 2, 32), 64);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
	EXPECT_EQ(pread(fd, got, 64, 32), 64);
	CHECK("pwritev at 32 wrote a", all(got, 64, 'a'));
	EXPECT_EQ(pread(fd, got, 32, 0), 32);
	CHECK("pwritev left 0..32 alone", all(got, 32, 0));

	/* pwritev201: offset -1 writes at the file position and moves it. */
	EXPECT_EQ(pwrite(fd, zero, 128, 0), 128);
	EXPECT_OK(lseek(fd, 64, SEEK_SET));
	EXPECT_EQ(pwritev2(fd, iov, 1, -1, 0), 64);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 128);
	EXPECT_EQ(pread(fd, got, 64, 64), 64);
	CHECK("pwritev2 at -1 wrote at the position", all(got, 64, 'a'));

	/* RWF_APPEND appends whatever the offset and leaves the position;
	 * RWF_NOAPPEND writes at the offset on an O_APPEND description. */
	struct stat st;
	EXPECT_OK(lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(pwritev2(fd, iov, 1, 0, RWF_APPEND), 64);
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 192);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
	EXPECT_EQ(pwritev2(fd, iov, 1, -1, RWF_APPEND), 64);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 256);
	int afd = EXPECT_OK(open(path, O_RDWR | O_APPEND));
	EXPECT_EQ(pwritev(afd, iov, 1, 0), 64); /* O_APPEND wins over pwritev's offset */
	EXPECT_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 320);
	int noappend = pwritev2(afd, iov, 1, 0, RWF_NOAPPEND_);
	int noappendErr = errno;
	EXPECT_OK(fstat(fd, &st));
	/* Kernels before 6.9 do not know RWF_NOAPPEND; either way the file
	 * did not grow. */
	CHECK("pwritev2 RWF_NOAPPEND writes at the offset or is refused",
	      (noappend == 64 || (noappend == -1 && noappendErr == EOPNOTSUPP)) && st.st_size == 320);
	EXPECT_EQ(pwritev2(fd, iov, 1, 0, RWF_HIPRI | RWF_DSYNC | RWF_SYNC), 64);

	/* pwritev02 and pwritev202: the errors. */
	struct iovec neg[1] = {{buf, (size_t)-1}};
	EXPECT_ERR(pwritev(fd, neg, 1, 0), EINVAL);
	EXPECT_ERR(pwritev(fd, iov, minus1, 0), EINVAL);
	EXPECT_ERR(pwritev(fd, iov, 1, -1), EINVAL);
	struct iovec wild[1] = {{(char *)-1, 64}};
	EXPECT_ERR(pwritev(fd, wild, 1, 0), EFAULT);
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec guarded[1] = {{none, 64}};
	EXPECT_ERR(pwritev2(fd, guarded, 1, 0, 0), EFAULT);
	EXPECT_ERR(pwritev(-1, iov, 1, 0), EBADF);
	EXPECT_ERR(pwritev2(fd, iov, 1, 1, -1), EOPNOTSUPP);
	int ro = EXPECT_OK(open(path, O_RDONLY));
	EXPECT_ERR(pwritev(ro, iov, 1, 0), EBADF);
	EXPECT_ERR(pwritev2(ro, iov, 1, -1, 0), EBADF);
	int p[2];
	EXPECT_OK(pipe(p));
	EXPECT_ERR(pwritev(p[0], iov, 1, 0), ESPIPE);
	EXPECT_ERR(pwritev2(p[1], iov, 1, 0, 0), ESPIPE);
	EXPECT_EQ(pwritev2(p[1], iov, 1, -1, 0), 64);
	EXPECT_EQ(read(p[0], got, 64), 64);
	CHECK("pwritev2 at -1 writes a pipe", all(got, 64, 'a'));
	close(p[0]);
	close(p[1]);
	close(ro);
	close(afd);
	close(fd);
	munmap(none, 4096);
}

int main(void) {
	if (!mkdtemp(dir)) {
		printf("mkdtemp: FAIL %s\n", errname(errno));
		return 1;
	}
	reads();
	writes();
	char path[64];
	snprintf(path, sizeof path, "%s/file", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/wfile", dir);
	unlink(path);
	rmdir(dir);
	return ukt_exit();
}
