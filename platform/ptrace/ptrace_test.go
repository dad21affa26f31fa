package ptrace

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
	"uk/platform/platformtest"
)

func TestCleanAddressSpace(t *testing.T) {
	e := newEnv(t, Options{})
	pas, err := e.Plat.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	as := pas.(*AddressSpace)
	defer as.Release()
	maps, err := stubproc.ReadMaps(as.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.Start < stubproc.StubBase && m.Name != "[vsyscall]" {
			t.Errorf("stub has a mapping below MaxUserAddress: %+v", m)
		}
		if m.Start >= stubproc.StubBase && m.Start < stubproc.StubEnd && m.Start != stubproc.StubBase && m.Start != stubproc.ReqPage && m.Start != stubproc.ScratchPage {
			t.Errorf("stub keeps a mapping beside its code, request and scratch page (the kernel's stack?): %+v", m)
		}
	}
	if len(maps) < 2 {
		t.Errorf("maps %+v: want the stub code and request page", maps)
	}
	t.Logf("confinement: %s", e.Plat.Confinement())
	for _, pid := range []int{e.Plat.h.Master(), as.Pid} {
		checkConfined(t, e.Plat, pid)
	}
}

// TestConfinementModes runs a thread in a fresh stub under each way of
// confining stubs the host allows: a PID namespace must not confuse the
// tids uk gets, and a stub without namespaces must still be usable.
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
				tid := c.threads[as]
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

// TestVsyscall: a call into the legacy vsyscall page must not run the
// host's emulation; it arrives as an instruction fetch fault there.
func TestVsyscall(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	// mov rax, 0xffffffffff600000 (gettimeofday); call rax
	prog := platformtest.Cat([]byte{0x48, 0xb8}, binary.LittleEndian.AppendUint64(nil, stubproc.VsyscallAddr), []byte{0xff, 0xd0})
	as := e.AS(t, prog)
	c := e.Context(t)
	defer c.Release()
	st := platformtest.InitState()
	st.Regs.Rdi = 0 // gettimeofday(NULL, NULL) would succeed on the host
	sp := st.Regs.Rsp
	trap := platformtest.MustSwitch(t, c, as, st, platform.TrapFault)
	if trap.Addr != stubproc.VsyscallAddr || trap.Access != platform.Exec || st.Regs.Rip != stubproc.VsyscallAddr || st.Regs.Rsp != sp-8 {
		t.Errorf("trap %+v rip %#x rsp %#x (want rsp %#x)", trap, st.Regs.Rip, st.Regs.Rsp, sp-8)
	}
	ret := binary.LittleEndian.Uint64(e.MF.Bytes(e.Data, arch.PageSize)[arch.PageSize-8:])
	if ret != platformtest.CodeAddr+uint64(len(prog)) {
		t.Errorf("return address on the stack %#x, want %#x", ret, platformtest.CodeAddr+len(prog))
	}
}

// TestStubFilterKills: a host syscall the filter does not list kills the
// stub instead of running.
func TestStubFilterKills(t *testing.T) {
	e := newEnv(t, Options{})
	pas, err := e.Plat.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	as := pas.(*AddressSpace)
	defer as.Release()
	if ferr := e.Plat.h.Do(func() { _, err = stubproc.InjectSyscall(as.Pid, stubproc.SiteSyscall, unix.SYS_GETPID) }); ferr != nil {
		t.Fatal(ferr)
	}
	if err == nil {
		t.Fatal("getpid injected into a stub ran; want the stub killed by its seccomp filter")
	}
}

// TestLifecycle: released contexts end their stub threads, released address
// spaces leave no zombies, and Close kills every stub.
func TestLifecycle(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.SyscallLoop)
	c := e.Context(t)
	st := platformtest.InitState()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	tid := c.threads[as]
	c.Release()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", as.Pid, tid)); err == nil {
		t.Errorf("stub thread %d still exists after Context.Release", tid)
	}
	// A second address space stays alive until Close.
	as2 := e.AS(t, platformtest.SyscallLoop)
	as.Release()
	deadline := time.Now().Add(2 * time.Second)
	for {
		left := e.Plat.h.Reap()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d stub threads never reaped", left)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", as.Pid)); err == nil {
		t.Errorf("released stub %d still exists", as.Pid)
	}
	e.Plat.Close()
	for time.Now().Before(deadline) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", as2.Pid)); err != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("stub %d survived Platform.Close", as2.Pid)
}

// TestNoHostSyscalls: syscalls the application makes in any form, including
// by jumping into the stub's own injection site, stop in uk and never run
// on the host.
func TestNoHostSyscalls(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.Cat([]byte{0xcd, 0x80}, platformtest.Int3)) // int $0x80
	c := e.Context(t)
	defer c.Release()
	for _, tc := range []struct {
		name string
		rip  uint64
	}{
		{"int 0x80", platformtest.CodeAddr},
		{"stub injection site", stubproc.SiteSyscall},
		{"stub batch site", stubproc.SiteBatch + 0x20},
	} {
		st := platformtest.InitState()
		st.Regs.Rip = tc.rip
		st.Regs.Rax = unix.SYS_EXIT_GROUP
		trap, err := c.Switch(as, st)
		if tc.rip == platformtest.CodeAddr && err == nil && trap.Kind == platform.TrapSignal && trap.Signo == int32(unix.SIGSEGV) {
			continue // a host without IA-32 emulation: int $0x80 is a #GP
		}
		if err != nil || trap.Kind != platform.TrapSyscall || st.Regs.OrigRax != unix.SYS_EXIT_GROUP || st.Regs.Rip != tc.rip+2 {
			t.Errorf("%s: trap %+v err %v orig_rax %d rip %#x", tc.name, trap, err, st.Regs.OrigRax, st.Regs.Rip)
		}
	}
	// The stub is still alive: exit_group did not run.
	st := platformtest.InitState()
	st.Regs.Rip = platformtest.CodeAddr + 2
	platformtest.MustSwitch(t, c, as, st, platform.TrapSignal)
}
