package main

import (
	"strings"
	"testing"
)

// TestVDSONoClockSyscalls checks that a program reading the clock through
// libc is served by uk's vDSO: under --strace, no clock_gettime syscall
// shows, while the same program's results match native Linux.
func TestVDSONoClockSyscalls(t *testing.T) {
	prog := cProgram(t, "vdso")
	spec := runSpec{Args: []string{"only"}}
	native := runNativeSpec(t, prog, spec)
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, prog, runSpec{Args: spec.Args, Flags: []string{"--strace"}})
		sameAsNative(t, native, r)
		if n := strings.Count(r.Stderr, "clock_gettime("); n != 0 {
			t.Errorf("--strace shows %d clock_gettime syscalls; want 0 (the vDSO should serve them)", n)
		}
		if !strings.Contains(r.Stderr, "exit_group(0") {
			t.Errorf("--strace output looks incomplete:\n%s", clip(r.Stderr))
		}
	})
}
