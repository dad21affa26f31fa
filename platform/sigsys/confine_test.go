package sigsys

import (
	"fmt"
	"os"
	"testing"

	"uk/platform/internal/stubproc"
	"uk/platform/platformtest"
)

// TestConfinementModes runs threads in a fresh stub under each way of
// confining stubs the host allows (a PID namespace must not confuse the
// tids uk gets, and a stub without namespaces must still be usable), and
// checks the confinement from the host side. A mode that fails here fails
// the test: the default tries them in order, and a silent fall back to no
// namespaces (a setup batch that outgrew the request page) went unnoticed
// once.
func TestConfinementModes(t *testing.T) {
	platformtest.Locked(t)
	for _, mode := range stubproc.Modes() {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, Options{modes: []stubproc.Confinement{mode}})
			if e.Plat.h.Mode() != mode {
				t.Fatalf("mode %v, want %v", e.Plat.h.Mode(), mode)
			}
			as, cs := e.TwoThreads(t)
			for _, c := range cs {
				tid := c.threads[as].tid
				if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", as.Pid, tid)); err != nil {
					t.Errorf("stub thread %d is not a host tid of stub %d: %v", tid, as.Pid, err)
				}
			}
			checkConfined(t, e.Plat, as.Pid)
		})
	}
}

// checkConfined checks what the confinement promises of stub pid, from
// the host side.
func checkConfined(t *testing.T, p *Platform, pid int) {
	t.Helper()
	if err := p.h.CheckConfined(pid); err != nil {
		t.Error(err)
	}
}
