package e2e

// Benchmarks of uk against native Linux: the cost of one system call (the
// program times its own loop, so process and sandbox start-up are excluded)
// and the start-to-exit time of a whole program.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// getpidLoop runs getpid_bench with b.N iterations through run and reports
// the program's own measurement of the loop as ns/op.
func getpidLoop(b *testing.B, run func(prog string, args []string) procResult) {
	selfTimedLoop(b, "getpid_bench", run)
}

// selfTimedLoop runs a C program that times b.N iterations of its own loop
// and reports that time as ns/op.
func selfTimedLoop(b *testing.B, name string, run func(prog string, args []string) procResult) {
	prog := cProgram(b, name)
	r := run(prog, []string{strconv.Itoa(b.N)})
	if r.Code != 0 {
		b.Fatalf("%s exited %d\nstdout:\n%s\nstderr:\n%s", name, r.Code, clip(r.Stdout), clip(r.Stderr))
	}
	var ns, n int64
	if _, err := fmt.Sscanf(r.Stdout, "ns_total %d iterations %d", &ns, &n); err != nil || n != int64(b.N) {
		b.Fatalf("%s printed %q: %v", name, r.Stdout, err)
	}
	// Replaces the framework's ns/op, which would include start-up.
	b.ReportMetric(float64(ns)/float64(b.N), "ns/op")
}

// selfTimedOnEveryPlatform is selfTimedLoop of the program name under uk,
// one sub-benchmark for each platform of the test matrix.
func selfTimedOnEveryPlatform(b *testing.B, name string) {
	if len(testPlatforms) == 0 {
		b.Fatalf("no platform to run on: %v", platformsNotRun)
	}
	for _, p := range testPlatforms {
		b.Run(p, func(b *testing.B) {
			selfTimedLoop(b, name, func(prog string, args []string) procResult { return runUK(b, p, prog, args) })
		})
	}
}

// BenchmarkGetpidNative is the floor: one getpid system call on the host.
func BenchmarkGetpidNative(b *testing.B) {
	getpidLoop(b, func(prog string, args []string) procResult {
		return runNative(b, prog, args...)
	})
}

// BenchmarkGetpidUK is one getpid handled by uk on the ptrace platform.
func BenchmarkGetpidUK(b *testing.B) {
	getpidLoop(b, func(prog string, args []string) procResult {
		return runUK(b, "ptrace", prog, args)
	})
}

// startToExit runs `busybox true` b.N times through run and reports the mean
// wall time of one run in ms/op.
func startToExit(b *testing.B, run func() procResult) {
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if r := run(); r.Code != 0 {
			b.Fatalf("busybox true exited %d\nstderr:\n%s", r.Code, clip(r.Stderr))
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkBusyboxTrueNative is `busybox true` started and reaped on the host.
func BenchmarkBusyboxTrueNative(b *testing.B) {
	startToExit(b, func() procResult { return runNative(b, busybox, "true") })
}

// BenchmarkBusyboxTrueUK is `uk run -- /bin/busybox true`: sandbox start-up,
// platform choice, loading, running and exit.
func BenchmarkBusyboxTrueUK(b *testing.B) {
	needUK(b)
	startToExit(b, func() procResult {
		return runUKCommand(b, []string{"run", "--", busybox, "true"}, "")
	})
}

// timeNowLoop runs testdata/go/timenow and reports its ns per time.Now.
func timeNowLoop(b *testing.B, run func(prog string) procResult) {
	prog := goProgram(b, "timenow")
	var total float64
	for i := 0; i < b.N; i++ {
		r := run(prog)
		ns, err := strconv.ParseFloat(strings.TrimSpace(r.Stdout), 64)
		if r.Code != 0 || err != nil {
			b.Fatalf("timenow: exit %d, stdout %q\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
		total += ns
	}
	b.ReportMetric(total/float64(b.N), "ns/op")
}

// BenchmarkTimeNowNative is a Go program's time.Now through the host vDSO.
func BenchmarkTimeNowNative(b *testing.B) {
	timeNowLoop(b, func(prog string) procResult { return runNative(b, prog) })
}

// BenchmarkTimeNowUK is the same program under uk, through uk's vDSO.
func BenchmarkTimeNowUK(b *testing.B) {
	timeNowLoop(b, func(prog string) procResult { return runUK(b, "ptrace", prog, nil) })
}

func init() { otherCPrograms = append(otherCPrograms, "signal_bench") }

// BenchmarkSignalNative is one signal delivered to the calling thread and
// returned from (raise, handler, rt_sigreturn) on the host.
func BenchmarkSignalNative(b *testing.B) {
	selfTimedLoop(b, "signal_bench", func(prog string, args []string) procResult { return runNative(b, prog, args...) })
}

// BenchmarkSignalUK is the same round trip under uk.
func BenchmarkSignalUK(b *testing.B) {
	selfTimedLoop(b, "signal_bench", func(prog string, args []string) procResult { return runUK(b, "ptrace", prog, args) })
}

func init() { otherCPrograms = append(otherCPrograms, "sparse_fault_bench", "cow_break_bench") }

// BenchmarkCOWBreakNative is one copy-on-write break (a fork child's first
// write to a page its parent filled), on the host.
func BenchmarkCOWBreakNative(b *testing.B) {
	selfTimedLoop(b, "cow_break_bench", func(prog string, args []string) procResult { return runNative(b, prog, args...) })
}

// BenchmarkCOWBreakUK is the same under uk, on every platform.
func BenchmarkCOWBreakUK(b *testing.B) { selfTimedOnEveryPlatform(b, "cow_break_bench") }

// BenchmarkSparseFaultNative is one first write to fresh anonymous memory
// with no neighbouring page touched, on the host.
func BenchmarkSparseFaultNative(b *testing.B) {
	selfTimedLoop(b, "sparse_fault_bench", func(prog string, args []string) procResult { return runNative(b, prog, args...) })
}

// BenchmarkSparseFaultUK is the same fault under uk, on each platform of
// the test matrix: the window of pages it maps is mostly never touched.
func BenchmarkSparseFaultUK(b *testing.B) { selfTimedOnEveryPlatform(b, "sparse_fault_bench") }

func init() { otherCPrograms = append(otherCPrograms, "pipe_stream_bench") }

// BenchmarkPipeStreamNative is one 4,500-byte write into a pipe that
// another process drains, on the host: the cost of streaming a program's
// output to the next in a shell pipeline.
func BenchmarkPipeStreamNative(b *testing.B) {
	selfTimedLoop(b, "pipe_stream_bench", func(prog string, args []string) procResult { return runNative(b, prog, args...) })
}

// BenchmarkPipeStreamUK is the same stream under uk, on each platform of
// the test matrix: each write and read is a trap, and the two sides wake
// each other whenever the pipe runs full or empty.
func BenchmarkPipeStreamUK(b *testing.B) { selfTimedOnEveryPlatform(b, "pipe_stream_bench") }
