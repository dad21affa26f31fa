package arch

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestRestartSyscall(t *testing.T) {
	neg := func(e unix.Errno) uint64 { return ^uint64(e) + 1 }
	const rip, nr = 0x401002, SysRead
	for _, tc := range []struct {
		name     string
		rax      uint64
		origRax  uint64
		handler  bool
		flags    uint64
		restart  bool
		wantRax  uint64
		wantRipD uint64
	}{
		{"NOINTR with handler", neg(ERESTARTNOINTR), nr, true, 0, true, nr, 2},
		{"NOINTR no handler", neg(ERESTARTNOINTR), nr, false, 0, true, nr, 2},
		{"SYS no handler", neg(ERESTARTSYS), nr, false, 0, true, nr, 2},
		{"SYS handler SA_RESTART", neg(ERESTARTSYS), nr, true, SA_RESTART, true, nr, 2},
		{"SYS handler no SA_RESTART", neg(ERESTARTSYS), nr, true, 0, false, neg(unix.EINTR), 0},
		{"NOHAND no handler", neg(ERESTARTNOHAND), nr, false, 0, true, nr, 2},
		{"NOHAND handler SA_RESTART", neg(ERESTARTNOHAND), nr, true, SA_RESTART, false, neg(unix.EINTR), 0},
		{"RESTARTBLOCK no handler", neg(ERESTART_RESTARTBLOCK), SysNanosleep, false, 0, true, SysRestartSyscall, 2},
		{"RESTARTBLOCK handler", neg(ERESTART_RESTARTBLOCK), SysNanosleep, true, SA_RESTART, false, neg(unix.EINTR), 0},
		{"plain error", neg(unix.EAGAIN), nr, true, 0, false, neg(unix.EAGAIN), 0},
		{"success", 5, nr, true, 0, false, 5, 0},
		{"not a syscall", neg(ERESTARTSYS), ^uint64(0), false, 0, false, neg(ERESTARTSYS), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Registers{Rax: tc.rax, OrigRax: tc.origRax, Rip: rip}
			if got := RestartSyscall(&r, tc.handler, tc.flags); got != tc.restart {
				t.Errorf("restart = %v", got)
			}
			if r.Rax != tc.wantRax || r.Rip != rip-tc.wantRipD {
				t.Errorf("rax %#x rip %#x; want %#x %#x", r.Rax, r.Rip, tc.wantRax, rip-tc.wantRipD)
			}
		})
	}
}
