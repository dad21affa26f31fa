/*
 * keys2: what keys do over time and across users and tasks, as LTP's
 * request_key01-06, keyctl02/03/05/07 and add_key05 check it:
 * request_key's search, its negative keys when no request-key program
 * can be run, revocation, invalidation, timeouts, permissions of other
 * users, ownership, the per-user quota, and the keyrings a task keeps
 * across fork, exec and pthread_create. As keys1, it joins a new session
 * keyring first and prints no serial.
 */
#include "uktest.h"
#include "ukkeys.h"
#include <fcntl.h>
#include <pthread.h>

static void request(void)
{
	char buf[64];
	/* request_key01: a keyring found by search. */
	long k = EXPECT_OK(add_key("keyring", "ltp", NULL, 0, KEY_SPEC_THREAD_KEYRING));
	EXPECT_EQ(request_key("keyring", "ltp", NULL, KEY_REQKEY_DEFL_DEFAULT), k);
	/* request_key02: nothing, or a destination revoked or expired. */
	EXPECT_ERR(request_key("keyring", "ltp1", NULL, KEY_REQKEY_DEFL_DEFAULT), ENOKEY);
	long rv = EXPECT_OK(add_key("keyring", "ltp2", NULL, 0, KEY_SPEC_THREAD_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_REVOKE, rv, 0, 0, 0));
	EXPECT_ERR(request_key("keyring", "ltp2", NULL, rv), EKEYREVOKED);
	long ex = EXPECT_OK(add_key("keyring", "ltp3", NULL, 0, KEY_SPEC_THREAD_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SET_TIMEOUT, ex, 1, 0, 0));
	sleep(2);
	EXPECT_ERR(request_key("keyring", "ltp3", NULL, ex), EKEYEXPIRED);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, KEY_SPEC_THREAD_KEYRING, (unsigned long)"keyring", (unsigned long)"ltp2", 0), EKEYREVOKED);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, KEY_SPEC_THREAD_KEYRING, (unsigned long)"keyring", (unsigned long)"ltp3", 0), EKEYEXPIRED);
	EXPECT_ERR(request_key("keyring", "ltp3", NULL, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_DESCRIBE, ex, (unsigned long)buf, sizeof buf, 0), EKEYEXPIRED);
	EXPECT_ERR(keyctl(KEYCTL_READ, rv, (unsigned long)buf, sizeof buf, 0), EKEYREVOKED);
	EXPECT_ERR(keyctl(KEYCTL_SETPERM, rv, KEY_POS_ALL, 0, 0), EKEYREVOKED);
	/* request_key05, 06: bad types and pointers. */
	EXPECT_ERR(request_key("dead", "abc", "abc", 0), ENOKEY);
	EXPECT_ERR(request_key((char *)-1, "description", NULL, KEY_SPEC_PROCESS_KEYRING), EFAULT);
	EXPECT_ERR(request_key("type", (char *)-1, NULL, KEY_SPEC_PROCESS_KEYRING), EFAULT);
	EXPECT_ERR(request_key("type", "description", (char *)-1, KEY_SPEC_PROCESS_KEYRING), EFAULT);
	EXPECT_ERR(request_key(".type", "description", NULL, KEY_SPEC_PROCESS_KEYRING), EPERM);
	/* keyctl07: with no request-key program a negative key is left. */
	EXPECT_ERR(request_key("user", "description", "callout_info", KEY_SPEC_PROCESS_KEYRING), ENOENT);
	key_serial_t neg = 0;
	EXPECT_EQ(keyctl(KEYCTL_READ, KEY_SPEC_PROCESS_KEYRING, (unsigned long)&neg, sizeof neg, 0), 4);
	EXPECT_ERR(keyctl(KEYCTL_READ, neg, (unsigned long)buf, sizeof buf, 0), ENOKEY);
	EXPECT_ERR(request_key("user", "description", "callout_info", KEY_SPEC_PROCESS_KEYRING), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, KEY_SPEC_PROCESS_KEYRING, (unsigned long)"user", (unsigned long)"description", 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_UPDATE, neg, (unsigned long)"x", 1, 0), ENOKEY);
	EXPECT_OK(keyctl(KEYCTL_DESCRIBE, neg, (unsigned long)buf, sizeof buf, 0));
	printf("negative key: %s\n", strchr(strchr(strchr(buf, ';') + 1, ';') + 1, ';') + 1);
	/* add_key over a negative key instantiates it. */
	EXPECT_EQ(add_key("user", "description", "now", 3, KEY_SPEC_PROCESS_KEYRING), neg);
	EXPECT_EQ(keyctl(KEYCTL_READ, neg, (unsigned long)buf, sizeof buf, 0), 3);
	EXPECT_ERR(request_key("keyring", "nothere", "callout", KEY_SPEC_PROCESS_KEYRING), EPERM);
	/* A found key is linked to the destination. */
	long dst = EXPECT_OK(add_key("keyring", "dst", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_EQ(request_key("user", "description", NULL, dst), neg);
	EXPECT_EQ(keyctl(KEYCTL_READ, dst, 0, 0, 0), 4);
	/* keyctl03: request_key of a keyring, then an unlink. */
	long u = EXPECT_OK(add_key("user", "ltptestkey", "a", 1, KEY_SPEC_SESSION_KEYRING));
	request_key("keyring", "foo", "bar", KEY_SPEC_THREAD_KEYRING);
	EXPECT_OK(keyctl(KEYCTL_UNLINK, u, KEY_SPEC_SESSION_KEYRING, 0, 0));
}

static void request_noperm(void)
{
	/* request_key04: no Write on the default destination. */
	EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0));
	EXPECT_OK(keyctl(KEYCTL_SETPERM, KEY_SPEC_SESSION_KEYRING, KEY_POS_SEARCH | KEY_POS_READ | KEY_POS_VIEW, 0, 0));
	EXPECT_EQ(keyctl(KEYCTL_SET_REQKEY_KEYRING, KEY_REQKEY_DEFL_SESSION_KEYRING, 0, 0, 0), KEY_REQKEY_DEFL_DEFAULT);
	key_serial_t id;
	EXPECT_EQ(keyctl(KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, (unsigned long)&id, sizeof id, 0), 0);
	EXPECT_ERR(request_key("user", "desc", "callout_info", 0), EACCES);
	EXPECT_EQ(keyctl(KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, (unsigned long)&id, sizeof id, 0), 0);
	EXPECT_ERR(add_key("user", "x", "x", 1, KEY_SPEC_SESSION_KEYRING), EACCES);
}

static void revoke_invalidate(void)
{
	char buf[64];
	long k = EXPECT_OK(add_key("user", "ltptestkey", "foo", 3, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_REVOKE, k, 0, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_REVOKE, k, 0, 0, 0), EKEYREVOKED);
	EXPECT_ERR(keyctl(KEYCTL_READ, k, (unsigned long)buf, 4, 0), EKEYREVOKED);
	EXPECT_ERR(keyctl(KEYCTL_UPDATE, k, (unsigned long)"x", 1, 0), EKEYREVOKED);
	EXPECT_ERR(keyctl(KEYCTL_LINK, k, KEY_SPEC_SESSION_KEYRING, 0, 0), EKEYREVOKED);
	/* add_key replaces a revoked key with a new one. */
	long k2 = EXPECT_OK(add_key("user", "ltptestkey", "foo", 3, KEY_SPEC_PROCESS_KEYRING));
	CHECK("revoked key replaced", k2 != k);
	/* Invalidation takes a key out of its keyrings at once. */
	EXPECT_OK(keyctl(KEYCTL_LINK, k2, KEY_SPEC_SESSION_KEYRING, 0, 0));
	EXPECT_OK(keyctl(KEYCTL_INVALIDATE, k2, 0, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_DESCRIBE, k2, 0, 0, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_INVALIDATE, 0x7fffffff, 0, 0, 0), ENOKEY);
	/* A revoked keyring loses its links. */
	long r = EXPECT_OK(add_key("keyring", "rr", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(add_key("user", "in", "x", 1, r));
	EXPECT_EQ(keyctl(KEYCTL_READ, r, 0, 0, 0), 4);
	EXPECT_OK(keyctl(KEYCTL_REVOKE, r, 0, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_READ, r, 0, 0, 0), EKEYREVOKED);
	/* Timeouts: cleared by 0, and by an update. */
	long t = EXPECT_OK(add_key("user", "timed", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SET_TIMEOUT, t, 1, 0, 0));
	EXPECT_OK(keyctl(KEYCTL_SET_TIMEOUT, t, 0, 0, 0));
	long t2 = EXPECT_OK(add_key("user", "timed2", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SET_TIMEOUT, t2, 1, 0, 0));
	EXPECT_OK(keyctl(KEYCTL_UPDATE, t2, (unsigned long)"y", 1, 0));
	long t3 = EXPECT_OK(add_key("user", "timed3", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SET_TIMEOUT, t3, 1, 0, 0));
	sleep(2);
	EXPECT_EQ(keyctl(KEYCTL_READ, t, 0, 0, 0), 1);
	EXPECT_EQ(keyctl(KEYCTL_READ, t2, 0, 0, 0), 1);
	EXPECT_ERR(keyctl(KEYCTL_READ, t3, 0, 0, 0), EKEYEXPIRED);
	EXPECT_ERR(keyctl(KEYCTL_SET_TIMEOUT, t3, 10, 0, 0), EKEYEXPIRED);
	EXPECT_EQ(add_key("user", "timed3", "z", 1, KEY_SPEC_PROCESS_KEYRING), t3);
	EXPECT_EQ(keyctl(KEYCTL_READ, t3, 0, 0, 0), 1);
}

static long shared_key;

static void *do_read(void *arg)
{
	char b[4];
	keyctl(KEYCTL_READ, shared_key, (unsigned long)b, 4, 0);
	return arg;
}

static void *do_revoke(void *arg)
{
	keyctl(KEYCTL_REVOKE, shared_key, 0, 0, 0);
	return arg;
}

static void *thread_keyrings(void *arg)
{
	/* A new thread has its own thread keyring, shares the others. */
	long *ids = arg;
	ids[0] = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0, 0, 0);
	ids[1] = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0);
	ids[2] = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	return NULL;
}

static void threads(void)
{
	/* keyctl02: reads racing revocations. */
	for (int i = 0; i < 200; i++) {
		shared_key = add_key("user", "ltptestkey", "foo", 3, KEY_SPEC_PROCESS_KEYRING);
		if (shared_key < 0) {
			printf("add_key: FAIL %s\n", errname(errno));
			return;
		}
		pthread_t th[4];
		pthread_create(&th[0], NULL, do_read, NULL);
		pthread_create(&th[1], NULL, do_revoke, NULL);
		pthread_create(&th[2], NULL, do_read, NULL);
		pthread_create(&th[3], NULL, do_revoke, NULL);
		for (int j = 0; j < 4; j++)
			pthread_join(th[j], NULL);
	}
	EXPECT_ERR(keyctl(KEYCTL_READ, shared_key, 0, 0, 0), EKEYREVOKED);
	long mine = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1, 0, 0));
	long proc = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1, 0, 0));
	long ses = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0));
	long ids[3];
	pthread_t th;
	pthread_create(&th, NULL, thread_keyrings, ids);
	pthread_join(th, NULL);
	CHECK("thread: own thread keyring", ids[0] > 0 && ids[0] != mine);
	CHECK("thread: same process keyring", ids[1] == proc);
	CHECK("thread: same session keyring", ids[2] == ses);
}

static void other_user(void)
{
	/* A key of root's, seen by another user. */
	long k = EXPECT_OK(add_key("user", "rootkey", "secret", 6, KEY_SPEC_SESSION_KEYRING));
	long pub = EXPECT_OK(add_key("user", "pubkey", "public", 6, KEY_SPEC_SESSION_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SETPERM, pub, KEY_POS_ALL | KEY_USR_ALL | KEY_OTH_VIEW | KEY_OTH_READ, 0, 0));
	long ses = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char buf[64];
		if (setgid(54321) || setuid(54321))
			printf("setuid: FAIL\n");
		/* The session keyring is still possessed: its possessor bits. */
		EXPECT_EQ(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0), ses);
		EXPECT_EQ(keyctl(KEYCTL_READ, k, (unsigned long)buf, sizeof buf, 0), 6);
		/* Once it leaves the session, only "other" bits apply. */
		EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0));
		EXPECT_ERR(keyctl(KEYCTL_READ, k, (unsigned long)buf, sizeof buf, 0), EACCES);
		EXPECT_ERR(keyctl(KEYCTL_DESCRIBE, k, (unsigned long)buf, sizeof buf, 0), EACCES);
		EXPECT_ERR(keyctl(KEYCTL_LINK, k, KEY_SPEC_SESSION_KEYRING, 0, 0), EACCES);
		EXPECT_ERR(keyctl(KEYCTL_SETPERM, k, KEY_POS_ALL, 0, 0), EACCES);
		EXPECT_ERR(keyctl(KEYCTL_REVOKE, k, 0, 0, 0), EACCES);
		EXPECT_EQ(keyctl(KEYCTL_READ, pub, (unsigned long)buf, sizeof buf, 0), 6);
		EXPECT_OK(keyctl(KEYCTL_DESCRIBE, pub, (unsigned long)buf, sizeof buf, 0));
		EXPECT_ERR(keyctl(KEYCTL_SEARCH, ses, (unsigned long)"user", (unsigned long)"pubkey", 0), EACCES);
		EXPECT_ERR(keyctl(KEYCTL_CHOWN, pub, 54321, -1, 0), EACCES);
		/* Its own key: it owns it, may change its permissions, not give it away. */
		long mine = EXPECT_OK(add_key("user", "mine", "x", 1, KEY_SPEC_SESSION_KEYRING));
		EXPECT_OK(keyctl(KEYCTL_DESCRIBE, mine, (unsigned long)buf, sizeof buf, 0));
		printf("own key: %s\n", buf);
		EXPECT_ERR(keyctl(KEYCTL_CHOWN, mine, 0, -1, 0), EACCES);
		EXPECT_ERR(keyctl(KEYCTL_CHOWN, mine, -1, 0, 0), EACCES);
		EXPECT_OK(keyctl(KEYCTL_CHOWN, mine, -1, 54321, 0));
		EXPECT_OK(keyctl(KEYCTL_CHOWN, mine, -1, -1, 0));
		EXPECT_OK(keyctl(KEYCTL_SETPERM, mine, KEY_POS_ALL, 0, 0));
		EXPECT_OK(keyctl(KEYCTL_DESCRIBE, mine, (unsigned long)buf, sizeof buf, 0));
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("other user: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* Root gives a key away and takes it back. */
	EXPECT_OK(keyctl(KEYCTL_CHOWN, pub, 54322, 54322, 0));
	char buf[64];
	EXPECT_OK(keyctl(KEYCTL_DESCRIBE, pub, (unsigned long)buf, sizeof buf, 0));
	printf("chowned: %s\n", buf);
	EXPECT_OK(keyctl(KEYCTL_CHOWN, pub, 0, 0, 0));
}

/* proc_files: /proc/key-users shows a user's counts against its quotas
 * (LTP's add_key05 reads them there), and /proc/sys/kernel/keys takes
 * writes in range only (rewriting the value it holds, so the host's is
 * left as it was). */
static void proc_files(void)
{
	pid_t c = fork();
	if (c == 0) {
		setuid(4243);
		EXPECT_OK(add_key("user", "k1", "abc", 3, KEY_SPEC_THREAD_KEYRING) < 0 ? -1 : 0);
		char line[256];
		FILE *f = fopen("/proc/key-users", "r");
		while (fgets(line, sizeof line, f))
			if (strstr(line, " 4243:")) printf("key-users: %s", line);
		fclose(f);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	char cur[32] = {0};
	int fd = open("/proc/sys/kernel/keys/maxkeys", O_RDWR);
	EXPECT_OK(read(fd, cur, sizeof cur - 1) > 0 ? 0 : -1);
	EXPECT_ERR(pwrite(fd, "0", 1, 0), EINVAL);
	EXPECT_ERR(pwrite(fd, "x", 1, 0), EINVAL);
	EXPECT_EQ(pwrite(fd, cur, strlen(cur), 0), (long)strlen(cur));
	close(fd);
	fd = open("/proc/sys/kernel/keys/gc_delay", O_RDWR);
	memset(cur, 0, sizeof cur);
	read(fd, cur, sizeof cur - 1);
	EXPECT_ERR(pwrite(fd, "-1", 2, 0), EINVAL);
	EXPECT_EQ(pwrite(fd, cur, strlen(cur), 0), (long)strlen(cur));
	close(fd);
	c = fork();
	if (c == 0) {
		setuid(4243);
		EXPECT_ERR(open("/proc/sys/kernel/keys/maxkeys", O_WRONLY), EACCES);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void quota(void)
{
	/* add_key05: an unprivileged user's 200 keys. */
	if (setgid(54323) || setuid(54323))
		printf("setuid: FAIL\n");
	char d[16];
	int n;
	for (n = 0; n < 300; n++) {
		snprintf(d, sizeof d, "abc%d", n);
		if (add_key("user", d, "payload", 7, KEY_SPEC_THREAD_KEYRING) < 0)
			break;
	}
	int e = errno;
	CHECK("stopped by EDQUOT", e == EDQUOT);
	CHECK("about 200 keys", n >= 190 && n < 200);
	static char payload[20000];
	EXPECT_ERR(add_key("user", "big", payload, 20000, KEY_SPEC_THREAD_KEYRING), EDQUOT);
}

static void fork_exec(void)
{
	long ses = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0));
	long proc = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1, 0, 0));
	EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1, 0, 0));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		/* A child process shares the session keyring only. */
		long s = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
		long p = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0);
		int pe = errno;
		long t = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0, 0, 0);
		int te = errno;
		printf("fork: same session %d, process keyring %s, thread keyring %s\n", s == ses,
		       p < 0 ? errname(pe) : "yes", t < 0 ? errname(te) : "yes");
		long p2 = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1, 0, 0);
		printf("fork: new process keyring %d\n", p2 > 0 && p2 != proc);
		char sesarg[32];
		snprintf(sesarg, sizeof sesarg, "%ld", ses);
		execl("/proc/self/exe", "keys2", "exec", sesarg, NULL);
		_exit(99);
	}
	int st;
	waitpid(c, &st, 0);
	printf("fork and exec: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int after_exec(long ses)
{
	long s = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	long p = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0);
	int pe = errno;
	long t = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0, 0, 0);
	int te = errno;
	printf("exec: same session %d, process keyring %s, thread keyring %s\n", s == ses,
	       p < 0 ? errname(pe) : "yes", t < 0 ? errname(te) : "yes");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return after_exec(atol(argv[2]));
	if (argc == 2 && strcmp(argv[1], "probe") == 0) /* may we use keys natively? */
		return keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0;
	EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0));
	ukt_in_child("request_key", request);
	ukt_in_child("request_key without Write", request_noperm);
	ukt_in_child("revoke and invalidate", revoke_invalidate);
	ukt_in_child("threads", threads);
	ukt_in_child("other user", other_user);
	ukt_in_child("quota", quota);
	ukt_in_child("fork and exec", fork_exec);
	ukt_in_child("proc files", proc_files);
	return ukt_exit();
}
