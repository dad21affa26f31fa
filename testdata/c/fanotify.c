/* fanotify: groups that report descriptors (LTP's fanotify02, 04, 08, 11
 * and 12 cases): fanotify_init's and fanotify_mark's checks, marks on a
 * file, on a directory with and without FAN_EVENT_ON_CHILD and FAN_ONDIR,
 * on a mount, ignore masks and their end at a modification, the flags
 * ONLYDIR, DONT_FOLLOW and FLUSH, events merged, FAN_REPORT_TID, an exec's
 * FAN_OPEN_EXEC, and the descriptor each event carries.
 *   fanotify probe   exit 0 if the kernel has fanotify */
#include "uktest.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static char dir[64];

static void res(const char *what, long r) {
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: ok\n", what);
}

/* drain prints the events queued on g (non-blocking read), one line each:
 * the mask, whether the pid is ours (or tid), and what its descriptor is. */
/* only_ours makes drain skip events of other processes (a mark on a
 * mount shared with the host's other work hears them too). */
static int only_ours;

static void drain(int g, const char *what, pid_t want_pid) {
	char buf[4096];
	printf("%s:", what);
	for (;;) {
		ssize_t n = read(g, buf, sizeof buf);
		if (n < 0) {
			printf(" (%s)\n", errname(errno));
			return;
		}
		for (ssize_t off = 0; off < n;) {
			struct fanotify_event_metadata *m = (void *)(buf + off);
			if (only_ours && m->pid != want_pid) {
				if (m->fd >= 0)
					close(m->fd);
				off += m->event_len;
				continue;
			}
			struct stat st;
			const char *kind = "none";
			if (m->fd >= 0) {
				if (fstat(m->fd, &st) == 0)
					kind = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "reg" : "other";
				int fl = fcntl(m->fd, F_GETFL);
				if ((fl & O_ACCMODE) != O_RDONLY)
					kind = "not-rdonly";
				if (fcntl(m->fd, F_GETFD) & FD_CLOEXEC)
					printf(" [cloexec]");
				close(m->fd);
			}
			printf(" {mask %#llx len %u vers %u meta %u pid %s fd %s}", (unsigned long long)m->mask, m->event_len,
			       m->vers, m->metadata_len, m->pid == want_pid ? "ours" : "other", kind);
			off += m->event_len;
		}
	}
}

static int group(unsigned flags) {
	int g = fanotify_init(flags, O_RDONLY);
	if (g < 0) {
		printf("fanotify_init %#x: FAIL %s\n", flags, errname(errno));
		exit(1);
	}
	return g;
}

static void touch(const char *path) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "1", 1) != 1)
		printf("touch %s: FAIL\n", path);
	close(fd);
}

static void errors(void) {
	printf("-- init\n");
	res("unknown flag", fanotify_init(0x80000000, O_RDONLY));
	res("two classes", fanotify_init(FAN_CLASS_CONTENT | FAN_CLASS_PRE_CONTENT, O_RDONLY));
	res("O_ACCMODE event flags", fanotify_init(FAN_CLASS_NOTIF, O_ACCMODE));
	res("O_CREAT event flags", fanotify_init(FAN_CLASS_NOTIF, O_CREAT));
	res("PIDFD with TID", fanotify_init(0x80 | FAN_REPORT_TID, O_RDONLY));
	int g = fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);
	printf("cloexec without FAN_CLOEXEC %d\n", (fcntl(g, F_GETFD) & FD_CLOEXEC) != 0);
	printf("status flags %#x\n", fcntl(g, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	char link[64], proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", g);
	ssize_t n = readlink(proc, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	printf("link %s\n", link);
	int g2 = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
	printf("cloexec with FAN_CLOEXEC %d nonblock %d\n", (fcntl(g2, F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(g2, F_GETFL) & O_NONBLOCK) != 0);

	printf("-- mark\n");
	res("no add, remove or flush", fanotify_mark(g, 0, FAN_OPEN, AT_FDCWD, dir));
	res("add and remove", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_REMOVE, FAN_OPEN, AT_FDCWD, dir));
	res("add nothing", fanotify_mark(g, FAN_MARK_ADD, 0, AT_FDCWD, dir));
	res("mask high bits", fanotify_mark(g, FAN_MARK_ADD, 1ULL << 40, AT_FDCWD, dir));
	res("unknown flag", fanotify_mark(g, FAN_MARK_ADD | 0x100000, FAN_OPEN, AT_FDCWD, dir));
	res("mount and filesystem", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD, dir));
	res("flush with ignored", fanotify_mark(g, FAN_MARK_FLUSH | FAN_MARK_IGNORED_MASK, 0, AT_FDCWD, dir));
	res("bad group fd", fanotify_mark(-1, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, dir));
	res("not a group", fanotify_mark(1, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, dir));
	res("permission event on a notification group", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, dir));
	res("missing path", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "/nonexistent/x"));
	res("no path, bad dirfd", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, -1, NULL));
	res("no path, AT_FDCWD", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, NULL));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	res("no path, a directory fd", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, dfd, NULL));
	res("remove it", fanotify_mark(g, FAN_MARK_REMOVE, FAN_OPEN, dfd, NULL));
	res("remove again", fanotify_mark(g, FAN_MARK_REMOVE, FAN_OPEN, dfd, NULL));
	close(dfd);
	res("flush", fanotify_mark(g, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL));
	char small[8];
	res("read nothing queued, non-blocking", read(g2, small, sizeof small));
	res("write", write(g2, small, 8));
	res("mark the directory", fanotify_mark(g2, FAN_MARK_ADD, FAN_OPEN | FAN_ONDIR, AT_FDCWD, dir));
	close(open(dir, O_RDONLY | O_DIRECTORY));
	int q = -1;
	res("FIONREAD", ioctl(g2, FIONREAD, &q));
	printf("queued %d\n", q);
	res("read into 8 bytes", read(g2, small, sizeof small));
	drain(g2, "the open", getpid());
	close(g2);
	close(g);
}

/* on_child: LTP's fanotify02. */
static void on_child(void) {
	char f[128];
	snprintf(f, sizeof f, "%s/child", dir);
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	int g = group(FAN_CLASS_NOTIF | FAN_NONBLOCK);
	res("mark dir on child", fanotify_mark(g, FAN_MARK_ADD,
					       FAN_ACCESS | FAN_MODIFY | FAN_CLOSE | FAN_OPEN | FAN_EVENT_ON_CHILD | FAN_ONDIR, AT_FDCWD, "."));
	int fd = open("child", O_RDWR | O_CREAT, 0644);
	if (write(fd, "data", 4) != 4)
		printf("write: FAIL\n");
	close(fd);
	drain(g, "create, write, close", getpid());
	fd = open("child", O_RDONLY);
	char c[4];
	if (read(fd, c, 4) != 4)
		printf("read: FAIL\n");
	close(fd);
	drain(g, "open, read, close", getpid());
	res("remove on child", fanotify_mark(g, FAN_MARK_REMOVE, FAN_EVENT_ON_CHILD, AT_FDCWD, "."));
	close(open("child", O_RDONLY));
	fd = open(".", O_RDONLY | O_DIRECTORY);
	close(fd);
	drain(g, "child again, then the directory", getpid());
	res("remove the rest", fanotify_mark(g, FAN_MARK_REMOVE, FAN_ACCESS | FAN_MODIFY | FAN_CLOSE | FAN_OPEN | FAN_ONDIR, AT_FDCWD, "."));
	close(open("child", O_RDONLY));
	drain(g, "no mark", getpid());
	close(g);
	unlink("child");
}

/* flags: LTP's fanotify04. */
static void flags(void) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	touch("file");
	if (symlink("file", "link") != 0 || mkdir("sub", 0755) != 0)
		printf("setup: FAIL\n");
	int g = group(FAN_CLASS_NOTIF | FAN_NONBLOCK);
	res("onlydir on a dir", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, "."));
	res("its removal", fanotify_mark(g, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, "."));
	res("onlydir on a file", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, "file"));
	res("dont follow the link", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW, FAN_OPEN, AT_FDCWD, "link"));
	close(open("link", O_RDONLY));
	drain(g, "open through the link", getpid());
	res("its removal", fanotify_mark(g, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, FAN_OPEN, AT_FDCWD, "link"));
	res("follow the link", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "link"));
	close(open("link", O_RDONLY));
	drain(g, "open through the link", getpid());
	res("its removal", fanotify_mark(g, FAN_MARK_REMOVE, FAN_OPEN, AT_FDCWD, "link"));
	res("mark file", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "file"));
	res("mark sub without ONDIR", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "sub"));
	close(open("sub", O_RDONLY | O_DIRECTORY));
	drain(g, "open sub", getpid());
	res("mark sub with ONDIR", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN | FAN_ONDIR, AT_FDCWD, "sub"));
	close(open("file", O_RDONLY));
	close(open("sub", O_RDONLY | O_DIRECTORY));
	drain(g, "open file, open sub", getpid());
	res("flush", fanotify_mark(g, FAN_MARK_FLUSH, 0, AT_FDCWD, "."));
	close(open("sub", O_RDONLY | O_DIRECTORY));
	close(open("file", O_RDONLY));
	drain(g, "after the flush", getpid());
	close(g);
	unlink("link");
	unlink("file");
	rmdir("sub");
}

/* ignore: ignore masks, kept or ended by a modification. */
static void ignore(void) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	touch("file");
	int g = group(FAN_CLASS_NOTIF | FAN_NONBLOCK);
	res("mark", fanotify_mark(g, FAN_MARK_ADD, FAN_ACCESS | FAN_MODIFY | FAN_CLOSE | FAN_OPEN, AT_FDCWD, "file"));
	res("ignore access", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_ACCESS, AT_FDCWD, "file"));
	char c[4];
	int fd = open("file", O_RDWR);
	if (read(fd, c, 1) != 1)
		printf("read: FAIL\n");
	drain(g, "open, read ignored", getpid());
	if (pwrite(fd, "2", 1, 0) != 1 || pread(fd, c, 1, 0) != 1)
		printf("rw: FAIL\n");
	close(fd);
	drain(g, "modify ends the ignoring, read, close", getpid());
	res("ignore open and close, surviving", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY,
							   FAN_OPEN | FAN_CLOSE, AT_FDCWD, "file"));
	fd = open("file", O_RDWR);
	if (write(fd, "3", 1) != 1)
		printf("write: FAIL\n");
	close(fd);
	drain(g, "open, write, close", getpid());
	res("stop ignoring", fanotify_mark(g, FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK, FAN_OPEN | FAN_CLOSE, AT_FDCWD, "file"));
	close(open("file", O_RDONLY));
	drain(g, "open, close", getpid());
	close(g);
	unlink("file");
}

/* mount_mark: a mark on the mount of dir. */
static void mount_mark(void) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	touch("file");
	int g = group(FAN_CLASS_NOTIF | FAN_NONBLOCK);
	res("mount mark", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN | FAN_CLOSE_WRITE, AT_FDCWD, "."));
	int fd = open("file", O_WRONLY);
	close(fd);
	char other[128];
	snprintf(other, sizeof other, "%s/other", dir);
	touch(other);
	only_ours = 1;
	drain(g, "open and close two files", getpid());
	res("flush mounts", fanotify_mark(g, FAN_MARK_FLUSH | FAN_MARK_MOUNT, 0, AT_FDCWD, "."));
	close(open("file", O_RDONLY));
	drain(g, "after the flush", getpid());
	only_ours = 0;
	close(g);
	unlink("file");
	unlink(other);
}

static pid_t thread_tid;

static void *writer(void *arg) {
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	touch("tidfile");
	return NULL;
}

/* tids: LTP's fanotify11. */
static void tids(void) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	for (int with = 0; with < 2; with++) {
		int g = group(FAN_CLASS_NOTIF | (with ? FAN_REPORT_TID : 0));
		if (fanotify_mark(g, FAN_MARK_ADD, FAN_ALL_EVENTS | FAN_EVENT_ON_CHILD, AT_FDCWD, ".") != 0)
			printf("mark: FAIL\n");
		pthread_t th;
		pthread_create(&th, NULL, writer, NULL);
		pthread_join(th, NULL);
		struct fanotify_event_metadata m;
		if (read(g, &m, sizeof m) != sizeof m)
			printf("read: FAIL\n");
		printf("report tid %d: pid is %s\n", with,
		       m.pid == thread_tid ? "the thread" : m.pid == getpid() ? "the process" : "other");
		close(m.fd);
		close(g);
		unlink("tidfile");
	}
}

/* copy_prog copies the program at self into dir as "prog" and returns
 * that path in prog. */
static void copy_prog(const char *self, char *prog, size_t size) {
	snprintf(prog, size, "%s/prog", dir);
	int in = open(self, O_RDONLY), out = open(prog, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	static char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			break;
	if (in < 0 || out < 0 || n != 0)
		printf("copy_prog: FAIL\n");
	close(in);
	close(out);
}

/* exec: LTP's fanotify12 (the program execs itself). */
static void exec(const char *self) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	char prog[128];
	copy_prog(self, prog, sizeof prog);
	touch("file");
	struct {
		const char *name;
		uint64_t mask, ignore;
	} cases[] = {
	    {"OPEN", FAN_OPEN, 0},
	    {"OPEN_EXEC", FAN_OPEN_EXEC, 0},
	    {"OPEN|OPEN_EXEC", FAN_OPEN | FAN_OPEN_EXEC, 0},
	    {"OPEN, ignore OPEN_EXEC", FAN_OPEN, FAN_OPEN_EXEC},
	    {"OPEN_EXEC, ignore OPEN", FAN_OPEN_EXEC, FAN_OPEN},
	    {"OPEN|OPEN_EXEC, ignore OPEN_EXEC", FAN_OPEN | FAN_OPEN_EXEC, FAN_OPEN_EXEC},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int g = group(FAN_CLASS_NOTIF | FAN_NONBLOCK);
		const char *paths[] = {"file", "prog"};
		for (int j = 0; j < 2; j++) {
			if (fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_INODE, cases[i].mask, AT_FDCWD, paths[j]) != 0)
				printf("mark: FAIL %s\n", errname(errno));
			if (cases[i].ignore &&
			    fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, cases[i].ignore, AT_FDCWD, paths[j]) != 0)
				printf("ignore: FAIL %s\n", errname(errno));
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(g);
			close(open("file", O_RDONLY));
			execl(prog, prog, "exit0", NULL);
			_exit(1);
		}
		int st;
		waitpid(pid, &st, 0);
		drain(g, cases[i].name, pid);
		close(g);
	}
	unlink("file");
	unlink(prog);
}

/* cloexec_events: the descriptors events carry take FAN_CLOEXEC's
 * counterpart from the event flags. */
static void cloexec_events(void) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	touch("file");
	int g = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
	if (fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "file") != 0)
		printf("mark: FAIL\n");
	close(open("file", O_RDONLY));
	drain(g, "event descriptor with O_CLOEXEC", getpid());
	close(g);
	unlink("file");
}

/* overflow: a queue holds max_queued_events events, then one
 * FAN_Q_OVERFLOW without a descriptor (events of one file merge, so
 * each event here is of a file of its own). */
static void overflow(void) {
	FILE *f = fopen("/proc/sys/fs/fanotify/max_queued_events", "r");
	int max = 0;
	if (!f || fscanf(f, "%d", &max) != 1)
		printf("max_queued_events: FAIL\n");
	if (f)
		fclose(f);
	printf("max_queued_events %d\n", max);
	if (chdir(dir) != 0 || mkdir("many", 0755) != 0 || chdir("many") != 0)
		printf("chdir: FAIL\n");
	int g = group(FAN_CLASS_NOTIF | FAN_NONBLOCK);
	if (fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, ".") != 0)
		printf("mark: FAIL\n");
	char name[32];
	for (int i = 0; i < max + 10; i++) {
		snprintf(name, sizeof name, "f%d", i);
		close(open(name, O_WRONLY | O_CREAT, 0644));
	}
	static char buf[24 * 512];
	int events = 0, fds = 0, over = 0, last_over = 0;
	for (;;) {
		ssize_t n = read(g, buf, sizeof buf);
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n; off += 24) {
			struct fanotify_event_metadata *m = (void *)(buf + off);
			events++;
			last_over = m->mask == FAN_Q_OVERFLOW;
			if (last_over) {
				over++;
				printf("overflow event: fd %d pid %d\n", m->fd, m->pid);
			} else if (m->fd >= 0) {
				fds++;
				close(m->fd);
			}
		}
	}
	printf("events %d with descriptors %d overflow %d last %d\n", events, fds, over, last_over);
	close(g);
	for (int i = 0; i < max + 10; i++) {
		snprintf(name, sizeof name, "f%d", i);
		unlink(name);
	}
	if (chdir("..") != 0 || rmdir("many") != 0)
		printf("cleanup many: FAIL\n");
}

/* answer reads one event from g (blocking), prints it and answers it. */
static void answer(int g, unsigned resp, const char *what) {
	struct fanotify_event_metadata m;
	if (read(g, &m, sizeof m) != sizeof m) {
		printf("read event: FAIL %s\n", errname(errno));
		return;
	}
	printf("%s: event %#llx\n", what, (unsigned long long)m.mask);
	struct fanotify_response r = {m.fd, resp};
	if (resp && write(g, &r, sizeof r) != sizeof r)
		printf("answer: FAIL %s\n", errname(errno));
	close(m.fd);
}

/* perms: permission events (LTP's fanotify07 and 03's cases): an open,
 * a read and an exec wait for the listener's answer; a denial is EPERM;
 * closing the group lets whoever waits go on; a waiting task dies of
 * SIGKILL. */
static void perms(const char *self) {
	if (chdir(dir) != 0)
		printf("chdir: FAIL\n");
	touch("file");
	char prog[128];
	copy_prog(self, prog, sizeof prog);
	int g = group(FAN_CLASS_CONTENT);
	res("perm mark", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_ACCESS_PERM, AT_FDCWD, "file"));
	res("exec perm mark", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, prog));
	struct fanotify_response bad = {1000, FAN_ALLOW};
	res("answer no event", write(g, &bad, sizeof bad));
	bad.response = 7;
	res("answer 7", write(g, &bad, sizeof bad));
	res("short answer", write(g, &bad, 4));
	pid_t pid = fork();
	if (pid == 0) {
		close(g);
		int fd = open("file", O_RDONLY);
		printf("child open: %s\n", fd >= 0 ? "ok" : errname(errno));
		char c;
		res("child read", read(fd, &c, 1));
		res("child read again", read(fd, &c, 1));
		close(fd);
		execl(prog, prog, "exit0", NULL);
		printf("child exec: %s\n", errname(errno));
		exit(0);
	}
	answer(g, FAN_ALLOW, "open");
	answer(g, FAN_DENY, "read");
	answer(g, FAN_ALLOW, "read again");
	answer(g, FAN_DENY, "exec");
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	pid = fork();
	if (pid == 0) {
		close(g);
		int fd = open("file", O_RDONLY);
		printf("open while the group closes: %s\n", fd >= 0 ? "ok" : errname(errno));
		exit(0);
	}
	answer(g, 0, "unanswered open");
	close(g);
	waitpid(pid, &st, 0);

	g = group(FAN_CLASS_CONTENT);
	if (fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, "file") != 0)
		printf("mark: FAIL\n");
	pid = fork();
	if (pid == 0) {
		close(g);
		open("file", O_RDONLY);
		printf("killed child ran on: FAIL\n");
		exit(0);
	}
	answer(g, 0, "open of a child to kill");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	printf("killed while waiting: %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(g);
	unlink("file");
	unlink(prog);
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "probe") == 0) {
		int g = fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);
		return g >= 0 ? 0 : 1;
	}
	if (argc == 2 && strcmp(argv[1], "exit0") == 0)
		return 0;
	strcpy(dir, "/tmp/fanotify-XXXXXX");
	if (!mkdtemp(dir)) {
		printf("mkdtemp: FAIL\n");
		return 1;
	}
	errors();
	on_child();
	flags();
	ignore();
	mount_mark();
	tids();
	exec(argv[0][0] == '/' ? argv[0] : "/proc/self/exe");
	cloexec_events();
	overflow();
	perms(argv[0][0] == '/' ? argv[0] : "/proc/self/exe");
	if (chdir("/") != 0 || rmdir(dir) != 0)
		printf("cleanup: FAIL %s\n", errname(errno));
	return 0;
}
