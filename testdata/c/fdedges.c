/* fdedges.c: descriptor edge cases LTP checks, compared with Linux: a read
 * into a buffer that faults takes nothing a fault would lose (read02,
 * readv02: the pipe keeps its bytes, the file its offset), a read or write
 * of a regular file moves the bytes before the fault, a pipe's faults at
 * page granularity; splice and tee honour an O_NONBLOCK pipe and refuse
 * files that cannot be spliced at once (splice07); tmpfs files reach the
 * largest offset, and a transfer past it is EINVAL (rw_verify_area). */
#include "uktest.h"
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/vfs.h>

/* sf2_src is a file of four bytes to send from. */
static int sf2_src(void) {
	int fd = open("/dev/shm/uk_fdedges_sf2", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "abcd", 4);
	unlink("/dev/shm/uk_fdedges_sf2");
	return fd;
}

int main(void) {
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/uk_fdedges_%d", getpid());
	int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);
	write(f, "0123456789", 10);
	lseek(f, 0, SEEK_SET);

	/* A buffer whose end runs into a hole: page 0 mapped, page 1 not. */
	char *m = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + 4096, 4096);
	char *edge = m + 4096 - 4; /* 4 bytes before the hole */

	EXPECT_ERR(read(f, m + 4096, 5), EFAULT);
	EXPECT_EQ(lseek(f, 0, SEEK_CUR), 0);
	EXPECT_EQ(read(f, edge, 8), 4);
	EXPECT_EQ(lseek(f, 0, SEEK_CUR), 4);
	struct iovec iv[2] = {{m, 2}, {m + 4096, 4}};
	EXPECT_EQ(readv(f, iv, 2), 2);
	memcpy(edge, "WXYZ", 4);
	lseek(f, 0, SEEK_SET);
	EXPECT_EQ(write(f, edge, 100), 4);
	char back[10];
	pread(f, back, 10, 0);
	printf("file after the write up to the fault: %.10s\n", back);

	int p[2];
	pipe(p);
	write(p[1], "hello", 5);
	EXPECT_ERR(read(p[0], m + 4096, 5), EFAULT);
	EXPECT_ERR(read(p[0], edge, 5), EFAULT);
	EXPECT_EQ(read(p[0], m, 5), 5);
	EXPECT_ERR(write(p[1], edge, 100), EFAULT);
	int sk[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sk);
	write(sk[1], "xyz", 3);
	EXPECT_ERR(read(sk[0], m + 4096, 3), EFAULT);
	EXPECT_EQ(read(sk[0], m, 3), 3);
	EXPECT_ERR(read(f, (void *)-1L, 1), EFAULT);
	int queued = -1;
	ioctl(p[0], FIONREAD, &queued);
	EXPECT_EQ(queued, 0);

	/* splice and tee on O_NONBLOCK pipes, with no flags: EAGAIN. */
	int np[2], np2[2];
	pipe2(np, O_NONBLOCK);
	pipe2(np2, O_NONBLOCK);
	EXPECT_ERR(splice(np[0], NULL, f, NULL, 10, 0), EAGAIN);
	EXPECT_ERR(splice(np[0], NULL, np2[1], NULL, 10, 0), EAGAIN);
	EXPECT_ERR(tee(np[0], np2[1], 10, 0), EAGAIN);
	/* Files splice cannot use: EINVAL at once, no wait on the pipe. */
	int ev = eventfd(0, 0);
	EXPECT_ERR(splice(p[0], NULL, ev, NULL, 10, 0), EINVAL);
	EXPECT_ERR(splice(ev, NULL, p[1], NULL, 10, 0), EINVAL);
	int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY);
	EXPECT_ERR(splice(dir, NULL, p[1], NULL, 10, 0), EINVAL);

	/* sendfile reads only seekable files splice reads (into a pipe, any
	 * of those): a regular file or /dev/zero, not a pipe or a socket; a
	 * count above SSIZE_MAX, or a range past the largest offset of either
	 * end, is EINVAL; a read or write on the wrong end is EBADF before its
	 * count is looked at. */
	int sp[2];
	pipe(sp);
	write(sp[1], "ab", 2);
	EXPECT_ERR(sendfile(f, sp[0], NULL, 2), EINVAL);
	int zero_dev = open("/dev/zero", O_RDONLY), sf = open("/dev/shm/uk_fdedges_sf", O_RDWR | O_CREAT | O_TRUNC, 0600);
	int ssv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, ssv);
	write(ssv[1], "ab", 2);
	EXPECT_ERR(sendfile(sf, ssv[0], NULL, 2), EINVAL);
	EXPECT_EQ(sendfile(sf, zero_dev, NULL, 100), 100);
	EXPECT_EQ(sendfile(ssv[1], zero_dev, NULL, 10), 10);
	off_t sfo = 0x7ffffffffffffff6LL;
	EXPECT_ERR(sendfile(ssv[1], sf, &sfo, 100), EINVAL);
	sfo = 0;
	EXPECT_ERR(sendfile(ssv[1], sf, &sfo, (size_t)-1), EINVAL);
	sfo = 0;
	EXPECT_EQ(sendfile(sf, sf2_src(), &sfo, 0x7fffffffffffffffULL), 4); /* the output's range is checked with the count cut to MAX_RW_COUNT */
	lseek(sf, 0x7ffffffffffffffcLL, SEEK_SET);
	EXPECT_ERR(sendfile(sf, zero_dev, NULL, 10), EINVAL);
	char one;
	EXPECT_ERR(read(sf, &one, 5), EINVAL); /* at the file's offset, 5 bytes would pass the largest */
	close(zero_dev);
	close(sf);
	close(ssv[0]);
	close(ssv[1]);
	unlink("/dev/shm/uk_fdedges_sf");
	EXPECT_ERR(read(p[1], back, (size_t)-1), EBADF);
	EXPECT_ERR(write(p[0], back, (size_t)-1), EBADF);

	/* copy_file_range's checks, in Linux's order. */
	int g = open("/dev/shm", O_RDONLY | O_DIRECTORY);
	EXPECT_ERR(copy_file_range(f, NULL, g, NULL, 4, 0), EISDIR);
	int procf = open("/proc/self/stat", O_RDONLY);
	EXPECT_ERR(copy_file_range(procf, NULL, f, NULL, 4, 0), EXDEV);
	loff_t neg = -1, far = 1LL << 40, zero = 0;
	EXPECT_ERR(copy_file_range(f, &neg, f, &far, 4, 0), EOVERFLOW);
	EXPECT_EQ(copy_file_range(f, &far, f, &zero, 4, 0), 0);
	/* The count asked is checked for wrapping before any clamp; the
	 * output stops at the largest file size, EFBIG only there. */
	loff_t nearmax = 0x7ffffffffffffffaLL, max = 0x7fffffffffffffffLL;
	EXPECT_ERR(copy_file_range(f, &zero, f, &far, (size_t)-1, 0), EOVERFLOW);
	EXPECT_EQ(copy_file_range(f, &zero, f, &nearmax, 64, 0), 5);
	EXPECT_ERR(copy_file_range(f, &zero, f, &max, 0, 0), EFBIG);
	close(g);
	close(procf);

	/* fadvise: only a pipe is ESPIPE; a socket or an eventfd takes the
	 * advice and ignores it. */
	EXPECT_ERR(syscall(SYS_fadvise64, sp[0], 0, 0, POSIX_FADV_NORMAL), ESPIPE);
	int so = socket(AF_UNIX, SOCK_STREAM, 0), evf = eventfd(0, 0);
	EXPECT_EQ(syscall(SYS_fadvise64, so, 0, 0, POSIX_FADV_NORMAL), 0);
	EXPECT_EQ(syscall(SYS_fadvise64, evf, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(so);
	close(evf);

	/* fsync: proc's files and directories have none (EINVAL), a tmpfs
	 * directory's does nothing. */
	int pst = open("/proc/self/stat", O_RDONLY), pdir = open("/proc", O_RDONLY), shm = open("/dev/shm", O_RDONLY);
	EXPECT_ERR(fsync(pst), EINVAL);
	EXPECT_ERR(fdatasync(pdir), EINVAL);
	EXPECT_OK(fsync(shm));
	close(pst);
	close(pdir);
	close(shm);

	/* An anonymous-inode file's lseek succeeds without moving (pread is
	 * still ESPIPE); fstatfs names the internal filesystem of each kind
	 * of file outside the tree. */
	int ev2 = eventfd(0, 0), so2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_EQ(lseek(ev2, 5, SEEK_SET), 0);
	EXPECT_ERR(lseek(ev2, 0, 77), EINVAL);
	EXPECT_ERR(pread(ev2, back, 8, 0), ESPIPE);
	EXPECT_ERR(lseek(so2, 0, SEEK_SET), ESPIPE);
	struct statfs sfs;
	EXPECT_OK(fstatfs(ev2, &sfs));
	EXPECT_EQ(sfs.f_type, 0x09041934); /* anon_inodefs */
	EXPECT_OK(fstatfs(so2, &sfs));
	EXPECT_EQ(sfs.f_type, 0x534f434b); /* sockfs */
	EXPECT_OK(fstatfs(sp[0], &sfs));
	EXPECT_EQ(sfs.f_type, 0x50495045); /* pipefs */
	close(ev2);
	close(so2);

	/* pipe2(O_DIRECT): the write end is in packet mode, the read end
	 * does not show the flag. */
	int dp[2];
	EXPECT_OK(pipe2(dp, O_DIRECT));
	EXPECT_EQ(fcntl(dp[0], F_GETFL), O_RDONLY);
	EXPECT_EQ(fcntl(dp[1], F_GETFL), O_WRONLY | O_DIRECT);
	close(dp[0]);
	close(dp[1]);

	/* select looks at numbers up to the descriptor table's size only: a
	 * closed one inside it is EBADF, one far past it is not looked at. */
	static unsigned long bigset[(1 << 19) / 64 + 1];
	struct timeval tv0 = {0, 0};
	bigset[50 / 64] = 1UL << (50 % 64);
	EXPECT_ERR(select(51, (fd_set *)bigset, NULL, NULL, &tv0), EBADF);
	bigset[0] = 0;
	bigset[(1 << 19) / 64] = 1;
	EXPECT_EQ(select((1 << 19) + 1, (fd_set *)bigset, NULL, NULL, &tv0), 0);

	/* The largest offsets of a tmpfs file. */
	EXPECT_EQ(pwrite(f, "x", 1, 1LL << 62), 1);
	EXPECT_EQ(pwrite(f, "x", 1, 0x7ffffffffffffffeLL), 1);
	EXPECT_ERR(pwrite(f, "xy", 2, 0x7ffffffffffffffeLL), EINVAL);
	EXPECT_ERR(pread(f, back, 2, 0x7ffffffffffffffeLL), EINVAL);
	return ukt_exit();
}
