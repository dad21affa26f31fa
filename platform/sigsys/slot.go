package sigsys

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform/internal/stubproc"
)

// A slot is one application thread's page run shared between uk and its
// stub: a header (the state word and what the handler records at a trap)
// followed by the thread's alternate signal stack, on which the host kernel
// pushes the signal frame that is the thread's register state while it
// waits for uk. Slots come from the slot file, a memfd uk maps whole; a
// stub maps each of its threads' slots at its own address in the thread
// region, slotSize aligned, so that the handler finds the header by
// rounding its stack pointer down.
//
// Everything in a slot is also readable and writable by the application
// (it is in its address space, and threads of one process trust one
// another anyway). uk therefore copies what it reads once, checks it, and
// rewrites everything the host will restore from before each resume.

// Slot header layout (byte offsets). The handler writes hdrSigno..hdrGS at
// a trap; uk writes hdrSetFS and hdrSetGS, which the handler loads with
// WRFSBASE/WRGSBASE before rt_sigreturn (the signal frame has no FS or GS
// base).
const (
	hdrState = 0  // uint32: the state word (below)
	hdrCPU   = 4  // uint32: cpuAsked, or TSC_AUX where the thread published its next trap after (its CPU; see publishAndWait)
	hdrSigno = 8  // the signal number (RDI at handler entry)
	hdrInfo  = 16 // the stub's address of the stubproc.Siginfo (RSI)
	hdrUctx  = 24 // the stub's address of the ucontext (RDX)
	hdrFS    = 32 // FS base at the trap (RDFSBASE)
	hdrGS    = 40 // GS base at the trap
	hdrSetFS = 48 // FS base to resume with
	hdrSetGS = 56 // GS base to resume with
	hdrSpin  = 64 // uint32: how many PAUSEs the handler spins before it sleeps
	hdrHold  = 68 // uint32: how many more rounds of hdrSpin PAUSEs it spins while uk works on the trap
	hdrSelf  = 72 // the slot's own address in the stub (fastcall.go: the trampoline's check of GS)
	// fastOff..fastEnd: the fast frame (fastcall.go), the registers a
	// patched syscall site's trampoline saves and restores.
	fastOff = 80
	fastEnd = fastOff + fastSize

	// cpuAsked in hdrCPU asks the handler to record its CPU there at its
	// next trap.
	cpuAsked = 0xffffffff

	// altStackOff is where the alternate signal stack begins.
	altStackOff = 256
)

// State word values. The handler moves the word to stateTrapped when it
// has published a trap (and to stateStubWait before it sleeps on the word);
// uk moves it to stateRunning when the frame is ready to return to. A
// patched syscall site's trampoline (fastcall.go) moves it to
// stateFastTrapped (stateFastStubWait before it sleeps), and uk answers
// with stateFastResume (go back to the program through the fast frame) or
// stateReenter (trap into the handler, so that uk gets a signal frame).
// uk sets ukSleeps in its answer before it sleeps on the word. Each side
// wakes the other only if it finds the other's sleeping value when it
// swaps in its own; both recheck the word after every wakeup, so a
// program that forges the word gets nothing but its own thread confused.
const (
	stateTrapped      = 1
	stateRunning      = 2
	stateStubWait     = 4
	stateFastTrapped  = 5
	stateFastStubWait = 6
	stateFastResume   = 7
	stateReenter      = 8
	ukSleeps          = 0x10
)

// maxSlotSize bounds slotSize (the thread region is sized for it); a host
// whose signal frames need more cannot use this platform.
const maxSlotSize = 64 << 10

// threadRegionSize is the part of the address space below the stub's code
// that holds the slots of its threads.
const threadRegionSize = 64 << 20

// threadBase is where the thread region begins: the top of what the
// application may use.
const threadBase = stubproc.StubBase - threadRegionSize

// slotSize is a power of two at least 16 KiB that holds the header and
// twice the largest signal frame this host can push (AT_MINSIGSTKSZ from
// the XSAVE size CPUID reports: AVX-512 or AMX machines push far larger
// frames than others).
var slotSize = func() uint64 {
	need := altStackOff + 2*arch.HostXSave().MinSigStackSize()
	return max(16<<10, uint64(1)<<bits.Len64(need-1))
}()

// maxThreads is how many stub threads one address space can hold.
var maxThreads = int(threadRegionSize / slotSize)

// maxSlots is how many slots (live stub threads of all address spaces) the
// slot file holds.
const maxSlots = 1 << 14

// slotFDInStub is the slot file's fd in a stub process: the first of the
// extra fds the master is given (Config.ExtraFDs).
const slotFDInStub = stubproc.FirstExtraFD

// serveFDInStub is the write end of the serving thread's completion pipe
// in every stub: the fd after the slot file.
const serveFDInStub = slotFDInStub + 1

// slotFile is the memfd holding every thread slot.
type slotFile struct {
	fd    int
	mem   []byte
	size  uint64
	slots *stubproc.Numbers // which slots are handed out
}

func newSlotFile() (*slotFile, error) {
	fd, err := unix.MemfdCreate("uk-sigsys-slots", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("slot file memfd: %w", err)
	}
	size := maxSlots * slotSize
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("size slot file: %w", err)
	}
	// Wherever the fd is, ForkExec moves it to slotFDInStub in the master.
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("map slot file: %w", err)
	}
	return &slotFile{fd: fd, mem: mem, size: size, slots: stubproc.NewNumbers(0, maxSlots)}, nil
}

// slot returns uk's view of slot i.
func (f *slotFile) slot(i int) []byte {
	off := uint64(i) * slotSize
	return f.mem[off : off+slotSize : off+slotSize]
}

// get hands out a free slot.
func (f *slotFile) get() (int, error) {
	s, ok := f.slots.Get()
	if !ok {
		return 0, fmt.Errorf("sigsys: %d stub threads exist: %w", maxSlots, unix.EAGAIN)
	}
	return s, nil
}

// put gives slots back. The caller guarantees that no stub maps them any
// more (their stub process has been reaped) and that uk holds no thread
// on them (AddressSpace.held).
func (f *slotFile) put(slots ...int) { f.slots.Put(slots...) }

func (f *slotFile) close() {
	unix.Munmap(f.mem)
	unix.Close(f.fd)
}

// Offsets in the ucontext and sigcontext the host pushes (see
// arch/sigframe.go, which builds the same frames for the guest).
const (
	ucFlagsOff    = 0
	ucStackOff    = 16
	ucMcontextOff = 40
	ucSigmaskOff  = ucMcontextOff + arch.SigcontextSize
	ucSize        = arch.UContextSize

	scR8, scR9, scR10, scR11, scR12, scR13, scR14, scR15 = 0, 8, 16, 24, 32, 40, 48, 56
	scRdi, scRsi, scRbp, scRbx, scRdx, scRax, scRcx      = 64, 72, 80, 88, 96, 104, 112
	scRsp, scRip, scEflags, scCs, scSs                   = 120, 128, 136, 144, 150
	scErr, scTrapno, scCr2, scFpstate                    = 152, 160, 176, 184

	siginfoSize = 128
	siginfoUsed = 32 // the bytes of it uk reads (frame's si* methods)

	fxswOff      = 464 // fpx_sw_bytes in the FXSAVE area
	fxswSize     = 48
	xstateBVOff  = 512
	xsaveMinSize = 576
)

// frame is a checked copy of what the handler published at a trap.
type frame struct {
	signo int
	info  [siginfoSize]byte
	uc    [ucSize]byte
	// ucOff and fpOff locate the ucontext and the XSAVE image in the slot;
	// fpSize is the image's size (fpx_sw_bytes.xstate_size), fxsw a copy of
	// its software bytes. All checked to lie inside the slot.
	ucOff, fpOff, fpSize int
	fxsw                 [fxswSize]byte
	// fs and gs are the bases at the trap; gs is the slot's own address
	// (slot) when the program has none of its own (fastcall.go).
	fs, gs, slot uint64
}

// errBadFrame is a trap whose frame does not lie where the host kernel
// puts frames: the program wrote to its slot.
var errBadFrame = errors.New("sigsys: the thread's signal frame was overwritten by the program")

// readFrame copies and checks the trap the handler published in slot mem,
// mapped at addr in the stub.
func readFrame(mem []byte, addr uint64, f *frame) error {
	le := binary.LittleEndian
	// Read each header field once: the program may change them meanwhile.
	f.signo = int(int32(le.Uint64(mem[hdrSigno:])))
	info := le.Uint64(mem[hdrInfo:])
	uc := le.Uint64(mem[hdrUctx:])
	f.fs = le.Uint64(mem[hdrFS:])
	f.gs = le.Uint64(mem[hdrGS:])
	f.slot = addr
	infoOff, ok1 := inSlot(info, addr, siginfoSize)
	ucOff, ok2 := inSlot(uc, addr, ucSize)
	if !ok1 || !ok2 {
		return errBadFrame
	}
	// Only the siginfo fields classify reads (signo, errno, code, the
	// address, syscall and arch): each further cache line crosses from
	// the stub thread's CPU.
	copy(f.info[:siginfoUsed], mem[infoOff:])
	copy(f.uc[:], mem[ucOff:])
	f.ucOff = ucOff
	fp := le.Uint64(f.uc[ucMcontextOff+scFpstate:])
	fpOff, ok := inSlot(fp, addr, xsaveMinSize+4)
	if !ok || fpOff%64 != 0 {
		return errBadFrame
	}
	copy(f.fxsw[:], mem[fpOff+fxswOff:])
	size := int(le.Uint32(f.fxsw[16:])) // xstate_size
	if le.Uint32(f.fxsw[0:]) != arch.FP_XSTATE_MAGIC1 || size < xsaveMinSize || size > arch.FPStateSize() ||
		uint64(fpOff+size+4) > slotSize {
		return errBadFrame
	}
	f.fpOff, f.fpSize = fpOff, size
	return nil
}

// inSlot returns the offset in the slot at addr of a len-byte object at
// stub address p, if it lies wholly in the slot's alternate stack.
func inSlot(p, addr uint64, n int) (int, bool) {
	off := p - addr
	if p < addr || off < altStackOff || off > slotSize || uint64(n) > slotSize-off {
		return 0, false
	}
	return int(off), true
}

// regs returns the frame's registers (with what the host does not save in
// the frame from the header), normalised as the host would restore them.
func (f *frame) regs() arch.Registers {
	le := binary.LittleEndian
	sc := f.uc[ucMcontextOff : ucMcontextOff+arch.SigcontextSize]
	g := func(off int) uint64 { return le.Uint64(sc[off:]) }
	r := arch.Registers{
		R8: g(scR8), R9: g(scR9), R10: g(scR10), R11: g(scR11),
		R12: g(scR12), R13: g(scR13), R14: g(scR14), R15: g(scR15),
		Rdi: g(scRdi), Rsi: g(scRsi), Rbp: g(scRbp), Rbx: g(scRbx),
		Rdx: g(scRdx), Rax: g(scRax), Rcx: g(scRcx), Rsp: g(scRsp),
		Rip: g(scRip), Eflags: g(scEflags),
		Cs: arch.UserCS, Ss: arch.UserDS,
		OrigRax: ^uint64(0),
		FsBase:  f.fs, GsBase: f.gs,
	}
	if f.gs == f.slot {
		r.GsBase = 0
	}
	if le.Uint16(sc[scCs:]) == arch.UserCS32 {
		r.Cs = arch.UserCS32
	}
	return r
}

// errTrap reports the page-fault error code and trap number the host
// recorded.
func (f *frame) errTrap() (errCode, trapno uint64) {
	le := binary.LittleEndian
	sc := f.uc[ucMcontextOff:]
	return le.Uint64(sc[scErr:]), le.Uint64(sc[scTrapno:])
}

// saveFP copies the frame's XSAVE image into fp.
func saveFP(mem []byte, off, size int, fp []byte) {
	n := copy(fp[:size], mem[off:off+size])
	// The software bytes are the host's signal-frame bookkeeping, not
	// FP state: keep them out of the thread's image.
	clear(fp[fxswOff : fxswOff+fxswSize])
	clear(fp[n:])
}

// maxUserBase bounds FS and GS bases uk loads: WRFSBASE faults on a
// non-canonical value, and the host rejects anything at or above its
// TASK_SIZE_MAX for arch_prctl and ptrace alike.
const maxUserBase = 1<<47 - arch.PageSize

// writeFrame rewrites the frame of slot mem (at addr in the stub, where f
// was read) with st, checking every register the host will restore, and
// the FS/GS bases the handler will load. It rewrites every part of the
// frame rt_sigreturn reads, so that nothing the program left there
// survives, except, when copyFP is false, the XSAVE image: the caller
// knows it holds st.FP already (the host saved it there at the trap), and
// anything the program wrote there since (state, header or software
// bytes) is FP state it could load with its own XRSTOR anyway, or a frame
// layout the host's rt_sigreturn checks as it checks any program's.
func writeFrame(mem []byte, addr uint64, f *frame, st *arch.State, copyFP bool) error {
	r := &st.Regs
	if r.FsBase >= maxUserBase || r.GsBase >= maxUserBase {
		return fmt.Errorf("sigsys: fs_base %#x or gs_base %#x out of range: %w", r.FsBase, r.GsBase, unix.EIO)
	}
	uc := mem[f.ucOff : f.ucOff+ucSize]
	put64(uc[ucFlagsOff:], arch.UC_FP_XSTATE|arch.UC_SIGCONTEXT_SS|arch.UC_STRICT_RESTORE_SS)
	put64(uc[8:], 0) // uc_link
	// The alternate stack rt_sigreturn restores: this slot's, enabled.
	put64(uc[ucStackOff:], addr+altStackOff)
	put64(uc[ucStackOff+8:], 0)
	put64(uc[ucStackOff+16:], slotSize-altStackOff)
	sc := uc[ucMcontextOff : ucMcontextOff+arch.SigcontextSize]
	p := func(off int, v uint64) { put64(sc[off:], v) }
	p(scR8, r.R8)
	p(scR9, r.R9)
	p(scR10, r.R10)
	p(scR11, r.R11)
	p(scR12, r.R12)
	p(scR13, r.R13)
	p(scR14, r.R14)
	p(scR15, r.R15)
	p(scRdi, r.Rdi)
	p(scRsi, r.Rsi)
	p(scRbp, r.Rbp)
	p(scRbx, r.Rbx)
	p(scRdx, r.Rdx)
	p(scRax, r.Rax)
	p(scRcx, r.Rcx)
	p(scRsp, r.Rsp)
	p(scRip, r.Rip)
	// Only the flags rt_sigreturn takes from a frame, plus IF and the
	// always-one bit (the host would keep them anyway).
	p(scEflags, r.Eflags&arch.SigreturnEflags|arch.EflagsIF|0x2)
	// Selectors: the 64-bit or the 32-bit user code segment, the user
	// data segment; never anything else (the host forces RPL 3, but a
	// ring-0 selector would still be wrong).
	cs := uint64(arch.UserCS)
	if r.Cs == arch.UserCS32 {
		cs = arch.UserCS32
	}
	p(scCs, cs|uint64(arch.UserDS)<<48) // cs, gs = 0, fs = 0, ss
	p(scErr, 0)
	p(scTrapno, 0)
	p(168, 0) // oldmask
	p(scCr2, 0)
	p(scFpstate, addr+uint64(f.fpOff))
	putZero(sc[192:])           // reserved
	put64(uc[ucSigmaskOff:], 0) // nothing blocked in the application

	// Without copyFP the XSAVE image is the one the host saved at this
	// trap: leave it be (its header and trailing magic lie on cache lines
	// of their own, which uk would otherwise pull across CPUs at every
	// trap).
	if copyFP {
		writeFP(mem, f, st)
	}
	put64(mem[hdrSetFS:], r.FsBase)
	put64(mem[hdrSetGS:], slotGS(r.GsBase, addr))
	return nil
}

// slotGS is the GS base a thread whose slot is at addr runs with for a
// program GS base gs: the slot's address when the program has none
// (fastcall.go).
func slotGS(gs, addr uint64) uint64 {
	if gs == 0 {
		return addr
	}
	return gs
}

// rip is the frame's RIP.
func (f *frame) rip() uint64 {
	return binary.LittleEndian.Uint64(f.uc[ucMcontextOff+scRip:])
}

// writeFP puts st's FP state into the frame's XSAVE image, with the
// host's software bytes and trailing magic as readFrame checked them, and
// only components the frame has room for.
func writeFP(mem []byte, f *frame, st *arch.State) {
	le := binary.LittleEndian
	fp := mem[f.fpOff : f.fpOff+f.fpSize+4]
	if len(st.FP) >= f.fpSize {
		copy(fp[:f.fpSize], st.FP[:f.fpSize])
	} else {
		copy(fp, st.FP)
	}
	putBytes(fp[fxswOff:fxswOff+fxswSize], f.fxsw[:])
	xfeatures := le.Uint64(f.fxsw[8:])
	bv := le.Uint64(fp[xstateBVOff:]) & xfeatures
	put64(fp[xstateBVOff:], bv)
	putZero(fp[xstateBVOff+8 : xstateBVOff+64]) // XCOMP_BV and reserved: zero in standard format
	if le.Uint32(fp[f.fpSize:]) != arch.FP_XSTATE_MAGIC2 {
		le.PutUint32(fp[f.fpSize:], arch.FP_XSTATE_MAGIC2)
	}
}

// put64, putZero and putBytes store into the slot only what differs:
// writeFrame rewrites every field of a frame, but most hold the value it
// wants already (the host wrote them at the trap), and a cache line left
// unwritten stays in the stub thread's CPU's cache for rt_sigreturn to
// read, where a written one must cross back from uk's CPU. Skipping a
// store is safe: the program could change a field after uk's store as
// well as before it (it gets only what rt_sigreturn checks anyway).
func put64(b []byte, v uint64) {
	if binary.LittleEndian.Uint64(b) != v {
		binary.LittleEndian.PutUint64(b, v)
	}
}

func putZero(b []byte) {
	for i := range b {
		if b[i] != 0 {
			clear(b)
			return
		}
	}
}

func putBytes(dst, src []byte) {
	if !bytes.Equal(dst, src) {
		copy(dst, src)
	}
}

// setSpin sets how long the handler of slot mem spins before it sleeps.
func setSpin(mem []byte, n uint32) { binary.LittleEndian.PutUint32(mem[hdrSpin:], n) }

// setHold sets how many more rounds of its spin the handler may spin
// before it sleeps (hdrHold): uk's promise that it is working on the trap.
func setHold(mem []byte, n uint32) { binary.LittleEndian.PutUint32(mem[hdrHold:], n) }

// hold reads the handler's hold count.
func hold(mem []byte) uint32 { return binary.LittleEndian.Uint32(mem[hdrHold:]) }

// resumeAsIs makes the handler return the frame the host pushed unchanged
// (for a trap uk ignores), with the FS and GS bases it had.
func resumeAsIs(mem []byte, f *frame) {
	binary.LittleEndian.PutUint64(mem[hdrSetFS:], f.fs)
	binary.LittleEndian.PutUint64(mem[hdrSetGS:], slotGS(f.gs, f.slot))
}

// stubproc.Siginfo fields.
func (f *frame) siCode() int32  { return int32(binary.LittleEndian.Uint32(f.info[8:])) }
func (f *frame) siAddr() uint64 { return binary.LittleEndian.Uint64(f.info[16:]) }
func (f *frame) siSyscall() int { return int(int32(binary.LittleEndian.Uint32(f.info[24:]))) }
func (f *frame) siArch() uint32 { return binary.LittleEndian.Uint32(f.info[28:]) }
func (f *frame) siPid() int32   { return int32(binary.LittleEndian.Uint32(f.info[16:])) }
func (f *frame) signal() int    { return f.signo }
func (f *frame) fromSeccomp() bool {
	return f.signo == int(unix.SIGSYS) && f.siCode() == stubproc.SysSeccomp
}
