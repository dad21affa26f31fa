package ptrace

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// syscallLoop is `loop: syscall; jmp loop`; with RAX = getpid's number it
// traps at every iteration.
var syscallLoop = cat(insSyscall, []byte{0xeb, 0xfc})

func placements() []struct {
	name string
	opts Options
} {
	return []struct {
		name string
		opts Options
	}{{"pinned", Options{}}, {"unpinned", Options{NoPin: true}}}
}

// BenchmarkSyscallRoundTrip is the platform round trip uk pays per
// application syscall: Switch returns a TrapSyscall, uk resumes at once.
func BenchmarkSyscallRoundTrip(b *testing.B) {
	for _, pl := range placements() {
		b.Run(pl.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			e := newEnv(b, pl.opts)
			as := e.newAS(b, syscallLoop)
			c := e.newContext(b)
			defer c.Release()
			st := initState()
			st.Regs.Rax = unix.SYS_GETPID
			mustSwitch(b, c, as, st, platform.TrapSyscall)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				trap, err := c.Switch(as, st)
				if err != nil || trap.Kind != platform.TrapSyscall {
					b.Fatalf("trap %+v err %v", trap, err)
				}
			}
		})
	}
}

// BenchmarkBareSysemuFloor is the least any ptrace platform can do per
// syscall with the same stub thread and CPU placement: SETREGS, PTRACE_SYSEMU,
// wait4, GETREGS and GETREGSET of the XSAVE state, nothing else.
func BenchmarkBareSysemuFloor(b *testing.B) {
	for _, pl := range placements() {
		b.Run(pl.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			e := newEnv(b, pl.opts)
			as := e.newAS(b, syscallLoop)
			c := e.newContext(b)
			defer c.Release()
			st := initState()
			st.Regs.Rax = unix.SYS_GETPID
			// One Switch creates and pins the stub thread and maps the code.
			mustSwitch(b, c, as, st, platform.TrapSyscall)
			tid := c.threads[as]
			regs := st.Regs
			fp := make([]byte, arch.FPStateSize())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				regs.Rax = regs.OrigRax
				regs.OrigRax = ^uint64(0)
				if err := setRegs(tid, &regs); err != nil {
					b.Fatal(err)
				}
				if err := resume(unix.PTRACE_SYSEMU, tid); err != nil {
					b.Fatal(err)
				}
				if _, _, err := wait4(tid, 0); err != nil {
					b.Fatal(err)
				}
				if err := getRegs(tid, &regs); err != nil {
					b.Fatal(err)
				}
				if _, err := getXState(tid, fp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
