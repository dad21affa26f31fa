package arch

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestRequestNames checks the names against x/sys/unix's values (Linux's
// headers) where it has them, and the renderings of numbers without a
// name.
func TestRequestNames(t *testing.T) {
	cases := []struct {
		render func(uint64) string
		v      uint64
		want   string
	}{
		{IoctlRequest, unix.TCGETS, "TCGETS"},
		{IoctlRequest, unix.TIOCGWINSZ, "TIOCGWINSZ"},
		{IoctlRequest, unix.TIOCSPGRP, "TIOCSPGRP"},
		{IoctlRequest, unix.TIOCGPTN, "TIOCGPTN"},
		{IoctlRequest, unix.TIOCSPTLCK, "TIOCSPTLCK"},
		{IoctlRequest, unix.TIOCSIG, "TIOCSIG"},
		{IoctlRequest, unix.SIOCGIFINDEX, "SIOCGIFINDEX"},
		{IoctlRequest, unix.FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS"},
		{IoctlRequest, unix.FICLONE, "FICLONE"},
		{IoctlRequest, 0x541B, "FIONREAD"},
		{IoctlRequest, 0x5451, "FIOCLEX"},
		// Without a name: the _IOC fields, as strace shows them.
		{IoctlRequest, 0xc0306201, "_IOC(_IOC_READ|_IOC_WRITE, 0x62, 0x1, 0x30)"},
		{IoctlRequest, 0x7301, "_IOC(_IOC_NONE, 0x73, 0x1, 0)"},
		{IoctlRequest, 1 << 40, "0x10000000000"},
		{PrctlOption, unix.PR_SET_NAME, "PR_SET_NAME"},
		{PrctlOption, unix.PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS"},
		{PrctlOption, unix.PR_CAP_AMBIENT, "PR_CAP_AMBIENT"},
		{PrctlOption, unix.PR_SET_VMA, "PR_SET_VMA"},
		{PrctlOption, unix.PR_SET_PTRACER, "PR_SET_PTRACER"},
		{PrctlOption, 0x7777, "0x7777"},
		{ArchPrctlCode, 0x1002, "ARCH_SET_FS"},
		{ArchPrctlCode, 0x1022, "ARCH_GET_XCOMP_PERM"},
		{ArchPrctlCode, 0x9999, "0x9999"},
		{FcntlCommand, unix.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"},
		{FcntlCommand, unix.F_OFD_SETLKW, "F_OFD_SETLKW"},
		{FcntlCommand, unix.F_GETPIPE_SZ, "F_GETPIPE_SZ"},
		{FcntlCommand, 99, "99"},
	}
	for _, c := range cases {
		if got := c.render(c.v); got != c.want {
			t.Errorf("%#x renders as %q, want %q", c.v, got, c.want)
		}
	}
}
