package kvm

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"testing"

	"uk/arch"
	"uk/internal/testenv"
	"uk/kernel/memfile"
	"uk/platform"
)

// Guest memory layout used by the tests.
const (
	codeAddr = 0x400000 // one page of guest code, r-x
	dataAddr = 0x500000 // one page of guest data, rw-
	holeAddr = 0x600000 // never mapped
)

// Hand-assembled guest instructions (Intel syntax in comments).
var (
	insSyscall = []byte{0x0f, 0x05} // syscall
	insInt3    = []byte{0xcc}       // int3
	insUD2     = []byte{0x0f, 0x0b} // ud2
	insJmpSelf = []byte{0xeb, 0xfe} // jmp $
	insIncRbx  = []byte{0x48, 0xff, 0xc3}
)

// movRaxAbs is `mov rax, [addr32]`.
func movRaxAbs(addr uint32) []byte { return append([]byte{0x48, 0x8b, 0x04, 0x25}, le32(addr)...) }

// movRbxAbs is `mov rbx, [addr32]`.
func movRbxAbs(addr uint32) []byte { return append([]byte{0x48, 0x8b, 0x1c, 0x25}, le32(addr)...) }

// movAbsRax is `mov [addr32], rax`.
func movAbsRax(addr uint32) []byte { return append([]byte{0x48, 0x89, 0x04, 0x25}, le32(addr)...) }

// movAbsRbx is `mov [addr32], rbx`.
func movAbsRbx(addr uint32) []byte { return append([]byte{0x48, 0x89, 0x1c, 0x25}, le32(addr)...) }

// movdquAbsXmm0 is `movdqu [addr32], xmm0`.
func movdquAbsXmm0(addr uint32) []byte {
	return append([]byte{0xf3, 0x0f, 0x7f, 0x04, 0x25}, le32(addr)...)
}

// movdquXmm1Abs is `movdqu xmm1, [addr32]`.
func movdquXmm1Abs(addr uint32) []byte {
	return append([]byte{0xf3, 0x0f, 0x6f, 0x0c, 0x25}, le32(addr)...)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// env is one test's platform, memory file and guest pages.
type env struct {
	mf   *memfile.File
	p    *Platform
	code int64 // memory-file offset of the code page
	data int64 // memory-file offset of the data page
}

// newEnv starts the platform. A machine without a usable /dev/kvm skips
// (through testenv); one where /dev/kvm opens but the platform fails is a
// failure of uk.
func newEnv(t testing.TB) *env {
	t.Helper()
	if _, err := os.Stat("/dev/kvm"); err != nil {
		testenv.Need(t, "/dev/kvm", "the KVM platform runs guests on it")
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		testenv.Need(t, "a usable /dev/kvm", err.Error())
	}
	f.Close()
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(mf.FD())
	if err != nil {
		mf.Close()
		t.Fatalf("the KVM platform does not start: %v", err)
	}
	offs, err := mf.Allocate(2)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{mf: mf, p: p, code: offs[0], data: offs[1]}
	t.Cleanup(func() { p.Close(); mf.Close() })
	return e
}

// newAS returns an address space with code mapped r-x at codeAddr and the
// data page rw- at dataAddr.
func (e *env) newAS(t testing.TB, code []byte) *AddressSpace {
	t.Helper()
	copy(e.mf.Bytes(e.code, arch.PageSize), code)
	pas, err := e.p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	as := pas.(*AddressSpace)
	t.Cleanup(as.Release)
	if err := as.MapFile(codeAddr, e.code, arch.PageSize, platform.Read|platform.Exec); err != nil {
		t.Fatal(err)
	}
	if err := as.MapFile(dataAddr, e.data, arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	return as
}

func (e *env) newContext(t testing.TB) *Context {
	t.Helper()
	c, err := e.p.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Context)
}

// initState is a thread about to run code at codeAddr.
func initState() *arch.State {
	st := &arch.State{FP: arch.NewFPState(), FPDirty: true}
	st.Regs.Rip = codeAddr
	st.Regs.Rsp = dataAddr + arch.PageSize
	st.Regs.Eflags = 0x202
	return st
}

func mustSwitch(t testing.TB, c *Context, as *AddressSpace, st *arch.State, want platform.TrapKind) platform.Trap {
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

// locked runs the test body on a goroutine locked to its OS thread, as the
// platform requires of a context's user.
func locked(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
