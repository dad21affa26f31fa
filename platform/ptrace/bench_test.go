package ptrace

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
	"uk/platform/platformtest"
)

// placements are the CPU placements the benchmarks compare: each
// context's OS thread and stub threads pinned to one CPU (the default), or
// left where the host scheduler puts them.
var placements = []struct {
	name string
	opts Options
}{{"pinned", Options{}}, {"unpinned", Options{NoPin: true}}}

// BenchmarkSyscallRoundTrip is the platform round trip uk pays per
// application syscall: Switch returns a TrapSyscall, uk resumes at once.
func BenchmarkSyscallRoundTrip(b *testing.B) {
	for _, pl := range placements {
		b.Run(pl.name, func(b *testing.B) { platformtest.BenchRoundTrip(b, newPlatform(pl.opts)) })
	}
}

// BenchmarkBareSysemuFloor is the least any ptrace platform can do per
// syscall with the same stub thread and CPU placement: SETREGS, PTRACE_SYSEMU,
// wait4, GETREGS and GETREGSET of the XSAVE state, nothing else.
func BenchmarkBareSysemuFloor(b *testing.B) {
	for _, pl := range placements {
		b.Run(pl.name, func(b *testing.B) {
			// One Switch creates and pins the stub thread and maps the code.
			as, c, st := newEnv(b, pl.opts).Loop(b)
			tid := c.threads[as]
			regs := st.Regs
			fp := make([]byte, arch.FPStateSize())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				regs.Rax = regs.OrigRax
				regs.OrigRax = ^uint64(0)
				if err := stubproc.SetRegs(tid, &regs); err != nil {
					b.Fatal(err)
				}
				if err := stubproc.Resume(unix.PTRACE_SYSEMU, tid); err != nil {
					b.Fatal(err)
				}
				if _, _, err := stubproc.Wait4(tid, 0); err != nil {
					b.Fatal(err)
				}
				if err := stubproc.GetRegs(tid, &regs); err != nil {
					b.Fatal(err)
				}
				if _, err := stubproc.GetXState(tid, fp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPaired alternates blocks of Switch round trips and bare floor
// round trips on the same stub thread, so that load from elsewhere on the
// machine hits both alike; it reports both (switch-ns/op, floor-ns/op) and
// their ratio.
func BenchmarkPaired(b *testing.B) {
	for _, pl := range placements {
		b.Run(pl.name, func(b *testing.B) {
			as, c, st := newEnv(b, pl.opts).Loop(b)
			tid := c.threads[as]
			fp := make([]byte, arch.FPStateSize())
			const block = 100
			var sw, fl time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += block {
				t0 := time.Now()
				for i := 0; i < block; i++ {
					if trap, err := c.Switch(as, st); err != nil || trap.Kind != platform.TrapSyscall {
						b.Fatalf("trap %+v err %v", trap, err)
					}
				}
				t1 := time.Now()
				regs := st.Regs
				for i := 0; i < block; i++ {
					regs.Rax = regs.OrigRax
					regs.OrigRax = ^uint64(0)
					stubproc.SetRegs(tid, &regs)
					stubproc.Resume(unix.PTRACE_SYSEMU, tid)
					stubproc.Wait4(tid, 0)
					stubproc.GetRegs(tid, &regs)
					stubproc.GetXState(tid, fp)
				}
				t2 := time.Now()
				sw += t1.Sub(t0)
				fl += t2.Sub(t1)
				st.Regs = regs
				st.Regs.Rax = regs.OrigRax
			}
			n := float64((b.N + block - 1) / block * block)
			b.ReportMetric(float64(sw.Nanoseconds())/n, "switch-ns/op")
			b.ReportMetric(float64(fl.Nanoseconds())/n, "floor-ns/op")
			b.ReportMetric(float64(sw)/float64(fl), "switch/floor")
		})
	}
}

// BenchmarkMapping is platformtest.BenchMapping on this platform: here
// the batches run in the context's own stub thread, which uk traces.
func BenchmarkMapping(b *testing.B) {
	platformtest.BenchMapping(b, newPlatform(Options{}))
}

// BenchmarkEmptyBatch is platformtest.BenchEmptyBatch on this platform:
// what a mapping batch costs before the host's own mapping work.
func BenchmarkEmptyBatch(b *testing.B) {
	platformtest.BenchEmptyBatch(b, newPlatform(Options{}))
}
