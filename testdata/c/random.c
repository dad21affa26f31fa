/* random: getrandom(2) and the flags it accepts. */
#include "uktest.h"

#include <sys/random.h>

static int allzero(const unsigned char *p, size_t n) {
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void) {
	unsigned char a[64], b[64];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	EXPECT_EQ(getrandom(a, sizeof a, 0), 64);
	EXPECT_EQ(getrandom(b, sizeof b, 0), 64);
	CHECK("64 random bytes are not all zero", !allzero(a, sizeof a));
	CHECK("two draws differ", memcmp(a, b, sizeof a) != 0);
	EXPECT_EQ(getrandom(a, sizeof a, GRND_NONBLOCK), 64);
	long r = EXPECT_OK(getrandom(a, sizeof a, GRND_RANDOM | GRND_NONBLOCK));
	CHECK("GRND_RANDOM returns some bytes", r > 0 && r <= 64);
	EXPECT_EQ(getrandom(a, 0, 0), 0);
	EXPECT_ERR(getrandom(a, sizeof a, 0x100), EINVAL);
	EXPECT_ERR(getrandom(a, sizeof a, -1), EINVAL);
	EXPECT_ERR(getrandom((void *)1, 16, 0), EFAULT);

	/* A request larger than a page lands in many pages of the buffer. */
	size_t big = 1 << 20;
	unsigned char *p = malloc(big);
	memset(p, 0, big);
	EXPECT_EQ(getrandom(p, big, 0), 1 << 20);
	CHECK("last page of the 1 MiB buffer was filled", !allzero(p + big - 64, 64));
	return ukt_exit();
}
