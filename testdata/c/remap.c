/* remap.c: remap_file_pages(2) compared with Linux (LTP's
 * remap_file_pages01/02): pages of a shared file mapping rearranged in
 * place, what the file and the mapping then hold, and EINVAL for a
 * nonzero prot, unknown flags, private or anonymous memory, and a range
 * that leaves the mapping. */
#include "uktest.h"
#include <fcntl.h>
#include <sys/mman.h>

#define PS 4096

static void show(const char *what, char *m) {
	printf("%s: %c%c%c%c\n", what, m[0], m[PS], m[2 * PS], m[3 * PS]);
}

int main(void) {
	char path[] = "/dev/shm/remap.XXXXXX";
	int fd = mkstemp(path);
	char page[PS];
	for (int i = 0; i < 4; i++) {
		memset(page, 'a' + i, PS);
		write(fd, page, PS);
	}
	char *m = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("mapped", m);
	EXPECT_OK(syscall(SYS_remap_file_pages, m, PS, 0, 3, 0));
	show("page 0 shows file page 3", m);
	EXPECT_OK(syscall(SYS_remap_file_pages, m + PS, 2 * PS, 0, 0, 0));
	show("pages 1-2 show 0-1", m);
	m[PS] = 'z'; /* writes file page 0 */
	char c;
	pread(fd, &c, 1, 0);
	printf("file page 0 now %c; mapping page 0 %c\n", c, m[0]);
	EXPECT_ERR(syscall(SYS_remap_file_pages, m + 10, PS - 20, 0, 2, 0), EINVAL); /* no whole page */
	EXPECT_OK(syscall(SYS_remap_file_pages, m + 10, PS + 10, 0, 2, MAP_NONBLOCK));
	show("unaligned start and size round down", m);
	EXPECT_ERR(syscall(SYS_remap_file_pages, m, PS, PROT_READ, 0, 0), EINVAL);
	EXPECT_OK(syscall(SYS_remap_file_pages, m, PS, 0, 2, MAP_FIXED)); /* other flags are ignored */
	EXPECT_ERR(syscall(SYS_remap_file_pages, m, 5 * PS, 0, 0, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_remap_file_pages, m, 0, 0, 0, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_remap_file_pages, m, PS, 0, -1L, 0), EINVAL);
	char *p = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_ERR(syscall(SYS_remap_file_pages, p, PS, 0, 1, 0), EINVAL);
	char *an = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	EXPECT_OK(syscall(SYS_remap_file_pages, an, PS, 0, 0, 0));
	munmap(p, PS);
	EXPECT_ERR(syscall(SYS_remap_file_pages, p, PS, 0, 1, 0), EINVAL);
	unlink(path);
	return ukt_exit();
}
