package sigsys

import (
	"os"
	"testing"

	"uk/kernel/memfile"
	"uk/platform"
	"uk/platform/platformtest"
)

// newPlatform starts this platform, with opts, for platformtest.
func newPlatform(opts Options) platformtest.NewFunc {
	return func(mf *memfile.File) (platform.Platform, error) { return NewWithOptions(mf.FD(), opts) }
}

// TestConformance runs the suite every platform passes; NOPIN=1 runs it
// with stub threads not pinned to uk's CPU (and spinning hand-offs).
func TestConformance(t *testing.T) {
	platformtest.Run(t, newPlatform(Options{NoPin: os.Getenv("NOPIN") != ""}))
}

// TestHostFileMapped: the stubs map host files themselves.
func TestHostFileMapped(t *testing.T) {
	platformtest.HostFileMapped(t, newPlatform(Options{}))
}

func TestManyHostFiles(t *testing.T) {
	platformtest.ManyHostFiles(t, newPlatform(Options{}))
}

func TestProtected(t *testing.T) {
	platformtest.Protected(t, newPlatform(Options{}))
}

// env is one test's sigsys platform (Plat), memory file and guest pages.
type env = platformtest.Of[*Platform, *AddressSpace, *Context]

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	return platformtest.NewOf[*Platform, *AddressSpace, *Context](t, newPlatform(opts))
}
