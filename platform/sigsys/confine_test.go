package sigsys

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/internal/stubproc"
)

// syscallLoopForTest is `loop: syscall; jmp loop`.
var syscallLoopForTest = cat(insSyscall, []byte{0xeb, 0xfc})

// TestConfinementModes runs threads in a fresh stub under each way of
// confining stubs the host allows (a PID namespace must not confuse the
// tids uk gets, and a stub without namespaces must still be usable), and
// checks the confinement from the host side. A mode that fails here fails
// the test: the default tries them in order, and a silent fall back to no
// namespaces (a setup batch that outgrew the request page) went unnoticed
// once.
func TestConfinementModes(t *testing.T) {
	locked(t)
	modes := []stubproc.Confinement{stubproc.ConfineFull, stubproc.ConfineNone}
	if os.Geteuid() == 0 {
		modes = append(modes, stubproc.ConfineRoot)
	}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, Options{modes: []stubproc.Confinement{mode}})
			if e.p.h.Mode() != mode {
				t.Fatalf("mode %v, want %v", e.p.h.Mode(), mode)
			}
			as := e.newAS(t, syscallLoopForTest)
			c1, c2 := e.newContext(t), e.newContext(t)
			defer c1.Release()
			defer c2.Release()
			for _, c := range []*Context{c1, c2} {
				st := initState()
				st.Regs.Rax = unix.SYS_GETPID
				mustSwitch(t, c, as, st, platform.TrapSyscall)
				tid := c.threads[as].tid
				if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", as.Pid, tid)); err != nil {
					t.Errorf("stub thread %d is not a host tid of stub %d: %v", tid, as.Pid, err)
				}
			}
			// An interrupt still arrives as one.
			c1.Interrupt()
			st := initState()
			mustSwitch(t, c1, as, st, platform.TrapInterrupt)
			checkConfined(t, e.p, as.Pid)
		})
	}
}

// checkConfined checks what confine.go promises of stub pid, from the host
// side.
func checkConfined(t *testing.T, p *Platform, pid int) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Seccomp:\t2", "NoNewPrivs:\t1", "CapEff:\t0000000000000000", "CapPrm:\t0000000000000000",
		"CapInh:\t0000000000000000", "CapAmb:\t0000000000000000", "Name:\tuk-sigsys-stub"}
	if p.h.Mode() != stubproc.ConfineNone || os.Geteuid() == 0 {
		want = append(want, "CapBnd:\t0000000000000000")
	}
	for _, w := range want {
		if !strings.Contains(string(status), w+"\n") {
			t.Errorf("stub %d: /proc/PID/status lacks %q:\n%s", pid, w, status)
		}
	}
	if p.h.Mode() != stubproc.ConfineNone {
		for _, ns := range []string{"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"} {
			if p.h.Mode() == stubproc.ConfineRoot && ns == "user" {
				continue
			}
			self, _ := os.Readlink("/proc/self/ns/" + ns)
			stub, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
			if err != nil || stub == self {
				t.Errorf("stub %d shares uk's %s namespace %s (%v)", pid, ns, self, err)
			}
		}
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/", pid))
		if err != nil || len(ents) != 0 {
			t.Errorf("stub %d: root directory holds %d entries (%v), want an empty one", pid, len(ents), err)
		}
	}
	fds, err := stubproc.ListFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 2 || fds[0] != stubproc.MemFDInStub || fds[1] != slotFDInStub {
		t.Errorf("stub %d: fds %v, want [%d %d]", pid, fds, stubproc.MemFDInStub, slotFDInStub)
	}
}
