// mountns: mount namespaces (unshare, clone and setns with CLONE_NEWNS),
// MS_MOVE and pivot_root, with LTP's unshare01, setns and pivot_root01
// cases. Everything that mounts runs in a child that first made its own
// namespace and marked every mount private, so that natively nothing
// reaches the host's mount table; paths print with the work directory as
// "T".
#include "uktest.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

static char T[64];
static char buf[256];

// at returns T/rel (one of two buffers, so two may be used at once).
static const char *at(const char *rel) {
	static char b[2][128];
	static int i;
	i ^= 1;
	snprintf(b[i], sizeof b[i], "%s/%s", T, rel);
	return b[i];
}

static int exists(const char *p) {
	struct stat st;
	return stat(p, &st) == 0;
}

static void nslink(const char *proc, char *out, size_t n) {
	ssize_t r = readlink(proc, out, n - 1);
	out[r < 0 ? 0 : r] = 0;
}

// mounted reports whether /proc/self/mountinfo has a mount at p.
static int mounted(const char *p) {
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[512], mp[256];
	int found = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%*d %*d %*s %*s %255s", mp) == 1 && strcmp(mp, p) == 0)
			found = 1;
	if (f)
		fclose(f);
	return found;
}

// own makes a namespace of the caller's and every mount private in it.
static void own(void) {
	EXPECT_OK(unshare(CLONE_NEWNS));
	EXPECT_OK(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
}

static char parentNS[64];

static void unshared(void) {
	char ns[64];
	own();
	nslink("/proc/self/ns/mnt", ns, sizeof ns);
	CHECK("a new namespace has a link of its own", strncmp(ns, "mnt:[", 5) == 0 && strcmp(ns, parentNS) != 0);
	EXPECT_OK(mount("t", at("a"), "tmpfs", 0, NULL));
	EXPECT_OK(close(open(at("a/file"), O_CREAT | O_WRONLY, 0644)));
	CHECK("the child sees its mount in mountinfo", mounted(at("a")));
	CHECK("the child sees its file", exists(at("a/file")));
	// Children inherit the namespace.
	pid_t c = fork();
	if (c == 0) {
		char ns2[64];
		nslink("/proc/self/ns/mnt", ns2, sizeof ns2);
		_exit(strcmp(ns, ns2) == 0 && exists(at("a/file")) ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("a forked child is in the same namespace", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int cloned(void *arg) {
	(void)arg;
	char ns[64];
	nslink("/proc/self/ns/mnt", ns, sizeof ns);
	if (strcmp(ns, parentNS) == 0)
		return 2;
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) || mount("t", at("a"), "tmpfs", 0, NULL))
		return 3;
	return exists(at("a/file")) ? 4 : 0;
}

// The namespace holder mounts a tmpfs with a marker, tells the parent, and
// waits to be killed.
static void holder(int ready) {
	own();
	mount("t", at("a"), "tmpfs", 0, NULL);
	close(open(at("a/marker"), O_CREAT | O_WRONLY, 0644));
	mkdir(at("a/d"), 0755);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static pid_t holderPid;

static void entered(void) {
	snprintf(buf, sizeof buf, "/proc/%d/ns/mnt", holderPid);
	int fd = EXPECT_OK(open(buf, O_RDONLY));
	EXPECT_OK(chdir(at("b")));
	EXPECT_ERR(setns(fd, CLONE_NEWUTS), EINVAL);
	EXPECT_OK(setns(fd, CLONE_NEWNS));
	CHECK("the holder's file is seen after setns", exists(at("a/marker")));
	char cwd[256];
	CHECK("setns moves the working directory to the root", getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
	close(fd);
	// A mount made here is the holder's too.
	EXPECT_OK(mount("t", at("a/d"), "tmpfs", 0, NULL));
	EXPECT_OK(close(open(at("a/d/from-setns"), O_CREAT | O_WRONLY, 0644)));
}

static void moves(void) {
	own();
	EXPECT_OK(mount("t", at("a"), "tmpfs", 0, NULL));
	EXPECT_OK(mkdir(at("a/sub"), 0755));
	EXPECT_OK(close(open(at("a/x"), O_CREAT | O_WRONLY, 0644)));
	EXPECT_ERR(mount(at("a/sub"), at("b"), NULL, MS_MOVE, NULL), EINVAL);
	EXPECT_ERR(mount(at("a"), at("a/sub"), NULL, MS_MOVE, NULL), ELOOP);
	EXPECT_ERR(mount(at("a/x"), at("b"), NULL, MS_MOVE, NULL), EINVAL);
	EXPECT_ERR(mount(at("nonexistent"), at("b"), NULL, MS_MOVE, NULL), ENOENT);
	EXPECT_OK(mount(at("a"), at("b"), NULL, MS_MOVE, NULL));
	CHECK("the moved mount's file is at the new place", exists(at("b/x")));
	CHECK("and no longer at the old", !exists(at("a/x")));
	CHECK("mountinfo has the new place", mounted(at("b")) && !mounted(at("a")));
	// A mount below the moved one goes with it.
	EXPECT_OK(mount("t", at("b/sub"), "tmpfs", 0, NULL));
	EXPECT_OK(close(open(at("b/sub/y"), O_CREAT | O_WRONLY, 0644)));
	EXPECT_OK(mount(at("b"), at("a"), NULL, MS_MOVE, NULL));
	CHECK("a submount moves along", exists(at("a/sub/y")) && mounted(at("a/sub")));
	EXPECT_ERR(umount2(at("b"), 0), EINVAL);
	EXPECT_ERR(umount2(at("a"), 0), EBUSY);
	EXPECT_OK(umount2(at("a"), MNT_DETACH));
	CHECK("a detached tree is gone", !mounted(at("a")) && !mounted(at("a/sub")));
}

// pivot_root01's cases: each prepares a chroot on a tmpfs with /new_root,
// then pivots in a child of its own.
enum { NORMAL, NEW_ROOT_ON_CURRENT_ROOT, PUT_OLD_NOT_UNDERNEATH, PUT_OLD_NOT_DIR };
static int pivotCase;

static void pivot(void) {
	own();
	EXPECT_OK(mount("none", at("chroot"), "tmpfs", 0, 0));
	EXPECT_OK(chroot(at("chroot")));
	EXPECT_OK(chdir("/"));
	EXPECT_OK(mkdir("/new_root", 0777));
	if (pivotCase != NEW_ROOT_ON_CURRENT_ROOT)
		EXPECT_OK(mount("none", "/new_root", "tmpfs", 0, 0));
	const char *old = "/new_root/put_old";
	switch (pivotCase) {
	case PUT_OLD_NOT_UNDERNEATH:
		old = "/put_old_fs/put_old";
		EXPECT_OK(mkdir("/put_old_fs", 0777));
		EXPECT_OK(mount("none", "/put_old_fs", "tmpfs", 0, 0));
		EXPECT_OK(mkdir(old, 0777));
		EXPECT_ERR(syscall(SYS_pivot_root, "/new_root", old), EINVAL);
		return;
	case PUT_OLD_NOT_DIR:
		EXPECT_OK(close(creat(old, 0777)));
		EXPECT_ERR(syscall(SYS_pivot_root, "/new_root", old), ENOTDIR);
		EXPECT_ERR(syscall(SYS_pivot_root, old, "/new_root"), ENOTDIR);
		return;
	}
	EXPECT_OK(mkdir(old, 0777));
	if (pivotCase == NEW_ROOT_ON_CURRENT_ROOT) {
		EXPECT_ERR(syscall(SYS_pivot_root, "/new_root", old), EBUSY);
		return;
	}
	EXPECT_OK(close(creat("/new_root/in-new-root", 0644)));
	EXPECT_OK(close(creat("/in-old-root", 0644)));
	EXPECT_ERR(syscall(SYS_pivot_root, "/nonexistent", old), ENOENT);
	EXPECT_ERR(syscall(SYS_pivot_root, "/new_root", "/new_root/put_old/x"), ENOENT);
	EXPECT_OK(syscall(SYS_pivot_root, "/new_root", old));
	CHECK("the new root's file is at /", exists("/in-new-root"));
	CHECK("the old root is at put_old", exists("/put_old/in-old-root"));
	char cwd[256];
	CHECK("the working directory moved to the new root", getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
	EXPECT_ERR(umount2("/put_old/new_root", 0), EINVAL);
	EXPECT_OK(umount2("/put_old", MNT_DETACH));
	CHECK("after the detach only the new root is left", !exists("/put_old/in-old-root") && exists("/in-new-root"));
	// new_root on the root's own mount: EBUSY; on another mount but not
	// its root: EINVAL.
	EXPECT_OK(mkdir("/plain", 0755));
	EXPECT_OK(mkdir("/plain/old", 0755));
	EXPECT_ERR(syscall(SYS_pivot_root, "/plain", "/plain/old"), EBUSY);
	EXPECT_OK(mount("none", "/plain", "tmpfs", 0, 0));
	EXPECT_OK(mkdir("/plain/sub", 0755));
	EXPECT_OK(mkdir("/plain/sub/old", 0755));
	EXPECT_ERR(syscall(SYS_pivot_root, "/plain/sub", "/plain/sub/old"), EINVAL);
}

// Pivoting the namespace's own root (not a chroot): put_old then holds
// everything the process saw before.
static void pivotTop(void) {
	own();
	EXPECT_OK(mount("none", at("nr"), "tmpfs", 0, 0));
	EXPECT_OK(mkdir(at("nr/old"), 0755));
	EXPECT_OK(chdir(at("nr")));
	EXPECT_OK(syscall(SYS_pivot_root, ".", "old"));
	char cwd[256];
	CHECK("cwd is the new root", getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
	CHECK("the old tree is under /old", exists("/old/proc/self") || exists("/old/tmp"));
	snprintf(buf, sizeof buf, "/old%s", T);
	CHECK("the work directory is under /old", exists(buf));
	EXPECT_OK(umount2("/old", MNT_DETACH));
	CHECK("/old is empty after the detach", !exists("/old/tmp"));
}

static void *sleeper(void *arg) {
	(void)arg;
	usleep(200000);
	return 0;
}

// A process with threads shares its root and working directory among
// them: setns into a mount namespace, which moves both, is EINVAL.
static void threaded(void) {
	int fd = EXPECT_OK(open("/proc/self/ns/mnt", O_RDONLY));
	pthread_t p;
	pthread_create(&p, 0, sleeper, 0);
	EXPECT_ERR(setns(fd, CLONE_NEWNS), EINVAL);
	pthread_join(p, 0);
	usleep(50000); // Linux counts the thread out a moment after the join
	EXPECT_OK(setns(fd, CLONE_NEWNS));
	close(fd);
}

static void unprivileged(void) {
	EXPECT_OK(setresuid(1000, 1000, 1000));
	EXPECT_ERR(unshare(CLONE_NEWNS), EPERM);
	EXPECT_ERR(syscall(SYS_pivot_root, "/", "/"), EPERM);
}

int main(void) {
	strcpy(T, "/tmp/mountnsXXXXXX");
	if (!mkdtemp(T)) {
		printf("mkdtemp: FAIL\n");
		return 1;
	}
	const char *dirs[] = {"a", "b", "chroot", "nr"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		mkdir(at(dirs[i]), 0755);
	nslink("/proc/self/ns/mnt", parentNS, sizeof parentNS);

	// LTP's unshare01: CLONE_FILES, CLONE_FS and CLONE_NEWNS succeed.
	ukt_in_child("unshare", unshared);
	CHECK("the parent does not see the child's mount", !mounted(at("a")) && !exists(at("a/file")));
	EXPECT_OK(rmdir(at("a"))); // the namespace died with its last task
	EXPECT_OK(mkdir(at("a"), 0755));

	EXPECT_ERR(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0), EINVAL);
	static char stack[64 << 10];
	int c = EXPECT_OK(clone(cloned, stack + sizeof stack, CLONE_NEWNS | SIGCHLD, NULL));
	int st;
	waitpid(c, &st, 0);
	printf("clone(CLONE_NEWNS) child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	int p[2];
	EXPECT_OK(pipe(p));
	fflush(stdout);
	holderPid = fork();
	if (holderPid == 0)
		holder(p[1]);
	char x;
	CHECK("the holder is ready", read(p[0], &x, 1) == 1);
	ukt_in_child("setns", entered);
	CHECK("the mount made after setns is not the parent's", !exists(at("a/marker")) && !exists(at("a/d/from-setns")));
	kill(holderPid, SIGKILL);
	waitpid(holderPid, &st, 0);

	ukt_in_child("MS_MOVE", moves);
	for (pivotCase = NORMAL; pivotCase <= PUT_OLD_NOT_DIR; pivotCase++) {
		snprintf(buf, sizeof buf, "pivot_root case %d", pivotCase);
		ukt_in_child(buf, pivot);
	}
	ukt_in_child("pivot_root of the namespace root", pivotTop);
	ukt_in_child("setns with threads", threaded);
	ukt_in_child("unprivileged", unprivileged);
	CHECK("the parent's mounts are as they were", !mounted(at("a")) && !mounted(at("b")) && !mounted(at("chroot")));
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		EXPECT_OK(rmdir(at(dirs[i])));
	EXPECT_OK(rmdir(T));
	return ukt_exit();
}
