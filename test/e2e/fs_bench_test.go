package e2e

// Benchmarks of file-system operations on the sandbox's tmpfs against the
// same operations natively (on the host's /tmp): each run of
// testdata/c/fs_bench.c times its own loop, so start-up is excluded.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
)

// fsBenchModes are the operations fs_bench.c times (see its header).
var fsBenchModes = []struct{ name, mode string }{
	{"OpenReadClose", "open"},
	{"CreateUnlink", "create"},
	{"Stat", "stat"},
	{"Getdents1000", "getdents"},
	{"Write1MiB", "write"},
	{"Read1MiB", "read"},
}

// fsBenchLoop runs fs_bench MODE b.N DIR through run and reports the
// program's own ns per iteration.
func fsBenchLoop(b *testing.B, mode string, run func(prog string, args []string) procResult, dir string) {
	prog := cProgram(b, "fs_bench")
	n := b.N
	if mode == "getdents" || mode == "write" || mode == "read" {
		n = max(n/20, 1) // each iteration is many syscalls
	}
	r := run(prog, []string{mode, strconv.Itoa(n), dir})
	if r.Code != 0 {
		b.Fatalf("fs_bench %s exited %d\nstdout:\n%s\nstderr:\n%s", mode, r.Code, clip(r.Stdout), clip(r.Stderr))
	}
	var ns, got int64
	if _, err := fmt.Sscanf(r.Stdout, "ns_total %d iterations %d", &ns, &got); err != nil || got != int64(n) {
		b.Fatalf("fs_bench printed %q: %v", r.Stdout, err)
	}
	b.ReportMetric(float64(ns)/float64(n), "ns/op")
}

// BenchmarkFSNative times each operation on the host.
func BenchmarkFSNative(b *testing.B) {
	for _, m := range fsBenchModes {
		b.Run(m.name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "w")
			fsBenchLoop(b, m.mode, func(prog string, args []string) procResult {
				return runNative(b, prog, args...)
			}, dir)
		})
	}
}

// BenchmarkFSUK times each operation in the sandbox's /tmp on ptrace.
func BenchmarkFSUK(b *testing.B) {
	for _, m := range fsBenchModes {
		b.Run(m.name, func(b *testing.B) {
			needFS(b)
			fsBenchLoop(b, m.mode, func(prog string, args []string) procResult {
				return runUK(b, "ptrace", prog, args)
			}, "/tmp/w")
		})
	}
}
