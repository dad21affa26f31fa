// Package kvm is uk's KVM platform: uk is a small VMM, and application code
// runs in guest ring 3 of a 64-bit virtual machine whose physical memory is
// the memory file. Every system call, exception and kick of the
// application becomes a VM exit that uk turns into a platform.Trap, as the
// ptrace platform does with a ptrace stop.
//
// # The machine
//
// One VM per Platform, no in-kernel interrupt controller (so HLT exits to
// uk). Guest physical memory is the memory file (slot 0, GPA = file
// offset) and a system memory (slot 1) with the trampoline, the IDT, the
// per-vCPU blocks and all page tables; layout.go has the map. uk builds
// each address space's 4-level page tables itself. A few bytes of
// supervisor code in a window at the top of the lower half (PML4 slot
// 255, never user-accessible) do three things: enter the application
// (apply queued page-table zaps, load CR3, iretq), catch a syscall at
// LSTAR (a hlt), and catch each exception vector (push the vector and CR2,
// hlt). The vCPU's system registers are set once, after KVM_SET_CPUID2
// (KVM refuses CR4 bits the CPUID does not offer): Linux's GDT selectors,
// a TSS whose RSP0/IST1 is the vCPU's stack, EFER.SCE/LME/LMA/NXE,
// STAR/LSTAR/SFMASK, PAT, XCR0 equal to the host's (so the XSAVE layout
// the kernel describes in signal frames is the one the vCPU has), and TSC
// offset 0 (the vDSO reads the host's TSC).
//
// # Two kinds of KVM
//
// On VMX/SVM, a user syscall enters supervisor mode at LSTAR and the hlt
// there exits. Under kvm_pvm (a shadow-paging hypervisor that emulates
// guest supervisor code, on the machines this project runs on) it arrives
// instead as a page fault at LSTAR through the IDT, with RCX and R11 set
// as by syscall. classify recognises both. kvm_pvm also shadows the page
// tables and does not see uk's host-side stores: an entry uk removes stays
// in the shadow until guest supervisor code writes to that page-table page.
// So removals go through a queue (addrspace.go) that the enter path applies
// with a locked 16-bit add of 0 to each page-table page touched, a write
// KVM treats as misaligned and answers by dropping its shadow of the whole
// page, then CR3 is reloaded (which is what VMX/SVM need: a TLB flush).
// One path, correct on both. New probes it: a page unmapped from the host
// must fault when touched again, or the platform is unavailable.
//
// gVisor's KVM platform fails on both kinds of host seen here (on Intel
// "error setting system registers: invalid argument" at vCPU creation, on
// AMD it hangs). What uk does differently, and kvm_pvm needs: uk stays an
// ordinary host process and only the application runs in the guest (gVisor
// runs its whole Go kernel in guest ring 0, mapped in the upper half, which
// kvm_pvm reserves for the host); all supervisor state is in the lower
// half; Linux's GDT selectors; CPUID is set before the system registers and
// CR4 asks for nothing beyond PAE, OSFXSR, OSXMMEXCPT and OSXSAVE (no PCIDE,
// FSGSBASE, SMEP, SMAP, which KVM refuses when CPUID does not offer them);
// syscalls are recognised as a page fault at LSTAR as well as at LSTAR;
// removals are stored by guest code, not only from the host; and the guest
// runs as little supervisor code as possible (a lone iretq in, a lone hlt
// out), since kvm_pvm emulates each instruction of it.
//
// # Threads
//
// A Context owns one vCPU, created on its first Switch on the calling OS
// thread (which must stay locked) and pooled when the context is released.
// The general registers travel through kvm_run's synchronized registers,
// so a round trip is one KVM_RUN, plus KVM_GET_XSAVE for the FP state, and
// KVM_SET_XSAVE only when the kernel changed it. FS and GS base are MSRs,
// written only when they change (the application cannot change them: CR4
// has no FSGSBASE). Interrupt sets kvm_run.immediate_exit and sends SIGCHLD
// (which Go ignores) to the vCPU's thread, so a kick racing with entry is
// not lost. A kick that stops the application in user mode first asks KVM
// (KVM_GET_VCPU_EVENTS) whether it still holds an exception for the guest,
// a fault taken just before the signal: if so the vCPU runs on until that
// exception reaches its stub, since the next entry would otherwise deliver
// it in the enter code.
//
// # 32-bit entries
//
// A syscall in compat mode goes to CSTAR (its own hlt on SVM; on kvm_pvm a
// fetch fault at CSTAR cut to 32 bits) and becomes a Trap with Compat set,
// which the kernel refuses as Linux without IA32 emulation does; int $0x80
// is a #GP (SVM) or #UD (kvm_pvm). A thread may run in compat mode (CS
// 0x23): the entry's IRET frame uses its CS.
//
// Lock order: AddressSpace.mu, then Platform.mu.
package kvm

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// Platform is a KVM virtual machine. Create it with New.
type Platform struct {
	kvmFD, vmFD int
	pid         int
	memSize     int64
	mem         []byte // our mapping of the memory file: guest-physical 0..memSize
	sys         []byte // system memory, guest-physical sysBase..
	sysFD       int
	sysBase     uint64
	runSize     int
	cpuid       []byte // struct kvm_cpuid2 for every vCPU
	xcr0        uint64
	xsaveReq    uintptr // KVM_GET_XSAVE or KVM_GET_XSAVE2
	xsaveLen    int
	syncRegs    bool
	tscOffset   bool // KVM_VCPU_TSC_OFFSET can be set
	// PVM says whether the probe saw a syscall arrive as a page fault at
	// LSTAR (kvm_pvm) rather than at LSTAR itself (VMX/SVM).
	pvm bool

	mu sync.Mutex
	// System memory allocation: next never-used page, free pages (zero,
	// no shadow), and quarantine: freed page-table pages waiting for a vCPU
	// to zap them (seq: the zap's sequence number). Protected by mu.
	next       uint64
	free       []uint64
	quarantine []quarantined
	// zaps are page-table pages (offsets) of released address spaces to
	// zap on the next entry of any vCPU; zapBase counts those applied.
	// Protected by mu.
	zaps    []uint64
	zapBase uint64
	// freeRoots are free pages for PML4s: zero but for the window entry.
	// A root page is only ever reused as a root, because a vCPU may still
	// hold a released root in CR3 when it next enters, and the enter code
	// must then still be mapped. Protected by mu.
	freeRoots []uint64
	idle      []*vcpu // released contexts' vCPUs; protected by mu
	nvcpu     int     // vCPUs created; protected by mu
	closed    bool    // protected by mu
}

type quarantined struct {
	off  uint64
	seq  uint64 // free once zapBase >= seq
	root bool
}

var _ platform.Platform = (*Platform)(nil)

// New opens /dev/kvm and builds a VM whose guest-physical memory is the
// memory file memFD, then runs a probe guest: a syscall, a page fault, an
// unmap-then-touch that must fault, and a kick. If KVM cannot be used here
// the error wraps platform.ErrUnavailable and says which step failed.
func New(memFD int) (*Platform, error) {
	p, err := newVM(memFD)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", platform.ErrUnavailable, err)
	}
	if err := p.probe(); err != nil {
		p.Close()
		return nil, fmt.Errorf("%w: probe guest: %v", platform.ErrUnavailable, err)
	}
	return p, nil
}

func newVM(memFD int) (*Platform, error) {
	kfd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("/dev/kvm: %w", err)
	}
	p := &Platform{kvmFD: kfd, vmFD: -1, sysFD: -1, pid: os.Getpid(), next: offAlloc}
	if err := p.setup(memFD); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// setup checks KVM's capabilities and builds the VM and its memory.
func (p *Platform) setup(memFD int) error {
	kfd := p.kvmFD
	if v, err := ioctl(kfd, kvmGetAPIVersion, 0); err != nil || v != 12 {
		return fmt.Errorf("KVM_GET_API_VERSION: %d, %v (want 12)", v, err)
	}
	for _, c := range []struct {
		cap  uintptr
		name string
	}{{capImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"}} {
		if n, _ := ioctl(kfd, kvmCheckExtension, c.cap); n == 0 {
			return fmt.Errorf("%s missing", c.name)
		}
	}
	if n, _ := ioctl(kfd, kvmCheckExtension, capSyncRegs); n&syncX86Regs != 0 {
		p.syncRegs = true
	}
	p.xsaveReq, p.xsaveLen = kvmGetXSave, xsaveSize
	if n, _ := ioctl(kfd, kvmCheckExtension, capXSave2); n > xsaveSize {
		p.xsaveReq, p.xsaveLen = kvmGetXSave2, int(n)
	}
	if arch.FPStateSize() > p.xsaveLen {
		return fmt.Errorf("host XSAVE area (%d bytes) larger than KVM's (%d)", arch.FPStateSize(), p.xsaveLen)
	}
	n, err := ioctl(kfd, kvmGetVCPUMmapSize, 0)
	if err != nil {
		return fmt.Errorf("KVM_GET_VCPU_MMAP_SIZE: %w", err)
	}
	p.runSize = int(n)
	if err := p.setupCPUID(); err != nil {
		return err
	}
	vm, err := ioctl(kfd, kvmCreateVM, 0)
	if err != nil {
		return fmt.Errorf("KVM_CREATE_VM: %w", err)
	}
	p.vmFD = int(vm)

	var st unix.Stat_t
	if err := unix.Fstat(memFD, &st); err != nil {
		return fmt.Errorf("stat memory file: %w", err)
	}
	p.memSize = st.Size
	if p.memSize <= 0 || p.memSize&arch.PageMask != 0 {
		return fmt.Errorf("memory file size %d", p.memSize)
	}
	if p.mem, err = unix.Mmap(memFD, 0, int(p.memSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE); err != nil {
		return fmt.Errorf("map memory file: %w", err)
	}
	p.sysBase = (uint64(p.memSize) + 1<<30 - 1) &^ (1<<30 - 1)
	if p.sysFD, err = unix.MemfdCreate("uk-kvm-system", unix.MFD_CLOEXEC); err != nil {
		return fmt.Errorf("memfd for system memory: %w", err)
	}
	if err := unix.Ftruncate(p.sysFD, sysSize); err != nil {
		return fmt.Errorf("size system memory: %w", err)
	}
	if p.sys, err = unix.Mmap(p.sysFD, 0, sysSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE); err != nil {
		return fmt.Errorf("map system memory: %w", err)
	}
	if err := p.setMemory(0, 0, p.mem); err != nil {
		return fmt.Errorf("memory slot for the memory file: %w", err)
	}
	if err := p.setMemory(1, p.sysBase, p.sys); err != nil {
		return fmt.Errorf("memory slot for system memory: %w", err)
	}

	copy(p.sys[offCode:], trampoline())
	copy(p.sys[offIDT:], idt(windowBase+offCode))
	p.table(offWinPDPT)[0] = p.sysBase + offWinPD | ptePresent | pteWrite | pteAccessed
	pd := p.table(offWinPD)
	for i := uint64(0); i < sysSize>>21; i++ {
		pd[i] = p.sysBase + i<<21 | ptePresent | pteWrite | pteAccessed | pteDirty | pteLarge
	}
	p.table(offIdleRoot)[255] = p.sysBase + offWinPDPT | ptePresent | pteWrite | pteAccessed
	return nil
}

// setupCPUID reads what KVM can offer, as the vCPUs' CPUID, and picks the
// guest XCR0: the host's own, which the XSAVE images the kernel builds
// assume.
func (p *Platform) setupCPUID() error {
	for n := 64; ; n *= 2 {
		b := make([]byte, 8+40*n)
		le.PutUint32(b, uint32(n))
		_, err := ioctlBuf(p.kvmFD, kvmGetSupportedCPUID, b)
		if err == unix.E2BIG && n < 4096 {
			continue
		}
		if err != nil {
			return fmt.Errorf("KVM_GET_SUPPORTED_CPUID: %w", err)
		}
		p.cpuid = b[:8+40*int(le.Uint32(b))]
		break
	}
	var supported uint64
	for i := 8; i < len(p.cpuid); i += 40 {
		e := p.cpuid[i:]
		if le.Uint32(e[0:]) == 0xd && le.Uint32(e[4:]) == 0 {
			supported = uint64(le.Uint32(e[12:])) | uint64(le.Uint32(e[24:]))<<32 // EAX | EDX<<32
		}
	}
	host := arch.XCR0() &^ arch.XFeatureMaskUserDynamic
	if supported&host != host {
		return fmt.Errorf("KVM cannot give the guest the host's XCR0 %#x (supports %#x)", host, supported)
	}
	p.xcr0 = host
	return nil
}

// Name returns "kvm".
func (p *Platform) Name() string { return "kvm" }

// MaxUserAddress returns the constant MaxUserAddress.
func (p *Platform) MaxUserAddress() uint64 { return MaxUserAddress }

// PVM reports whether this KVM is kvm_pvm (syscalls arrive as page faults
// at LSTAR), as the probe found.
func (p *Platform) PVM() bool { return p.pvm }

// NewContext returns a context; its vCPU is made (or taken from the pool)
// on the first Switch, on that goroutine's OS thread.
func (p *Platform) NewContext() (platform.Context, error) {
	return &Context{p: p}, nil
}

// Close destroys the VM. Every context and address space must be done.
func (p *Platform) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, v := range idle {
		v.close()
	}
	if p.vmFD >= 0 {
		unix.Close(p.vmFD)
	}
	if p.kvmFD >= 0 {
		unix.Close(p.kvmFD)
	}
	if p.sysFD >= 0 {
		unix.Close(p.sysFD)
	}
	if p.mem != nil {
		unix.Munmap(p.mem)
	}
	if p.sys != nil {
		unix.Munmap(p.sys)
	}
	return nil
}

// table returns the page-table page at system-memory offset off.
func (p *Platform) table(off uint64) []uint64 { return words(p.sys[off : off+arch.PageSize]) }

// allocTable returns a zeroed page of system memory for a page table, or
// for a root (a PML4 that maps the window).
func (p *Platform) allocTable(root bool) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reclaimLocked()
	free := &p.free
	if root {
		free = &p.freeRoots
	}
	if n := len(*free); n > 0 {
		off := (*free)[n-1]
		*free = (*free)[:n-1]
		return off, nil
	}
	if p.next+arch.PageSize > sysSize {
		return 0, fmt.Errorf("kvm: system memory for page tables exhausted: %w", unix.ENOMEM)
	}
	off := p.next
	p.next += arch.PageSize
	if root {
		p.table(off)[255] = p.sysBase + offWinPDPT | ptePresent | pteWrite | pteAccessed
	}
	return off, nil
}

// allocBlock returns blockPages contiguous zeroed pages (never reused).
func (p *Platform) allocBlock() (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next+blockPages*arch.PageSize > sysSize {
		return 0, fmt.Errorf("kvm: system memory for vCPUs exhausted: %w", unix.ENOMEM)
	}
	off := p.next
	p.next += blockPages * arch.PageSize
	return off, nil
}

// reclaimLocked moves quarantined pages whose zap has run to the free
// lists, zeroed (roots keep the window).
//
// Preconditions: p.mu is held.
func (p *Platform) reclaimLocked() {
	q := p.quarantine[:0]
	for _, e := range p.quarantine {
		if p.zapBase < e.seq {
			q = append(q, e)
			continue
		}
		t := p.table(e.off)
		if e.root {
			clear(t[:255])
			clear(t[256:])
			p.freeRoots = append(p.freeRoots, e.off)
		} else {
			clear(t)
			p.free = append(p.free, e.off)
		}
	}
	p.quarantine = q
}

// freeTables quarantines a released address space's page-table pages: each
// is zapped by the next vCPU entry before it is reused, so no shadow KVM
// kept of it survives into its next life.
func (p *Platform) freeTables(root uint64, tables []uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range tables {
		p.zaps = append(p.zaps, t)
		p.quarantine = append(p.quarantine, quarantined{off: t, seq: p.zapBase + uint64(len(p.zaps))})
	}
	p.zaps = append(p.zaps, root)
	p.quarantine = append(p.quarantine, quarantined{off: root, seq: p.zapBase + uint64(len(p.zaps)), root: true})
}

// setMemory installs a memory slot.
func (p *Platform) setMemory(slot uint32, gpa uint64, mem []byte) error {
	b := make([]byte, 32)
	le.PutUint32(b[0:], slot)
	le.PutUint32(b[4:], 0)
	le.PutUint64(b[8:], gpa)
	le.PutUint64(b[16:], uint64(len(mem)))
	le.PutUint64(b[24:], addrOf(mem))
	_, err := ioctlBuf(p.vmFD, kvmSetUserMemoryRegion, b)
	return err
}

// errClosed is returned for use of a closed platform.
var errClosed = errors.New("kvm: platform closed")

// Probe guest: code at probeCode, data page at probeData.
const (
	probeCode = 0x400000
	probeData = 0x500000
)

// probeGuest:
//
//	0x00 mov eax, 39; syscall
//	0x07 mov rax, [probeData]; mov eax, 1; syscall    (faults once first)
//	0x16 mov rax, [probeData]                          (must fault: unmapped)
//	0x1e jmp $                                         (until kicked)
var probeGuest = []byte{
	0xb8, 39, 0, 0, 0, 0x0f, 0x05,
	0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, 0xb8, 1, 0, 0, 0, 0x0f, 0x05,
	0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00,
	0xeb, 0xfe,
}

// probe runs the probe guest on a new locked goroutine.
func (p *Platform) probe() error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- p.runProbe()
	}()
	return <-errc
}

func (p *Platform) runProbe() error {
	// The probe's pages live in system memory, not in the memory file,
	// which the kernel may be filling meanwhile.
	pages, err := p.allocBlock()
	if err != nil {
		return err
	}
	copy(p.sys[pages:], probeGuest)
	pas, err := p.NewAddressSpace()
	if err != nil {
		return err
	}
	as := pas.(*AddressSpace)
	defer as.Release()
	codePTE := p.sysBase + pages | ptePresent | pteUser | pteAccessed
	dataPTE := p.sysBase + pages + arch.PageSize | ptePresent | pteUser | pteAccessed | pteWrite | pteDirty | pteNX
	if err := as.mapGPA(probeCode, codePTE); err != nil {
		return err
	}
	pc, _ := p.NewContext()
	c := pc.(*Context)
	defer c.Release()
	st := &arch.State{FP: arch.NewFPState(), FPDirty: true}
	st.Regs.Rip, st.Regs.Rsp, st.Regs.Eflags = probeCode, probeData+0x800, 0x202

	step := func(name string, want platform.TrapKind, check func(platform.Trap) error) error {
		trap, err := c.Switch(as, st)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if trap.Kind != want {
			return fmt.Errorf("%s: trap %+v at rip %#x, want kind %d", name, trap, st.Regs.Rip, want)
		}
		if check != nil {
			if err := check(trap); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	}
	if err := step("syscall", platform.TrapSyscall, func(platform.Trap) error {
		if st.Regs.OrigRax != 39 || st.Regs.Rip != probeCode+7 || st.Regs.Rsp != probeData+0x800 {
			return fmt.Errorf("syscall %d at rip %#x rsp %#x, want 39 at %#x", st.Regs.OrigRax, st.Regs.Rip, st.Regs.Rsp, probeCode+7)
		}
		return nil
	}); err != nil {
		return err
	}
	fault := func(t platform.Trap) error {
		if t.Addr != probeData || t.Access != platform.Read || st.Regs.Rip != probeCode+0x07 && st.Regs.Rip != probeCode+0x16 {
			return fmt.Errorf("fault at %#x (%v) rip %#x, want a read of %#x", t.Addr, t.Access, st.Regs.Rip, probeData)
		}
		return nil
	}
	if err := step("page fault", platform.TrapFault, fault); err != nil {
		return err
	}
	if err := as.mapGPA(probeData, dataPTE); err != nil {
		return err
	}
	if err := step("load after mapping", platform.TrapSyscall, func(platform.Trap) error {
		if st.Regs.Rax != 1 || st.Regs.OrigRax != 1 {
			return fmt.Errorf("syscall %d, want 1", st.Regs.OrigRax)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := as.Unmap(probeData, arch.PageSize); err != nil {
		return err
	}
	if err := step("touch after unmap", platform.TrapFault, func(t platform.Trap) error {
		if t.Addr != probeData || st.Regs.Rip != probeCode+0x16 {
			return fmt.Errorf("fault at %#x rip %#x, want %#x at %#x (a stale mapping?)", t.Addr, st.Regs.Rip, probeData, probeCode+0x16)
		}
		return nil
	}); err != nil {
		return err
	}
	st.Regs.Rip = probeCode + 0x1e
	timer := time.AfterFunc(time.Millisecond, c.Interrupt)
	defer timer.Stop()
	return step("kick", platform.TrapInterrupt, nil)
}
