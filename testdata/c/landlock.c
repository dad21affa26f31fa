/* landlock: Landlock's three system calls (LTP's landlock01-10 cases and
 * more): the argument checks of each, then what a restricted process may
 * and may not do: every file right, reparenting (REFER), rights kept by
 * descriptions opened before, device ioctls, TCP ports, and the two
 * scopes (abstract unix sockets, signals). Each restriction happens in a
 * child, so the test itself stays free.
 *   landlock probe   exit 0 if the kernel has Landlock ABI 6 or later */
#include "uktest.h"
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>

#define CREATE_VERSION (1U << 0)
#define CREATE_ERRATA (1U << 1)
#define RULE_PATH 1
#define RULE_PORT 2

enum {
	EXECUTE = 1 << 0, WRITE_FILE = 1 << 1, READ_FILE = 1 << 2, READ_DIR = 1 << 3,
	REMOVE_DIR = 1 << 4, REMOVE_FILE = 1 << 5, MAKE_CHAR = 1 << 6, MAKE_DIR = 1 << 7,
	MAKE_REG = 1 << 8, MAKE_SOCK = 1 << 9, MAKE_FIFO = 1 << 10, MAKE_BLOCK = 1 << 11,
	MAKE_SYM = 1 << 12, REFER = 1 << 13, TRUNCATE = 1 << 14, IOCTL_DEV = 1 << 15,
};
#define ALL_FS 0xffffULL
#define BIND_TCP 1ULL
#define CONNECT_TCP 2ULL
#define SCOPE_ABSTRACT 1ULL
#define SCOPE_SIGNAL 2ULL

struct ruleset_attr {
	uint64_t fs, net, scoped;
};
struct path_beneath {
	uint64_t allowed;
	int32_t parent_fd;
} __attribute__((packed));
struct port_attr {
	uint64_t allowed, port;
};

static long create_ruleset(const void *attr, size_t size, uint32_t flags) {
	return syscall(444, attr, size, flags);
}
static long add_rule(int fd, int type, const void *attr, uint32_t flags) {
	return syscall(445, fd, type, attr, flags);
}
static long restrict_self(int fd, uint32_t flags) { return syscall(446, fd, flags); }

/* res prints a call's result: its value, or its errno's name. */
static void res(const char *what, long r) {
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: ok\n", what);
}

/* guarded returns room for n bytes that end where an inaccessible page
 * begins, as LTP passes structs: reading past them faults. */
static void *guarded(size_t n) {
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE) != 0) {
		printf("guarded: FAIL\n");
		exit(1);
	}
	memset(p, 0, 4096);
	return p + 4096 - n;
}

static int ruleset(uint64_t fs, uint64_t net, uint64_t scoped) {
	struct ruleset_attr a = {fs, net, scoped};
	int fd = create_ruleset(&a, sizeof a, 0);
	if (fd < 0) {
		printf("ruleset %llx %llx %llx: FAIL %s\n", (unsigned long long)fs, (unsigned long long)net,
		       (unsigned long long)scoped, errname(errno));
		exit(1);
	}
	return fd;
}

static void path_rule(int rfd, const char *path, uint64_t allowed) {
	struct path_beneath pb = {allowed, open(path, O_PATH | O_CLOEXEC)};
	if (pb.parent_fd < 0 || add_rule(rfd, RULE_PATH, &pb, 0) != 0) {
		printf("rule %s %llx: FAIL %s\n", path, (unsigned long long)allowed, errname(errno));
		exit(1);
	}
	close(pb.parent_fd);
}

static void port_rule(int rfd, uint64_t allowed, int port) {
	struct port_attr pa = {allowed, port};
	if (add_rule(rfd, RULE_PORT, &pa, 0) != 0) {
		printf("port rule: FAIL %s\n", errname(errno));
		exit(1);
	}
}

static void enforce(int rfd) {
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || restrict_self(rfd, 0) != 0) {
		printf("enforce: FAIL %s\n", errname(errno));
		exit(1);
	}
	close(rfd);
}

static void wait_child(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("child: FAIL status %#x\n", st);
}

static void syscall_errors(void) {
	printf("-- create_ruleset\n");
	struct ruleset_attr *a8 = guarded(8);
	a8->fs = ~0ULL;
	res("unknown fs right", create_ruleset(a8, 8, 0));
	a8->fs = 0;
	res("size 7", create_ruleset(a8, 7, 0));
	res("unknown flags", create_ruleset(a8, 8, -1));
	res("size past a page", create_ruleset(a8, 4097, 0));
	res("NULL", create_ruleset(NULL, 8, 0));
	res("handles nothing", create_ruleset(a8, 8, 0));
	a8->fs = EXECUTE;
	int fd = create_ruleset(a8, 8, 0);
	res("8 bytes at a page's end", fd);
	close(fd);
	struct ruleset_attr *a16 = guarded(16);
	a16->net = 4;
	res("unknown net right", create_ruleset(a16, 16, 0));
	a16->net = BIND_TCP;
	fd = create_ruleset(a16, 16, 0);
	res("16 bytes, net only", fd);
	close(fd);
	unsigned char *big = guarded(40);
	big[0] = EXECUTE;
	fd = create_ruleset(big, 40, 0);
	res("40 bytes, zero tail", fd);
	close(fd);
	big[39] = 1;
	res("40 bytes, nonzero tail", create_ruleset(big, 40, 0));
	struct ruleset_attr sc = {0, 0, 4};
	res("unknown scope", create_ruleset(&sc, sizeof sc, 0));
	res("version with attr", create_ruleset(a8, 0, CREATE_VERSION));
	res("version with size", create_ruleset(NULL, 8, CREATE_VERSION));
	res("errata", create_ruleset(NULL, 0, CREATE_ERRATA));
	res("version|errata", create_ruleset(NULL, 0, CREATE_VERSION | CREATE_ERRATA));

	fd = ruleset(EXECUTE | READ_FILE, 0, 0);
	char c[8], link[64];
	res("read a ruleset", read(fd, c, sizeof c));
	res("write a ruleset", write(fd, c, 1));
	printf("cloexec %d rdwr %d\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	printf("link %s\n", link);

	printf("-- add_rule\n");
	struct path_beneath *pb = guarded(12);
	pb->allowed = EXECUTE;
	res("flags", add_rule(fd, 0, pb, 1));
	res("rule type 0", add_rule(fd, 0, pb, 0));
	res("bad ruleset fd", add_rule(-1, 0, pb, 0));
	int notrs = open("/", O_RDONLY);
	res("not a ruleset", add_rule(notrs, RULE_PATH, pb, 0));
	pb->allowed = 0;
	pb->parent_fd = notrs;
	res("no rights", add_rule(fd, RULE_PATH, pb, 0));
	pb->allowed = EXECUTE;
	pb->parent_fd = -1;
	res("bad parent fd", add_rule(fd, RULE_PATH, pb, 0));
	res("NULL attr", add_rule(fd, RULE_PATH, NULL, 0));
	pb->parent_fd = notrs;
	pb->allowed = WRITE_FILE;
	res("right not handled", add_rule(fd, RULE_PATH, pb, 0));
	pb->allowed = EXECUTE;
	res("12 bytes at a page's end", add_rule(fd, RULE_PATH, pb, 0));
	int p[2];
	if (pipe(p) != 0)
		printf("pipe: FAIL\n");
	pb->parent_fd = p[0];
	res("parent is a pipe", add_rule(fd, RULE_PATH, pb, 0));
	pb->parent_fd = fd;
	res("parent is a ruleset", add_rule(fd, RULE_PATH, pb, 0));
	pb->parent_fd = open("/proc/self/exe", O_PATH);
	pb->allowed = EXECUTE | READ_FILE;
	res("file rights on a file", add_rule(fd, RULE_PATH, pb, 0));
	close(pb->parent_fd);
	struct port_attr pa = {BIND_TCP, 80};
	res("port on an fs ruleset", add_rule(fd, RULE_PORT, &pa, 0));
	int nfd = ruleset(READ_DIR, BIND_TCP, 0);
	pb->allowed = READ_DIR;
	pb->parent_fd = open("/proc/self/exe", O_PATH);
	res("dir right on a file", add_rule(nfd, RULE_PATH, pb, 0));
	close(pb->parent_fd);
	pa.port = 65536;
	res("port 65536", add_rule(nfd, RULE_PORT, &pa, 0));
	pa.port = 65535;
	res("port 65535", add_rule(nfd, RULE_PORT, &pa, 0));
	pa.allowed = CONNECT_TCP;
	res("connect not handled", add_rule(nfd, RULE_PORT, &pa, 0));
	pa.allowed = 0;
	res("no net rights", add_rule(nfd, RULE_PORT, &pa, 0));
	close(nfd);
	int path = open(proc, O_PATH);
	pb->parent_fd = notrs;
	res("ruleset as O_PATH", add_rule(path, RULE_PATH, pb, 0));
	close(path);

	printf("-- restrict_self\n");
	int file = open("/proc/self/exe", O_RDONLY);
	pid_t pid = fork();
	if (pid == 0) {
		res("flags", restrict_self(fd, -1));
		res("bad fd", restrict_self(-1, 0));
		res("not a ruleset", restrict_self(file, 0));
		res("log flags", restrict_self(fd, 1 | 2 | 4));
		res("fd -1, subdomains off", restrict_self(-1, 4));
		res("flag 8", restrict_self(fd, 8));
		int i;
		for (i = 1; i < 16; i++) /* one layer above */
			if (restrict_self(fd, 0) != 0)
				break;
		printf("restricts up to 16: %d\n", i);
		res("17th", restrict_self(fd, 0));
		exit(0);
	}
	wait_child(pid);
	pid = fork();
	if (pid == 0) {
		struct {
			uint32_t version;
			int pid;
		} h = {0x20080522, 0};
		struct {
			uint32_t eff, perm, inh;
		} d[2];
		syscall(SYS_capget, &h, d);
		d[0].eff &= ~(1U << 21);
		syscall(SYS_capset, &h, d);
		res("no NNP, no CAP_SYS_ADMIN", restrict_self(fd, 0));
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		res("NNP, no CAP_SYS_ADMIN", restrict_self(fd, 0));
		exit(0);
	}
	wait_child(pid);
	close(file);
	close(fd);
	close(notrs);
	close(p[0]);
	close(p[1]);
}

static char dir[64];

static void touch(const char *name) {
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "data", 4) != 4)
		printf("touch %s: FAIL\n", name);
	close(fd);
}

/* copy copies the file at from to to, mode 0755. */
static void copy(const char *from, const char *to) {
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			break;
	if (in < 0 || out < 0 || n != 0)
		printf("copy: FAIL\n");
	close(in);
	close(out);
}

/* fs_ops tries each operation a file right governs in dir, printing what
 * it gives. */
static void fs_ops(void) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	int fd = open("file_read", O_RDONLY);
	res("open read", fd);
	close(fd);
	fd = open("file_write", O_WRONLY);
	res("open write", fd);
	if (fd >= 0)
		res("ftruncate of it", ftruncate(fd, 1));
	close(fd);
	fd = open("file_trunc", O_WRONLY | O_TRUNC);
	res("open O_TRUNC", fd);
	close(fd);
	res("truncate", truncate("file_trunc", 2));
	DIR *d = opendir("dir_read");
	printf("opendir: %s\n", d ? "ok" : errname(errno));
	if (d) {
		int n = 0;
		struct dirent *e;
		while ((e = readdir(d)))
			n++;
		printf("entries %d\n", n);
		closedir(d);
	}
	res("rmdir", rmdir("dir_rm"));
	res("unlink", unlink("file_rm"));
	res("mknod reg", mknod("reg0", S_IFREG | 0400, 0));
	res("mknod fifo", mknod("fifo0", S_IFIFO | 0400, 0));
	res("mknod sock", mknod("sock0", S_IFSOCK | 0400, 0));
	res("mknod char", mknod("char0", S_IFCHR | 0400, makedev(1, 3)));
	res("mknod block", mknod("block0", S_IFBLK | 0400, makedev(7, 0)));
	res("mkdir", mkdir("dir0", 0755));
	res("symlink", symlink("file_read", "sym0"));
	fd = open("creat0", O_WRONLY | O_CREAT, 0644);
	res("open O_CREAT", fd);
	close(fd);
	fd = open("file_read", O_PATH);
	res("O_PATH", fd);
	close(fd);
	struct stat st;
	res("stat", stat("file_read", &st));
	res("chmod", chmod("file_read", 0644));
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"exe", "exit0", NULL};
		execve("exe", argv, NULL);
		printf("exec: %s\n", errname(errno));
		exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	res("open / outside", open("/", O_RDONLY | O_DIRECTORY));
}

/* fs_case restricts a child to rights on dir (handling every file right)
 * and runs fs_ops in it, on fresh files. */
static void fs_case(const char *name, uint64_t allowed) {
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
	pid_t pid = fork();
	if (pid == 0) {
		/* No shell: the files are made here. */
		exit(0);
	}
	wait_child(pid);
	(void)cmd;
	mkdir(dir, 0755);
	char path[128];
	snprintf(path, sizeof path, "%s/dir_read", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/dir_read/a", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	snprintf(path, sizeof path, "%s/dir_rm", dir);
	mkdir(path, 0755);
	touch("file_read");
	touch("file_write");
	touch("file_trunc");
	touch("file_rm");
	snprintf(path, sizeof path, "%s/exe", dir);
	copy("/proc/self/exe", path);
	printf("-- %s\n", name);
	pid = fork();
	if (pid == 0) {
		int rfd = ruleset(ALL_FS, 0, 0);
		path_rule(rfd, dir, allowed);
		enforce(rfd);
		fs_ops();
		exit(0);
	}
	wait_child(pid);
	/* Clean up as the unrestricted parent. */
	const char *names[] = {"dir_read/a", "file_read", "file_write", "file_trunc", "file_rm", "reg0", "fifo0", "sock0",
			       "char0", "block0", "sym0", "creat0", "exe"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	const char *dirs[] = {"dir_read", "dir_rm", "dir0"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, dirs[i]);
		rmdir(path);
	}
}

static void fs_rights(void) {
	strcpy(dir, "/tmp/landlock-XXXXXX");
	if (!mkdtemp(dir)) {
		printf("mkdtemp: FAIL\n");
		exit(1);
	}
	rmdir(dir);
	struct {
		const char *name;
		uint64_t allowed;
	} cases[] = {
	    {"READ_FILE|EXECUTE", READ_FILE | EXECUTE},
	    {"READ_FILE", READ_FILE},
	    {"EXECUTE", EXECUTE},
	    {"WRITE_FILE", WRITE_FILE},
	    {"WRITE_FILE|TRUNCATE", WRITE_FILE | TRUNCATE},
	    {"READ_DIR", READ_DIR},
	    {"REMOVE_DIR", REMOVE_DIR},
	    {"REMOVE_FILE", REMOVE_FILE},
	    {"MAKE_REG", MAKE_REG},
	    {"MAKE_FIFO|MAKE_SOCK", MAKE_FIFO | MAKE_SOCK},
	    {"MAKE_CHAR|MAKE_BLOCK", MAKE_CHAR | MAKE_BLOCK},
	    {"MAKE_DIR|MAKE_SYM", MAKE_DIR | MAKE_SYM},
	    {"all", ALL_FS},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		fs_case(cases[i].name, cases[i].allowed);
	rmdir(dir);
}

static void mkpath(const char *fmt, const char *sub, char *out) { sprintf(out, fmt, dir, sub); }

/* refer: moving and linking between directories (LTP's landlock05). */
static void refer(void) {
	strcpy(dir, "/tmp/landlock-XXXXXX");
	if (!mkdtemp(dir))
		printf("mkdtemp: FAIL\n");
	char p[128], q[128];
	const char *subs[] = {"f1", "f2", "f3"};
	for (int i = 0; i < 3; i++) {
		mkpath("%s/%s", subs[i], p);
		mkdir(p, 0755);
	}
	mkpath("%s/%s", "f1/file", p);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	mkpath("%s/%s", "f1/dir", p);
	mkdir(p, 0755);
	printf("-- refer\n");
	pid_t pid = fork();
	if (pid == 0) {
		int rfd = ruleset(READ_FILE | WRITE_FILE | REFER, 0, 0);
		mkpath("%s/%s", "f1", p);
		path_rule(rfd, p, REFER);
		mkpath("%s/%s", "f2", p);
		path_rule(rfd, p, REFER);
		enforce(rfd);
		if (chdir(dir) != 0)
			printf("chdir: FAIL\n");
		res("rename f1 -> f2", rename("f1/file", "f2/file"));
		res("rename f2 -> f3", rename("f2/file", "f3/file"));
		res("rename f2 -> f1", rename("f2/file", "f1/file"));
		res("rename in f1", rename("f1/file", "f1/file2"));
		res("rename back in f1", rename("f1/file2", "f1/file"));
		res("link f1 -> f2", link("f1/file", "f2/link"));
		res("link f1 -> f3", link("f1/file", "f3/link"));
		res("rename dir f1 -> f2", rename("f1/dir", "f2/dir"));
		res("exchange f1 f2", syscall(SYS_renameat2, AT_FDCWD, "f1/file", AT_FDCWD, "f2/link", 2));
		exit(0);
	}
	wait_child(pid);
	printf("-- refer not handled\n");
	pid = fork();
	if (pid == 0) {
		int rfd = ruleset(READ_FILE | MAKE_REG | REMOVE_FILE, 0, 0);
		path_rule(rfd, dir, MAKE_REG | REMOVE_FILE);
		enforce(rfd);
		if (chdir(dir) != 0)
			printf("chdir: FAIL\n");
		res("rename f1 -> f2", rename("f1/file", "f2/file"));
		res("rename in f1", rename("f1/file", "f1/file2"));
		res("rename back", rename("f1/file2", "f1/file"));
		exit(0);
	}
	wait_child(pid);
	printf("-- make denied beats refer\n");
	pid = fork();
	if (pid == 0) {
		int rfd = ruleset(MAKE_REG | REFER, 0, 0);
		mkpath("%s/%s", "f1", p);
		path_rule(rfd, p, MAKE_REG | REFER);
		enforce(rfd);
		if (chdir(dir) != 0)
			printf("chdir: FAIL\n");
		res("rename f1 -> f3", rename("f1/file", "f3/file"));
		res("rename in f1", rename("f1/file", "f1/file3"));
		exit(0);
	}
	wait_child(pid);
	const char *files[] = {"f1/file", "f1/file2", "f1/file3", "f2/file", "f2/link", "f3/file", "f3/link", "f2/dir", "f1/dir"};
	for (int i = 0; i < 9; i++) {
		mkpath("%s/%s", files[i], q);
		if (unlink(q) != 0)
			rmdir(q);
	}
	for (int i = 0; i < 3; i++) {
		mkpath("%s/%s", subs[i], p);
		rmdir(p);
	}
	rmdir(dir);
}

/* escapes: a restricted process tries to reach a file outside what its
 * rules grant: through "..", a symlink planted before, directory and
 * O_PATH descriptors opened before, /proc's magic links, a hard link, a
 * rename of its own directory, a mount, and its unrestricted parent's
 * memory. */
static void escapes(void) {
	strcpy(dir, "/tmp/landlock-XXXXXX");
	if (!mkdtemp(dir))
		printf("mkdtemp: FAIL\n");
	char p[128];
	mkpath("%s/%s", "allowed", p);
	mkdir(p, 0755);
	touch("secret");
	touch("allowed/mine");
	mkpath("%s/%s", "allowed/link", p);
	if (symlink("../secret", p) != 0)
		printf("symlink: FAIL\n");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	mkpath("%s/%s", "secret", p);
	int opath = open(p, O_PATH);
	static char secret_word[] = "parent's secret";
	printf("-- escapes\n");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int rfd = ruleset(ALL_FS, 0, 0);
		mkpath("%s/%s", "allowed", p);
		path_rule(rfd, p, READ_FILE | WRITE_FILE | READ_DIR | MAKE_REG | REMOVE_FILE | REFER);
		enforce(rfd);
		if (chdir(p) != 0)
			printf("chdir: FAIL\n");
		res("own file", open("mine", O_RDONLY));
		res("..", open("../secret", O_RDONLY));
		res("symlink out", open("link", O_RDONLY));
		res("readlink of it", readlink("link", p, sizeof p));
		res("dirfd opened before", openat(dfd, "secret", O_RDONLY));
		char m[64];
		snprintf(m, sizeof m, "/proc/self/fd/%d/secret", dfd);
		res("through /proc/self/fd", open(m, O_RDONLY));
		snprintf(m, sizeof m, "/proc/self/fd/%d", opath);
		res("reopen an O_PATH fd", open(m, O_RDONLY));
		res("hard link in", link("../secret", "secret2"));
		res("rename out of reach", rename("mine", "../mine"));
		res("rename own dir", rename("../allowed", "../allowed2"));
		res("bind mount", mount("..", ".", NULL, MS_BIND, NULL));
		res("memfd", syscall(SYS_memfd_create, "x", 0));
		res("ptrace parent", ptrace(PTRACE_ATTACH, parent, 0, 0));
		char buf[16];
		struct iovec local = {buf, sizeof buf}, remote = {secret_word, sizeof buf};
		res("process_vm_readv parent", syscall(SYS_process_vm_readv, parent, &local, 1, &remote, 1, 0));
		snprintf(m, sizeof m, "/proc/%d/mem", parent);
		res("parent's /proc mem", open(m, O_RDONLY));
		pid_t gc = fork();
		if (gc == 0) {
			res("traceme by own parent", ptrace(PTRACE_TRACEME, 0, 0, 0));
			exit(0);
		}
		wait_child(gc);
		exit(0);
	}
	wait_child(pid);
	close(dfd);
	close(opath);
	const char *names[] = {"allowed/link", "allowed/mine", "allowed/secret2", "mine", "secret"};
	for (int i = 0; i < 5; i++) {
		mkpath("%s/%s", names[i], p);
		unlink(p);
	}
	mkpath("%s/%s", "allowed", p);
	rmdir(p);
	rmdir(dir);
}

/* kept: descriptions opened before a restriction keep their rights; ones
 * opened after keep the rights of then (LTP's landlock04 and 06). */
static void kept(void) {
	strcpy(dir, "/tmp/landlock-XXXXXX");
	if (!mkdtemp(dir))
		printf("mkdtemp: FAIL\n");
	char p[128];
	mkpath("%s/%s", "f", p);
	int before = open(p, O_WRONLY | O_CREAT, 0644);
	int null_before = open("/dev/null", O_RDONLY);
	printf("-- kept\n");
	pid_t pid = fork();
	if (pid == 0) {
		int rfd = ruleset(WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV, 0, 0);
		path_rule(rfd, dir, WRITE_FILE);
		path_rule(rfd, "/dev/null", READ_FILE);
		enforce(rfd);
		res("ftruncate, opened before", ftruncate(before, 3));
		int after = open(p, O_WRONLY);
		res("ftruncate, opened after", ftruncate(after, 3));
		res("write, opened after", write(after, "x", 1));
		int null_after = open("/dev/null", O_RDONLY);
		struct termios tio;
		res("TCGETS /dev/null, opened before", ioctl(null_before, TCGETS, &tio));
		res("TCGETS /dev/null, opened after", ioctl(null_after, TCGETS, &tio));
		res("FIOCLEX", ioctl(null_after, FIOCLEX));
		res("FIONCLEX", ioctl(null_after, FIONCLEX));
		int zero = 0;
		res("FIONBIO", ioctl(null_after, FIONBIO, &zero));
		res("FIOASYNC", ioctl(null_after, FIOASYNC, &zero));
		res("open /dev/null for writing", open("/dev/null", O_WRONLY));
		res("mount", mount("none", dir, "tmpfs", 0, NULL));
		res("chroot", chroot(dir));
		exit(0);
	}
	wait_child(pid);
	close(before);
	close(null_before);
	unlink(p);
	rmdir(dir);
}

/* port returns a TCP port on 127.0.0.1 nothing listens on now, and if
 * listen, a socket listening on another. */
static int free_port(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	if (bind(s, (void *)&a, sizeof a) != 0 || getsockname(s, (void *)&a, &n) != 0)
		printf("free port: FAIL\n");
	close(s);
	return ntohs(a.sin_port);
}

static long tcp6(int op, int port) {
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	long r = op ? connect(s, (void *)&a, sizeof a) : bind(s, (void *)&a, sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static long tcp(int op, int port) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	long r = op ? connect(s, (void *)&a, sizeof a) : bind(s, (void *)&a, sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

/* ports: TCP binds and connects by port (LTP's landlock08). */
static void ports(void) {
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	if (bind(ls, (void *)&a, sizeof a) != 0 || listen(ls, 8) != 0 || getsockname(ls, (void *)&a, &n) != 0)
		printf("listen: FAIL\n");
	int server = ntohs(a.sin_port);
	int other = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	if (bind(other, (void *)&a, sizeof a) != 0 || listen(other, 8) != 0 || getsockname(other, (void *)&a, &n) != 0)
		printf("listen: FAIL\n");
	int server2 = ntohs(a.sin_port);
	int bindable = free_port();
	printf("-- ports\n");
	pid_t pid = fork();
	if (pid == 0) {
		int rfd = ruleset(0, BIND_TCP | CONNECT_TCP, 0);
		port_rule(rfd, BIND_TCP, bindable);
		port_rule(rfd, CONNECT_TCP, server);
		enforce(rfd);
		res("bind allowed port", tcp(0, bindable));
		res("bind other port", tcp(0, bindable == 65535 ? 65534 : bindable + 1));
		res("connect allowed port", tcp(1, server));
		res("connect other listener", tcp(1, server2));
		res("connect to the bind rule's port", tcp(1, bindable));
		res("bind allowed port, IPv6", tcp6(0, bindable));
		res("bind other port, IPv6", tcp6(0, bindable == 65535 ? 65534 : bindable + 1));
		res("connect other port, IPv6", tcp6(1, server2));
		int us = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in any = {.sin_family = AF_UNSPEC};
		res("bind AF_UNSPEC INADDR_ANY", bind(us, (void *)&any, sizeof any));
		close(us);
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		res("udp bind", bind(u, (void *)&b, sizeof b));
		close(u);
		res("open a file (fs not handled)", open("/", O_RDONLY));
		exit(0);
	}
	wait_child(pid);
	close(ls);
	close(other);
}

/* abstract: connecting to abstract unix sockets across scopes (LTP's
 * landlock09): variant 0 sandboxes the client only, 1 the server only, 2
 * both (before the fork, one domain). */
static void abstract(int variant) {
	int srv[2], done[2];
	if (pipe(srv) != 0 || pipe(done) != 0)
		printf("pipe: FAIL\n");
	if (variant == 2)
		goto forked;
forked:;
	pid_t top = fork();
	if (top == 0) {
		if (variant == 2) {
			int rfd = ruleset(0, 0, SCOPE_ABSTRACT);
			enforce(rfd);
		}
		pid_t server = fork();
		if (server == 0) {
			if (variant == 1) {
				int rfd = ruleset(0, 0, SCOPE_ABSTRACT);
				enforce(rfd);
			}
			int s = socket(AF_UNIX, SOCK_STREAM, 0);
			struct sockaddr_un a = {.sun_family = AF_UNIX};
			memcpy(a.sun_path, "\0uk-landlock", 12);
			if (bind(s, (void *)&a, 2 + 12) != 0 || listen(s, 4) != 0)
				printf("server: FAIL %s\n", errname(errno));
			char c = 0;
			if (write(srv[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
				printf("server sync: FAIL\n");
			exit(0);
		}
		char c;
		if (read(srv[0], &c, 1) != 1)
			printf("client sync: FAIL\n");
		if (variant == 0) {
			int rfd = ruleset(0, 0, SCOPE_ABSTRACT);
			enforce(rfd);
		}
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		memcpy(a.sun_path, "\0uk-landlock", 12);
		printf("abstract variant %d: ", variant);
		res("connect", connect(s, (void *)&a, 2 + 12));
		int d = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un da = {.sun_family = AF_UNIX};
		memcpy(da.sun_path, "\0uk-landlock-dgram", 18);
		(void)da;
		close(d);
		if (write(done[1], &c, 1) != 1)
			printf("done: FAIL\n");
		wait_child(server);
		exit(0);
	}
	wait_child(top);
	close(srv[0]);
	close(srv[1]);
	close(done[0]);
	close(done[1]);
}

/* signals: kill across scopes (LTP's landlock10), and between threads of
 * one process, which a scope never stops. */
static void signals(int variant) {
	int ready[2], hold[2];
	if (pipe(ready) != 0 || pipe(hold) != 0)
		printf("pipe: FAIL\n");
	pid_t top = fork();
	if (top == 0) {
		if (variant == 2) {
			int rfd = ruleset(0, 0, SCOPE_SIGNAL);
			enforce(rfd);
		}
		pid_t paused = fork();
		if (paused == 0) {
			if (variant == 0) {
				int rfd = ruleset(0, 0, SCOPE_SIGNAL);
				enforce(rfd);
			}
			char c = 0;
			close(hold[1]);
			if (write(ready[1], &c, 1) != 1)
				printf("ready: FAIL\n");
			/* Waits until killed or until the killer lets go. */
			while (read(hold[0], &c, 1) < 0 && errno == EINTR)
				;
			exit(0);
		}
		char c;
		if (read(ready[0], &c, 1) != 1)
			printf("sync: FAIL\n");
		if (variant == 1) {
			int rfd = ruleset(0, 0, SCOPE_SIGNAL);
			enforce(rfd);
		}
		printf("signal variant %d: ", variant);
		res("kill", kill(paused, SIGKILL));
		if (variant == 1) {
			res("kill self with 0", kill(getpid(), 0));
			res("kill parent with 0", kill(getppid(), 0));
		}
		close(hold[1]);
		int st;
		waitpid(paused, &st, 0);
		exit(0);
	}
	close(hold[1]);
	wait_child(top);
	close(ready[0]);
	close(ready[1]);
	close(hold[0]);
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return create_ruleset(NULL, 0, CREATE_VERSION) >= 6 ? 0 : 1;
	if (argc == 2 && strcmp(argv[1], "exit0") == 0) {
		printf("exec: ok\n");
		return 0;
	}
	long abi = create_ruleset(NULL, 0, CREATE_VERSION);
	printf("abi at least 6: %d\n", abi >= 6);
	syscall_errors();
	fs_rights();
	refer();
	escapes();
	kept();
	ports();
	for (int v = 0; v < 3; v++)
		abstract(v);
	for (int v = 0; v < 3; v++)
		signals(v);
	return ukt_failures;
}
