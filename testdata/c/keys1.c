/*
 * keys1: add_key(2) and keyctl(2) basics, as LTP's add_key01-04 and
 * keyctl01, keyctl06, keyctl08, keyctl10-14, keyctl15-24 check them:
 * payload and description limits per type, the special keyrings,
 * describe, read (keyrings too), update, search, link, unlink, move,
 * clear, restrict, and their errors. Each program first joins a new
 * anonymous session keyring so that nothing of the host's keyrings is
 * touched; serials are never printed, only relations.
 */
#include "uktest.h"
#include "ukkeys.h"

#define PERM_ALL (KEY_POS_ALL | KEY_USR_ALL | KEY_GRP_ALL | KEY_OTH_ALL)

static char big[40000];

static void payload_limits(void)
{
	EXPECT_OK(add_key("keyring", "abc", big, 0, KEY_SPEC_THREAD_KEYRING));
	EXPECT_ERR(add_key("keyring", "bcd", big, 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_OK(add_key("user", "cde", big, 32767, KEY_SPEC_THREAD_KEYRING));
	EXPECT_ERR(add_key("user", "def", big, 32768, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_OK(add_key("logon", "ef:g", big, 32767, KEY_SPEC_THREAD_KEYRING));
	EXPECT_ERR(add_key("logon", "fg:h", big, 32768, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("logon", "nocolon", "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("logon", ":x", "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("user", "u0", "x", 0, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("user", "abc:def", NULL, 64, KEY_SPEC_PROCESS_KEYRING), EFAULT);
	EXPECT_ERR(add_key("logon", "abc:def", NULL, 64, KEY_SPEC_PROCESS_KEYRING), EFAULT);
	EXPECT_ERR(add_key("user", "u1", big, (1 << 20), KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("nosuchtype", "u1", "x", 1, KEY_SPEC_THREAD_KEYRING), ENODEV);
	EXPECT_ERR(add_key(".user", "u1", "x", 1, KEY_SPEC_THREAD_KEYRING), EPERM);
	EXPECT_ERR(add_key("", "u1", "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("0123456789012345678901234567890123", "u1", "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("keyring", ".dot", NULL, 0, KEY_SPEC_THREAD_KEYRING), EPERM);
	EXPECT_ERR(add_key("user", NULL, "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("user", "", "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	EXPECT_ERR(add_key("user", (char *)-1, "x", 1, KEY_SPEC_THREAD_KEYRING), EFAULT);
	EXPECT_ERR(add_key((char *)-1, "d", "x", 1, KEY_SPEC_THREAD_KEYRING), EFAULT);
	memset(big, 'a', 4096);
	big[4096] = 0;
	EXPECT_ERR(add_key("user", big, "x", 1, KEY_SPEC_THREAD_KEYRING), EINVAL);
	big[4095] = 0;
	EXPECT_OK(add_key("user", big, "x", 1, KEY_SPEC_THREAD_KEYRING));
	memset(big, 0, sizeof big);
	EXPECT_ERR(add_key("user", "u1", "x", 1, KEY_SPEC_GROUP_KEYRING), EINVAL);
	EXPECT_ERR(add_key("user", "u1", "x", 1, 0), EINVAL);
	EXPECT_ERR(add_key("user", "u1", "x", 1, KEY_SPEC_REQKEY_AUTH_KEY), ENOKEY);
	EXPECT_ERR(add_key("user", "u1", "x", 1, 0x7fffffff), ENOKEY);
	long k = EXPECT_OK(add_key("user", "plain", "x", 1, KEY_SPEC_THREAD_KEYRING));
	EXPECT_ERR(add_key("user", "u1", "x", 1, k), ENOTDIR);
}

static void describe(void)
{
	long k = EXPECT_OK(add_key("user", "ltpkeyctl10", "payload", 8, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SETPERM, k, KEY_POS_ALL | KEY_USR_ALL, 0, 0));
	char want[128], buf[128];
	int n = snprintf(want, sizeof want, "user;%u;%u;%08x;ltpkeyctl10", getuid(), getgid(), KEY_POS_ALL | KEY_USR_ALL);
	EXPECT_EQ(keyctl(KEYCTL_DESCRIBE, k, 0, 0, 0), n + 1);
	memset(buf, 0x55, sizeof buf);
	EXPECT_EQ(keyctl(KEYCTL_DESCRIBE, k, (unsigned long)buf, n, 0), n + 1);
	CHECK("short buffer untouched", (unsigned char)buf[0] == 0x55);
	EXPECT_EQ(keyctl(KEYCTL_DESCRIBE, k, (unsigned long)buf, n + 1, 0), n + 1);
	CHECK("description", strcmp(buf, want) == 0);
	EXPECT_ERR(keyctl(KEYCTL_DESCRIBE, k, 8, n + 1, 0), EFAULT);
	EXPECT_ERR(keyctl(KEYCTL_DESCRIBE, 0x7fffffff, (unsigned long)buf, sizeof buf, 0), ENOKEY);
	/* The default permissions of each type. */
	long l = EXPECT_OK(add_key("logon", "a:b", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	long r = EXPECT_OK(add_key("keyring", "r", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	long u = EXPECT_OK(add_key("user", "u", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	keyctl(KEYCTL_DESCRIBE, l, (unsigned long)buf, sizeof buf, 0);
	printf("logon: %s\n", strchr(strchr(strchr(buf, ';') + 1, ';') + 1, ';') + 1);
	keyctl(KEYCTL_DESCRIBE, r, (unsigned long)buf, sizeof buf, 0);
	printf("keyring: %s\n", strchr(strchr(strchr(buf, ';') + 1, ';') + 1, ';') + 1);
	keyctl(KEYCTL_DESCRIBE, u, (unsigned long)buf, sizeof buf, 0);
	printf("user: %s\n", strchr(strchr(strchr(buf, ';') + 1, ';') + 1, ';') + 1);
	keyctl(KEYCTL_DESCRIBE, KEY_SPEC_PROCESS_KEYRING, (unsigned long)buf, sizeof buf, 0);
	printf("process keyring: %s\n", strchr(strchr(strchr(buf, ';') + 1, ';') + 1, ';') + 1);
	keyctl(KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, (unsigned long)buf, sizeof buf, 0);
	printf("session keyring: %s\n", strchr(strchr(strchr(buf, ';') + 1, ';') + 1, ';') + 1);
	/* No View: EACCES; GET_SECURITY looks for an authorisation key. */
	EXPECT_OK(keyctl(KEYCTL_SETPERM, k, PERM_ALL & ~(KEY_POS_VIEW | KEY_USR_VIEW | KEY_GRP_VIEW | KEY_OTH_VIEW), 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_DESCRIBE, k, (unsigned long)buf, sizeof buf, 0), EACCES);
	EXPECT_ERR(keyctl(KEYCTL_GET_SECURITY, k, (unsigned long)buf, sizeof buf, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_GET_SECURITY, 0x7fffffff, (unsigned long)buf, sizeof buf, 0), ENOKEY);
	memset(buf, 0x55, sizeof buf);
	EXPECT_EQ(keyctl(KEYCTL_GET_SECURITY, u, (unsigned long)buf, 1, 0), 1);
	CHECK("empty label", buf[0] == 0 && (unsigned char)buf[1] == 0x55);
	EXPECT_EQ(keyctl(KEYCTL_GET_SECURITY, u, 0, 0, 0), 1);
	EXPECT_ERR(keyctl(KEYCTL_SETPERM, k, 0x40000000, 0, 0), EINVAL);
}

static void read_keys(void)
{
	char buf[64];
	long r = EXPECT_OK(add_key("keyring", "rd", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_EQ(keyctl(KEYCTL_READ, r, (unsigned long)buf, sizeof buf, 0), 0);
	long k1 = EXPECT_OK(add_key("user", "key1", "payload", 7, r));
	long k2 = EXPECT_OK(add_key("user", "key2", "payload", 7, r));
	key_serial_t ids[3] = {0, 0, 0};
	EXPECT_EQ(keyctl(KEYCTL_READ, r, (unsigned long)ids, 4, 0), 8);
	CHECK("no overrun", ids[1] == 0);
	EXPECT_EQ(keyctl(KEYCTL_READ, r, (unsigned long)ids, sizeof ids, 0), 8);
	CHECK("both linked", (ids[0] == k1 && ids[1] == k2) || (ids[0] == k2 && ids[1] == k1));
	EXPECT_ERR(keyctl(KEYCTL_READ, r, (unsigned long)ids, 6, 0), EINVAL);
	EXPECT_EQ(keyctl(KEYCTL_READ, r, 0, 0, 0), 8);
	EXPECT_EQ(keyctl(KEYCTL_READ, k1, 0, 0, 0), 7);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ(keyctl(KEYCTL_READ, k1, (unsigned long)buf, 3, 0), 7);
	CHECK("short buffer not written", buf[0] == 0);
	EXPECT_EQ(keyctl(KEYCTL_READ, k1, (unsigned long)buf, sizeof buf, 0), 7);
	CHECK("payload", memcmp(buf, "payload", 7) == 0);
	EXPECT_ERR(keyctl(KEYCTL_READ, k1, 8, sizeof buf, 0), EFAULT);
	long l = EXPECT_OK(add_key("logon", "s:x", "secret", 6, r));
	EXPECT_ERR(keyctl(KEYCTL_READ, l, (unsigned long)buf, sizeof buf, 0), EOPNOTSUPP);
	/* keyctl01: a key that does not exist. */
	EXPECT_ERR(keyctl(KEYCTL_READ, 0x7fffffff, (unsigned long)buf, sizeof buf, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_REVOKE, 0x7fffffff, 0, 0, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_READ, -100, (unsigned long)buf, sizeof buf, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_REVOKE, -100, 0, 0, 0), EINVAL);
	EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_SESSION_KEYRING, 0, 0, 0));
	/* Update. */
	EXPECT_OK(keyctl(KEYCTL_UPDATE, k1, (unsigned long)"longer payload", 14, 0));
	EXPECT_EQ(keyctl(KEYCTL_READ, k1, (unsigned long)buf, sizeof buf, 0), 14);
	EXPECT_ERR(keyctl(KEYCTL_UPDATE, k1, (unsigned long)"x", 0, 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_UPDATE, k1, (unsigned long)big, 4097, 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_UPDATE, k1, 8, 4, 0), EFAULT);
	EXPECT_ERR(keyctl(KEYCTL_UPDATE, r, (unsigned long)"x", 1, 0), EOPNOTSUPP);
	EXPECT_OK(keyctl(KEYCTL_UPDATE, l, (unsigned long)"x", 1, 0));
	/* add_key over an existing key updates it, keeping its serial. */
	EXPECT_EQ(add_key("user", "key1", "again", 5, r), k1);
	EXPECT_EQ(keyctl(KEYCTL_READ, k1, (unsigned long)buf, sizeof buf, 0), 5);
	/* A keyring is replaced instead. */
	long r2 = EXPECT_OK(add_key("keyring", "sub", NULL, 0, r));
	long r3 = EXPECT_OK(add_key("keyring", "sub", NULL, 0, r));
	CHECK("new keyring replaces", r2 != r3);
	EXPECT_EQ(keyctl(KEYCTL_READ, r, 0, 0, 0), 16);
}

static void search_link(void)
{
	long a = EXPECT_OK(add_key("keyring", "ring_a", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	long b = EXPECT_OK(add_key("keyring", "ring_b", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	long c = EXPECT_OK(add_key("keyring", "ring_c", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	long k = EXPECT_OK(add_key("user", "k", "payload", 7, a));
	long kb = EXPECT_OK(add_key("user", "kb", "payload", 7, b));
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, a, (unsigned long)"user", (unsigned long)"k", 0), k);
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, KEY_SPEC_PROCESS_KEYRING, (unsigned long)"user", (unsigned long)"k", 0), k);
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, KEY_SPEC_PROCESS_KEYRING, (unsigned long)"keyring", (unsigned long)"ring_b", 0), b);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, b, (unsigned long)"user", (unsigned long)"k", 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, a, (unsigned long)"nosuch", (unsigned long)"k", 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, k, (unsigned long)"user", (unsigned long)"k", 0), ENOTDIR);
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, a, (unsigned long)"user", (unsigned long)"k", c), k);
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, c, (unsigned long)"user", (unsigned long)"k", 0), k);
	EXPECT_OK(keyctl(KEYCTL_UNLINK, k, c, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_UNLINK, k, c, 0, 0), ENOENT);
	EXPECT_ERR(keyctl(KEYCTL_UNLINK, k, kb, 0, 0), ENOTDIR);
	/* Move (keyctl18-21). */
	EXPECT_OK(keyctl(KEYCTL_MOVE, k, a, a, 0));
	EXPECT_OK(keyctl(KEYCTL_MOVE, k, a, b, 0));
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, b, (unsigned long)"user", (unsigned long)"k", 0), k);
	EXPECT_ERR(keyctl(KEYCTL_SEARCH, a, (unsigned long)"user", (unsigned long)"k", 0), ENOKEY);
	long k2 = EXPECT_OK(add_key("user", "k", "other", 5, a));
	EXPECT_OK(keyctl(KEYCTL_LINK, k2, KEY_SPEC_SESSION_KEYRING, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, a, b, KEYCTL_MOVE_EXCL), EEXIST);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, a, b, 2), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, 0x7fffffff, a, b, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, 0x7fffffff, b, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, a, 0x7fffffff, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, kb, b, 0), ENOTDIR);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, a, kb, 0), ENOTDIR);
	EXPECT_ERR(keyctl(KEYCTL_MOVE, kb, a, c, 0), ENOENT);
	EXPECT_OK(keyctl(KEYCTL_MOVE, k2, a, b, 0));
	EXPECT_EQ(keyctl(KEYCTL_SEARCH, b, (unsigned long)"user", (unsigned long)"k", 0), k2);
	/* Cycles. */
	EXPECT_OK(keyctl(KEYCTL_LINK, c, b, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_MOVE, c, b, c, 0), EDEADLK);
	EXPECT_ERR(keyctl(KEYCTL_LINK, b, c, 0, 0), EDEADLK);
	EXPECT_ERR(keyctl(KEYCTL_LINK, b, b, 0, 0), EDEADLK);
	long nw = EXPECT_OK(add_key("keyring", "nowrite", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SETPERM, nw, PERM_ALL & ~(KEY_POS_WRITE | KEY_USR_WRITE | KEY_GRP_WRITE | KEY_OTH_WRITE), 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_MOVE, k2, b, nw, 0), EACCES);
	EXPECT_ERR(keyctl(KEYCTL_LINK, k2, nw, 0, 0), EACCES);
	EXPECT_ERR(add_key("user", "x", "x", 1, nw), EACCES);
	/* Clear. */
	EXPECT_OK(keyctl(KEYCTL_CLEAR, b, 0, 0, 0));
	EXPECT_EQ(keyctl(KEYCTL_READ, b, 0, 0, 0), 0);
	EXPECT_ERR(keyctl(KEYCTL_CLEAR, k2, 0, 0, 0), ENOTDIR);
	/* Nesting deeper than a search goes. */
	long prev = KEY_SPEC_SESSION_KEYRING;
	int depth;
	for (depth = 0; depth < 10; depth++) {
		char d[16];
		snprintf(d, sizeof d, "d%d", depth);
		long n = add_key("keyring", d, NULL, 0, prev);
		if (n < 0) {
			printf("nesting stops at %d: %s\n", depth, errname(errno));
			break;
		}
		prev = n;
	}
}

static void restrict_ring(void)
{
	long rj = EXPECT_OK(add_key("keyring", "reject", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	long k = EXPECT_OK(add_key("user", "k", "payload", 7, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_RESTRICT_KEYRING, rj, 0, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, rj, 0, 0, 0), EEXIST);
	EXPECT_ERR(keyctl(KEYCTL_LINK, k, rj, 0, 0), EPERM);
	EXPECT_ERR(add_key("user", "k_rej", "x", 1, rj), EPERM);
	long f = EXPECT_OK(add_key("keyring", "fresh", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, f, 0, (unsigned long)"builtin_trusted", 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, f, (unsigned long)"asymmetric", 0, 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, k, 0, 0, 0), ENOTDIR);
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, f, (unsigned long)"nosuchtype", (unsigned long)"builtin_trusted", 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, f, (unsigned long)"user", (unsigned long)"builtin_trusted", 0), ENOENT);
	long ns = EXPECT_OK(add_key("keyring", "nosetattr", NULL, 0, KEY_SPEC_PROCESS_KEYRING));
	EXPECT_OK(keyctl(KEYCTL_SETPERM, ns, PERM_ALL & ~(KEY_POS_SETATTR | KEY_USR_SETATTR | KEY_GRP_SETATTR | KEY_OTH_SETATTR), 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_RESTRICT_KEYRING, ns, 0, 0, 0), EACCES);
	EXPECT_ERR(keyctl(KEYCTL_SETPERM, ns, PERM_ALL, 0, 0), EACCES);
}

static void special(void)
{
	/* keyctl04: setting the request-key default keeps the thread keyring. */
	long t = EXPECT_OK(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1, 0, 0));
	EXPECT_EQ(keyctl(KEYCTL_SET_REQKEY_KEYRING, KEY_REQKEY_DEFL_THREAD_KEYRING, 0, 0, 0), KEY_REQKEY_DEFL_DEFAULT);
	EXPECT_EQ(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0, 0, 0), t);
	EXPECT_EQ(keyctl(KEYCTL_SET_REQKEY_KEYRING, KEY_REQKEY_DEFL_NO_CHANGE, 0, 0, 0), KEY_REQKEY_DEFL_THREAD_KEYRING);
	EXPECT_ERR(keyctl(KEYCTL_SET_REQKEY_KEYRING, KEY_REQKEY_DEFL_GROUP_KEYRING, 0, 0, 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_SET_REQKEY_KEYRING, 99, 0, 0, 0), EINVAL);
	EXPECT_EQ(keyctl(KEYCTL_SET_REQKEY_KEYRING, KEY_REQKEY_DEFL_DEFAULT, 0, 0, 0), KEY_REQKEY_DEFL_THREAD_KEYRING);
	/* keyctl08: keyrings whose name starts with a dot cannot be joined. */
	EXPECT_ERR(keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)".builtin_trusted_keys", 0, 0, 0), EPERM);
	long s = EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)"uk-named-session", 0, 0, 0));
	EXPECT_EQ(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0), s);
	/* Without Search for its owner, a named keyring is not found again. */
	long s1 = EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)"uk-named-session", 0, 0, 0));
	CHECK("named session not found without Search", s1 != s);
	EXPECT_OK(keyctl(KEYCTL_SETPERM, s1, KEY_POS_ALL | KEY_USR_ALL, 0, 0));
	EXPECT_EQ(keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)"uk-named-session", 0, 0, 0), 0);
	EXPECT_OK(keyctl(KEYCTL_LINK, s1, KEY_SPEC_PROCESS_KEYRING, 0, 0)); /* keeps it alive */
	long s2 = EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0));
	CHECK("anonymous session is new", s2 != s1);
	EXPECT_EQ(keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)"uk-named-session", 0, 0, 0), s1);
	EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0));
	EXPECT_ERR(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_GROUP_KEYRING, 0, 0, 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_REQKEY_AUTH_KEY, 0, 0, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_REQUESTOR_KEYRING, 0, 0, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_ASSUME_AUTHORITY, -1, 0, 0, 0), EINVAL);
	EXPECT_EQ(keyctl(KEYCTL_ASSUME_AUTHORITY, 0, 0, 0, 0), 0);
	EXPECT_ERR(keyctl(KEYCTL_ASSUME_AUTHORITY, t, 0, 0, 0), ENOKEY);
	EXPECT_ERR(keyctl(KEYCTL_INSTANTIATE, t, (unsigned long)"x", 1, 0), EPERM);
	EXPECT_ERR(keyctl(KEYCTL_NEGATE, t, 10, 0, 0), EPERM);
	EXPECT_ERR(keyctl(KEYCTL_REJECT, t, 10, 0, 0), EINVAL);
	EXPECT_ERR(keyctl(KEYCTL_REJECT, t, 10, ENOKEY, 0), EPERM);
	EXPECT_ERR(keyctl(9999, 0, 0, 0, 0), EOPNOTSUPP);
	EXPECT_ERR(keyctl(KEYCTL_PKEY_QUERY, t, 1, 0, 0), EINVAL);
	unsigned char caps[4] = {0, 0, 0x55, 0x55};
	EXPECT_EQ(keyctl(KEYCTL_CAPABILITIES, (unsigned long)caps, sizeof caps, 0, 0), 2);
	CHECK("capabilities: invalidate, restrict, move", (caps[0] & 0xe1) == 0xe1 && caps[2] == 0 && caps[3] == 0);
	EXPECT_EQ(keyctl(KEYCTL_CAPABILITIES, 0, 0, 0, 0), 2);
}

static void many_keyrings(void)
{
	/* add_key04: 16 keyrings, then a user key, in a child. */
	char d[32];
	for (int i = 0; i < 16; i++) {
		snprintf(d, sizeof d, "keyring%d", i);
		if (add_key("keyring", d, NULL, 0, KEY_SPEC_SESSION_KEYRING) < 0)
			printf("keyring %d: FAIL %s\n", i, errname(errno));
	}
	EXPECT_OK(add_key("user", "userkey", "payload", 8, KEY_SPEC_SESSION_KEYRING));
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "probe") == 0) /* may we use keys natively? */
		return keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0;
	EXPECT_OK(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0));
	ukt_in_child("payload limits", payload_limits);
	ukt_in_child("describe", describe);
	ukt_in_child("read", read_keys);
	ukt_in_child("search and link", search_link);
	ukt_in_child("restrict", restrict_ring);
	ukt_in_child("special keyrings", special);
	ukt_in_child("many keyrings", many_keyrings);
	(void)request_key;
	return ukt_exit();
}
