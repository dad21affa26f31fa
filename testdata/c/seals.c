/* seals.c: memfd file seals enforced as Linux's tmpfs does (LTP's
 * memfd_create and fcntl seal cases): F_SEAL_WRITE refuses write(2), a
 * writable shared mmap (and mprotect to writable of a read-only one),
 * fallocate's hole punching, and cannot be added while the file is mapped
 * shared and writable (EBUSY); F_SEAL_SHRINK and F_SEAL_GROW refuse the
 * sizes they name (ftruncate, a write past the end, fallocate);
 * F_SEAL_SEAL ends sealing; a memfd without MFD_ALLOW_SEALING and a tmpfs
 * file start with F_SEAL_SEAL; F_SEAL_FUTURE_WRITE keeps existing
 * mappings; errors for unknown seals and read-only descriptors. */
#include "uktest.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>

int main(void) {
	long pg = sysconf(_SC_PAGESIZE);
	EXPECT_ERR(syscall(SYS_memfd_create, "x", 0x100), EINVAL);
	EXPECT_ERR(syscall(SYS_memfd_create, 8, 0), EFAULT);
	char longname[300];
	memset(longname, 'a', 299);
	longname[299] = 0;
	EXPECT_ERR(syscall(SYS_memfd_create, longname, 0), EINVAL);

	int m = syscall(SYS_memfd_create, "seal", MFD_ALLOW_SEALING);
	EXPECT_EQ(fcntl(m, F_GET_SEALS), 0);
	EXPECT_OK(ftruncate(m, pg));
	EXPECT_ERR(fcntl(m, F_ADD_SEALS, 0x1000), EINVAL);
	char *ro = mmap(NULL, pg, PROT_READ, MAP_SHARED, m, 0);
	EXPECT_ERR(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), EBUSY); /* the read-only shared map may still become writable */
	munmap(ro, pg);
	EXPECT_OK(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_ERR((long)mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0), EPERM);
	ro = mmap(NULL, pg, PROT_READ, MAP_SHARED, m, 0);
	CHECK("a read-only shared map of a write-sealed file", ro != MAP_FAILED);
	EXPECT_ERR(mprotect(ro, pg, PROT_READ | PROT_WRITE), EACCES);
	char *priv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
	CHECK("a private writable map of a write-sealed file", priv != MAP_FAILED);
	EXPECT_ERR(write(m, "x", 1), EPERM);
	EXPECT_ERR(pwrite(m, "x", 1, 0), EPERM);
	EXPECT_ERR(fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, pg), EPERM);
	EXPECT_OK(ftruncate(m, 2 * pg)); /* size seals are others */
	printf("seals %#x\n", fcntl(m, F_GET_SEALS));

	int s = syscall(SYS_memfd_create, "size", MFD_ALLOW_SEALING);
	EXPECT_OK(ftruncate(s, pg));
	EXPECT_OK(fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK));
	EXPECT_ERR(ftruncate(s, 0), EPERM);
	EXPECT_OK(ftruncate(s, 2 * pg));
	EXPECT_OK(fcntl(s, F_ADD_SEALS, F_SEAL_GROW));
	EXPECT_ERR(ftruncate(s, 3 * pg), EPERM);
	EXPECT_OK(ftruncate(s, 2 * pg));
	EXPECT_EQ(pwrite(s, "abc", 3, 2 * pg - 3), 3);
	EXPECT_EQ(pwrite(s, "abc", 3, 2 * pg - 2), 2); /* as far as the size, page by page */
	EXPECT_ERR(pwrite(s, "abc", 3, 2 * pg), EPERM);
	EXPECT_ERR(fallocate(s, 0, 0, 3 * pg), EPERM);
	EXPECT_OK(fallocate(s, 0, 0, pg));
	EXPECT_OK(fcntl(s, F_ADD_SEALS, F_SEAL_SEAL));
	EXPECT_ERR(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	printf("seals %#x\n", fcntl(s, F_GET_SEALS));
	int rd;
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", s);
	rd = open(path, O_RDONLY);
	EXPECT_ERR(fcntl(rd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	EXPECT_EQ(fcntl(rd, F_GET_SEALS), F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW);

	int f = syscall(SYS_memfd_create, "future", MFD_ALLOW_SEALING);
	EXPECT_OK(ftruncate(f, pg));
	char *w = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	EXPECT_OK(fcntl(f, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	w[0] = 'k'; /* the old mapping still writes */
	char c = 0;
	EXPECT_EQ(pread(f, &c, 1, 0), 1);
	printf("written through the old mapping: %c\n", c);
	EXPECT_ERR(write(f, "x", 1), EPERM);
	EXPECT_ERR((long)mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0), EPERM);

	int n = syscall(SYS_memfd_create, "noseal", 0);
	EXPECT_EQ(fcntl(n, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERR(fcntl(n, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	snprintf(path, sizeof path, "/dev/shm/uk_seals_%d", getpid());
	int t = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (t >= 0) {
		EXPECT_EQ(fcntl(t, F_GET_SEALS), F_SEAL_SEAL);
		EXPECT_ERR(fcntl(t, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
		close(t);
		unlink(path);
	} else {
		printf("FAIL open %s\n", path);
	}
	EXPECT_ERR(fcntl(0, F_GET_SEALS), EINVAL);
	return ukt_exit();
}
