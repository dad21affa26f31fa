package kvm

import (
	"os"
	"testing"

	"uk/internal/testenv"
	"uk/kernel/memfile"
	"uk/platform"
	"uk/platform/platformtest"
)

// The guest layout, programs and helpers of the conformance suite, for the
// tests of the KVM platform's own machinery.
const (
	codeAddr = platformtest.CodeAddr
	dataAddr = platformtest.DataAddr
)

var (
	insSyscall = platformtest.Syscall
	insJmpSelf = platformtest.JmpSelf
	movRbxAbs  = platformtest.MovRbxAbs
	cat        = platformtest.Cat
	initState  = platformtest.InitState
	mustSwitch = platformtest.MustSwitch
	locked     = platformtest.Locked
)

// needKVM skips (through testenv) on a machine without a usable /dev/kvm;
// one where /dev/kvm opens but the platform fails is a failure of uk.
func needKVM(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/dev/kvm"); err != nil {
		testenv.Need(t, "/dev/kvm", "the KVM platform runs guests on it")
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		testenv.Need(t, "a usable /dev/kvm", err.Error())
	}
	f.Close()
}

func newPlatform(mf *memfile.File) (platform.Platform, error) { return New(mf.FD()) }

// TestConformance runs the suite every platform passes.
func TestConformance(t *testing.T) {
	needKVM(t)
	platformtest.Run(t, newPlatform)
}

// env is one test's KVM platform, memory file and guest pages.
type env struct {
	*platformtest.Env
	p *Platform
}

func newEnv(t testing.TB) *env {
	t.Helper()
	needKVM(t)
	e := platformtest.NewEnv(t, newPlatform)
	return &env{Env: e, p: e.P.(*Platform)}
}

func (e *env) newAS(t testing.TB, code []byte) *AddressSpace {
	t.Helper()
	return e.NewAS(t, code).(*AddressSpace)
}

func (e *env) newContext(t testing.TB) *Context {
	t.Helper()
	return e.NewContext(t).(*Context)
}
