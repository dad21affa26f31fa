// Package platformtest is the conformance suite every platform.Platform
// runs from its own tests: hand-assembled guest programs, an environment of
// a memory file and guest pages, and Run, which checks what package
// platform promises (syscall and signal traps, faults with the right
// access, unmaps and downgrades in effect at the next touch, Interrupt, the
// FP state and segment bases, several contexts and address spaces).
// Checks of one platform's own machinery stay in that platform's tests,
// which may use the helpers here.
package platformtest

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// Guest memory layout of an Env.
const (
	CodeAddr = 0x400000 // one page of guest code, r-x
	DataAddr = 0x500000 // one page of guest data, rw-
	HoleAddr = 0x600000 // never mapped
)

// Hand-assembled guest instructions (Intel syntax in comments).
var (
	Syscall = []byte{0x0f, 0x05}       // syscall
	Int3    = []byte{0xcc}             // int3
	UD2     = []byte{0x0f, 0x0b}       // ud2
	JmpSelf = []byte{0xeb, 0xfe}       // jmp $
	IncRbx  = []byte{0x48, 0xff, 0xc3} // inc rbx
)

// MovRaxAbs is `mov rax, [addr32]`.
func MovRaxAbs(addr uint32) []byte { return append([]byte{0x48, 0x8b, 0x04, 0x25}, le32(addr)...) }

// MovRbxAbs is `mov rbx, [addr32]`.
func MovRbxAbs(addr uint32) []byte { return append([]byte{0x48, 0x8b, 0x1c, 0x25}, le32(addr)...) }

// MovAbsRax is `mov [addr32], rax`.
func MovAbsRax(addr uint32) []byte { return append([]byte{0x48, 0x89, 0x04, 0x25}, le32(addr)...) }

// MovAbsRbx is `mov [addr32], rbx`.
func MovAbsRbx(addr uint32) []byte { return append([]byte{0x48, 0x89, 0x1c, 0x25}, le32(addr)...) }

// MovdquAbsXmm0 is `movdqu [addr32], xmm0`.
func MovdquAbsXmm0(addr uint32) []byte {
	return append([]byte{0xf3, 0x0f, 0x7f, 0x04, 0x25}, le32(addr)...)
}

// MovdquXmm1Abs is `movdqu xmm1, [addr32]`.
func MovdquXmm1Abs(addr uint32) []byte {
	return append([]byte{0xf3, 0x0f, 0x6f, 0x0c, 0x25}, le32(addr)...)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// Cat concatenates instructions into a program.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// SyscallLoop is `loop: syscall; jmp loop`; with RAX = getpid's number it
// traps at every iteration.
var SyscallLoop = Cat(Syscall, []byte{0xeb, 0xfc})

// NewFunc starts the platform under test on the memory file mf.
type NewFunc func(mf *memfile.File) (platform.Platform, error)

// Env is one test's platform, memory file and guest pages.
type Env struct {
	MF   *memfile.File
	P    platform.Platform
	Code int64 // memory-file offset of the code page
	Data int64 // memory-file offset of the data page
}

// NewEnv starts a platform with newPlatform on a fresh memory file; both
// are closed when the test ends. A platform that does not start fails the
// test: skipping on machines without the platform is the caller's business.
func NewEnv(t testing.TB, newPlatform NewFunc) *Env {
	t.Helper()
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlatform(mf)
	if err != nil {
		mf.Close()
		t.Fatalf("the platform does not start: %v", err)
	}
	offs, err := mf.Allocate(2)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{MF: mf, P: p, Code: offs[0], Data: offs[1]}
	t.Cleanup(func() { p.Close(); mf.Close() })
	return e
}

// NewAS copies code into the code page and returns an address space with
// that page mapped r-x at CodeAddr and the data page rw- at DataAddr. It is
// released when the test ends.
func (e *Env) NewAS(t testing.TB, code []byte) platform.AddressSpace {
	t.Helper()
	copy(e.MF.Bytes(e.Code, arch.PageSize), code)
	as, err := e.P.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(as.Release)
	if err := as.MapFile(CodeAddr, e.Code, arch.PageSize, platform.Read|platform.Exec); err != nil {
		t.Fatal(err)
	}
	if err := as.MapFile(DataAddr, e.Data, arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	return as
}

// NewContext returns a new context; the caller releases it.
func (e *Env) NewContext(t testing.TB) platform.Context {
	t.Helper()
	c, err := e.P.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// StartLoop locks the caller's goroutine to its OS thread until tb ends (a
// context's user must hold it), and returns an address space running
// SyscallLoop, a context (released when tb ends, before the address
// space) and the thread's state, stopped at its first getpid trap: the
// start of every round-trip benchmark.
func (e *Env) StartLoop(tb testing.TB) (platform.AddressSpace, platform.Context, *arch.State) {
	tb.Helper()
	runtime.LockOSThread()
	tb.Cleanup(runtime.UnlockOSThread)
	as := e.NewAS(tb, SyscallLoop)
	c := e.NewContext(tb)
	tb.Cleanup(c.Release)
	st := InitState()
	st.Regs.Rax = unix.SYS_GETPID
	MustSwitch(tb, c, as, st, platform.TrapSyscall)
	return as, c, st
}

// BenchRoundTrip is the platform round trip uk pays per application
// syscall: Switch returns a TrapSyscall, uk resumes at once.
func BenchRoundTrip(b *testing.B, newPlatform NewFunc) {
	as, c, st := NewEnv(b, newPlatform).StartLoop(b)
	timeEach(b, func() {
		trap, err := c.Switch(as, st)
		if err != nil || trap.Kind != platform.TrapSyscall {
			b.Fatalf("trap %+v err %v", trap, err)
		}
	})
}

// timeEach runs op b.N times, timing each, and reports the median
// (ReportMedian).
func timeEach(b *testing.B, op func()) {
	times := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range times {
		start := time.Now()
		op()
		times[i] = time.Since(start)
	}
	ReportMedian(b, times)
}

// BenchMapping measures mapping changes as the kernel's mm makes them: k
// MapFile calls, then a Switch that installs them (one batch) and runs to
// the next syscall, then an Unmap of the whole range (one more batch).
// ns/op is per MapFile; p50-ns is the median of one such round (k maps,
// the switch, the unmap).
func BenchMapping(b *testing.B, newPlatform NewFunc) {
	for _, k := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch%d", k), func(b *testing.B) {
			e := NewEnv(b, newPlatform)
			as, c, st := e.StartLoop(b)
			const base = 0x10000000
			var times []time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += k {
				start := time.Now()
				for i := 0; i < k; i++ {
					// Every other page, so the host cannot merge them.
					if err := as.MapFile(base+uint64(2*i)*arch.PageSize, e.Data, arch.PageSize, platform.Read|platform.Write); err != nil {
						b.Fatal(err)
					}
				}
				if trap, err := c.Switch(as, st); err != nil || trap.Kind != platform.TrapSyscall {
					b.Fatalf("trap %+v err %v", trap, err)
				}
				if err := as.Unmap(base, uint64(2*k)*arch.PageSize); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			ReportMedian(b, times)
		})
	}
}

// BenchEmptyBatch measures the mapping-batch mechanism alone: an Unmap
// of a page nothing maps, which the host does at once. p50-ns is the
// median of one.
func BenchEmptyBatch(b *testing.B, newPlatform NewFunc) {
	as, _, _ := NewEnv(b, newPlatform).StartLoop(b)
	timeEach(b, func() {
		if err := as.Unmap(0x20000000, arch.PageSize); err != nil {
			b.Fatal(err)
		}
	})
}

// ReportMedian adds the median of times to the benchmark's output (p50-ns):
// on a shared machine the mean is mostly other programs' time slices.
func ReportMedian(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
}

// InitState is a thread about to run code at CodeAddr, its stack at the
// top of the data page.
func InitState() *arch.State {
	st := &arch.State{FP: arch.NewFPState(), FPDirty: true}
	st.Regs.Rip = CodeAddr
	st.Regs.Rsp = DataAddr + arch.PageSize
	st.Regs.Eflags = 0x202
	return st
}

// MustSwitch runs st in as on c and fails the test unless it stops with a
// trap of kind want.
func MustSwitch(t testing.TB, c platform.Context, as platform.AddressSpace, st *arch.State, want platform.TrapKind) platform.Trap {
	t.Helper()
	trap, err := c.Switch(as, st)
	if err != nil {
		t.Fatalf("Switch: %v", err)
	}
	if trap.Kind != want {
		t.Fatalf("Switch: trap %+v at rip %#x, want kind %d", trap, st.Regs.Rip, want)
	}
	return trap
}

// Locked keeps the test's goroutine on its OS thread until the test ends,
// as the platform requires of a context's user.
func Locked(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

// UnderTCG reports whether this machine is a QEMU guest with a software
// CPU (CPUID leaf 0x40000000 says "TCGTCGTCGTCG").
func UnderTCG() bool {
	_, b, c, d := arch.CPUID(0x40000000, 0)
	var id [12]byte
	binary.LittleEndian.PutUint32(id[0:], b)
	binary.LittleEndian.PutUint32(id[4:], c)
	binary.LittleEndian.PutUint32(id[8:], d)
	return string(id[:]) == "TCGTCGTCGTCG"
}

// Of is an Env for a platform's own tests, whose platform (Plat), address
// spaces and contexts have that platform's types.
type Of[P platform.Platform, AS platform.AddressSpace, C platform.Context] struct {
	*Env
	Plat P
}

// NewOf is NewEnv for a platform's own tests.
func NewOf[P platform.Platform, AS platform.AddressSpace, C platform.Context](t testing.TB, newPlatform NewFunc) *Of[P, AS, C] {
	t.Helper()
	e := NewEnv(t, newPlatform)
	return &Of[P, AS, C]{Env: e, Plat: e.P.(P)}
}

// AS is NewAS with the platform's type.
func (e *Of[P, AS, C]) AS(t testing.TB, code []byte) AS {
	t.Helper()
	return e.NewAS(t, code).(AS)
}

// Context is NewContext with the platform's type.
func (e *Of[P, AS, C]) Context(t testing.TB) C {
	t.Helper()
	return e.NewContext(t).(C)
}

// Loop is StartLoop with the platform's types.
func (e *Of[P, AS, C]) Loop(t testing.TB) (AS, C, *arch.State) {
	t.Helper()
	as, c, st := e.StartLoop(t)
	return as.(AS), c.(C), st
}

// TwoThreads runs two contexts' threads in one address space running
// SyscallLoop, each to its first getpid trap, then interrupts the first
// and checks that the interrupt arrives as one: what every way of running
// stubs must still do. The contexts are released when t ends; the caller
// holds its OS thread (Locked).
func (e *Of[P, AS, C]) TwoThreads(t *testing.T) (AS, [2]C) {
	t.Helper()
	as := e.AS(t, SyscallLoop)
	cs := [2]C{e.Context(t), e.Context(t)}
	for _, c := range cs {
		t.Cleanup(c.Release)
		st := InitState()
		st.Regs.Rax = unix.SYS_GETPID
		MustSwitch(t, c, as, st, platform.TrapSyscall)
	}
	cs[0].Interrupt()
	MustSwitch(t, cs[0], as, InitState(), platform.TrapInterrupt)
	return as, cs
}

// FilterCase is one syscall a stub filter judges: allowed or not.
type FilterCase struct {
	Name  string
	Nr    uint32
	Args  [6]uint64
	Allow bool
}

// HostFileFilterCases are the calls that install and map a host file in a
// stub (stubproc's hostfiles.go), as the stub filters of every platform
// with Config.HostFiles must judge them, and their near misses.
func HostFileFilterCases() []FilterCase {
	const rx = unix.PROT_READ | unix.PROT_EXEC
	hostMap := func(prot, flags, fd uint64) [6]uint64 { return [6]uint64{0x400000, 4096, prot, flags, fd, 0} }
	return []FilterCase{
		{"a stub's socket pair", unix.SYS_SOCKETPAIR, [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, 0, stubproc.ReqPage}, true},
		{"a stream socket pair", unix.SYS_SOCKETPAIR, [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0, stubproc.ReqPage}, false},
		{"an inet socket pair", unix.SYS_SOCKETPAIR, [6]uint64{unix.AF_INET, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, 0, stubproc.ReqPage}, false},
		{"read of the host-file socket", unix.SYS_READ, [6]uint64{stubproc.HostSockInStub, stubproc.ScratchPage, 80}, true},
		{"read of the memory file", unix.SYS_READ, [6]uint64{stubproc.MemFDInStub, stubproc.ScratchPage, 80}, false},
		{"read of the socket's fd with high bits", unix.SYS_READ, [6]uint64{1<<32 | stubproc.HostSockInStub, stubproc.ScratchPage, 80}, false},
		{"recvmsg of the host-file socket", unix.SYS_RECVMSG, [6]uint64{stubproc.HostSockInStub, stubproc.ScratchPage, unix.MSG_DONTWAIT}, true},
		{"recvmsg that waits", unix.SYS_RECVMSG, [6]uint64{stubproc.HostSockInStub, stubproc.ScratchPage, 0}, false},
		{"recvmsg of another fd", unix.SYS_RECVMSG, [6]uint64{stubproc.MemFDInStub, stubproc.ScratchPage, unix.MSG_DONTWAIT}, false},
		{"mmap of a host file", unix.SYS_MMAP, hostMap(rx, stubproc.HostMapFlags, stubproc.HostFDBase), true},
		{"mmap of the last host file", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags, stubproc.HostFDBase+stubproc.MaxHostFiles-1), true},
		{"writable mmap of a host file", unix.SYS_MMAP, hostMap(unix.PROT_READ|unix.PROT_WRITE, stubproc.HostMapFlags, stubproc.HostFDBase), false},
		{"mmap of a host file with prot's high bits", unix.SYS_MMAP, hostMap(1<<32|unix.PROT_READ, stubproc.HostMapFlags, stubproc.HostFDBase), false},
		{"shared mmap of a host file", unix.SYS_MMAP, hostMap(unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, stubproc.HostFDBase), false},
		{"private mmap of the fd below the host files", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags, stubproc.HostFDBase-1), false},
		{"private mmap of the fd above the host files", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags, stubproc.HostFDBase+stubproc.MaxHostFiles), false},
		{"private mmap of the memory file", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags, stubproc.MemFDInStub), false},
		{"private mmap of the host-file socket", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags, stubproc.HostSockInStub), false},
		{"private mmap of a host file's fd with high bits", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags, 1<<32|stubproc.HostFDBase), false},
		{"private anonymous mmap", unix.SYS_MMAP, hostMap(unix.PROT_READ, stubproc.HostMapFlags|unix.MAP_ANONYMOUS, 1<<64-1), false},
	}
}

// BenchSpawn is a process's life as the platform sees it: a new address
// space with the code and data pages mapped, a new context switched into
// it up to its first syscall, the context released (the thread ends) and
// the address space released. p50-ns is the median of one.
func BenchSpawn(b *testing.B, newPlatform NewFunc) {
	e := NewEnv(b, newPlatform)
	copy(e.MF.Bytes(e.Code, arch.PageSize), SyscallLoop)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	timeEach(b, func() {
		as, err := e.P.NewAddressSpace()
		if err != nil {
			b.Fatal(err)
		}
		if err := as.MapFile(CodeAddr, e.Code, arch.PageSize, platform.Read|platform.Exec); err != nil {
			b.Fatal(err)
		}
		if err := as.MapFile(DataAddr, e.Data, arch.PageSize, platform.Read|platform.Write); err != nil {
			b.Fatal(err)
		}
		firstSyscall(b, e.P, as).Release()
		as.Release()
	})
}

// BenchThread is a thread's life in a live address space: a new context
// switched in up to its first syscall, then released. p50-ns is the
// median of one.
func BenchThread(b *testing.B, newPlatform NewFunc) {
	e := NewEnv(b, newPlatform)
	as, _, _ := e.StartLoop(b)
	timeEach(b, func() {
		firstSyscall(b, e.P, as).Release()
	})
}

// firstSyscall runs a new context in as, which runs SyscallLoop, up to its
// first syscall, and returns the context.
func firstSyscall(b *testing.B, p platform.Platform, as platform.AddressSpace) platform.Context {
	c, err := p.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	st := InitState()
	st.Regs.Rax = unix.SYS_GETPID
	if trap, err := c.Switch(as, st); err != nil || trap.Kind != platform.TrapSyscall {
		b.Fatalf("trap %+v err %v", trap, err)
	}
	return c
}
