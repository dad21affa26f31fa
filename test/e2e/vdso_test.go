package e2e

import (
	"strings"
	"testing"
)

// TestVDSONoClockSyscalls checks that a program reading the clock through
// libc is served by uk's vDSO: under --strace, of its 100000 reads at most a
// few hundred show as clock_gettime syscalls (the vDSO falls back to the
// syscall until the timekeeper's first snapshot, taken about 2 ms after uk
// starts, which a program started at once can beat), while the same
// program's results match native Linux.
func TestVDSONoClockSyscalls(t *testing.T) {
	prog := cProgram(t, "vdso")
	spec := runSpec{Args: []string{"only"}}
	native := runNativeSpec(t, prog, spec)
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, prog, runSpec{Args: spec.Args, Flags: []string{"--strace"}})
		sameAsNative(t, native, r)
		// Each fallback syscall takes ~20 µs on ptrace: 2 ms of them is
		// about 100; a vDSO that never served would show 100000.
		if n := strings.Count(r.Stderr, "clock_gettime("); n > 500 {
			t.Errorf("--strace shows %d clock_gettime syscalls for 100000 reads; want at most 500 (the vDSO should serve them)", n)
		} else if n > 0 {
			t.Logf("%d clock_gettime syscalls before the vDSO's first snapshot", n)
		}
		if !strings.Contains(r.Stderr, "exit_group(0") {
			t.Errorf("--strace output looks incomplete:\n%s", clip(r.Stderr))
		}
	})
}
