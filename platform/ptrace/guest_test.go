package ptrace

import (
	"os"
	"testing"

	"uk/arch"

	"uk/kernel/memfile"
	"uk/platform"
	"uk/platform/platformtest"
)

// The guest layout, programs and helpers of the conformance suite, for the
// tests of the ptrace platform's own machinery.
const (
	codeAddr = platformtest.CodeAddr
	dataAddr = platformtest.DataAddr
)

var (
	insSyscall  = platformtest.Syscall
	insInt3     = platformtest.Int3
	syscallLoop = platformtest.SyscallLoop
	cat         = platformtest.Cat
	initState   = platformtest.InitState
	mustSwitch  = platformtest.MustSwitch
	locked      = platformtest.Locked
)

func newPlatform(opts Options) platformtest.NewFunc {
	return func(mf *memfile.File) (platform.Platform, error) { return NewWithOptions(mf.FD(), opts) }
}

// TestConformance runs the suite every platform passes; NOPIN=1 runs it
// with stub threads not pinned to uk's CPU.
func TestConformance(t *testing.T) {
	platformtest.Run(t, newPlatform(Options{NoPin: os.Getenv("NOPIN") != ""}))
}

// env is one test's ptrace platform, memory file and guest pages.
type env struct {
	*platformtest.Env
	p *Platform
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	e := platformtest.NewEnv(t, newPlatform(opts))
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

// startLoop is platformtest's StartLoop with this platform's types.
func (e *env) startLoop(t testing.TB) (*AddressSpace, *Context, *arch.State) {
	t.Helper()
	as, c, st := e.StartLoop(t)
	return as.(*AddressSpace), c.(*Context), st
}
