/* nsioctl.c: ioctls on namespace files compared with Linux (LTP's
 * ioctl_ns01-04): NS_GET_NSTYPE, NS_GET_USERNS (a new close-on-exec
 * descriptor of the owning user namespace; EPERM for the initial user
 * namespace), NS_GET_PARENT (EPERM at the top, EINVAL for kinds without
 * a hierarchy), NS_GET_OWNER_UID, and ENOTTY for the rest. */
#include "uktest.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#define NS_GET_USERNS 0xb701
#define NS_GET_PARENT 0xb702
#define NS_GET_NSTYPE 0xb703
#define NS_GET_OWNER_UID 0xb704

static int ns(const char *name) {
	char p[64];
	snprintf(p, sizeof p, "/proc/self/ns/%s", name);
	return open(p, O_RDONLY);
}

int main(int argc, char **argv) {
	char link[64] = {0};
	readlink("/proc/self/ns/user", link, sizeof link - 1);
	if (argc == 2 && strcmp(argv[1], "probe") == 0) /* the initial user namespace? */
		return strcmp(link, "user:[4026531837]") != 0;
	const char *names[] = {"net", "uts", "ipc", "pid", "pid_for_children", "user", "mnt", "cgroup", "time", "time_for_children"};
	for (int i = 0; i < 10; i++) {
		int fd = ns(names[i]);
		printf("%s: type %lx\n", names[i], (long)ioctl(fd, NS_GET_NSTYPE));
		close(fd);
	}
	int uts = ns("uts"), user = ns("user"), pid = ns("pid"), tm = ns("time");
	int owner = ioctl(uts, NS_GET_USERNS);
	EXPECT_OK(owner < 0 ? -1 : 0);
	struct stat a, b;
	fstat(owner, &a);
	stat("/proc/self/ns/user", &b);
	char name[64] = {0}, fdp[64];
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", owner);
	readlink(fdp, name, sizeof name - 1);
	printf("owner: same inode %d, named as the user link %d, cloexec %d\n", a.st_ino == b.st_ino, strcmp(name, link) == 0,
	       fcntl(owner, F_GETFD) == FD_CLOEXEC);
	printf("owner's type %lx\n", (long)ioctl(owner, NS_GET_NSTYPE));
	EXPECT_ERR(ioctl(user, NS_GET_USERNS), EPERM);
	EXPECT_ERR(ioctl(pid, NS_GET_PARENT), EPERM);
	EXPECT_ERR(ioctl(user, NS_GET_PARENT), EPERM);
	EXPECT_ERR(ioctl(uts, NS_GET_PARENT), EINVAL);
	EXPECT_ERR(ioctl(tm, NS_GET_PARENT), EINVAL);
	uid_t uid = 99;
	EXPECT_OK(ioctl(user, NS_GET_OWNER_UID, &uid));
	printf("owner uid %u\n", uid);
	EXPECT_ERR(ioctl(user, NS_GET_OWNER_UID, (void *)-1), EFAULT);
	EXPECT_ERR(ioctl(uts, NS_GET_OWNER_UID, &uid), EINVAL);
	EXPECT_ERR(ioctl(uts, 0xb7ff), ENOTTY);
	EXPECT_ERR(ioctl(uts, TCGETS, &uid), ENOTTY);
	/* the file itself */
	char buf[8];
	EXPECT_ERR(read(uts, buf, 8), EINVAL);
	EXPECT_ERR(write(uts, buf, 8), EBADF); /* opened read-only */
	fstat(uts, &a);
	printf("regular %d mode %o\n", S_ISREG(a.st_mode), a.st_mode & 07777);
	/* setns with the files of the namespaces uk has one of (LTP's setns01) */
	const char *kinds[] = {"ipc", "mnt", "net", "pid", "uts"};
	int flags[] = {CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWUTS};
	int reg = open("/proc/self/status", O_RDONLY);
	for (int i = 0; i < 5; i++) {
		int fd = ns(kinds[i]);
		printf("setns %s\n", kinds[i]);
		EXPECT_ERR(setns(-1, flags[i]), EBADF);
		EXPECT_ERR(setns(reg, flags[i]), EINVAL);
		EXPECT_ERR(setns(fd, -1), EINVAL);
		EXPECT_ERR(setns(fd, flags[(i + 1) % 5]), EINVAL);
		EXPECT_OK(setns(fd, 0));
		EXPECT_OK(setns(fd, flags[i]));
		pid_t c = fork();
		if (c == 0) {
			seteuid(65534);
			EXPECT_ERR(setns(fd, flags[i]), EPERM);
			fflush(stdout);
			_exit(0);
		}
		waitpid(c, NULL, 0);
		close(fd);
	}
	EXPECT_ERR(setns(user, CLONE_NEWUSER), EINVAL); /* one's own user namespace */
	return ukt_exit();
}
