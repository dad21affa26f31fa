/*
 * caps.c: capget, capset and the bounding set, with the cases of LTP's
 * capget01/02 and capset01-04: header versions 1-3 (an unknown one is
 * EINVAL with version 3 written back, and a probe with no data is 0),
 * EFAULT/EINVAL/ESRCH/EPERM in Linux's order, capset's subset rules,
 * PR_CAPBSET_READ/DROP; then what setuid and exec do to the sets, and
 * /proc/self/status against capget. Runs as root; every change is made in
 * a child. Prints only what does not depend on which capabilities the
 * machine gives root (a container may withhold some).
 */
#include "uktest.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#define V1 0x19980330
#define V2 0x20071026
#define V3 0x20080522
#define CAP_CHOWN 0
#define CAP_KILL 5
#define CAP_SETPCAP 8
#define CAP_NET_RAW 13
#define BIT(c) (1u << (c))
#define CAP1 (BIT(CAP_NET_RAW) | BIT(CAP_CHOWN) | BIT(CAP_SETPCAP))
#define CAP2 (CAP1 | BIT(CAP_KILL))

struct hdr {
	uint32_t version;
	int pid;
};
struct data {
	uint32_t eff, perm, inh;
};

static long capget_(struct hdr *h, struct data *d) { return syscall(SYS_capget, h, d); }
static long capset_(struct hdr *h, struct data *d) { return syscall(SYS_capset, h, d); }

/* get returns the caller's sets (version 3). */
static void get(struct data d[2]) {
	struct hdr h = {V3, 0};
	memset(d, 0, 2 * sizeof *d);
	if (capget_(&h, d) != 0)
		printf("capget: FAIL %s\n", errname(errno));
}

static uint64_t eff64(struct data d[2]) { return d[0].eff | (uint64_t)d[1].eff << 32; }
static uint64_t perm64(struct data d[2]) { return d[0].perm | (uint64_t)d[1].perm << 32; }

/* status returns the hex value of a Cap* line of /proc/self/status. */
static uint64_t status(const char *name) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t v = ~0ull;
	size_t n = strlen(name);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static void getting(void) {
	struct data d[2];
	struct hdr h = {0, 0};
	EXPECT_EQ(capget_(&h, NULL), 0); /* the probe */
	CHECK("probe wrote version 3", h.version == V3);
	h.version = 0;
	EXPECT_ERR(capget_(&h, d), EINVAL);
	CHECK("unknown version: version 3 written back", h.version == V3);
	EXPECT_ERR(capget_(NULL, d), EFAULT);
	h = (struct hdr){V3, -1};
	EXPECT_ERR(capget_(&h, d), EINVAL);
	h = (struct hdr){V3, ukt_unused_pid()};
	EXPECT_ERR(capget_(&h, d), ESRCH);
	h = (struct hdr){V3, 0};
	EXPECT_ERR(capget_(&h, (struct data *)-1), EFAULT);
	EXPECT_EQ(capget_(&h, NULL), 0);

	uint32_t versions[] = {V1, V2, V3};
	for (int i = 0; i < 3; i++) {
		memset(d, 0xff, sizeof d);
		h = (struct hdr){versions[i], getpid()};
		EXPECT_EQ(capget_(&h, d), 0);
		CHECK("root: CAP_NET_RAW effective", d[0].eff & BIT(CAP_NET_RAW));
		CHECK("root: effective == permitted", d[0].eff == d[0].perm);
		CHECK("root: nothing inheritable", d[0].inh == 0);
		CHECK(i == 0 ? "version 1 writes one word" : "version 2/3 write two", (d[1].eff == 0xffffffff) == (i == 0));
	}
	h = (struct hdr){V3, 1};
	EXPECT_EQ(capget_(&h, d), 0);
	CHECK("pid 1 is root's: CAP_CHOWN effective", d[0].eff & BIT(CAP_CHOWN));
	get(d);
	CHECK("/proc/self/status CapEff is capget's", status("CapEff") == eff64(d));
	CHECK("/proc/self/status CapPrm is capget's", status("CapPrm") == perm64(d));
	CHECK("bounding set holds what is permitted", (status("CapBnd") & perm64(d)) == perm64(d));
	EXPECT_EQ(prctl(PR_CAPBSET_READ, CAP_KILL), 1);
	EXPECT_ERR(prctl(PR_CAPBSET_READ, 41), EINVAL);
}

/* capset01: each version sets back what it read. */
static void set_same(void) {
	uint32_t versions[] = {V3, V2, V1};
	for (int i = 0; i < 3; i++) {
		struct data d[2] = {{0}};
		struct hdr h = {versions[i], getpid()};
		EXPECT_EQ(capget_(&h, d), 0);
		EXPECT_EQ(capset_(&h, d), 0);
	}
	struct data d[2];
	get(d);
	CHECK("version 1 capset cleared capabilities 32 and up", d[1].eff == 0 && d[1].perm == 0);
	CHECK("CAP_NET_RAW still effective", d[0].eff & BIT(CAP_NET_RAW));
}

/* capset02: the subset rules, after dropping to CAP1 and CAP_KILL from
 * the bounding set. */
static void set_rules(void) {
	struct hdr h = {V3, 0};
	struct data d[2] = {{CAP1, CAP1, CAP1}, {0}};
	EXPECT_EQ(capset_(&h, d), 0);
	EXPECT_EQ(prctl(PR_CAPBSET_DROP, CAP_KILL), 0);
	EXPECT_EQ(prctl(PR_CAPBSET_READ, CAP_KILL), 0);
	EXPECT_EQ(prctl(PR_CAPBSET_READ, CAP_CHOWN), 1);
	EXPECT_ERR(prctl(PR_CAPBSET_DROP, 41), EINVAL);
	struct data got[2];
	get(got);
	CHECK("capget reads back CAP1", got[0].eff == CAP1 && got[0].perm == CAP1 && got[0].inh == CAP1 &&
						got[1].eff == 0 && got[1].perm == 0);
	CHECK("/proc/self/status CapBnd lost CAP_KILL", !(status("CapBnd") & BIT(CAP_KILL)));

	EXPECT_ERR(capset_((struct hdr *)-1, d), EFAULT);
	EXPECT_ERR(capset_(&h, (struct data *)-1), EFAULT);
	h.version = 0;
	EXPECT_ERR(capset_(&h, d), EINVAL);
	CHECK("capset wrote version 3 back", h.version == V3);
	struct data e[2] = {{CAP2, CAP1, CAP1}, {0}};
	EXPECT_ERR(capset_(&h, e), EPERM); /* effective beyond permitted */
	struct data p[2] = {{CAP1, CAP2, CAP1}, {0}};
	EXPECT_ERR(capset_(&h, p), EPERM); /* permitted grows */
	struct data i[2] = {{CAP1, CAP1, CAP2}, {0}};
	EXPECT_ERR(capset_(&h, i), EPERM); /* inheritable beyond the bounding set */
	struct data up[2] = {{CAP1, CAP1, CAP1}, {1, 0, 0}};
	EXPECT_ERR(capset_(&h, up), EPERM); /* capability 32 is gone */
}

/* capset03: without CAP_SETPCAP the inheritable set cannot take what is
 * not permitted. */
static void set_no_setpcap(void) {
	struct hdr h = {V3, 0};
	struct data d[2] = {{BIT(CAP_KILL), BIT(CAP_KILL), BIT(CAP_KILL)}, {0}};
	EXPECT_EQ(capset_(&h, d), 0);
	d[0].inh = BIT(CAP_KILL) | BIT(CAP_NET_RAW);
	EXPECT_ERR(capset_(&h, d), EPERM);
	EXPECT_ERR(prctl(PR_CAPBSET_DROP, CAP_KILL), EPERM);
	d[0].inh = 0;
	EXPECT_EQ(capset_(&h, d), 0); /* dropping is always allowed */
	/* Without CAP_SETUID and the rest, root's privileges are gone too. */
	EXPECT_ERR(setuid(12345), EPERM);
}

/* capset04: only the caller's own sets. */
static void set_other(void) {
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	struct data d[2];
	get(d);
	struct hdr h = {V3, c};
	EXPECT_ERR(capset_(&h, d), EPERM);
	h.pid = getpid();
	EXPECT_EQ(capset_(&h, d), 0);
	h.pid = 1;
	EXPECT_ERR(capset_(&h, d), EPERM);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
}

/* What changes of user id do to the sets. */
static void setuids(void) {
	struct data d[2];
	EXPECT_OK(seteuid(65534));
	get(d);
	CHECK("euid 65534: nothing effective", eff64(d) == 0);
	CHECK("euid 65534: still permitted", perm64(d) != 0);
	EXPECT_OK(seteuid(0));
	get(d);
	CHECK("euid 0 again: effective is permitted", eff64(d) == perm64(d) && eff64(d) != 0);
	EXPECT_OK(setresuid(65534, 65534, 65534));
	get(d);
	CHECK("all ids 65534: nothing permitted", eff64(d) == 0 && perm64(d) == 0);
	CHECK("/proc/self/status CapEff 0", status("CapEff") == 0);
	struct hdr h = {V3, 0};
	struct data up[2] = {{BIT(CAP_CHOWN), BIT(CAP_CHOWN), 0}, {0}};
	EXPECT_ERR(capset_(&h, up), EPERM);
}

static char *self;

/* An exec by root gives back the permitted set from the bounding set. */
static void exec_restores(void) {
	struct hdr h = {V3, 0};
	struct data d[2];
	get(d);
	d[0].eff = d[1].eff = 0; /* keep them permitted, not effective */
	EXPECT_EQ(capset_(&h, d), 0);
	EXPECT_EQ(prctl(PR_CAPBSET_DROP, CAP_NET_RAW), -1); /* no CAP_SETPCAP effective */
	d[0].eff = BIT(CAP_SETPCAP);
	EXPECT_EQ(capset_(&h, d), 0);
	EXPECT_EQ(prctl(PR_CAPBSET_DROP, CAP_NET_RAW), 0);
	fflush(stdout);
	execl(self, self, "after-exec", (char *)NULL);
	printf("exec: FAIL %s\n", errname(errno));
}

static int after_exec(void) {
	struct data d[2];
	get(d);
	CHECK("after exec: effective is permitted", eff64(d) == perm64(d));
	CHECK("after exec: CAP_CHOWN back", d[0].eff & BIT(CAP_CHOWN));
	CHECK("after exec: CAP_NET_RAW left the bounding set", !(d[0].perm & BIT(CAP_NET_RAW)));
	return ukt_exit();
}

int main(int argc, char **argv) {
	self = argv[0];
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0)
		return after_exec();
	getting();
	ukt_in_child("capset01", set_same);
	ukt_in_child("capset02", set_rules);
	ukt_in_child("capset03", set_no_setpcap);
	ukt_in_child("capset04", set_other);
	ukt_in_child("setuid", setuids);
	ukt_in_child("exec", exec_restores);
	return ukt_exit();
}
