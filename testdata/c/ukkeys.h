/* ukkeys.h: the key-management calls and permission bits (keyutils.h's)
 * for the keys*.c test programs, which glibc does not wrap. */
#ifndef UKKEYS_H
#define UKKEYS_H
#include <linux/keyctl.h>

typedef int32_t key_serial_t;

/* Permission bits (keyutils.h's). */
#define KEY_POS_VIEW 0x01000000
#define KEY_POS_READ 0x02000000
#define KEY_POS_WRITE 0x04000000
#define KEY_POS_SEARCH 0x08000000
#define KEY_POS_LINK 0x10000000
#define KEY_POS_SETATTR 0x20000000
#define KEY_POS_ALL 0x3f000000
#define KEY_USR_VIEW 0x00010000
#define KEY_USR_READ 0x00020000
#define KEY_USR_WRITE 0x00040000
#define KEY_USR_SEARCH 0x00080000
#define KEY_USR_LINK 0x00100000
#define KEY_USR_SETATTR 0x00200000
#define KEY_USR_ALL 0x003f0000
#define KEY_GRP_VIEW 0x00000100
#define KEY_GRP_WRITE 0x00000400
#define KEY_GRP_SETATTR 0x00002000
#define KEY_GRP_ALL 0x00003f00
#define KEY_OTH_VIEW 0x00000001
#define KEY_OTH_READ 0x00000002
#define KEY_OTH_WRITE 0x00000004
#define KEY_OTH_SETATTR 0x00000020
#define KEY_OTH_ALL 0x0000003f

static long add_key(const char *type, const char *desc, const void *p, size_t n, key_serial_t ring)
{
	return syscall(SYS_add_key, type, desc, p, n, ring);
}

static long request_key(const char *type, const char *desc, const char *callout, key_serial_t ring)
{
	return syscall(SYS_request_key, type, desc, callout, ring);
}

static long keyctl(int op, unsigned long a, unsigned long b, unsigned long c, unsigned long d)
{
	return syscall(SYS_keyctl, op, a, b, c, d);
}

#endif
