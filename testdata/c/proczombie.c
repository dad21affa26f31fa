/* proczombie: /proc of a process that has exited and is not yet reaped,
 * and of PID 1, compared with Linux. A zombie keeps /proc/PID (ps shows
 * it <defunct>) with its name, state Z and parent, but no memory, files,
 * root or namespaces: those links and files fail as Linux's do, and the
 * directory goes when the parent reaps it. PID 1 is listed, with parent
 * 0 (under uk run, uk's stand-in init, which runs no code). */
#include "uktest.h"

#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/prctl.h>

static char path[128];
static const char *at(pid_t pid, const char *file) {
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	return path;
}

/* outcome prints how a readlink, or an open and read, of a /proc file
 * ends: the error, or how much it read (sizes only where they are the
 * same everywhere). */
static void link_outcome(pid_t pid, const char *file) {
	char buf[256];
	errno = 0;
	ssize_t n = readlink(at(pid, file), buf, sizeof buf);
	printf("zombie %s: %s\n", file, n < 0 ? errname(errno) : "a link");
}

static void read_outcome(pid_t pid, const char *file, int show_size) {
	int fd = open(at(pid, file), O_RDONLY);
	if (fd < 0) {
		printf("zombie %s: open %s\n", file, errname(errno));
		return;
	}
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		printf("zombie %s: read %s\n", file, errname(errno));
	else if (show_size)
		printf("zombie %s: %zd bytes\n", file, n);
	else
		printf("zombie %s: read\n", file);
}

static int entries(const char *dir) {
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int listed(pid_t pid) {
	char name[32];
	snprintf(name, sizeof name, "%d", pid);
	DIR *d = opendir("/proc");
	int found = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strcmp(e->d_name, name))
			found = 1;
	if (d)
		closedir(d);
	return found;
}

/* statfields reads pid, comm, state and ppid from /proc/PID/stat. */
static int statfields(pid_t pid, int *spid, char *comm, char *state, int *ppid) {
	FILE *f = fopen(at(pid, "stat"), "r");
	if (!f)
		return -1;
	int n = fscanf(f, "%d (%63[^)]) %c %d", spid, comm, state, ppid);
	fclose(f);
	return n == 4 ? 0 : -1;
}

/* await_zombie reads pid's stat until it says Z, for up to a second. */
static void await_zombie(pid_t pid, int *spid, char *comm, char *state, int *ppid) {
	for (int i = 0; i < 100; i++) {
		if (statfields(pid, spid, comm, state, ppid) == 0 && *state == 'Z')
			return;
		usleep(10000);
	}
}

static int status_has(pid_t pid, const char *line) {
	FILE *f = fopen(at(pid, "status"), "r");
	if (!f)
		return -1;
	char buf[256];
	int found = 0;
	while (fgets(buf, sizeof buf, f))
		if (!strncmp(buf, line, strlen(line)))
			found = 1;
	fclose(f);
	return found;
}

static void zombie(void) {
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_NAME, "zombie-child");
		_exit(3);
	}
	int spid = 0, ppid = 0;
	char comm[64] = "", state = '?';
	await_zombie(c, &spid, comm, &state, &ppid);
	CHECK("zombie stat: its pid", spid == c);
	printf("zombie stat: comm %s, state %c\n", comm, state);
	CHECK("zombie stat: parent is us", ppid == getpid());
	CHECK("zombie listed in /proc", listed(c));
	printf("zombie status: State line %d, VmRSS line %d, Name line %d\n", status_has(c, "State:\tZ (zombie)"),
	       status_has(c, "VmRSS:"), status_has(c, "Name:\tzombie-child"));
	link_outcome(c, "exe");
	link_outcome(c, "cwd");
	link_outcome(c, "root");
	link_outcome(c, "ns/net");
	printf("zombie fd: %d entries, task: %d entries, ns: %d entries\n", entries(at(c, "fd")),
	       entries(at(c, "task")), entries(at(c, "ns")));
	snprintf(path, sizeof path, "/proc/%d/task/%d", c, c);
	CHECK("zombie task/PID exists", access(path, F_OK) == 0);
	read_outcome(c, "cmdline", 1);
	read_outcome(c, "maps", 1);
	read_outcome(c, "environ", 0);
	read_outcome(c, "mounts", 0);
	read_outcome(c, "mem", 0);
	read_outcome(c, "comm", 1);
	read_outcome(c, "statm", 0);
	/* kill reaches it; the signal goes nowhere. */
	EXPECT_OK(kill(c, SIGTERM));
	int st;
	EXPECT_EQ(waitpid(c, &st, 0), c);
	CHECK("exit status 3", WIFEXITED(st) && WEXITSTATUS(st) == 3);
	errno = 0;
	CHECK("reaped: /proc/PID gone", access(at(c, "stat"), F_OK) != 0 && errno == ENOENT);
	CHECK("reaped: not listed", !listed(c));
}

static void *named_thread(void *arg) {
	(void)arg;
	prctl(PR_SET_NAME, "other-thread");
	usleep(50000);
	return NULL;
}

/* A zombie whose leader exited before its other thread shows the
 * leader's name. */
static void threaded_zombie(void) {
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_NAME, "the-leader");
		pthread_t t;
		pthread_create(&t, NULL, named_thread, NULL);
		pthread_exit(NULL);
	}
	int spid = 0, ppid = 0;
	char comm[64] = "", state = '?';
	await_zombie(c, &spid, comm, &state, &ppid);
	printf("threaded zombie: comm %s, state %c\n", comm, state);
	waitpid(c, NULL, 0);
}

static void init(void) {
	int spid = 0, ppid = -1;
	char comm[64], state;
	CHECK("/proc/1/stat reads", statfields(1, &spid, comm, &state, &ppid) == 0);
	CHECK("PID 1: pid 1, parent 0", spid == 1 && ppid == 0);
	CHECK("PID 1 listed in /proc", listed(1));
	CHECK("PID 1's status says Pid 1", status_has(1, "Pid:\t1\n") == 1);
	CHECK("PID 1's task/1 exists", access("/proc/1/task/1", F_OK) == 0);
	EXPECT_OK(kill(1, 0));
}

int main(void) {
	zombie();
	threaded_zombie();
	init();
	return ukt_exit();
}
