/*
 * Test harness for uk's vDSO (vdso_exec_test.go builds it with gcc -static).
 * It maps a parameter page file and vdso.so exactly as uk's loader does
 * (parameter page, image directly above), finds the exported functions
 * through the image's own dynamic section (by DT_HASH, and by DT_GNU_HASH
 * with the LINUX_2.6 version check glibc and Go's runtime do), and calls
 * them natively.
 *
 * usage: harness MODE PARAMFILE VDSO
 *   check   correctness against the host's clocks; exits 1 on a failure
 *   stress  reads CLOCK_MONOTONIC for 1.5 s while the test rewrites the page
 *   bench   prints ns per call: uk vDSO, host vDSO via libc, raw syscall
 *   nosvc   the page says "no TSC": everything must equal the syscall
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
typedef int (*clock_getres_fn)(clockid_t, struct timespec *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static clock_gettime_fn v_clock_gettime;
static gettimeofday_fn v_gettimeofday;
static time_fn v_time;
static clock_getres_fn v_clock_getres;
static getcpu_fn v_getcpu;

static int failures;
#define FAIL(...) do { printf("FAIL: " __VA_ARGS__); printf("\n"); failures++; } while (0)

static void *lookup(char *base, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
	Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
	Elf64_Dyn *dyn = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(base + ph[i].p_vaddr);
	if (!dyn)
		return NULL;
	Elf64_Sym *sym = NULL;
	const char *str = NULL;
	Elf32_Word *hash = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: sym = (Elf64_Sym *)(base + dyn->d_un.d_ptr); break;
		case DT_STRTAB: str = base + dyn->d_un.d_ptr; break;
		case DT_HASH: hash = (Elf32_Word *)(base + dyn->d_un.d_ptr); break;
		}
	}
	if (!sym || !str || !hash)
		return NULL;
	for (Elf32_Word i = 0; i < hash[1]; i++)
		if (sym[i].st_shndx != SHN_UNDEF && strcmp(str + sym[i].st_name, name) == 0)
			return base + sym[i].st_value;
	return NULL;
}

static uint32_t elf_hash(const char *s)
{
	uint32_t h = 0, g;
	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/*
 * lookup_versioned finds name@LINUX_2.6 the way glibc's and Go's dynamic
 * symbol lookups do: through DT_GNU_HASH, checking the symbol's version
 * via DT_VERSYM/DT_VERDEF.
 */
static void *lookup_versioned(char *base, const char *name, const char *version)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
	Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
	Elf64_Dyn *dyn = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(base + ph[i].p_vaddr);
	Elf64_Sym *sym = NULL;
	const char *str = NULL;
	uint32_t *gh = NULL;
	Elf64_Versym *versym = NULL;
	Elf64_Verdef *verdef = NULL;
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: sym = (Elf64_Sym *)(base + dyn->d_un.d_ptr); break;
		case DT_STRTAB: str = base + dyn->d_un.d_ptr; break;
		case DT_GNU_HASH: gh = (uint32_t *)(base + dyn->d_un.d_ptr); break;
		case DT_VERSYM: versym = (Elf64_Versym *)(base + dyn->d_un.d_ptr); break;
		case DT_VERDEF: verdef = (Elf64_Verdef *)(base + dyn->d_un.d_ptr); break;
		}
	}
	if (!sym || !str || !gh || !versym || !verdef)
		return NULL;
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2];
	uint64_t *bloom = (uint64_t *)&gh[4];
	uint32_t *buckets = (uint32_t *)&bloom[bloom_size];
	uint32_t *chain = &buckets[nbuckets];
	uint32_t h = gnu_hash(name), vh = elf_hash(version);
	uint64_t word = bloom[(h / 64) % bloom_size];
	if (!((word >> (h % 64)) & (word >> ((h >> gh[3]) % 64)) & 1))
		return NULL;
	for (uint32_t i = buckets[h % nbuckets]; i >= symoffset; i++) {
		uint32_t ch = chain[i - symoffset];
		if ((ch | 1) == (h | 1) && strcmp(str + sym[i].st_name, name) == 0) {
			int idx = versym[i] & 0x7fff;
			for (Elf64_Verdef *d = verdef;; d = (Elf64_Verdef *)((char *)d + d->vd_next)) {
				Elf64_Verdaux *aux = (Elf64_Verdaux *)((char *)d + d->vd_aux);
				if (d->vd_ndx == idx && d->vd_hash == vh && strcmp(str + aux->vda_name, version) == 0)
					return base + sym[i].st_value;
				if (!d->vd_next)
					break;
			}
			return NULL;
		}
		if (ch & 1)
			break;
	}
	return NULL;
}

static void map_vdso(const char *paramfile, const char *vdsofile)
{
	int pfd = open(paramfile, O_RDONLY), vfd = open(vdsofile, O_RDONLY);
	if (pfd < 0 || vfd < 0) { perror("open"); exit(2); }
	char *base = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED ||
	    mmap(base, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, pfd, 0) == MAP_FAILED ||
	    mmap(base + 4096, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, vfd, 0) == MAP_FAILED) {
		perror("mmap"); exit(2);
	}
	char *img = base + 4096;
	v_clock_gettime = (clock_gettime_fn)lookup(img, "__vdso_clock_gettime");
	v_gettimeofday = (gettimeofday_fn)lookup(img, "__vdso_gettimeofday");
	v_time = (time_fn)lookup(img, "__vdso_time");
	v_clock_getres = (clock_getres_fn)lookup(img, "__vdso_clock_getres");
	v_getcpu = (getcpu_fn)lookup(img, "__vdso_getcpu");
	if (!v_clock_gettime || !v_gettimeofday || !v_time || !v_clock_getres || !v_getcpu ||
	    lookup(img, "clock_gettime") != (void *)v_clock_gettime) {
		fprintf(stderr, "symbol lookup failed\n"); exit(2);
	}
	const char *names[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_clock_getres", "__vdso_getcpu",
			       "clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"};
	for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
		void *a = lookup(img, names[i]), *b = lookup_versioned(img, names[i], "LINUX_2.6");
		if (!a || a != b) {
			fprintf(stderr, "%s: DT_HASH lookup %p, DT_GNU_HASH+LINUX_2.6 lookup %p\n", names[i], a, b);
			exit(2);
		}
	}
	if (lookup_versioned(img, "__vdso_clock_gettime", "LINUX_2.5") || lookup_versioned(img, "__vdso_nosuch", "LINUX_2.6")) {
		fprintf(stderr, "versioned lookup accepts a wrong version or name\n");
		exit(2);
	}
}

static int64_t ns(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static int64_t sys_ns(int id)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, id, &ts);
	return ns(ts);
}

/* compare: the vDSO's reading must lie within tol of the syscall bracket. */
static void compare(int id, int64_t tol)
{
	int64_t worst = 0;
	for (int i = 0; i < 1000; i++) {
		struct timespec ts;
		int64_t a = sys_ns(id);
		int r = v_clock_gettime(id, &ts);
		int64_t b = sys_ns(id);
		if (r != 0) { FAIL("clock %d: vdso returned %d", id, r); return; }
		if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) { FAIL("clock %d: tv_nsec %ld", id, ts.tv_nsec); return; }
		int64_t v = ns(ts), e = 0;
		if (v < a) e = a - v;
		if (v > b) e = v - b;
		if (e > worst) worst = e;
	}
	printf("clock %d: worst deviation from host %lld ns\n", id, (long long)worst);
	if (worst > tol)
		FAIL("clock %d deviates %lld ns from the host (tolerance %lld)", id, (long long)worst, (long long)tol);
}

static void check(void)
{
	const int64_t ms = 1000000;
	int served[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI};
	for (unsigned i = 0; i < sizeof served / sizeof *served; i++)
		compare(served[i], ms);
	/* uk's coarse clocks are precise; the host's lag by up to a tick. */
	compare(CLOCK_REALTIME_COARSE, 20 * ms);
	compare(CLOCK_MONOTONIC_COARSE, 20 * ms);
	/* Not served: the syscall answers (so the values are exact). */
	compare(CLOCK_MONOTONIC_RAW, 0);
	struct timespec ts, ts2;
	if (v_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) FAIL("PROCESS_CPUTIME fallback failed");
	syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts2);
	if (ns(ts2) < ns(ts) || ns(ts2) - ns(ts) > 10 * ms) FAIL("PROCESS_CPUTIME fallback value off: %lld vs %lld", (long long)ns(ts), (long long)ns(ts2));
	int r = v_clock_gettime(99, &ts);
	if (r != -22) FAIL("clock 99: got %d, want -EINVAL (-22) from the syscall", r);
	r = v_clock_getres(99, &ts);
	if (r != -22) FAIL("getres 99: got %d, want -22", r);
	if (v_clock_getres(CLOCK_MONOTONIC, &ts) != 0 || ts.tv_sec != 0 || ts.tv_nsec != 1) FAIL("getres MONOTONIC = %ld.%09ld", ts.tv_sec, ts.tv_nsec);
	if (v_clock_getres(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0 || ts.tv_sec != 0 || ts.tv_nsec != 1) FAIL("getres PROCESS_CPUTIME = %ld.%09ld", ts.tv_sec, ts.tv_nsec);
	if (v_clock_getres(CLOCK_MONOTONIC, NULL) != 0) FAIL("getres with NULL");

	/* Monotonic over many reads, and consistent with the other entry points. */
	int64_t prev = 0;
	for (int i = 0; i < 2000000; i++) {
		v_clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ns(ts) < prev) { FAIL("MONOTONIC went back by %lld ns at read %d", (long long)(prev - ns(ts)), i); break; }
		prev = ns(ts);
	}
	struct timeval tv;
	struct { int a, b; } tz = {7, 7};
	v_clock_gettime(CLOCK_REALTIME, &ts);
	if (v_gettimeofday(&tv, &tz) != 0) FAIL("gettimeofday failed");
	int64_t tvns = (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
	if (tvns < ns(ts) - 1000 || tvns > ns(ts) + ms) FAIL("gettimeofday %lld vs clock_gettime %lld", (long long)tvns, (long long)ns(ts));
	if (tz.a != 0 || tz.b != 0) FAIL("timezone not zeroed");
	if (v_gettimeofday(NULL, NULL) != 0) FAIL("gettimeofday(NULL, NULL)");
	long t1, t0 = time(NULL);
	long t = v_time(&t1);
	if (t != t1 || t < t0 || t > t0 + 1) FAIL("time() = %ld/%ld, host %ld", t, t1, t0);
	if (v_time(NULL) < t0) FAIL("time(NULL)");

	/* getcpu, pinned so the answer is known. */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof set, &set) == 0) {
		unsigned cpu = 99, node = 99;
		if (v_getcpu(&cpu, &node, NULL) != 0 || cpu != 0 || node != 0) FAIL("getcpu pinned to 0: cpu %u node %u", cpu, node);
		if (v_getcpu(NULL, NULL, NULL) != 0) FAIL("getcpu(NULL, NULL)");
	}
	printf("check done, %d failures\n", failures);
}

static void stress(void)
{
	struct timespec ts;
	int64_t prev = 0, start = sys_ns(CLOCK_MONOTONIC), reads = 0, maxdev = 0;
	while (sys_ns(CLOCK_MONOTONIC) - start < 1500000000LL) {
		for (int i = 0; i < 10000; i++, reads++) {
			v_clock_gettime(CLOCK_MONOTONIC, &ts);
			if (ns(ts) < prev) { FAIL("MONOTONIC went back by %lld ns during updates", (long long)(prev - ns(ts))); return; }
			prev = ns(ts);
		}
		/* Bracket one vDSO read between two host reads, so that being
		 * descheduled between the reads does not count as deviation. */
		int64_t h1 = sys_ns(CLOCK_MONOTONIC);
		v_clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t h2 = sys_ns(CLOCK_MONOTONIC), v = ns(ts);
		int64_t d = v < h1 ? h1 - v : (v > h2 ? v - h2 : 0);
		if (v < prev) { FAIL("MONOTONIC went back by %lld ns during updates", (long long)(prev - v)); return; }
		prev = v;
		if (d > maxdev) maxdev = d;
	}
	printf("stress: %lld reads, max |vdso-host| %lld ns\n", (long long)reads, (long long)maxdev);
	if (maxdev > 1000000) FAIL("deviation %lld ns", (long long)maxdev);
}

static void nosvc(void)
{
	compare(CLOCK_MONOTONIC, 0);
	compare(CLOCK_REALTIME, 0);
	struct timespec ts;
	if (v_clock_getres(CLOCK_MONOTONIC, &ts) != 0 || ts.tv_nsec != 1) FAIL("getres via syscall");
}

static double per_call(int which, long n)
{
	struct timespec ts, a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		switch (which) {
		case 0: v_clock_gettime(CLOCK_MONOTONIC, &ts); break;
		case 1: clock_gettime(CLOCK_MONOTONIC, &ts); break;
		case 2: syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); break;
		case 3: v_clock_gettime(CLOCK_REALTIME, &ts); break;
		}
		__asm__ __volatile__("" ::: "memory");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(ns(b) - ns(a)) / n;
}

static void bench(void)
{
	for (int round = 0; round < 2; round++) {
		printf("bench round %d: uk-vdso-monotonic %.1f ns, uk-vdso-realtime %.1f ns, host-vdso %.1f ns, syscall %.1f ns\n", round,
		       per_call(0, 1000000), per_call(3, 1000000), per_call(1, 1000000), per_call(2, 50000));
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) { fprintf(stderr, "usage: harness MODE PARAMFILE VDSO\n"); return 2; }
	map_vdso(argv[2], argv[3]);
	if (!strcmp(argv[1], "check")) check();
	else if (!strcmp(argv[1], "stress")) stress();
	else if (!strcmp(argv[1], "bench")) bench();
	else if (!strcmp(argv[1], "nosvc")) nosvc();
	else { fprintf(stderr, "unknown mode\n"); return 2; }
	return failures ? 1 : 0;
}
