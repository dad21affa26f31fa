package e2e

import (
	"testing"

	"uk/internal/testenv"
)

// TestSyscallPatching: on sigsys a hot syscall site is patched by default
// and with --patch-syscalls (the table it jumps through appears in
// /proc/self/maps; a site across two pages is rewritten too), and not
// with --patch-syscalls=false;
// TestCPrograms/patched checks that the patched sites behave as Linux's.
func TestSyscallPatching(t *testing.T) {
	needUK(t)
	if reason, ok := platformsNotRun["sigsys"]; ok {
		testenv.Need(t, "the sigsys platform", reason)
	}
	prog := cProgram(t, "patched")
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--patch-syscalls"}, "patch table mapped: yes\nsite across two pages patched: yes\n"},
		{nil, "patch table mapped: yes\nsite across two pages patched: yes\n"},
		{[]string{"--patch-syscalls=false"}, "patch table mapped: no\nsite across two pages patched: no\n"},
	} {
		r := runUKSpec(t, "sigsys", prog, runSpec{Args: []string{"maps"}, Flags: c.flags})
		if r.Code != 0 || r.Stdout != c.want {
			t.Errorf("flags %v: exit %d, stdout %q; want %q\nstderr:\n%s", c.flags, r.Code, r.Stdout, c.want, clip(r.Stderr))
		}
	}
}
