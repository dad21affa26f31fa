/* lsm: the LSM syscalls (LTP's lsm_list_modules01 and lsm_get_self_attr
 * and lsm_set_self_attr cases): argument checks, and the modules listed.
 * The host may run more modules than uk has, so only capability and
 * Landlock, which both have, are looked for.
 *   lsm probe   exit 0 if the kernel has the LSM syscalls */
#include "uktest.h"

#define LSM_ID_CAPABILITY 100
#define LSM_ID_LANDLOCK 110
#define LSM_ATTR_CURRENT 100

static long list(uint64_t *ids, uint32_t *size, uint32_t flags) { return syscall(461, ids, size, flags); }
static long get_attr(unsigned attr, void *ctx, uint32_t *size, uint32_t flags) {
	return syscall(459, attr, ctx, size, flags);
}
static long set_attr(unsigned attr, void *ctx, uint32_t size, uint32_t flags) {
	return syscall(460, attr, ctx, size, flags);
}

static void res(const char *what, long r) {
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: ok\n", what);
}

struct lsm_ctx {
	uint64_t id, flags, len, ctx_len;
	char ctx[16];
};

int main(int argc, char **argv) {
	uint64_t ids[32];
	uint32_t size = sizeof ids;
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return list(ids, &size, 0) > 0 ? 0 : 1;
	printf("-- lsm_list_modules\n");
	res("ids NULL", list(NULL, &size, 0));
	printf("size after: %s\n", size > 0 && size % 8 == 0 ? "a multiple of 8" : "other");
	res("size NULL", list(ids, NULL, 0));
	uint32_t small = 0;
	res("size 0", list(ids, &small, 0));
	printf("size after: %s\n", small > 0 && small % 8 == 0 ? "the size needed" : "other");
	size = sizeof ids;
	res("flags 1", list(ids, &size, 1));
	size = sizeof ids;
	long n = list(ids, &size, 0);
	int cap = 0, ll = 0;
	for (long i = 0; i < n; i++) {
		cap |= ids[i] == LSM_ID_CAPABILITY;
		ll |= ids[i] == LSM_ID_LANDLOCK;
	}
	printf("count matches size %d, capability %d, landlock %d\n", n > 0 && size == n * 8, cap, ll);

	printf("-- lsm_get_self_attr\n");
	struct lsm_ctx c = {0};
	uint32_t csize = sizeof c;
	res("attr 0", get_attr(0, &c, &csize, 0));
	res("flags 2", get_attr(LSM_ATTR_CURRENT, &c, &csize, 2));
	res("size NULL", get_attr(LSM_ATTR_CURRENT, &c, NULL, 0));
	res("current", get_attr(LSM_ATTR_CURRENT, &c, &csize, 0));
	printf("size after: %u\n", csize);
	csize = sizeof c;
	res("single, no ctx", get_attr(LSM_ATTR_CURRENT, NULL, &csize, 1));
	c.id = 0;
	res("single, id 0", get_attr(LSM_ATTR_CURRENT, &c, &csize, 1));
	c.id = LSM_ID_LANDLOCK;
	res("single, landlock", get_attr(LSM_ATTR_CURRENT, &c, &csize, 1));

	printf("-- lsm_set_self_attr\n");
	memset(&c, 0, sizeof c);
	c.id = LSM_ID_LANDLOCK;
	c.len = sizeof c;
	c.ctx_len = 4;
	res("flags 1", set_attr(LSM_ATTR_CURRENT, &c, sizeof c, 1));
	res("size 8", set_attr(LSM_ATTR_CURRENT, &c, 8, 0));
	res("size past a page", set_attr(LSM_ATTR_CURRENT, &c, 4097, 0));
	res("NULL", set_attr(LSM_ATTR_CURRENT, NULL, sizeof c, 0));
	c.ctx_len = 100;
	res("ctx_len past len", set_attr(LSM_ATTR_CURRENT, &c, sizeof c, 0));
	c.ctx_len = 4;
	res("landlock, current", set_attr(LSM_ATTR_CURRENT, &c, sizeof c, 0));
	return 0;
}
