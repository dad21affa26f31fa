package kvm

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// vcpu is one KVM vCPU with its block of system memory.
type vcpu struct {
	p     *Platform
	id    int
	fd    int
	run   []byte   // the shared kvm_run page(s)
	mbox  []uint64 // mailbox page (words)
	stack []uint64 // stack page (words); the frames live at its top
	top   uint64   // window address of the stack top

	tid   atomic.Int32 // OS thread in Switch; valid while in a running set
	shoot atomic.Bool  // a shootdown wants this vCPU to re-enter

	// runMu orders close's unmapping of run with a kick from another
	// goroutine (a timer's Interrupt): a kick after close must not write
	// to the unmapped page.
	runMu sync.Mutex

	// Used by the owning context's goroutine only.
	as      *AddressSpace // whose root is surely in CR3; nil if unsure
	gen     uint64        // as.gen when this vCPU last flushed for as
	fsBase  uint64
	gsBase  uint64
	fpOwner *arch.State // whose FP state the vCPU holds
	xsave   []byte
	runs    uint64 // KVM_RUNs so far: a lazy FP fetch is good until the next
	fpRuns  uint64 // runs when fpOwner's state was left in the vCPU (saveFP)
	loadFP  func([]byte)
	seq     uint64
	regs    regs
	rbuf    []byte // KVM_GET/SET_REGS image without sync regs
	// sregs is the system-register image set at creation: supervisor
	// mode, the idle root in CR3.
	sregs    []byte
	sregsGet []byte // scratch for KVM_GET_SREGS
	// user is set when the vCPU stopped in user mode (a kick), where the
	// enter code cannot run: the next entry first puts it back into
	// supervisor mode with KVM_SET_SREGS.
	user bool
	// entry describes the current entry (for the error of a fault in
	// supervisor mode): whether it came from a user-mode stop, the CR3
	// asked for, the number of zaps.
	entryUser bool
	entryCR3  uint64
	entryZaps int
}

// Context runs one application thread on one vCPU.
type Context struct {
	p *Platform
	v *vcpu // nil before the first Switch; owner only

	// cur is v while Switch may be running the guest; read by Interrupt.
	cur         atomic.Pointer[vcpu]
	interrupted atomic.Bool
	// switchCPU is the CPU time of the last Switch (SwitchCPU); owner only.
	switchCPU int64
}

var _ platform.Context = (*Context)(nil)

// Guest addresses of the trampoline's entry points.
const (
	addrLSTAR   = windowBase + offCode + codeLSTAR
	addrCSTAR   = windowBase + offCode + codeCSTAR
	addrEnter   = windowBase + offCode + codeEnter
	addrIret    = windowBase + offCode + codeIret
	addrVectors = windowBase + offCode + codeVectors
	enterLen    = 67 // bytes of the enter code, up to and including its hlt
)

// newVCPU creates a vCPU and sets up its system registers.
func (p *Platform) newVCPU() (v *vcpu, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		v = p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return v, nil
	}
	id := p.nvcpu
	p.nvcpu++
	p.mu.Unlock()

	fd, err := ioctl(p.vmFD, kvmCreateVCPU, uintptr(id))
	if err != nil {
		return nil, fmt.Errorf("kvm: KVM_CREATE_VCPU %d: %w", id, err)
	}
	v = &vcpu{p: p, id: id, fd: int(fd), xsave: make([]byte, p.xsaveLen), rbuf: make([]byte, regsSize)}
	defer func() {
		if err != nil {
			v.close()
		}
	}()
	if v.run, err = unix.Mmap(v.fd, 0, p.runSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("kvm: map kvm_run: %w", err)
	}
	block, err := p.allocBlock()
	if err != nil {
		return nil, err
	}
	v.mbox = words(p.sys[block : block+arch.PageSize])
	v.stack = words(p.sys[block+arch.PageSize : block+2*arch.PageSize])
	v.top = windowBase + block + 2*arch.PageSize
	mb := p.sys[block : block+arch.PageSize]
	tssAddr := windowBase + block + mbTSS
	gdt(mb[mbGDT:], tssAddr)
	tss(mb[mbTSS:], v.top)

	// CPUID first: KVM checks the control registers against it.
	if _, err := ioctlBuf(v.fd, kvmSetCPUID2, p.cpuid); err != nil {
		return nil, fmt.Errorf("kvm: KVM_SET_CPUID2: %w", err)
	}
	sr := make([]byte, sregsSize)
	if _, err := ioctlBuf(v.fd, kvmGetSregs, sr); err != nil {
		return nil, fmt.Errorf("kvm: KVM_GET_SREGS: %w", err)
	}
	code := segment{limit: 0xffffffff, selector: selKernelCS, typ: 11, present: 1, s: 1, l: 1, g: 1}
	data := segment{limit: 0xffffffff, selector: selKernelDS, typ: 3, present: 1, s: 1, db: 1, g: 1}
	code.encode(sr[sregCS:])
	for _, o := range []int{sregDS, sregES, sregSS} {
		data.encode(sr[o:])
	}
	null := segment{typ: 3, present: 1, s: 1, db: 1, g: 1, limit: 0xffffffff}
	null.encode(sr[sregFS:])
	null.encode(sr[sregGS:])
	tr := segment{base: tssAddr, limit: tssLimit, selector: selTSS, typ: 11, present: 1}
	tr.encode(sr[sregTR:])
	ldt := segment{typ: 2, unusable: 1}
	ldt.encode(sr[sregLDT:])
	le.PutUint64(sr[sregGDT:], windowBase+block+mbGDT)
	le.PutUint16(sr[sregGDT+8:], gdtLimit)
	le.PutUint64(sr[sregIDT:], windowBase+offIDT)
	le.PutUint16(sr[sregIDT+8:], 4095)
	le.PutUint64(sr[sregCR0:], cr0Value)
	le.PutUint64(sr[sregCR3:], p.sysBase+offIdleRoot)
	le.PutUint64(sr[sregCR4:], cr4PAE|cr4OSFXSR|cr4OSXMMEXCPT|cr4OSXSAVE)
	le.PutUint64(sr[sregEFER:], eferValue)
	if _, err := ioctlBuf(v.fd, kvmSetSregs, sr); err != nil {
		return nil, fmt.Errorf("kvm: KVM_SET_SREGS: %w", err)
	}
	v.sregs = sr
	v.sregsGet = make([]byte, sregsSize)
	xcrs := make([]byte, 0x188)
	le.PutUint32(xcrs[0:], 1)       // nr_xcrs
	le.PutUint32(xcrs[8:], 0)       // XCR0
	le.PutUint64(xcrs[16:], p.xcr0) // value
	if _, err := ioctlBuf(v.fd, kvmSetXCRs, xcrs); err != nil {
		return nil, fmt.Errorf("kvm: KVM_SET_XCRS %#x: %w", p.xcr0, err)
	}
	m := msrs(
		msrSTAR, uint64(selKernelCS)<<32|uint64(selUser32CS)<<48,
		msrLSTAR, addrLSTAR,
		msrCSTAR, addrCSTAR,
		msrSFMASK, sfmask,
		msrPAT, patValue,
		msrFSBase, 0,
		msrGSBase, 0,
		msrKernelGSBase, 0,
	)
	if n, err := ioctlBuf(v.fd, kvmSetMSRs, m); err != nil || n != 8 {
		return nil, fmt.Errorf("kvm: KVM_SET_MSRS set %d of 8: %v", n, err)
	}
	// The vDSO computes time from the host's TSC; the guest must read
	// the same. (kvm_pvm runs user code on the host TSC anyway.)
	if err := setTSCOffset(v.fd, 0); err == nil {
		p.tscOffset = true
	}
	if p.syncRegs {
		le.PutUint64(v.run[runValidRegs:], syncX86Regs)
	}
	return v, nil
}

// close frees the vCPU's host resources (KVM keeps the vCPU itself until
// the VM goes).
func (v *vcpu) close() {
	v.runMu.Lock()
	if v.run != nil {
		unix.Munmap(v.run)
		v.run = nil
	}
	v.runMu.Unlock()
	unix.Close(v.fd)
}

// kick makes the vCPU leave KVM_RUN promptly: immediate_exit covers a
// KVM_RUN about to start, the signal one in progress.
func (v *vcpu) kick() {
	v.runMu.Lock()
	if v.run != nil {
		setImmediateExit(v.run, true)
	}
	v.runMu.Unlock()
	if tid := v.tid.Load(); tid != 0 {
		unix.Tgkill(v.p.pid, int(tid), unix.SIGCHLD)
	}
}

// Interrupt makes the running (or the next) Switch return TrapInterrupt.
func (c *Context) Interrupt() {
	c.interrupted.Store(true)
	if v := c.cur.Load(); v != nil {
		v.kick()
	}
}

// Release returns the vCPU to the platform's pool.
func (c *Context) Release() {
	v := c.v
	if v == nil {
		return
	}
	c.v = nil
	v.syncFP()
	v.fpOwner = nil
	if v.user {
		// Not in supervisor mode: the next owner's first entry would
		// reset it, but a vCPU in the pool should be ready.
		v.toSupervisor()
	}
	v.tid.Store(0)
	p := c.p
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		v.close()
		return
	}
	p.idle = append(p.idle, v)
	p.mu.Unlock()
}

// canonical reports whether addr is a canonical 48-bit address.
func canonical(addr uint64) bool { return addr < 1<<47 || addr >= 0xffff_8000_0000_0000 }

// Switch runs the thread st in as until it traps.
func (c *Context) Switch(pas platform.AddressSpace, st *arch.State) (_ platform.Trap, err error) {
	start := threadCPU()
	defer func() { c.switchCPU = threadCPU() - start }()
	as, ok := pas.(*AddressSpace)
	if !ok {
		return platform.Trap{}, fmt.Errorf("kvm: Switch into a %T", pas)
	}
	if c.v == nil {
		v, err := c.p.newVCPU()
		if err != nil {
			return platform.Trap{}, err
		}
		c.v = v
	}
	v := c.v
	v.tid.Store(int32(unix.Gettid()))
	c.cur.Store(v)
	defer c.cur.Store(nil)

	// IRETQ to a non-canonical RIP faults in supervisor mode; Linux
	// kills such a return with SIGSEGV, as does the CPU's #GP here.
	if !canonical(st.Regs.Rip) || !canonical(st.Regs.Rsp) {
		return platform.Trap{Kind: platform.TrapSignal, Signo: arch.SIGSEGV, Code: siKernel}, nil
	}
	if err := v.load(st); err != nil {
		return platform.Trap{}, err
	}
	for {
		if c.interrupted.Swap(false) {
			return platform.Trap{Kind: platform.TrapInterrupt}, v.saveFP(st)
		}
		trap, done, err := v.enter(as, st, c)
		if err != nil {
			return trap, err
		}
		if done {
			if trap.Kind == platform.TrapInterrupt {
				c.interrupted.Store(false)
			}
			return trap, v.saveFP(st)
		}
	}
}

// SwitchCPU implements platform.SwitchCPUer: the vCPU runs on the
// caller's thread, whose CPU clock counts the guest's time too.
func (c *Context) SwitchCPU() int64 { return c.switchCPU }

// threadCPU reads the calling thread's CPU clock, ns.
func threadCPU() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

// load puts st's FS/GS base and (if needed) FP state into the vCPU.
func (v *vcpu) load(st *arch.State) error {
	if st.Regs.FsBase != v.fsBase || st.Regs.GsBase != v.gsBase {
		m := msrs(msrFSBase, st.Regs.FsBase, msrGSBase, st.Regs.GsBase)
		if n, err := ioctlBuf(v.fd, kvmSetMSRs, m); err != nil || n != 2 {
			return fmt.Errorf("kvm: set fs_base %#x gs_base %#x: %v", st.Regs.FsBase, st.Regs.GsBase, err)
		}
		v.fsBase, v.gsBase = st.Regs.FsBase, st.Regs.GsBase
	}
	if len(st.FP) != arch.FPStateSize() {
		st.FP = arch.NewFPState()
		st.FPDirty = true
	}
	if v.fpOwner != st {
		v.syncFP()
		st.SyncFP() // it may be held by another vCPU
	}
	if st.FPDirty || v.fpOwner != st {
		clear(v.xsave[len(st.FP):])
		copy(v.xsave, st.FP)
		if _, err := ioctlBuf(v.fd, kvmSetXSave, v.xsave); err != nil {
			return fmt.Errorf("kvm: KVM_SET_XSAVE: %w", err)
		}
		st.FPDirty = false
		v.fpOwner = st
	}
	return nil
}

// saveFP records that the vCPU holds st's FP state, to be read
// (KVM_GET_XSAVE, several microseconds on kvm_pvm) only if the kernel asks
// for it before the vCPU runs again (arch.State.FPLoad): most syscalls
// never do, and load then has nothing to put back either.
func (v *vcpu) saveFP(st *arch.State) error {
	v.fpRuns = v.runs
	if v.loadFP == nil {
		v.loadFP = v.fetchFP // one closure per vCPU, not one per trap
	}
	st.FPLoad = v.loadFP
	v.fpOwner = st
	return nil
}

// fetchFP is an arch.State.FPLoad: it reads the vCPU's FP state into fp
// if the vCPU has not run since saveFP (else it was synced before it did).
func (v *vcpu) fetchFP(fp []byte) {
	if v.runs != v.fpRuns {
		return
	}
	if _, err := ioctlBuf(v.fd, v.p.xsaveReq, v.xsave); err != nil {
		return // never seen; the thread keeps the FP state it had
	}
	copy(fp, v.xsave)
}

// syncFP fetches a state the vCPU holds lazily (saveFP) before the vCPU
// takes another one or leaves its context.
func (v *vcpu) syncFP() {
	if v.fpOwner != nil {
		v.fpOwner.SyncFP()
	}
}

// enter runs one entry into the application: register in as's running
// set, apply the zaps and CR3 through the enter code, run until a trap.
// done is false when the entry must be redone (a kick before the
// application ran, or a shootdown): st is then current.
func (v *vcpu) enter(as *AddressSpace, st *arch.State, c *Context) (trap platform.Trap, done bool, err error) {
	p := v.p
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return trap, false, errReleased
	}
	zaps := make([]uint64, 0, len(as.pending)+8)
	zaps = append(zaps, as.pending...)
	asEnd := as.pendBase + uint64(len(as.pending))
	as.snapEnd = max(as.snapEnd, asEnd)
	p.mu.Lock()
	zaps = append(zaps, p.zaps...)
	pEnd := p.zapBase + uint64(len(p.zaps))
	p.mu.Unlock()
	var cr3 uint64
	if v.as != as || v.gen != as.gen {
		cr3 = p.sysBase + as.root
	}
	gen := as.gen
	v.seq++
	as.running[v] = v.seq
	v.shoot.Store(false)
	as.mu.Unlock()

	v.entryUser, v.entryZaps = v.user, len(zaps)
	if v.user {
		if err := v.toSupervisor(); err != nil {
			as.mu.Lock()
			delete(as.running, v)
			as.cond.Broadcast()
			as.mu.Unlock()
			return trap, false, err
		}
		cr3 = p.sysBase + as.root
	}
	completed := false
	defer func() {
		as.mu.Lock()
		delete(as.running, v)
		if completed {
			as.appliedLocked(asEnd)
			v.as, v.gen = as, gen
			p.mu.Lock()
			if pEnd > p.zapBase {
				n := int(pEnd - p.zapBase)
				p.zaps = p.zaps[:copy(p.zaps, p.zaps[n:])]
				p.zapBase = pEnd
			}
			p.mu.Unlock()
		} else if cr3 != 0 {
			v.as = nil // CR3 may or may not have been loaded
		}
		as.cond.Broadcast()
		as.mu.Unlock()
	}()

	// Rounds of zaps beyond what the mailbox holds halt after each.
	for len(zaps) > mbMaxZaps {
		v.fillMailbox(zaps[:mbMaxZaps], 0, true)
		v.setEnterRegs(st)
		reason, err := v.runOnce()
		if err != nil {
			return trap, false, err
		}
		if reason == exitIntr {
			return trap, false, nil
		}
		if reason != exitHLT || v.regs.rip != addrEnter+enterLen {
			return trap, false, v.unexpected(reason, "zap round")
		}
		zaps = zaps[mbMaxZaps:]
	}
	v.entryCR3 = cr3
	v.fillMailbox(zaps, cr3, false)
	v.setEnterRegs(st)
	if len(zaps) == 0 && cr3 == 0 {
		// Nothing to apply: straight to the iretq (each instruction
		// of supervisor code costs microseconds under kvm_pvm).
		v.setRIP(addrIret)
	}
	for {
		reason, err := v.runOnce()
		if err != nil {
			return trap, false, err
		}
		rip := v.regs.rip
		switch reason {
		case exitIntr:
			if rip >= addrEnter && rip < addrEnter+enterLen {
				// The enter code did not finish: st still holds the
				// thread; enter again from the start.
				return trap, false, nil
			}
			if rip >= windowBase {
				// Inside an exception stub or at LSTAR: a few
				// instructions from its hlt. Let it get there.
				continue
			}
			// In the application.
			if c.interrupted.Load() || v.shoot.Load() {
				// KVM may have queued an exception for the application
				// (a fault it took just before the signal) and returned
				// before delivering it. Stopping here would leave it
				// queued, and the next entry would deliver it in the
				// enter code, as a fault in supervisor mode. Deliver it
				// first: the vector's hlt ends this entry as its trap.
				if pending, err := v.exceptionQueued(); err != nil {
					return trap, false, err
				} else if pending {
					continue
				}
				completed = true
				v.user = true
				cs, err := v.userCS()
				if err != nil {
					return trap, false, err
				}
				v.saveUser(st, rip, v.regs.rsp, v.regs.rflags, cs)
				if c.interrupted.Load() {
					return platform.Trap{Kind: platform.TrapInterrupt}, true, nil
				}
				return trap, false, nil
			}
			continue // a signal for the Go runtime: resume
		case exitHLT:
			completed = true
			trap, err := v.classify(st)
			return trap, err == nil, err
		default:
			return trap, false, v.unexpected(reason, "run")
		}
	}
}

// toSupervisor puts a vCPU that stopped in user mode back into supervisor
// mode, on the idle root (the entry loads the right CR3).
func (v *vcpu) toSupervisor() error {
	le.PutUint64(v.sregs[sregFS:], v.fsBase)
	le.PutUint64(v.sregs[sregGS:], v.gsBase)
	if _, err := ioctlBuf(v.fd, kvmSetSregs, v.sregs); err != nil {
		return fmt.Errorf("kvm: KVM_SET_SREGS: %w", err)
	}
	v.user = false
	v.as = nil
	return nil
}

// fillMailbox writes the zaps (window addresses), the new CR3 (0: keep)
// and the halt flag for the enter code.
func (v *vcpu) fillMailbox(zaps []uint64, cr3 uint64, halt bool) {
	mb := v.mbox
	for i, t := range zaps {
		mb[3+i] = windowBase + t
	}
	mb[mbCount] = uint64(len(zaps))
	mb[mbCR3] = cr3
	mb[mbHalt] = 0
	if halt {
		mb[mbHalt] = 1
	}
}

// setEnterRegs loads the application's registers, with RIP at the enter
// code and RSP at an IRET frame (built at the top of the stack) that
// returns to the application.
func (v *vcpu) setEnterRegs(st *arch.State) {
	r := &st.Regs
	f := v.stack[512-5:]
	f[0] = r.Rip
	f[1] = selUserCS
	if r.Cs == selUser32CS {
		// The thread runs in compat mode (it far-jumped there).
		f[1] = selUser32CS
	}
	f[2] = r.Eflags&userFlags | rflagsIF | 2
	f[3] = r.Rsp
	f[4] = selUserDS
	v.regs = regs{
		rax: r.Rax, rbx: r.Rbx, rcx: r.Rcx, rdx: r.Rdx, rsi: r.Rsi, rdi: r.Rdi,
		rsp: v.top - 40, rbp: r.Rbp,
		r8: r.R8, r9: r.R9, r10: r.R10, r11: r.R11, r12: r.R12, r13: r.R13, r14: r.R14, r15: r.R15,
		rip: addrEnter, rflags: 2,
	}
	if v.p.syncRegs {
		v.regs.encode(v.run[runSyncRegs:])
		le.PutUint64(v.run[runDirtyRegs:], syncX86Regs)
	} else {
		v.regs.encode(v.rbuf)
		// An error here shows up as a wrong trap; runOnce reports
		// what KVM_RUN says.
		ioctlBuf(v.fd, kvmSetRegs, v.rbuf)
	}
}

// setRIP changes the entry RIP set by setEnterRegs.
func (v *vcpu) setRIP(rip uint64) {
	v.regs.rip = rip
	if v.p.syncRegs {
		le.PutUint64(v.run[runSyncRegs+16*8:], rip)
	} else {
		v.regs.encode(v.rbuf)
		ioctlBuf(v.fd, kvmSetRegs, v.rbuf)
	}
}

// runOnce is one KVM_RUN; it returns the exit reason with v.regs current.
// EINTR (a kick or another signal) is reported as exitIntr.
func (v *vcpu) runOnce() (uint32, error) {
	v.runs++
	err := runVCPU(v.fd)
	setImmediateExit(v.run, false)
	reason := le.Uint32(v.run[runExitReason:])
	if err == unix.EINTR || err == unix.EAGAIN {
		reason, err = exitIntr, nil
	}
	if err != nil {
		return 0, fmt.Errorf("kvm: KVM_RUN: %w", err)
	}
	if v.p.syncRegs {
		v.regs.decode(v.run[runSyncRegs:])
	} else if _, err := ioctlBuf(v.fd, kvmGetRegs, v.rbuf); err != nil {
		return 0, fmt.Errorf("kvm: KVM_GET_REGS: %w", err)
	} else {
		v.regs.decode(v.rbuf)
	}
	return reason, nil
}

// unexpected describes an exit uk has no use for.
func (v *vcpu) unexpected(reason uint32, where string) error {
	extra := ""
	switch reason {
	case exitInternalError:
		extra = fmt.Sprintf(" suberror %d", le.Uint32(v.run[runInternal:]))
	case exitFailEntry:
		extra = fmt.Sprintf(" hardware reason %#x", le.Uint64(v.run[runInternal:]))
	case exitShutdown:
		extra = " (triple fault)"
	}
	return fmt.Errorf("kvm: vCPU %d: unexpected exit %d%s during %s at rip %#x rsp %#x", v.id, reason, extra, where, v.regs.rip, v.regs.rsp)
}

// saveUser stores the application's registers after a trap: the general
// registers from the vCPU, RIP, RSP and RFLAGS as given.
func (v *vcpu) saveUser(st *arch.State, rip, rsp, rflags, cs uint64) {
	r := &st.Regs
	g := &v.regs
	r.Rax, r.Rbx, r.Rcx, r.Rdx, r.Rsi, r.Rdi, r.Rbp = g.rax, g.rbx, g.rcx, g.rdx, g.rsi, g.rdi, g.rbp
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = g.r8, g.r9, g.r10, g.r11, g.r12, g.r13, g.r14, g.r15
	r.Rip, r.Rsp, r.Eflags = rip, rsp, rflags
	r.Cs, r.Ss = selUserCS, selUserDS
	if cs == selUser32CS {
		r.Cs = selUser32CS
	}
	r.OrigRax = ^uint64(0)
}

// exceptionQueued reports whether KVM holds an exception it has not yet
// delivered to the guest.
func (v *vcpu) exceptionQueued() (bool, error) {
	var ev [eventsSize]byte
	if _, err := ioctlBuf(v.fd, kvmGetVCPUEvents, ev[:]); err != nil {
		return false, fmt.Errorf("kvm: KVM_GET_VCPU_EVENTS: %w", err)
	}
	return ev[eventsInjected] != 0 || ev[eventsPending] != 0, nil
}

// userCS reads the code segment of a vCPU stopped in user mode: the
// application may have far-jumped into compat mode on its own.
func (v *vcpu) userCS() (uint64, error) {
	sr := v.sregsGet
	if _, err := ioctlBuf(v.fd, kvmGetSregs, sr); err != nil {
		return 0, fmt.Errorf("kvm: KVM_GET_SREGS: %w", err)
	}
	return uint64(le.Uint16(sr[sregCS+12:])), nil
}

// cr2 reads the vCPU's CR2.
func (v *vcpu) cr2() (uint64, error) {
	sr := v.sregsGet
	if _, err := ioctlBuf(v.fd, kvmGetSregs, sr); err != nil {
		return 0, fmt.Errorf("kvm: KVM_GET_SREGS: %w", err)
	}
	return le.Uint64(sr[sregCR2:]), nil
}

// Linux si_code values.
const (
	siKernel   = 0x80
	segvMapErr = 1
	segvAccErr = 2
	busAdrAln  = 1
	illIllOpn  = 2
	fpeIntDiv  = 1
	fpeFltDiv  = 3
	fpeFltOvf  = 4
	fpeFltUnd  = 5
	fpeFltRes  = 6
	fpeFltInv  = 7
	trapBrkpt  = 1
	trapTrace  = 2
)

// classify turns a HLT exit into a trap and stores the thread's state.
func (v *vcpu) classify(st *arch.State) (platform.Trap, error) {
	g := &v.regs
	if g.rip == addrLSTAR+1 {
		// VMX/SVM: syscall entered supervisor mode at LSTAR.
		v.saveUser(st, g.rcx, g.rsp, g.r11, selUserCS)
		st.Regs.OrigRax = g.rax
		return platform.Trap{Kind: platform.TrapSyscall}, nil
	}
	if g.rip == addrCSTAR+1 {
		// SVM: a syscall in compat mode entered at CSTAR. It is a
		// 32-bit call: the kernel refuses it.
		v.saveUser(st, g.rcx, g.rsp, g.r11, selUser32CS)
		st.Regs.OrigRax = g.rax
		return platform.Trap{Kind: platform.TrapSyscall, Compat: true}, nil
	}
	if g.rip <= addrVectors || g.rip > addrVectors+256*16 || (g.rip-1-addrVectors)%16 != 0 {
		return platform.Trap{}, v.unexpected(exitHLT, "run (hlt outside the stubs)")
	}
	vec := int(g.rip-1-addrVectors) / 16
	f := v.stack[512-frameWords:]
	var code uint64
	if vectorHasError(vec) {
		f = v.stack[512-frameWords-1:]
		code, f = f[0], f[1:]
	}
	rip, cs, rflags, rsp := f[0], f[1], f[2], f[3]
	if vec == 14 && rip == addrLSTAR {
		// kvm_pvm: the syscall arrives as a fetch fault at LSTAR, with
		// RCX and R11 as syscall sets them. (An application that jumps
		// to LSTAR itself gets the same: a syscall with RCX and R11 as
		// they were, harmless.)
		v.p.pvm = true
		v.saveUser(st, g.rcx, rsp, g.r11, selUserCS)
		st.Regs.OrigRax = g.rax
		return platform.Trap{Kind: platform.TrapSyscall}, nil
	}
	if vec == 14 && cs&3 == 0 && (rip == addrCSTAR || rip == addrCSTAR&0xffffffff) {
		// kvm_pvm: a syscall in compat mode jumps to CSTAR cut to 32
		// bits and faults there, with RCX and R11 as syscall sets them.
		// Only this syscall gets to that address in supervisor mode.
		v.p.pvm = true
		v.saveUser(st, g.rcx&0xffffffff, rsp, g.r11, selUser32CS)
		st.Regs.OrigRax = g.rax
		return platform.Trap{Kind: platform.TrapSyscall, Compat: true}, nil
	}
	if cs&3 != 3 {
		sr := v.sregsGet
		ioctlBuf(v.fd, kvmGetSregs, sr)
		return platform.Trap{}, fmt.Errorf("kvm: vCPU %d: exception %d (error %#x) in supervisor mode at %#x rsp %#x (cr2 %#x cr3 %#x; entry from user %v, cr3 asked %#x, %d zaps)",
			v.id, vec, code, rip, rsp, le.Uint64(sr[sregCR2:]), le.Uint64(sr[sregCR3:]), v.entryUser, v.entryCR3, v.entryZaps)
	}
	v.saveUser(st, rip, rsp, rflags, cs)
	sig := func(signo, code int32, addr uint64) (platform.Trap, error) {
		return platform.Trap{Kind: platform.TrapSignal, Signo: signo, Code: code, Addr: addr}, nil
	}
	switch vec {
	case 14:
		cr2, err := v.cr2()
		if err != nil {
			return platform.Trap{}, err
		}
		t := platform.Trap{Kind: platform.TrapFault, Addr: cr2, Signo: arch.SIGSEGV, Code: segvMapErr, Access: platform.Read}
		if code&1 != 0 {
			t.Code = segvAccErr
		}
		switch {
		case code&0x10 != 0:
			t.Access = platform.Exec
		case code&2 != 0:
			t.Access = platform.Write
		}
		return t, nil
	case 0:
		return sig(arch.SIGFPE, fpeIntDiv, rip)
	case 1:
		return sig(arch.SIGTRAP, trapTrace, rip)
	case 3:
		return sig(arch.SIGTRAP, siKernel, 0)
	case 6:
		return sig(arch.SIGILL, illIllOpn, rip)
	case 16, 19:
		// x87 or SIMD floating-point exception: the code comes from the
		// unmasked exception flags, as Linux's fpu__exception_code.
		if err := v.saveFP(st); err != nil {
			return platform.Trap{}, err
		}
		st.SyncFP() // the exception flags are in it
		var e uint32
		if vec == 19 {
			mxcsr := le.Uint32(st.FP[24:])
			e = ^(mxcsr >> 7) & mxcsr & 0x3f
		} else {
			cwd, swd := uint32(le.Uint16(st.FP[0:])), uint32(le.Uint16(st.FP[2:]))
			e = swd &^ cwd & 0x3f
		}
		c := int32(0)
		switch {
		case e&0x01 != 0:
			c = fpeFltInv
		case e&0x04 != 0:
			c = fpeFltDiv
		case e&0x08 != 0:
			c = fpeFltOvf
		case e&0x12 != 0:
			c = fpeFltUnd
		case e&0x20 != 0:
			c = fpeFltRes
		}
		return sig(arch.SIGFPE, c, rip)
	case 17:
		return sig(arch.SIGBUS, busAdrAln, 0)
	case 11, 12:
		return sig(arch.SIGBUS, siKernel, 0)
	default:
		// #GP (a privileged instruction, int n, a non-canonical
		// address), #OF, #BR, #NM, #TS and anything else: SIGSEGV from
		// the kernel, as Linux's do_general_protection.
		return sig(arch.SIGSEGV, siKernel, 0)
	}
}
