package arch

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestErrnoNameMatchesUnix(t *testing.T) {
	for _, tc := range []struct {
		e    unix.Errno
		want string
	}{
		{unix.EPERM, "EPERM"}, {unix.ENOENT, "ENOENT"}, {unix.EINTR, "EINTR"},
		{unix.EAGAIN, "EAGAIN"}, {unix.EWOULDBLOCK, "EAGAIN"}, {unix.EFAULT, "EFAULT"},
		{unix.EINVAL, "EINVAL"}, {unix.ENOTTY, "ENOTTY"}, {unix.ERANGE, "ERANGE"},
		{unix.EDEADLK, "EDEADLK"}, {unix.EDEADLOCK, "EDEADLK"}, {unix.ENOSYS, "ENOSYS"},
		{unix.ELOOP, "ELOOP"}, {unix.ENOMSG, "ENOMSG"}, {unix.EBFONT, "EBFONT"},
		{unix.ENODATA, "ENODATA"}, {unix.EOVERFLOW, "EOVERFLOW"}, {unix.ERESTART, "ERESTART"},
		{unix.ENOTSOCK, "ENOTSOCK"}, {unix.EOPNOTSUPP, "EOPNOTSUPP"}, {unix.ENOTSUP, "EOPNOTSUPP"},
		{unix.EADDRINUSE, "EADDRINUSE"}, {unix.ECONNREFUSED, "ECONNREFUSED"},
		{unix.ETIMEDOUT, "ETIMEDOUT"}, {unix.EINPROGRESS, "EINPROGRESS"}, {unix.EDQUOT, "EDQUOT"},
		{unix.ECANCELED, "ECANCELED"}, {unix.EOWNERDEAD, "EOWNERDEAD"},
		{unix.ENOTRECOVERABLE, "ENOTRECOVERABLE"}, {unix.ERFKILL, "ERFKILL"}, {unix.EHWPOISON, "EHWPOISON"},
		{ERESTARTSYS, "ERESTARTSYS"}, {ERESTARTNOINTR, "ERESTARTNOINTR"},
		{ERESTARTNOHAND, "ERESTARTNOHAND"}, {ERESTART_RESTARTBLOCK, "ERESTART_RESTARTBLOCK"},
		{0, "errno_0"}, {134, "errno_134"}, {520, "errno_520"}, {4095, "errno_4095"},
	} {
		if got := ErrnoName(uint64(tc.e)); got != tc.want {
			t.Errorf("ErrnoName(%d) = %q, want %q", uint64(tc.e), got, tc.want)
		}
	}
}

// TestErrnoNamesAllKnown checks every name in the table against the number
// x/sys gives the same name, so a shifted row would fail.
func TestErrnoNamesAllKnown(t *testing.T) {
	for i, name := range errnoNames {
		if name == "" {
			continue
		}
		e := unix.ErrnoName(unix.Errno(i))
		// x/sys prefers the alias for these two; strace and the kernel
		// headers list the primary name first.
		if alias := map[string]string{"EOPNOTSUPP": "ENOTSUP", "EUCLEAN": "EFSCORRUPTED"}[name]; alias == e {
			continue
		}
		if e != name {
			t.Errorf("errno %d: table %q, x/sys %q", i, name, e)
		}
	}
	for i := 1; i <= 133; i++ {
		// Linux never assigned 41 and 58.
		if errnoNames[i] == "" && i != 41 && i != 58 {
			t.Errorf("errno %d has no name", i)
		}
	}
}

func TestRestartCodes(t *testing.T) {
	for _, tc := range []struct {
		e    unix.Errno
		want uint64
	}{{ERESTARTSYS, 512}, {ERESTARTNOINTR, 513}, {ERESTARTNOHAND, 514}, {ERESTART_RESTARTBLOCK, 516}} {
		if uint64(tc.e) != tc.want || !IsRestartErrno(tc.e) {
			t.Errorf("restart code %d: value or IsRestartErrno wrong", tc.want)
		}
	}
	if IsRestartErrno(unix.EINTR) || IsRestartErrno(ENOIOCTLCMD) {
		t.Error("EINTR/ENOIOCTLCMD are not restart codes")
	}
}

func TestReturnErrno(t *testing.T) {
	for _, tc := range []struct {
		rax  uint64
		e    unix.Errno
		isEr bool
	}{
		{0, 0, false}, {42, 0, false}, {^uint64(0), unix.EPERM, true},
		{uint64(1<<64 - 2), unix.ENOENT, true}, {1<<64 - 4095, 4095, true},
		{1<<64 - 4096, 0, false}, {0x7fffffffffffffff, 0, false},
		{uint64(1<<64 - 512), ERESTARTSYS, true},
	} {
		e, ok := ReturnErrno(tc.rax)
		if e != tc.e || ok != tc.isEr {
			t.Errorf("ReturnErrno(%#x) = %d,%v want %d,%v", tc.rax, e, ok, tc.e, tc.isEr)
		}
	}
}
