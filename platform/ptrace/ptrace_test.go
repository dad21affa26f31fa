package ptrace

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

func TestSyscallTrap(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{NoPin: os.Getenv("NOPIN") != ""})
	as := e.newAS(t, cat(insSyscall, insInt3))
	c := e.newContext(t)
	defer c.Release()
	st := initState()
	st.Regs.Rax = unix.SYS_GETPID
	st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx, st.Regs.R10, st.Regs.R8, st.Regs.R9 = 1, 2, 3, 4, 5, 6
	mustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.OrigRax != unix.SYS_GETPID || st.Regs.Rax != unix.SYS_GETPID {
		t.Errorf("OrigRax %d Rax %d, want %d", st.Regs.OrigRax, st.Regs.Rax, unix.SYS_GETPID)
	}
	if got := st.Regs.SyscallArgs(); got != [6]uint64{1, 2, 3, 4, 5, 6} {
		t.Errorf("args %v", got)
	}
	if st.Regs.Rip != codeAddr+2 {
		t.Errorf("rip %#x, want %#x", st.Regs.Rip, codeAddr+2)
	}
	// The result uk writes is what the application sees.
	st.Regs.Rax = 4242
	trap := mustSwitch(t, c, as, st, platform.TrapSignal)
	if trap.Signo != int32(unix.SIGTRAP) || st.Regs.Rax != 4242 || st.Regs.Rip != codeAddr+3 {
		t.Errorf("after int3: trap %+v rax %d rip %#x", trap, st.Regs.Rax, st.Regs.Rip)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name   string
		code   []byte
		rip    uint64
		addr   uint64
		access platform.Access
	}{
		{"read", movRaxAbs(holeAddr + 8), codeAddr, holeAddr + 8, platform.Read},
		{"write", movAbsRax(holeAddr + 16), codeAddr, holeAddr + 16, platform.Write},
		{"write to read-only code", movAbsRax(codeAddr + 100), codeAddr, codeAddr + 100, platform.Write},
		{"exec", insInt3, holeAddr, holeAddr, platform.Exec},
		{"exec of data page", insInt3, dataAddr, dataAddr, platform.Exec},
		{"push", []byte{0x50}, codeAddr, holeAddr - 8, platform.Write}, // push rax with rsp = holeAddr
	} {
		t.Run(tc.name, func(t *testing.T) {
			locked(t)
			c := e.newContext(t)
			defer c.Release()
			as := e.newAS(t, tc.code)
			st := initState()
			st.Regs.Rip = tc.rip
			st.Regs.Rsp = holeAddr
			trap := mustSwitch(t, c, as, st, platform.TrapFault)
			if trap.Addr != tc.addr || trap.Access != tc.access || trap.Signo != int32(unix.SIGSEGV) {
				t.Errorf("trap %+v, want addr %#x access %v", trap, tc.addr, tc.access)
			}
			if st.Regs.Rip != tc.rip {
				t.Errorf("rip %#x, want %#x", st.Regs.Rip, tc.rip)
			}
		})
	}
}

func TestSignals(t *testing.T) {
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name  string
		code  []byte
		signo unix.Signal
		code_ int32
		addr  uint64
	}{
		{"int3", insInt3, unix.SIGTRAP, 0x80, 0},
		{"ud2", insUD2, unix.SIGILL, 2 /* ILL_ILLOPN */, codeAddr},
		// div rcx with rcx = 0
		{"divide by zero", []byte{0x48, 0xf7, 0xf1}, unix.SIGFPE, 1 /* FPE_INTDIV */, codeAddr},
		// hlt is privileged: #GP, SIGSEGV with SI_KERNEL
		{"privileged", []byte{0xf4}, unix.SIGSEGV, 0x80, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			locked(t)
			c := e.newContext(t)
			defer c.Release()
			as := e.newAS(t, tc.code)
			st := initState()
			trap := mustSwitch(t, c, as, st, platform.TrapSignal)
			if trap.Signo != int32(tc.signo) || trap.Code != tc.code_ || trap.Addr != tc.addr {
				t.Errorf("trap %+v, want signo %d code %d addr %#x", trap, tc.signo, tc.code_, tc.addr)
			}
		})
	}
}

func TestInterrupt(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	as := e.newAS(t, insJmpSelf)
	c := e.newContext(t)
	defer c.Release()
	st := initState()
	for i := 0; i < 20; i++ {
		done := make(chan struct{})
		go func() {
			time.Sleep(2 * time.Millisecond)
			c.Interrupt()
			close(done)
		}()
		mustSwitch(t, c, as, st, platform.TrapInterrupt)
		<-done
		if st.Regs.Rip != codeAddr {
			t.Fatalf("rip %#x after interrupt", st.Regs.Rip)
		}
	}
	// An Interrupt before Switch makes the next Switch return at once.
	c.Interrupt()
	mustSwitch(t, c, as, st, platform.TrapInterrupt)
}

func TestSharedMemoryAndStaleMapping(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	// rbx = [data]; [data+8] = rbx+1 ... via: mov rbx,[data]; inc rbx;
	// mov [data+8], rbx; syscall; jmp back to start.
	prog := cat(movRbxAbs(dataAddr), insIncRbx, movAbsRbx(dataAddr+8), insSyscall)
	prog = append(prog, 0xeb, byte(-(len(prog) + 2))) // jmp codeAddr
	as := e.newAS(t, prog)
	c := e.newContext(t)
	defer c.Release()
	st := initState()
	mem := e.mf.Bytes(e.data, arch.PageSize)
	for i := uint64(1); i <= 50; i++ {
		binary.LittleEndian.PutUint64(mem, i*1000)
		mustSwitch(t, c, as, st, platform.TrapSyscall)
		if st.Regs.Rbx != i*1000+1 || binary.LittleEndian.Uint64(mem[8:]) != i*1000+1 {
			t.Fatalf("round %d: rbx %d, [data+8] %d", i, st.Regs.Rbx, binary.LittleEndian.Uint64(mem[8:]))
		}
		// Unmap from this goroutine (through its own stub thread) on
		// even rounds, from another goroutine (through the factory) on odd
		// ones; the next touch must fault either way.
		if i%2 == 0 {
			if err := as.Unmap(dataAddr, arch.PageSize); err != nil {
				t.Fatal(err)
			}
		} else {
			errc := make(chan error)
			go func() { errc <- as.Unmap(dataAddr, arch.PageSize) }()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		st.Regs.Rip = codeAddr
		trap := mustSwitch(t, c, as, st, platform.TrapFault)
		if trap.Addr != dataAddr || trap.Access != platform.Read {
			t.Fatalf("round %d: trap %+v", i, trap)
		}
		if err := as.MapFile(dataAddr, e.data, arch.PageSize, platform.Read|platform.Write); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnmapWhileRunning unmaps the page another context is reading in a
// loop right now; that context must fault promptly.
func TestUnmapWhileRunning(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	prog := cat(movRbxAbs(dataAddr), []byte{0xeb, 0xf6}) // loop: mov rbx,[data]; jmp loop
	as := e.newAS(t, prog)
	c := e.newContext(t)
	defer c.Release()
	st := initState()
	go func() {
		time.Sleep(5 * time.Millisecond)
		as.Unmap(dataAddr, arch.PageSize)
	}()
	trap := mustSwitch(t, c, as, st, platform.TrapFault)
	if trap.Addr != dataAddr {
		t.Fatalf("trap %+v", trap)
	}
}

func TestFPRoundTrip(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	prog := cat(movdquAbsXmm0(dataAddr+16), movdquXmm1Abs(dataAddr+32), insSyscall, insInt3)
	as := e.newAS(t, prog)
	c := e.newContext(t)
	defer c.Release()
	mem := e.mf.Bytes(e.data, arch.PageSize)
	want := []byte("0123456789abcdef")
	other := []byte("fedcba9876543210")
	copy(mem[32:], other)
	st := initState()
	copy(st.FP[160:176], want) // XMM0 in the FXSAVE area
	st.FPDirty = true
	mustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.FPDirty {
		t.Error("FPDirty still set after Switch")
	}
	if got := mem[16:32]; string(got) != string(want) {
		t.Errorf("xmm0 stored %q, want %q", got, want)
	}
	if got := st.FP[176:192]; string(got) != string(other) {
		t.Errorf("xmm1 saved as %q, want %q", got, other)
	}
	if got := st.FP[160:176]; string(got) != string(want) {
		t.Errorf("xmm0 saved as %q, want %q", got, want)
	}
}

func TestTwoContextsOneAddressSpace(t *testing.T) {
	e := newEnv(t, Options{})
	prog := cat(insIncRbx, insSyscall, []byte{0xeb, 0xf9}) // loop: inc rbx; syscall; jmp loop
	as := e.newAS(t, prog)
	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for k := 0; k < 2; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			pc, _ := e.p.NewContext()
			c := pc.(*Context)
			defer c.Release()
			st := initState()
			st.Regs.Rbx = uint64(k) << 32
			for i := 1; i <= n; i++ {
				trap, err := c.Switch(as, st)
				if err != nil || trap.Kind != platform.TrapSyscall {
					errs <- err
					return
				}
				if st.Regs.Rbx != uint64(k)<<32+uint64(i) {
					errs <- errorf("context %d: rbx %#x at round %d", k, st.Regs.Rbx, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOneContextTwoAddressSpaces(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	prog := cat(movRbxAbs(dataAddr), insSyscall, []byte{0xeb, 0xf4}) // loop: mov rbx,[data]; syscall; jmp loop
	as1 := e.newAS(t, prog)
	as2 := e.newAS(t, prog)
	// as2 sees a different data page.
	offs, err := e.mf.Allocate(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := as2.MapFile(dataAddr, offs[0], arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(e.mf.Bytes(e.data, 8), 111)
	binary.LittleEndian.PutUint64(e.mf.Bytes(offs[0], 8), 222)
	c := e.newContext(t)
	defer c.Release()
	st1, st2 := initState(), initState()
	copy(st1.FP[160:176], "address space 1.")
	copy(st2.FP[160:176], "address space 2.")
	for i := 0; i < 20; i++ {
		mustSwitch(t, c, as1, st1, platform.TrapSyscall)
		mustSwitch(t, c, as2, st2, platform.TrapSyscall)
		if st1.Regs.Rbx != 111 || st2.Regs.Rbx != 222 {
			t.Fatalf("rbx %d / %d", st1.Regs.Rbx, st2.Regs.Rbx)
		}
		if string(st1.FP[160:176]) != "address space 1." || string(st2.FP[160:176]) != "address space 2." {
			t.Fatalf("FP state mixed up: %q / %q", st1.FP[160:176], st2.FP[160:176])
		}
	}
	// After release of as1 (an execve), the context keeps working in as2
	// and in a fresh address space.
	as1.Release()
	mustSwitch(t, c, as2, st2, platform.TrapSyscall)
	as3 := e.newAS(t, prog)
	mustSwitch(t, c, as3, st1, platform.TrapSyscall)
}

func TestCleanAddressSpace(t *testing.T) {
	e := newEnv(t, Options{})
	pas, err := e.p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	as := pas.(*AddressSpace)
	defer as.Release()
	maps, err := readMaps(as.pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.start < stubBase && m.name != "[vsyscall]" {
			t.Errorf("stub has a mapping below MaxUserAddress: %+v", m)
		}
		if m.start >= stubBase && m.start < stubEnd && m.start != stubBase && m.start != reqPage {
			t.Errorf("stub keeps a mapping beside its code and request page (the kernel's stack?): %+v", m)
		}
	}
	if len(maps) < 2 {
		t.Errorf("maps %+v: want the stub code and request page", maps)
	}
	t.Logf("confinement: %s", e.p.Confinement())
	for _, pid := range []int{e.p.master, as.pid} {
		checkConfined(t, e.p, pid)
	}
}

// TestConfinementModes runs a thread in a fresh stub under each way of
// confining stubs the host allows: a PID namespace must not confuse the
// tids uk gets, and a stub without namespaces must still be usable.
func TestConfinementModes(t *testing.T) {
	locked(t)
	modes := []confinement{confineFull, confineNone}
	if os.Geteuid() == 0 {
		modes = append(modes, confineRoot)
	}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, Options{modes: []confinement{mode}})
			if e.p.mode != mode {
				t.Fatalf("mode %v, want %v", e.p.mode, mode)
			}
			as := e.newAS(t, syscallLoopForTest)
			c1, c2 := e.newContext(t), e.newContext(t)
			defer c1.Release()
			defer c2.Release()
			for _, c := range []*Context{c1, c2} {
				st := initState()
				st.Regs.Rax = unix.SYS_GETPID
				mustSwitch(t, c, as, st, platform.TrapSyscall)
				tid := c.threads[as]
				if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", as.pid, tid)); err != nil {
					t.Errorf("stub thread %d is not a host tid of stub %d: %v", tid, as.pid, err)
				}
			}
			// An interrupt still arrives as one.
			c1.Interrupt()
			st := initState()
			mustSwitch(t, c1, as, st, platform.TrapInterrupt)
			checkConfined(t, e.p, as.pid)
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
		"CapInh:\t0000000000000000", "CapAmb:\t0000000000000000", "Name:\tuk-stub"}
	if p.mode != confineNone || os.Geteuid() == 0 {
		want = append(want, "CapBnd:\t0000000000000000")
	}
	for _, w := range want {
		if !strings.Contains(string(status), w+"\n") {
			t.Errorf("stub %d: /proc/PID/status lacks %q:\n%s", pid, w, status)
		}
	}
	if p.mode != confineNone {
		for _, ns := range []string{"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"} {
			if p.mode == confineRoot && ns == "user" {
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
	fds, err := listFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 1 || fds[0] != 3 {
		t.Errorf("stub %d: fds %v, want [3]", pid, fds)
	}
}

// TestVsyscall: a call into the legacy vsyscall page must not run the
// host's emulation; it arrives as an instruction fetch fault there.
func TestVsyscall(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	// mov rax, 0xffffffffff600000 (gettimeofday); call rax
	prog := cat([]byte{0x48, 0xb8}, binary.LittleEndian.AppendUint64(nil, vsyscallAddr), []byte{0xff, 0xd0})
	as := e.newAS(t, prog)
	c := e.newContext(t)
	defer c.Release()
	st := initState()
	st.Regs.Rdi = 0 // gettimeofday(NULL, NULL) would succeed on the host
	sp := st.Regs.Rsp
	trap := mustSwitch(t, c, as, st, platform.TrapFault)
	if trap.Addr != vsyscallAddr || trap.Access != platform.Exec || st.Regs.Rip != vsyscallAddr || st.Regs.Rsp != sp-8 {
		t.Errorf("trap %+v rip %#x rsp %#x (want rsp %#x)", trap, st.Regs.Rip, st.Regs.Rsp, sp-8)
	}
	ret := binary.LittleEndian.Uint64(e.mf.Bytes(e.data, arch.PageSize)[arch.PageSize-8:])
	if ret != codeAddr+uint64(len(prog)) {
		t.Errorf("return address on the stack %#x, want %#x", ret, codeAddr+len(prog))
	}
}

// TestStubFilterKills: a host syscall the filter does not list kills the
// stub instead of running.
func TestStubFilterKills(t *testing.T) {
	e := newEnv(t, Options{})
	pas, err := e.p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	as := pas.(*AddressSpace)
	defer as.Release()
	if ferr := e.p.fac.do(func() { _, err = injectSyscall(as.pid, unix.SYS_GETPID) }); ferr != nil {
		t.Fatal(ferr)
	}
	if err == nil {
		t.Fatal("getpid injected into a stub ran; want the stub killed by its seccomp filter")
	}
}

// TestLifecycle: released contexts end their stub threads, released address
// spaces leave no zombies, and Close kills every stub.
func TestLifecycle(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	as := e.newAS(t, syscallLoopForTest)
	c := e.newContext(t)
	st := initState()
	st.Regs.Rax = unix.SYS_GETPID
	mustSwitch(t, c, as, st, platform.TrapSyscall)
	tid := c.threads[as]
	c.Release()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", as.pid, tid)); err == nil {
		t.Errorf("stub thread %d still exists after Context.Release", tid)
	}
	// A second address space stays alive until Close.
	as2 := e.newAS(t, syscallLoopForTest)
	as.Release()
	deadline := time.Now().Add(2 * time.Second)
	for {
		e.p.reap()
		e.p.zmu.Lock()
		left := len(e.p.zombies)
		e.p.zmu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d stub threads never reaped", left)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", as.pid)); err == nil {
		t.Errorf("released stub %d still exists", as.pid)
	}
	e.p.Close()
	for time.Now().Before(deadline) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", as2.pid)); err != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("stub %d survived Platform.Close", as2.pid)
}

var syscallLoopForTest = cat(insSyscall, []byte{0xeb, 0xfc})

// TestNoHostSyscalls: syscalls the application makes in any form, including
// by jumping into the stub's own injection site, stop in uk and never run
// on the host.
func TestNoHostSyscalls(t *testing.T) {
	locked(t)
	e := newEnv(t, Options{})
	as := e.newAS(t, cat([]byte{0xcd, 0x80}, insInt3)) // int $0x80
	c := e.newContext(t)
	defer c.Release()
	for _, tc := range []struct {
		name string
		rip  uint64
	}{
		{"int 0x80", codeAddr},
		{"stub injection site", siteSyscall},
		{"stub batch site", siteBatch + 0x20},
	} {
		st := initState()
		st.Regs.Rip = tc.rip
		st.Regs.Rax = unix.SYS_EXIT_GROUP
		trap, err := c.Switch(as, st)
		if tc.rip == codeAddr && err == nil && trap.Kind == platform.TrapSignal && trap.Signo == int32(unix.SIGSEGV) {
			continue // a host without IA-32 emulation: int $0x80 is a #GP
		}
		if err != nil || trap.Kind != platform.TrapSyscall || st.Regs.OrigRax != unix.SYS_EXIT_GROUP || st.Regs.Rip != tc.rip+2 {
			t.Errorf("%s: trap %+v err %v orig_rax %d rip %#x", tc.name, trap, err, st.Regs.OrigRax, st.Regs.Rip)
		}
	}
	// The stub is still alive: exit_group did not run.
	st := initState()
	st.Regs.Rip = codeAddr + 2
	mustSwitch(t, c, as, st, platform.TrapSignal)
}
