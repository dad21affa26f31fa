// procnet: /proc/net/unix lists the AF_UNIX sockets of the reader's
// network namespace as Linux's unix_seq_show does: a listener's
// __SO_ACCEPTCON flag, each type, the SS_* state (a connection not yet
// accepted is SS_CONNECTING), the inode fstat reports, and the name (an
// abstract one with '@' for its NULs). A closed socket's row goes, and a
// new network namespace sees none of the sockets made outside it. Rows are
// found by inode, so the machine's other sockets (natively) do not matter;
// names hold the pid and print as labels.
#include "uktest.h"

#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static char path_name[64], abs_name[64];

// row finds the /proc/net/unix line of the socket fd and prints its
// columns but Num, RefCount and Inode, with our names as labels.
static void row(const char *label, int fd) {
	struct stat st;
	if (fstat(fd, &st)) {
		printf("%s: fstat failed\n", label);
		return;
	}
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f) {
		printf("%s: /proc/net/unix: %s\n", label, errname(errno));
		return;
	}
	char line[512];
	int found = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned refs, proto, flags, type, state;
		unsigned long ino;
		int n = 0;
		if (sscanf(line, "%*[0-9a-f]: %x %x %x %x %x %lu%n", &refs, &proto, &flags, &type, &state, &ino, &n) != 6 || ino != st.st_ino)
			continue;
		char *path = line + n;
		path[strcspn(path, "\n")] = 0;
		if (*path == ' ')
			path++;
		const char *shown = path;
		if (*path && !strcmp(path, path_name))
			shown = "PATH";
		else if (*path && !strcmp(path, abs_name))
			shown = "ABSTRACT";
		printf("%s: proto %x flags %08x type %04x st %02x name '%s'\n", label, proto, flags, type, state, shown);
		found++;
	}
	fclose(f);
	if (found != 1)
		printf("%s: %d rows\n", label, found);
}

// embryos counts the rows of connections to our listener that no accept
// has taken: SS_CONNECTING, with the listener's name and, having no
// socket of their own yet, inode 0.
static int embryos(void) {
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f)
		return -1;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned state;
		unsigned long ino;
		int at = 0;
		if (sscanf(line, "%*[0-9a-f]: %*x %*x %*x %*x %x %lu%n", &state, &ino, &at) != 2)
			continue;
		char *path = line + at;
		path[strcspn(path, "\n")] = 0;
		if (*path == ' ' && !strcmp(path + 1, path_name))
			n += state == 2 && ino == 0;
	}
	fclose(f);
	return n;
}

// rows counts /proc/net/unix's lines after its header.
static int rows(void) {
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f)
		return -1;
	char line[512];
	int n = -1;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n;
}

int main(void) {
	FILE *f = fopen("/proc/net/unix", "r");
	char header[128] = "";
	if (f) {
		fgets(header, sizeof header, f);
		fclose(f);
	}
	printf("header: %s", header);

	snprintf(path_name, sizeof path_name, "/tmp/procnet-%d.sock", getpid());
	unlink(path_name);
	struct sockaddr_un pa = {.sun_family = AF_UNIX};
	strcpy(pa.sun_path, path_name);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_OK(bind(l, (struct sockaddr *)&pa, sizeof pa));
	row("bound stream", l);
	EXPECT_OK(listen(l, 4));
	row("listener", l);

	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	row("unbound stream", c);
	EXPECT_OK(connect(c, (struct sockaddr *)&pa, sizeof pa));
	row("client", c);
	printf("connections not accepted: %d\n", embryos());
	int a = accept(l, NULL, NULL);
	row("accepted", a);
	printf("connections not accepted: %d\n", embryos());

	int sp[2];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp));
	row("seqpacket pair", sp[0]);

	// An abstract name with a NUL inside: "\0procnet\0PID".
	struct sockaddr_un aa = {.sun_family = AF_UNIX};
	int alen = snprintf(aa.sun_path + 1, sizeof aa.sun_path - 1, "procnet-%d", getpid()) + 1;
	aa.sun_path[8] = 0;
	socklen_t alen_all = offsetof(struct sockaddr_un, sun_path) + alen;
	snprintf(abs_name, sizeof abs_name, "@procnet@%d", getpid());
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(bind(d, (struct sockaddr *)&aa, alen_all));
	row("abstract dgram", d);
	int d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(connect(d2, (struct sockaddr *)&aa, alen_all));
	row("connected dgram", d2);

	int before = rows();
	close(d2);
	CHECK("a closed socket's row goes", rows() == before - 1);

	// A new network namespace: none of the sockets above, only its own.
	pid_t p = fork();
	if (p == 0) {
		if (unshare(CLONE_NEWNET)) {
			printf("unshare(CLONE_NEWNET): %s\n", errname(errno));
			_exit(1);
		}
		int n0 = rows();
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		printf("new netns: %d rows, then %d with a socket of its own\n", n0, rows());
		row("in new netns", s);
		_exit(0);
	}
	int ws;
	waitpid(p, &ws, 0);
	CHECK("child ok", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	row("listener after", l);
	unlink(path_name);
	return 0;
}
