/* inotify.c: inotify_init1, inotify_add_watch, inotify_rm_watch and the
 * events file operations queue, compared with Linux: the error cases (in
 * LTP's inotify_init1_01/02 and inotify01-12 style), the events of
 * creating, writing, reading, changing attributes, linking, renaming and
 * removing files seen from a watched directory and a watched file, merged
 * repeats, IN_ONESHOT, IN_MASK_ADD, IN_EXCL_UNLINK, rm_watch's IN_IGNORED,
 * the deletion of a file still open, read's EINVAL/EAGAIN, FIONREAD, poll,
 * and the overflow event. Watch descriptors and cookies are printed by
 * role, never as numbers. */
#include "uktest.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static char dir[64];
static int wdir = -100, wfile = -100, wsub = -100, wlink = -100;

static const char *who(int wd) {
	static char buf[16];
	if (wd == wdir) return "dir";
	if (wd == wfile) return "file";
	if (wd == wsub) return "sub";
	if (wd == wlink) return "link";
	if (wd == -1) return "-1";
	snprintf(buf, sizeof buf, "wd?%d", wd);
	return buf;
}

static void masknames(uint32_t m, char *out) {
	static const struct { uint32_t bit; const char *name; } names[] = {
		{IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
		{IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
		{IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
		{IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
		{IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"},
		{IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
	};
	out[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (m & names[i].bit) {
			if (out[0]) strcat(out, "|");
			strcat(out, names[i].name);
			m &= ~names[i].bit;
		}
	}
	if (m) sprintf(out + strlen(out), "|0x%x", m);
}

/* drain prints every queued event, one a line, after a label; cookies
 * are printed as "cookie" when non-zero and equal to the previous
 * event's ("pair"), so that MOVED_FROM/MOVED_TO pairs show. */
static void drain(int fd, const char *label) {
	char buf[8192] __attribute__((aligned(8)));
	uint32_t lastcookie = 0;
	printf("-- %s\n", label);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno != EAGAIN) printf("read: %s\n", errname(errno));
			return;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			char m[256];
			masknames(e->mask, m);
			const char *ck = "";
			if (e->cookie) ck = e->cookie == lastcookie ? " cookie=pair" : " cookie=new";
			lastcookie = e->cookie;
			printf("%s %s%s%s%s\n", who(e->wd), m, ck, e->len ? " " : "", e->len ? e->name : "");
			if (e->len && (e->len % 16 != 0 || strlen(e->name) >= e->len)) printf("FAIL name padding %u\n", e->len);
			p += sizeof *e + e->len;
		}
	}
}

static void path(char *out, const char *name) { snprintf(out, 128, "%s/%s", dir, name); }

static void errors(void) {
	errno = 0;
	int r = inotify_init1(0x1);
	printf("init1(bad flag): %d %s\n", r, errname(errno));
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	printf("init1: %s cloexec=%d nonblock=%d\n", fd >= 0 ? "ok" : errname(errno),
	       !!(fcntl(fd, F_GETFD) & FD_CLOEXEC), !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	int old = syscall(SYS_inotify_init);
	printf("inotify_init: %s flags=%#x\n", old >= 0 ? "ok" : errname(errno), fcntl(old, F_GETFL) & ~0x8000);
	close(old);
	struct { const char *what; int fd; const char *path; uint32_t mask; } cases[] = {
		{"mask 0", fd, dir, 0},
		{"flags only", fd, dir, IN_ONLYDIR},
		{"add|create", fd, dir, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE},
		{"bad fd", 999, dir, IN_MODIFY},
		{"not inotify", 1, dir, IN_MODIFY},
		{"missing", fd, "/nonexistent/x", IN_MODIFY},
		{"empty path", fd, "", IN_MODIFY},
		{"onlydir on file", fd, "/proc/self/status", IN_MODIFY | IN_ONLYDIR},
		{"bad fd and mask 0", 999, dir, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		errno = 0;
		r = inotify_add_watch(cases[i].fd, cases[i].path, cases[i].mask);
		printf("add_watch(%s): %s\n", cases[i].what, r >= 0 ? "ok" : errname(errno));
	}
	errno = 0;
	r = inotify_add_watch(fd, (char *)8, IN_MODIFY);
	printf("add_watch(bad address): %d %s\n", r, errname(errno));
	int wd = inotify_add_watch(fd, dir, IN_MODIFY);
	int wd2 = inotify_add_watch(fd, dir, IN_ACCESS);
	printf("same inode, same wd: %d; first wd is 1: %d\n", wd == wd2, wd == 1);
	errno = 0;
	r = inotify_add_watch(fd, dir, IN_ACCESS | IN_MASK_CREATE);
	printf("mask_create on existing: %d %s\n", r, errname(errno));
	errno = 0;
	r = inotify_rm_watch(fd, wd + 100);
	printf("rm_watch(bad wd): %d %s\n", r, errname(errno));
	errno = 0;
	r = inotify_rm_watch(999, wd);
	printf("rm_watch(bad fd): %d %s\n", r, errname(errno));
	errno = 0;
	r = inotify_rm_watch(1, wd);
	printf("rm_watch(not inotify): %d %s\n", r, errname(errno));
	r = inotify_rm_watch(fd, wd);
	printf("rm_watch: %d\n", r);
	errno = 0;
	r = inotify_rm_watch(fd, wd);
	printf("rm_watch again: %d %s\n", r, errname(errno));
	int nw = inotify_add_watch(fd, dir, IN_MODIFY);
	printf("wds are not reused: %d\n", nw > wd);
	close(fd);
}

/* A child that is not root may not watch what it cannot read. */
static char secret[128];

static void watch_as_nobody(void) {
	if (setuid(65534) != 0) { printf("FAIL setuid\n"); return; }
	int fd = inotify_init1(0);
	errno = 0;
	int r = inotify_add_watch(fd, secret, IN_MODIFY);
	printf("nobody watches a 0600 file: %d %s\n", r, errname(errno));
}

static void access_check(void) {
	path(secret, "secret");
	close(open(secret, O_CREAT | O_WRONLY, 0600));
	ukt_in_child("access", watch_as_nobody);
	unlink(secret);
}

int main(void) {
	strcpy(dir, "/tmp/ukinotifyXXXXXX");
	if (!mkdtemp(dir)) { printf("FAIL mkdtemp\n"); return 1; }
	chmod(dir, 0755);
	errors();
	access_check();

	char f[128], g[128], h[128], sub[128], lnk[128];
	path(f, "f");
	path(g, "g");
	path(h, "h");
	path(sub, "sub");
	path(lnk, "l");
	int in = inotify_init1(IN_NONBLOCK);
	wdir = inotify_add_watch(in, dir, IN_ALL_EVENTS);

	/* create, write, close; then the file's own watch too */
	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	write(fd, "abc", 3);
	write(fd, "def", 3); /* merged with the previous MODIFY */
	close(fd);
	drain(in, "create+write");
	wfile = inotify_add_watch(in, f, IN_ALL_EVENTS);
	fd = open(f, O_RDONLY);
	char b[8];
	read(fd, b, 2);
	read(fd, b, 0); /* nothing: no bytes */
	pread(fd, b, 2, 1);
	close(fd);
	drain(in, "read");
	fd = open(f, O_RDWR | O_TRUNC);
	ftruncate(fd, 10);
	close(fd);
	truncate(f, 5);
	drain(in, "trunc");
	chmod(f, 0600);
	chown(f, -1, -1);
	chown(f, 0, -1);
	drain(in, "attrs");
	struct timespec ts[2] = {{1, 0}, {2, 0}};
	utimensat(AT_FDCWD, f, ts, 0);
	ts[0].tv_nsec = UTIME_OMIT;
	utimensat(AT_FDCWD, f, ts, 0);
	ts[0].tv_nsec = 0;
	ts[1].tv_nsec = UTIME_OMIT;
	utimensat(AT_FDCWD, f, ts, 0);
	drain(in, "utimes");
	link(f, g);
	rename(g, h);
	unlink(h);
	drain(in, "link+rename+unlink");
	mkdir(sub, 0755);
	wsub = inotify_add_watch(in, sub, IN_ALL_EVENTS);
	char sf[160];
	snprintf(sf, sizeof sf, "%s/x", sub);
	close(open(sf, O_CREAT | O_WRONLY, 0644));
	rename(sf, g); /* from sub to dir */
	drain(in, "subdir");
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	char dents[4096];
	syscall(SYS_getdents64, fd, dents, sizeof dents);
	close(fd);
	drain(in, "readdir");
	rename(g, f); /* replaces f: its watch hears of it */
	drain(in, "rename over a watched file");
	char sub2[128];
	path(sub2, "sub2");
	rename(sub, sub2);
	chmod(sub2, 0700);
	drain(in, "directory moved");
	rmdir(sub2);
	drain(in, "rmdir");

	/* a file unlinked while open is deleted for its watch at the close */
	wfile = inotify_add_watch(in, f, IN_ALL_EVENTS);
	fd = open(f, O_RDONLY);
	unlink(f);
	drain(in, "unlink while open");
	close(fd);
	drain(in, "its close");

	/* symlinks: followed unless IN_DONT_FOLLOW */
	close(open(f, O_CREAT | O_WRONLY, 0644));
	symlink("f", lnk);
	int wl = inotify_add_watch(in, lnk, IN_ATTRIB);
	wlink = inotify_add_watch(in, lnk, IN_ATTRIB | IN_DONT_FOLLOW);
	wfile = inotify_add_watch(in, f, IN_ATTRIB);
	printf("followed: %d, not followed: %d\n", wl == wfile, wlink != wfile);
	inotify_rm_watch(in, wlink);
	inotify_rm_watch(in, wfile);
	unlink(lnk);
	drain(in, "symlink watches");

	/* IN_ONESHOT, IN_MASK_ADD, rm_watch */
	wfile = inotify_add_watch(in, f, IN_MODIFY | IN_ONESHOT);
	fd = open(f, O_WRONLY);
	write(fd, "x", 1);
	write(fd, "y", 1);
	pwrite(fd, "z", 1, 0);
	drain(in, "oneshot");
	wfile = inotify_add_watch(in, f, IN_MODIFY);
	int again = inotify_add_watch(in, f, IN_ATTRIB | IN_MASK_ADD);
	printf("mask_add keeps the wd: %d\n", again == wfile);
	write(fd, "x", 1);
	fchmod(fd, 0644);
	drain(in, "mask_add");
	inotify_add_watch(in, f, IN_ATTRIB);
	write(fd, "x", 1);
	fchmod(fd, 0600);
	drain(in, "mask replaced");
	inotify_rm_watch(in, wfile);
	drain(in, "rm_watch");
	close(fd);

	/* IN_EXCL_UNLINK: events of an unlinked child are not reported */
	inotify_rm_watch(in, wdir);
	drain(in, "dir watch removed");
	wdir = inotify_add_watch(in, dir, IN_MODIFY | IN_DELETE);
	fd = open(f, O_WRONLY);
	write(fd, "1", 1);
	unlink(f);
	write(fd, "2", 1);
	close(fd);
	drain(in, "without excl_unlink");
	close(open(f, O_CREAT | O_WRONLY, 0644));
	wdir = inotify_add_watch(in, dir, IN_MODIFY | IN_DELETE | IN_EXCL_UNLINK);
	fd = open(f, O_WRONLY);
	write(fd, "1", 1);
	unlink(f);
	write(fd, "2", 1);
	close(fd);
	drain(in, "excl_unlink");

	/* read: EINVAL for a buffer too small for the event, EAGAIN when
	 * empty, FIONREAD, poll */
	close(open(f, O_CREAT | O_WRONLY, 0644));
	fd = open(f, O_WRONLY);
	write(fd, "1", 1);
	int avail = -1;
	ioctl(in, FIONREAD, &avail);
	printf("FIONREAD: %d\n", avail);
	struct pollfd pfd = {.fd = in, .events = POLLIN};
	int pr = poll(&pfd, 1, 0);
	printf("poll: %d revents=%#x\n", pr, pfd.revents);
	char small[8];
	errno = 0;
	ssize_t got = read(in, small, sizeof small);
	printf("read(8 bytes): %zd %s\n", got, errname(errno));
	char ev[64];
	got = read(in, ev, sizeof ev);
	printf("read(64): %zd\n", got);
	errno = 0;
	got = read(in, ev, sizeof ev);
	printf("read(empty): %zd %s\n", got, errname(errno));
	pfd.revents = 0;
	pr = poll(&pfd, 1, 0);
	printf("poll(empty): %d revents=%#x\n", pr, pfd.revents);
	ioctl(in, FIONREAD, &avail);
	printf("FIONREAD(empty): %d\n", avail);

	/* a blocking read waits for the event a child makes */
	int bl = inotify_init1(0);
	wdir = inotify_add_watch(bl, dir, IN_CREATE);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		close(open(g, O_CREAT | O_WRONLY, 0644));
		_exit(0);
	}
	struct inotify_event *e = (struct inotify_event *)ev;
	ssize_t n = read(bl, ev, sizeof ev);
	printf("blocking read: %zd %s %s\n", n, who(e->wd), n > 0 ? e->name : "");
	waitpid(pid, NULL, 0);
	close(bl);

	/* overflow: more distinct events than max_queued_events */
	int max = 0;
	FILE *mf = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	if (mf && fscanf(mf, "%d", &max) == 1) printf("max_queued_events: %d\n", max);
	if (mf) fclose(mf);
	int ov = inotify_init1(IN_NONBLOCK);
	wfile = inotify_add_watch(ov, f, IN_MODIFY | IN_ACCESS);
	int rw = open(f, O_RDWR);
	for (int i = 0; i < max / 2 + 8; i++) {
		pwrite(rw, "a", 1, 0);
		pread(rw, b, 1, 0);
	}
	close(rw);
	long count = 0, overflow = 0, lastwd = 0;
	char big[65536] __attribute__((aligned(8)));
	for (;;) {
		ssize_t r = read(ov, big, sizeof big);
		if (r <= 0) break;
		for (char *p = big; p < big + r;) {
			struct inotify_event *x = (struct inotify_event *)p;
			count++;
			if (x->mask & IN_Q_OVERFLOW) overflow++;
			lastwd = x->wd;
			p += sizeof *x + x->len;
		}
	}
	printf("events: %ld, overflows: %ld, last wd: %ld\n", count, overflow, lastwd);
	close(ov);

	close(fd);
	close(in);
	unlink(f);
	unlink(g);
	rmdir(dir);
	return ukt_exit();
}
