package platformtest

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// Run runs the conformance suite, one subtest per check, each on a platform
// of its own started by newPlatform.
func Run(t *testing.T, newPlatform NewFunc) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, *Env)
	}{
		{"SyscallTrap", syscallTrap},
		{"Faults", faults},
		{"Signals", signals},
		{"Interrupt", interrupt},
		{"StaleMapping", staleMapping},
		{"RemapToOtherPage", remapToOtherPage},
		{"UnmapWhileRunning", unmapWhileRunning},
		{"FPRoundTrip", fpRoundTrip},
		{"FSBase", fsBase},
		{"TwoContextsOneAddressSpace", twoContextsOneAddressSpace},
		{"OneContextTwoAddressSpaces", oneContextTwoAddressSpaces},
		{"ColdPagesMapped", coldPagesMapped},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, NewEnv(t, newPlatform)) })
	}
}

// syscallTrap: a syscall stops with its number and arguments, registers
// as the syscall instruction leaves them, and the result uk writes is what
// the application sees.
func syscallTrap(t *testing.T, e *Env) {
	Locked(t)
	as := e.NewAS(t, Cat(Syscall, Int3))
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	st.Regs.Rax = unix.SYS_GETPID
	st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx, st.Regs.R10, st.Regs.R8, st.Regs.R9 = 1, 2, 3, 4, 5, 6
	st.Regs.Rbx, st.Regs.Rbp, st.Regs.R12, st.Regs.R13, st.Regs.R14, st.Regs.R15 = 7, 8, 9, 10, 11, 12
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.OrigRax != unix.SYS_GETPID || st.Regs.Rax != unix.SYS_GETPID {
		t.Errorf("OrigRax %d Rax %d, want %d", st.Regs.OrigRax, st.Regs.Rax, unix.SYS_GETPID)
	}
	if got := st.Regs.SyscallArgs(); got != [6]uint64{1, 2, 3, 4, 5, 6} {
		t.Errorf("args %v", got)
	}
	r := st.Regs
	if r.Rbx != 7 || r.Rbp != 8 || r.R12 != 9 || r.R13 != 10 || r.R14 != 11 || r.R15 != 12 {
		t.Errorf("callee-saved registers changed: %+v", r)
	}
	if r.Rip != CodeAddr+2 || r.Rcx != CodeAddr+2 || r.Rsp != DataAddr+arch.PageSize {
		t.Errorf("rip %#x rcx %#x rsp %#x, want rip = rcx = %#x, rsp %#x", r.Rip, r.Rcx, r.Rsp, CodeAddr+2, DataAddr+arch.PageSize)
	}
	if r.Eflags&0x200 == 0 || r.R11 != r.Eflags {
		t.Errorf("eflags %#x r11 %#x", r.Eflags, r.R11)
	}
	st.Regs.Rax = 4242
	trap := MustSwitch(t, c, as, st, platform.TrapSignal)
	if trap.Signo != int32(unix.SIGTRAP) || st.Regs.Rax != 4242 || st.Regs.Rip != CodeAddr+3 {
		t.Errorf("after int3: trap %+v rax %d rip %#x", trap, st.Regs.Rax, st.Regs.Rip)
	}
}

// faults: reads, writes, fetches and pushes without the right mapping
// stop at the faulting instruction with the address and the access.
func faults(t *testing.T, e *Env) {
	for _, tc := range []struct {
		name   string
		code   []byte
		rip    uint64
		addr   uint64
		access platform.Access
	}{
		{"read", MovRaxAbs(HoleAddr + 8), CodeAddr, HoleAddr + 8, platform.Read},
		{"write", MovAbsRax(HoleAddr + 16), CodeAddr, HoleAddr + 16, platform.Write},
		{"write to read-only code", MovAbsRax(CodeAddr + 100), CodeAddr, CodeAddr + 100, platform.Write},
		{"exec", Int3, HoleAddr, HoleAddr, platform.Exec},
		{"exec of data page", Int3, DataAddr, DataAddr, platform.Exec},
		{"push", []byte{0x50}, CodeAddr, HoleAddr - 8, platform.Write}, // push rax with rsp = HoleAddr
	} {
		t.Run(tc.name, func(t *testing.T) {
			Locked(t)
			c := e.NewContext(t)
			defer c.Release()
			as := e.NewAS(t, tc.code)
			st := InitState()
			st.Regs.Rip = tc.rip
			st.Regs.Rsp = HoleAddr
			trap := MustSwitch(t, c, as, st, platform.TrapFault)
			if trap.Addr != tc.addr || trap.Access != tc.access || trap.Signo != int32(unix.SIGSEGV) {
				t.Errorf("trap %+v, want addr %#x access %v", trap, tc.addr, tc.access)
			}
			if st.Regs.Rip != tc.rip {
				t.Errorf("rip %#x, want %#x", st.Regs.Rip, tc.rip)
			}
		})
	}
}

// signals: other exceptions stop with the signal, code and address Linux
// would report.
func signals(t *testing.T, e *Env) {
	for _, tc := range []struct {
		name  string
		code  []byte
		signo unix.Signal
		code_ int32
		addr  uint64
	}{
		{"int3", Int3, unix.SIGTRAP, 0x80, 0},
		{"ud2", UD2, unix.SIGILL, 2 /* ILL_ILLOPN */, CodeAddr},
		// div rcx with rcx = 0
		{"divide by zero", []byte{0x48, 0xf7, 0xf1}, unix.SIGFPE, 1 /* FPE_INTDIV */, CodeAddr},
		// hlt is privileged: #GP, SIGSEGV with SI_KERNEL
		{"privileged", []byte{0xf4}, unix.SIGSEGV, 0x80, 0},
		// divss xmm0, xmm1 with 1/0 and ZM unmasked: #XM, FPE_FLTDIV
		{"simd divide by zero", []byte{0xf3, 0x0f, 0x5e, 0xc1}, unix.SIGFPE, 3, CodeAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Locked(t)
			c := e.NewContext(t)
			defer c.Release()
			as := e.NewAS(t, tc.code)
			st := InitState()
			if tc.name == "simd divide by zero" {
				binary.LittleEndian.PutUint32(st.FP[24:], 0x1f80&^(1<<9)) // MXCSR: unmask ZM
				binary.LittleEndian.PutUint32(st.FP[160:], 0x3f800000)    // xmm0 = 1.0f
			}
			trap, err := c.Switch(as, st)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "simd divide by zero" && trap.Kind == platform.TrapFault && trap.Addr == 0 && UnderTCG() {
				// QEMU's software CPU does not raise #XM: the divide
				// completes and the zero bytes after it fault.
				t.Skip("QEMU TCG does not emulate SIMD floating-point exceptions")
			}
			if trap.Kind != platform.TrapSignal || trap.Signo != int32(tc.signo) || trap.Code != tc.code_ || trap.Addr != tc.addr {
				t.Errorf("trap %+v, want signo %d code %d addr %#x", trap, tc.signo, tc.code_, tc.addr)
			}
		})
	}
}

// interrupt: Interrupt from another goroutine stops a spinning thread
// where it was, and an Interrupt before Switch makes it return at once.
func interrupt(t *testing.T, e *Env) {
	Locked(t)
	as := e.NewAS(t, JmpSelf)
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	for i := 0; i < 20; i++ {
		done := make(chan struct{})
		go func() {
			time.Sleep(2 * time.Millisecond)
			c.Interrupt()
			close(done)
		}()
		MustSwitch(t, c, as, st, platform.TrapInterrupt)
		<-done
		if st.Regs.Rip != CodeAddr {
			t.Fatalf("rip %#x after interrupt", st.Regs.Rip)
		}
	}
	c.Interrupt()
	MustSwitch(t, c, as, st, platform.TrapInterrupt)
}

// staleMapping shares the data page with the guest, then unmaps or
// downgrades it between touches, from this goroutine or another, many
// times: every touch after a removal must fault.
func staleMapping(t *testing.T, e *Env) {
	Locked(t)
	// loop: mov rbx,[data]; inc rbx; mov [data+8], rbx; syscall; jmp loop
	prog := Cat(MovRbxAbs(DataAddr), IncRbx, MovAbsRbx(DataAddr+8), Syscall)
	prog = append(prog, 0xeb, byte(-(len(prog) + 2)))
	as := e.NewAS(t, prog)
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	mem := e.MF.Bytes(e.Data, arch.PageSize)
	rw := platform.Read | platform.Write
	elsewhere := func(f func() error) error {
		errc := make(chan error)
		go func() { errc <- f() }()
		return <-errc
	}
	for i := uint64(1); i <= 1000; i++ {
		binary.LittleEndian.PutUint64(mem, i*1000)
		MustSwitch(t, c, as, st, platform.TrapSyscall)
		if st.Regs.Rbx != i*1000+1 || binary.LittleEndian.Uint64(mem[8:]) != i*1000+1 {
			t.Fatalf("round %d: rbx %d, [data+8] %d", i, st.Regs.Rbx, binary.LittleEndian.Uint64(mem[8:]))
		}
		st.Regs.Rip = CodeAddr
		var err error
		var wantAddr uint64
		var wantAccess platform.Access
		switch i % 4 {
		case 0: // munmap, from this goroutine: the load faults
			err, wantAddr, wantAccess = as.Unmap(DataAddr, arch.PageSize), DataAddr, platform.Read
		case 1: // munmap, from another goroutine
			err = elsewhere(func() error { return as.Unmap(DataAddr, arch.PageSize) })
			wantAddr, wantAccess = DataAddr, platform.Read
		case 2: // mprotect(PROT_READ), from another goroutine: the store faults
			err = elsewhere(func() error { return as.MapFile(DataAddr, e.Data, arch.PageSize, platform.Read) })
			wantAddr, wantAccess = DataAddr+8, platform.Write
		case 3: // mprotect(PROT_NONE): the load faults
			err, wantAddr, wantAccess = as.MapFile(DataAddr, e.Data, arch.PageSize, 0), DataAddr, platform.Read
		}
		if err != nil {
			t.Fatal(err)
		}
		trap := MustSwitch(t, c, as, st, platform.TrapFault)
		if trap.Addr != wantAddr || trap.Access != wantAccess {
			t.Fatalf("round %d: trap %+v, want addr %#x access %v", i, trap, wantAddr, wantAccess)
		}
		if wantAccess == platform.Write && trap.Code != 2 /* SEGV_ACCERR */ {
			t.Fatalf("round %d: trap %+v, want code SEGV_ACCERR", i, trap)
		}
		if err := as.MapFile(DataAddr, e.Data, arch.PageSize, rw); err != nil {
			t.Fatal(err)
		}
		st.Regs.Rip = CodeAddr
	}
}

// remapToOtherPage replaces the data page by another one: the guest must
// see the new page at once.
func remapToOtherPage(t *testing.T, e *Env) {
	Locked(t)
	as := e.NewAS(t, Cat(MovRbxAbs(DataAddr), Syscall, []byte{0xeb, 0xf4}))
	offs, err := e.MF.Allocate(1)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(e.MF.Bytes(e.Data, 8), 111)
	binary.LittleEndian.PutUint64(e.MF.Bytes(offs[0], 8), 222)
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	for i := 0; i < 100; i++ {
		off, want := e.Data, uint64(111)
		if i%2 == 1 {
			off, want = offs[0], 222
		}
		if err := as.MapFile(DataAddr, off, arch.PageSize, platform.Read); err != nil {
			t.Fatal(err)
		}
		MustSwitch(t, c, as, st, platform.TrapSyscall)
		if st.Regs.Rbx != want {
			t.Fatalf("round %d: read %d, want %d", i, st.Regs.Rbx, want)
		}
	}
}

// unmapWhileRunning unmaps the page a context is reading in a loop right
// now; that context must fault promptly.
func unmapWhileRunning(t *testing.T, e *Env) {
	Locked(t)
	prog := Cat(MovRbxAbs(DataAddr), []byte{0xeb, 0xf6}) // loop: mov rbx,[data]; jmp loop
	as := e.NewAS(t, prog)
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	for i := 0; i < 20; i++ {
		st.Regs.Rip = CodeAddr
		go func() {
			time.Sleep(2 * time.Millisecond)
			as.Unmap(DataAddr, arch.PageSize)
		}()
		trap := MustSwitch(t, c, as, st, platform.TrapFault)
		if trap.Addr != DataAddr {
			t.Fatalf("trap %+v", trap)
		}
		if err := as.MapFile(DataAddr, e.Data, arch.PageSize, platform.Read|platform.Write); err != nil {
			t.Fatal(err)
		}
	}
}

// fpRoundTrip: the FP state uk gives is what the guest computes with, and
// what the guest leaves is what uk gets back.
func fpRoundTrip(t *testing.T, e *Env) {
	Locked(t)
	prog := Cat(MovdquAbsXmm0(DataAddr+16), MovdquXmm1Abs(DataAddr+32), Syscall, Int3)
	as := e.NewAS(t, prog)
	c := e.NewContext(t)
	defer c.Release()
	mem := e.MF.Bytes(e.Data, arch.PageSize)
	want := []byte("0123456789abcdef")
	other := []byte("fedcba9876543210")
	copy(mem[32:], other)
	st := InitState()
	copy(st.FP[160:176], want) // XMM0 in the FXSAVE area
	st.FPDirty = true
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.FPDirty {
		t.Error("FPDirty still set after Switch")
	}
	if got := mem[16:32]; string(got) != string(want) {
		t.Errorf("xmm0 stored %q, want %q", got, want)
	}
	checkXMM := func(when string) {
		t.Helper()
		st.SyncFP() // a platform may fetch FP state only when asked
		if got := st.FP[176:192]; string(got) != string(other) {
			t.Errorf("%s: xmm1 saved as %q, want %q", when, got, other)
		}
		if got := st.FP[160:176]; string(got) != string(want) {
			t.Errorf("%s: xmm0 saved as %q, want %q", when, got, want)
		}
	}
	checkXMM("at the syscall")
	// Resumed with FP unchanged (not dirty), the registers must stay as
	// they were up to the next trap, whether or not the platform wrote
	// them back.
	MustSwitch(t, c, as, st, platform.TrapSignal)
	checkXMM("at the int3")
}

// fsBase reads through FS and GS: the bases travel with the thread.
func fsBase(t *testing.T, e *Env) {
	Locked(t)
	// mov rax, fs:[0]; mov rbx, gs:[8]; syscall; jmp start
	prog := []byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x65, 0x48, 0x8b, 0x1c, 0x25, 8, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xea}
	as := e.NewAS(t, prog)
	mem := e.MF.Bytes(e.Data, arch.PageSize)
	for i := 0; i < 64; i++ {
		binary.LittleEndian.PutUint64(mem[8*i:], uint64(i))
	}
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	for i := uint64(0); i < 10; i++ {
		st.Regs.FsBase = DataAddr + 8*i
		st.Regs.GsBase = DataAddr + 16*i
		MustSwitch(t, c, as, st, platform.TrapSyscall)
		if st.Regs.Rax != i || st.Regs.Rbx != 2*i+1 {
			t.Fatalf("round %d: fs:[0] = %d, gs:[8] = %d", i, st.Regs.Rax, st.Regs.Rbx)
		}
	}
}

// twoContextsOneAddressSpace runs two threads of one address space at
// once, each with registers of its own.
func twoContextsOneAddressSpace(t *testing.T, e *Env) {
	prog := Cat(IncRbx, Syscall, []byte{0xeb, 0xf9}) // loop: inc rbx; syscall; jmp loop
	as := e.NewAS(t, prog)
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for k := 0; k < 2; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c, err := e.P.NewContext()
			if err != nil {
				errs <- err
				return
			}
			defer c.Release()
			st := InitState()
			st.Regs.Rbx = uint64(k) << 32
			for i := 1; i <= n; i++ {
				trap, err := c.Switch(as, st)
				if err != nil || trap.Kind != platform.TrapSyscall {
					errs <- fmt.Errorf("context %d: %v %+v", k, err, trap)
					return
				}
				if st.Regs.Rbx != uint64(k)<<32+uint64(i) {
					errs <- fmt.Errorf("context %d: rbx %#x at round %d", k, st.Regs.Rbx, i)
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

// oneContextTwoAddressSpaces alternates one context between two address
// spaces with different data pages; after one is released (an execve) the
// context keeps working in the other and in a fresh one.
func oneContextTwoAddressSpaces(t *testing.T, e *Env) {
	Locked(t)
	prog := Cat(MovRbxAbs(DataAddr), Syscall, []byte{0xeb, 0xf4}) // loop: mov rbx,[data]; syscall; jmp loop
	as1 := e.NewAS(t, prog)
	as2 := e.NewAS(t, prog)
	offs, err := e.MF.Allocate(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := as2.MapFile(DataAddr, offs[0], arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(e.MF.Bytes(e.Data, 8), 111)
	binary.LittleEndian.PutUint64(e.MF.Bytes(offs[0], 8), 222)
	c := e.NewContext(t)
	defer c.Release()
	st1, st2 := InitState(), InitState()
	copy(st1.FP[160:176], "address space 1.")
	copy(st2.FP[160:176], "address space 2.")
	for i := 0; i < 20; i++ {
		MustSwitch(t, c, as1, st1, platform.TrapSyscall)
		MustSwitch(t, c, as2, st2, platform.TrapSyscall)
		if st1.Regs.Rbx != 111 || st2.Regs.Rbx != 222 {
			t.Fatalf("round %d: rbx %d and %d", i, st1.Regs.Rbx, st2.Regs.Rbx)
		}
		if string(st1.FP[160:176]) != "address space 1." || string(st2.FP[160:176]) != "address space 2." {
			t.Fatalf("round %d: FP states mixed up: %q / %q", i, st1.FP[160:176], st2.FP[160:176])
		}
	}
	as1.Release()
	MustSwitch(t, c, as2, st2, platform.TrapSyscall)
	as3 := e.NewAS(t, prog)
	MustSwitch(t, c, as3, st1, platform.TrapSyscall)
}

// coldPagesMapped: pages the host has never backed, mapped the way the
// kernel maps a fault window of them (platform.LazyMapper where the
// platform has it, else MapFile), read as zeros, and what the guest
// writes there is in the memory file, on every page of the window.
func coldPagesMapped(t *testing.T, e *Env) {
	Locked(t)
	const pages = 4
	// mov rax, [data+k*4096]; add rbx, rax; mov [data+k*4096], rbx, for
	// each page, then a syscall: rbx sums what was read (zeros).
	var prog []byte
	for k := uint32(0); k < pages; k++ {
		prog = Cat(prog, MovRaxAbs(DataAddr+k*arch.PageSize), []byte{0x48, 0x01, 0xc3}, MovAbsRbx(DataAddr+k*arch.PageSize))
	}
	as := e.NewAS(t, Cat(prog, Syscall, Int3))
	offs, cold, err := e.MF.AllocateCold(pages)
	if err != nil {
		t.Fatal(err)
	}
	if !cold {
		t.Fatalf("a fresh memory file gave warm pages")
	}
	for i := 1; i < pages; i++ {
		if offs[i] != offs[0]+int64(i)*arch.PageSize {
			t.Fatalf("fresh pages %#x not contiguous", offs)
		}
	}
	m := as.MapFile
	if lm, ok := as.(platform.LazyMapper); ok {
		m = lm.MapFileLazy
	} else {
		t.Logf("%T maps through MapFile only", as)
	}
	if err := m(DataAddr, offs[0], pages*arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	st.Regs.Rbx = 0x5eed
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.Rbx != 0x5eed {
		t.Errorf("the cold pages did not read as zeros: rbx %#x, want 0x5eed", st.Regs.Rbx)
	}
	for i, off := range offs {
		if got := binary.LittleEndian.Uint64(e.MF.Bytes(off, 8)); got != 0x5eed {
			t.Errorf("page %d of the window holds %#x after the guest's write, want 0x5eed", i, got)
		}
	}
}

// hostFile is a platform.HostFile of a path, counting its opens.
type hostFile struct {
	path  string
	opens int
}

func (f *hostFile) OpenHost() (int, error) {
	f.opens++
	return unix.Open(f.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// HostFileMapped checks a platform whose address spaces are
// platform.HostFileMappers (the stub platforms): a host file mapped at an
// offset reads as the file there, in more than one address space, each
// file handed to a stub once; a writable mapping is refused; a write to it
// faults (never writable), and mapping the memory file over a page of it
// replaces that page.
func HostFileMapped(t *testing.T, newPlatform NewFunc) {
	e := NewEnv(t, newPlatform)
	Locked(t)
	dir := t.TempDir()
	files := make([]*hostFile, 2)
	for i := range files {
		b := make([]byte, 3*arch.PageSize)
		for p := 0; p < 3; p++ {
			binary.LittleEndian.PutUint64(b[p*arch.PageSize:], uint64(i)<<32|uint64(p)+1)
		}
		files[i] = &hostFile{path: fmt.Sprintf("%s/f%d", dir, i)}
		if err := os.WriteFile(files[i].path, b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	code := Cat(MovRaxAbs(HoleAddr), MovRbxAbs(HoleAddr+arch.PageSize), Syscall, MovAbsRax(HoleAddr))
	for round := 0; round < 2; round++ {
		as := e.NewAS(t, code)
		hm, ok := as.(platform.HostFileMapper)
		if !ok {
			t.Fatalf("%s's address spaces cannot map host files", e.P.Name())
		}
		// File 0 at its page 1, file 1 at its page 0 right above it;
		// file 0 again (the same fd) further up.
		for _, m := range []struct {
			f    *hostFile
			addr uint64
			off  int64
		}{{files[0], HoleAddr, arch.PageSize}, {files[1], HoleAddr + arch.PageSize, 0}, {files[0], HoleAddr + 4*arch.PageSize, 0}} {
			if err := hm.MapHostFile(m.addr, m.f, m.off, arch.PageSize, platform.Read); err != nil {
				t.Fatalf("MapHostFile(%#x, %s): %v", m.addr, m.f.path, err)
			}
		}
		if err := hm.MapHostFile(HoleAddr, files[0], 0, arch.PageSize, platform.Read|platform.Write); err == nil {
			t.Errorf("a writable host file mapping was made")
		}
		c := e.NewContext(t)
		st := InitState()
		MustSwitch(t, c, as, st, platform.TrapSyscall)
		if st.Regs.Rax != 2 || st.Regs.Rbx != 1<<32|1 {
			t.Errorf("round %d: read %#x and %#x from the host files, want 0x2 and 0x100000001", round, st.Regs.Rax, st.Regs.Rbx)
		}
		trap := MustSwitch(t, c, as, st, platform.TrapFault)
		if trap.Addr != HoleAddr || trap.Access != platform.Write {
			t.Errorf("round %d: write to a host file page: trap %+v, want a write fault at %#x", round, trap, HoleAddr)
		}
		// A private copy (the memory file's data page) over it.
		if err := as.MapFile(HoleAddr, e.Data, arch.PageSize, platform.Read|platform.Write); err != nil {
			t.Fatal(err)
		}
		st.Regs.Rax = 0x5eed
		MustSwitch(t, c, as, st, platform.TrapFault) // runs off the code: the write went through
		if got := binary.LittleEndian.Uint64(e.MF.Bytes(e.Data, 8)); got != 0x5eed {
			t.Errorf("round %d: the memory file's page over the host file reads %#x, want 0x5eed", round, got)
		}
		c.Release()
	}
	for i, f := range files {
		if f.opens != 2 {
			t.Errorf("file %d opened %d times for two address spaces, want 2 (once each)", i, f.opens)
		}
	}
}

// Protected checks a platform whose address spaces are
// platform.Protectors (the stub platforms): a mapping made read-only in
// place still reads its page, a write to it faults, and made writable
// again it takes the write, into the same page of the memory file.
func Protected(t *testing.T, newPlatform NewFunc) {
	e := NewEnv(t, newPlatform)
	Locked(t)
	// Write rax to the data page, then trap; read it back, then trap.
	as := e.NewAS(t, Cat(MovAbsRax(DataAddr+16), Syscall, MovRbxAbs(DataAddr+16), Syscall))
	pr, ok := as.(platform.Protector)
	if !ok {
		t.Fatalf("%T is not a platform.Protector", as)
	}
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	st.Regs.Rax = 0x1111
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	if err := pr.Protect(DataAddr, arch.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	st.Regs.Rip = CodeAddr // the write again, now to a read-only page
	st.Regs.Rax = 0x2222
	trap := MustSwitch(t, c, as, st, platform.TrapFault)
	if trap.Addr != DataAddr+16 || trap.Access != platform.Write || st.Regs.Rip != CodeAddr {
		t.Fatalf("a write to the protected page: trap %+v at rip %#x, want a write fault at %#x", trap, st.Regs.Rip, DataAddr+16)
	}
	if got := binary.LittleEndian.Uint64(e.MF.Bytes(e.Data+16, 8)); got != 0x1111 {
		t.Fatalf("the page holds %#x after the refused write, want 0x1111", got)
	}
	// Writable again: the write goes through, to the same page.
	if err := pr.Protect(DataAddr, arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.Rbx != 0x2222 {
		t.Errorf("read back %#x, want 0x2222", st.Regs.Rbx)
	}
	if got := binary.LittleEndian.Uint64(e.MF.Bytes(e.Data+16, 8)); got != 0x2222 {
		t.Errorf("the memory file's page holds %#x, want 0x2222", got)
	}
}

// ManyHostFiles checks that more host files than one batch installs at a
// time (stubproc's maxQueuedInstalls) all reach the stub: 20 files mapped
// side by side before the first Switch each read as themselves.
func ManyHostFiles(t *testing.T, newPlatform NewFunc) {
	e := NewEnv(t, newPlatform)
	Locked(t)
	const n = 20
	dir := t.TempDir()
	as := e.NewAS(t, Cat(MovRaxAbs(HoleAddr+8*arch.PageSize), MovRbxAbs(HoleAddr+(n-1)*arch.PageSize), Syscall))
	hm, ok := as.(platform.HostFileMapper)
	if !ok {
		t.Fatalf("%s's address spaces cannot map host files", e.P.Name())
	}
	for i := 0; i < n; i++ {
		b := make([]byte, arch.PageSize)
		binary.LittleEndian.PutUint64(b, 0xf11e0000+uint64(i))
		f := &hostFile{path: fmt.Sprintf("%s/f%d", dir, i)}
		if err := os.WriteFile(f.path, b, 0o444); err != nil {
			t.Fatal(err)
		}
		if err := hm.MapHostFile(HoleAddr+uint64(i)*arch.PageSize, f, 0, arch.PageSize, platform.Read); err != nil {
			t.Fatalf("MapHostFile of file %d: %v", i, err)
		}
	}
	c := e.NewContext(t)
	defer c.Release()
	st := InitState()
	MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.Rax != 0xf11e0008 || st.Regs.Rbx != 0xf11e0000+n-1 {
		t.Errorf("read %#x and %#x from files 8 and %d, want %#x and %#x", st.Regs.Rax, st.Regs.Rbx, n-1, 0xf11e0008, 0xf11e0000+n-1)
	}
}
