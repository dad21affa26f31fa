package sigsys

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/platformtest"
)

// placements are the CPU placements and hand-off modes the benchmarks
// compare: the default (pinned, split across two CPUs with spinning
// hand-offs while a CPU is free), pinned to one CPU only (every hand-off
// a futex wake), and wherever the host puts the threads, with brief spins
// and without.
var placements = []struct {
	name string
	opts Options
}{
	{"split", Options{}},
	{"pinned", Options{NoSplit: true}},
	{"spin-unpinned", Options{NoPin: true}},
	{"futex-unpinned", Options{Spin: -1, NoPin: true}},
}

// BenchmarkSyscallRoundTrip is the platform round trip uk pays per
// application syscall: Switch returns a TrapSyscall, uk resumes at once.
func BenchmarkSyscallRoundTrip(b *testing.B) {
	for _, pl := range placements {
		b.Run(pl.name, func(b *testing.B) { platformtest.BenchRoundTrip(b, newPlatform(pl.opts)) })
	}
}

// BenchmarkBareSigsysFloor is the least this mechanism can do per syscall
// with the same stub thread, handler and CPU placement: the host traps the
// syscall, delivers SIGSYS, the handler publishes it through the state
// word, and a Go loop that does nothing else (no frame copy, no checks)
// answers through the word; the handler returns with rt_sigreturn.
func BenchmarkBareSigsysFloor(b *testing.B) {
	for _, pl := range placements {
		b.Run(pl.name, func(b *testing.B) {
			// One Switch creates the stub thread and maps the code; the
			// thread then waits in the handler with a frame that
			// resumes the loop.
			as, c, _ := newEnv(b, pl.opts).Loop(b)
			t := c.threads[as]
			times := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := c.run(t, stateRunning); err != nil {
					b.Fatal(err)
				}
				times[i] = time.Since(start)
			}
			platformtest.ReportMedian(b, times)
		})
	}
}

// BenchmarkMapping is platformtest.BenchMapping on this platform: here
// the batches run in the stub's serving thread.
func BenchmarkMapping(b *testing.B) {
	platformtest.BenchMapping(b, newPlatform(Options{}))
}

// TestSpinBound: a thread that never traps leaves uk asleep on the state
// word after the spin time, not spinning; an Interrupt brings it back.
func TestSpinBound(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, []byte{0xeb, 0xfe}) // jmp .
	c := e.Context(t)
	defer c.Release()
	st := platformtest.InitState()
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.Interrupt()
	}()
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
	start := time.Now()
	platformtest.MustSwitch(t, c, as, st, platform.TrapInterrupt)
	unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano())
	if wall := time.Since(start); cpu > wall/2 {
		t.Errorf("uk spent %v of CPU in %v waiting for a thread that does not trap", cpu, wall)
	}
}

// BenchmarkEmptyBatch is platformtest.BenchEmptyBatch on this platform:
// what a mapping batch costs before the host's own mapping work.
func BenchmarkEmptyBatch(b *testing.B) {
	platformtest.BenchEmptyBatch(b, newPlatform(Options{}))
}

// BenchmarkSpawn is an address space's and a context's life, from
// NewAddressSpace to the first syscall and both released.
func BenchmarkSpawn(b *testing.B) {
	platformtest.BenchSpawn(b, newPlatform(Options{}))
}

// BenchmarkThread is a stub thread's life in a live address space: a
// new context up to its first syscall, released.
func BenchmarkThread(b *testing.B) {
	platformtest.BenchThread(b, newPlatform(Options{}))
}
