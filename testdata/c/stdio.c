/* stdio: read/write/readv/writev/pread64/pwrite64 on the standard streams.
 * The harness makes stdin a pipe carrying "line one\nline two\n" and stdout a
 * pipe, so positioned I/O on them fails with ESPIPE. */
#include "uktest.h"

#include <limits.h>
#include <sys/uio.h>

int main(void) {
	char buf[256];

	/* Raw writes interleave with printf lines because stdout is line buffered. */
	EXPECT_EQ(write(1, "hello from write\n", 17), 17);
	struct iovec wv[3] = {
		{.iov_base = "hello ", .iov_len = 6},
		{.iov_base = "", .iov_len = 0},
		{.iov_base = "from writev\n", .iov_len = 12},
	};
	EXPECT_EQ(writev(1, wv, 3), 18);
	EXPECT_EQ(write(1, buf, 0), 0);
	EXPECT_EQ(writev(1, wv, 0), 0);
	EXPECT_ERR(writev(1, wv, -1), EINVAL);
	EXPECT_ERR(writev(1, wv, IOV_MAX + 1), EINVAL);
	struct iovec neg[1] = {{.iov_base = buf, .iov_len = (size_t)-1}};
	EXPECT_ERR(writev(1, neg, 1), EINVAL);
	EXPECT_ERR(write(1, (void *)1, 5), EFAULT);
	EXPECT_ERR(write(1, NULL, 5), EFAULT);
	EXPECT_ERR(write(99, "x", 1), EBADF);
	EXPECT_ERR(write(-1, "x", 1), EBADF);
	EXPECT_ERR(write(0, "x", 1), EBADF);
	EXPECT_ERR(read(1, buf, 1), EBADF);
	EXPECT_ERR(pwrite(1, "x", 1, 0), ESPIPE);
	EXPECT_ERR(pread(0, buf, 4, 0), ESPIPE);
	EXPECT_ERR(pread(0, buf, 4, -1), EINVAL);
	EXPECT_ERR(lseek(0, 0, SEEK_CUR), ESPIPE);

	/* The whole input arrives in one pipe write, so these counts are exact. */
	EXPECT_EQ(read(0, buf, 0), 0);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ(read(0, buf, 5), 5);
	printf("read: \"%s\"\n", buf);
	char a[3], b[100];
	memset(b, 0, sizeof b);
	struct iovec rv[2] = {{.iov_base = a, .iov_len = 3}, {.iov_base = b, .iov_len = sizeof b - 1}};
	EXPECT_EQ(readv(0, rv, 2), 13);
	printf("readv: \"%.3s\" \"%s\"\n", a, b);
	EXPECT_EQ(read(0, buf, sizeof buf), 0);
	EXPECT_EQ(readv(0, rv, 2), 0);

	/* A large write crosses many pages of the source buffer. */
	size_t big = 256 * 1024;
	char *p = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		p[i] = 'a' + i % 26;
	p[big - 1] = '\n';
	size_t done = 0;
	while (done < big) {
		ssize_t n = write(1, p + done, big - done);
		if (n <= 0)
			break;
		done += n;
	}
	CHECK("256 KiB written to stdout", done == big);

	EXPECT_EQ(write(2, "to stderr\n", 10), 10);
	return ukt_exit();
}
