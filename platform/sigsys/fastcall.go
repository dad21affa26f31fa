package sigsys

import (
	"encoding/binary"
	"fmt"

	"uk/arch"
	"uk/platform"
)

// Patched syscall sites.
//
// A trap through SIGSYS costs the host's signal delivery and rt_sigreturn:
// about 1.7 us on this kind of VM, where the rest of a split pair's round
// trip (the state word crossing CPUs twice) costs under 0.1 us. So once a
// syscall site of a common form (`mov eax, NR; syscall` and the few others
// kernel/mm's patch.go knows) has trapped often enough, the kernel
// rewrites it into `jmp [E]`, where E is an entry of a table in the
// application's address space (SyscallEntry writes it): the entry runs the
// instructions the jump replaced, checks that GS holds this thread's slot,
// loads the return address, and jumps to the trampoline in the stub's code
// (fastCode). The trampoline saves the
// general registers, the flags and the FS base in the slot's fast frame,
// publishes stateFastTrapped and waits as the handler does; uk answers
// with stateFastResume, and the trampoline restores the registers from
// the fast frame and jumps back. No signal, no host syscall on the way in
// or out unless a side sleeps.
//
// The FP state never leaves the thread's registers on this path (the
// trampoline touches none of them). When uk needs it, or must resume with
// anything the fast frame cannot carry (new FP state, a GS base, the
// trap flag, a 32-bit segment), it answers stateReenter instead: the
// trampoline then issues a syscall that traps as any other, and uk gets
// the usual signal frame, holding the thread's live FP state, to fetch
// from and write the whole state into (Context.reenter).
//
// GS: a thread whose program has no GS base of its own (nearly all: Linux
// x86-64 programs use FS for TLS) runs with GS holding its slot's address,
// which the handler records and uk reports as 0. The entry compares GS
// with the slot's self pointer (hdrSelf) without touching the flags; a
// thread with a GS base of its own takes the entry's own syscall
// instead, which traps through SIGSYS as before.
//
// Nothing here trusts the program: the table is its memory and the slot
// is writable by it. Whatever it does to them, it only changes its own
// registers (uk checks what it reads from the fast frame as it checks a
// signal frame) or makes its thread wait; the trampoline's only host
// syscalls are futex WAIT and WAKE from two sites of uk's code page, as
// the handler's.

// Fast frame layout (slot offsets): the general registers by their x86
// encoding number (rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6, rdi 7,
// r8-r15 8-15), then RFLAGS, the FS base, and the RIP to resume at.
const (
	fastFlags = fastOff + 16*8
	fastFS    = fastFlags + 8
	fastRIP   = fastFS + 8
	fastSize  = 16*8 + 3*8
)

func fastReg(n int) int { return fastOff + 8*n }

// x86 register numbers used below.
const (
	rAX, rCX, rDX, rBX, rSP, rBP, rSI, rDI = 0, 1, 2, 3, 4, 5, 6, 7
	r8, r9, r10, r11, r12, r13, r14, r15   = 8, 9, 10, 11, 12, 13, 14, 15
)

// storeR11 emits mov [r11+disp32], reg.
func (a *asm) storeR11(reg int, disp int) {
	a.emit(0x49|byte(reg>>3)<<2, 0x89, 0x80|byte(reg&7)<<3|3)
	a.emit(imm32(uint32(disp))...)
}

// loadRBX emits mov reg, [rbx+disp32].
func (a *asm) loadRBX(reg int, disp int) {
	a.emit(0x48|byte(reg>>3)<<2, 0x8b, 0x80|byte(reg&7)<<3|3)
	a.emit(imm32(uint32(disp))...)
}

// fastCode assembles the trampoline (at siteFast) and returns it with the
// offsets, from its start, of the end of the publishing xchg (before it a
// signal finds nothing published), of its futex WAKE and WAIT syscalls'
// ends, and of the exit path (from there on uk has answered and the
// thread is restoring the program's registers).
//
// It is entered from a table entry with EAX = the syscall number, RCX =
// the return address, R11 = the slot (checked), and the program's RSP and
// flags. It uses the slot's fast frame as its stack for PUSHFQ only.
func fastCode() (code []byte, published, wake, wait, exit int) {
	var a asm
	a.storeR11(rSP, fastReg(rSP))   // mov [r11+rsp], rsp
	a.emit(0x49, 0x8d, 0xa3)        // lea rsp, [r11+fastFlags+8]
	a.emit(imm32(fastFlags + 8)...) //
	a.emit(0x9c)                    // pushfq (the flags, before anything changes them)
	for _, r := range []int{rAX, rCX, rDX, rBX, rBP, rSI, rDI, r8, r9, r10, r12, r13, r14, r15} {
		a.storeR11(r, fastReg(r))
	}
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xc0) // rdfsbase rax
	a.storeR11(rAX, fastFS)              // mov [r11+fastFS], rax
	a.emit(0x4c, 0x89, 0xdb)             // mov rbx, r11
	published, wake, wait = a.publishAndWait(stateFastTrapped, stateFastStubWait, "answered")
	a.label("answered")                  //
	a.emit(0x83, 0xe0, 0xff&^ukSleeps)   // and eax, ^ukSleeps
	a.emit(0x83, 0xf8, stateFastResume)  // cmp eax, stateFastResume
	a.jcc(0x74, "exit")                  // je exit
	a.emit(0xb8, 0x27, 0x00, 0x00, 0x00) // mov eax, 39 (getpid: traps, as every number does here)
	a.emit(0x0f, 0x05)                   // syscall
	a.emit(0x0f, 0x0b)                   // ud2 (the handler's rt_sigreturn goes wherever uk says)
	a.label("exit")                      //
	exit = len(a.b)                      //
	a.emit(0x48, 0x8d, 0xa3)             // lea rsp, [rbx+fastFlags]
	a.emit(imm32(fastFlags)...)          //
	a.emit(0x9d)                         // popfq (nothing below changes the flags)
	a.loadRBX(rAX, fastFS)               // mov rax, [rbx+fastFS]
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xd0) // wrfsbase rax
	for _, r := range []int{rAX, rCX, rDX, rBP, rSI, rDI, r8, r9, r10, r11, r12, r13, r14, r15} {
		a.loadRBX(r, fastReg(r))
	}
	a.loadRBX(rSP, fastReg(rSP))   // mov rsp, [rbx+rsp]
	a.loadRBX(rBX, fastReg(rBX))   // mov rbx, [rbx+rbx]
	a.emit(0x65, 0xff, 0x24, 0x25) // jmp gs:[fastRIP]
	a.emit(imm32(fastRIP)...)
	return a.link(), published, wake, wait, exit
}

// The syscall tables: where the kernel puts them in an address space, and
// their entries. Their addresses make a patched site `ff 24 25 E0 E1 E2
// E3` (then 0x06 padding) hold 0x06, an invalid opcode, where the
// instructions it replaced began: in fastTableA E2 is 0x06 (a site
// `mov eax, NR; syscall`, whose syscall began 5 bytes in), in fastTableB
// E0 and E3 are (Go's Syscall6: four 3-byte moves, then the syscall). A
// thread that ran part of the old code before the patch faults there
// (SIGILL), and the kernel sends it on in the entry (kernel/mm's
// patch.go), as it does a restarted syscall, which resumes two bytes
// before the return address.
//
// In fastTableC E1 and E3 are 0x06, for glibc's read(2) sites: `mov edi,
// [rsp+8]; xor eax, eax; syscall` (the xor 4 bytes in, the syscall 6) and
// `xor eax, eax; syscall; cmp rax, imm32` (the syscall 2 bytes in, under
// the jump's 0x25, and the compare 4). Its entries are one to each 64 KiB
// block (E1 is 0x06 only 256 bytes in each), 0x06XX0600; the header is at
// its base.
const (
	fastTableA         = 0x60000
	fastTableB         = 0x06000000
	fastTableC         = 0x06100000
	fastTableSize      = 0x10000 // A's and B's
	fastTableCSize     = 16 * fastTableCStride
	fastTableEntrySize = 128
	fastTableBStride   = 256     // B's entries: addresses 0x06....06
	fastTableCStride   = 0x10000 // C's entries: addresses 0x06..0600
)

// fastTables are the tables, in the order the kernel should prefer them.
var fastTables = []platform.SyscallTable{
	{Addr: fastTableA, Size: fastTableSize, First: fastTableA + fastTableEntrySize, EntrySize: fastTableEntrySize,
		EntryCode: 16, Header: fastTableHeader, Invalid: []int{5}},
	{Addr: fastTableB, Size: fastTableSize, First: fastTableB + fastTableBStride + 6, EntrySize: fastTableBStride,
		EntryCode: 16, Header: fastTableHeader, Invalid: []int{3, 6}},
	{Addr: fastTableC, Size: fastTableCSize, First: fastTableC + 0x600, EntrySize: fastTableCStride,
		EntryCode: 16, Header: fastTableHeader, Invalid: []int{4, 6}},
}

// fastTableHeader begins every table: what every entry jumps through.
var fastTableHeader = binary.LittleEndian.AppendUint64(nil, siteFast)

// tableBase returns the base (where the header is) of the table that
// holds entry address addr.
func tableBase(addr uint64) uint64 {
	for _, t := range fastTables {
		if addr >= t.Addr && addr < t.Addr+t.Size {
			return t.Addr
		}
	}
	panic(fmt.Sprintf("sigsys: a syscall table entry at %#x, in no table", addr))
}

var _ platform.SyscallPatcher = (*Platform)(nil)

// SyscallTables implements platform.SyscallPatcher.
func (p *Platform) SyscallTables() []platform.SyscallTable { return fastTables }

// SyscallEntry implements platform.SyscallPatcher: the table entry at
// addr for a site that ends at ret, whose instructions before the syscall
// were prefix (they set RAX, or an argument) and after it suffix. Its
// first quadword is the address the patched `jmp [addr]` jumps to:
// prefix, run as at the site, then the check of GS, which uses only RCX
// and R11 (a syscall clobbers both) and leaves the flags alone. Its second
// is where the syscall returns to: ret, or the suffix's copy, after the
// entry's own syscall instruction, from which the entry jumps to ret.
func (p *Platform) SyscallEntry(addr, ret uint64, prefix, suffix []byte) []byte {
	var a asm
	a.emit(imm64(addr + 16)...)          // the code below
	a.emit(imm64(ret)...)                // where the syscall returns to (the suffix's copy: below)
	a.emit(prefix...)                    // the site's own instructions
	a.emit(0xf3, 0x49, 0x0f, 0xae, 0xcb) // rdgsbase r11
	a.emit(0x65, 0x48, 0x8b, 0x0c, 0x25) // mov rcx, gs:[hdrSelf]
	a.emit(imm32(hdrSelf)...)            //
	a.emit(0x48, 0xf7, 0xd1)             // not rcx
	a.emit(0x49, 0x8d, 0x4c, 0x0b, 0x01) // lea rcx, [r11+rcx+1] (GS - self, flags untouched)
	a.emit(0xe3, byte(8+len(suffix)))    // jrcxz fast (GS is this thread's slot)
	a.emit(0x0f, 0x05)                   // syscall (traps through SIGSYS)
	back := addr + 8                     // where the jump below finds its target
	if len(suffix) > 0 {
		binary.LittleEndian.PutUint64(a.b[8:], addr+uint64(len(a.b)))
		a.emit(suffix...)                       // the site's instructions after the syscall
		back = addr + uint64(len(a.b)) + 6 + 14 // the quadword after fast's 14 bytes
	}
	at := addr + uint64(len(a.b)) + 6 //
	a.emit(0xff, 0x25)                // jmp [rip -> back]
	a.emit(imm32(uint32(int32(int64(back) - int64(at))))...)
	at = addr + uint64(len(a.b)) + 7 //
	a.emit(0x48, 0x8b, 0x0d)         // fast: mov rcx, [rip -> addr+8]
	a.emit(imm32(uint32(int32(int64(addr+8) - int64(at))))...)
	a.emit(0xff, 0x24, 0x25) // jmp [the table's header: siteFast]
	a.emit(imm32(uint32(tableBase(addr)))...)
	if len(suffix) > 0 {
		a.emit(imm64(ret)...) // back: the site's end
	}
	if len(a.b) > fastTableEntrySize {
		panic(fmt.Sprintf("sigsys: a syscall table entry of %d bytes", len(a.b)))
	}
	return a.b
}

// readFast copies the registers of a fast trap from t's slot into r, as a
// SIGSYS trap at the site would have left them: RIP and RCX the return
// address, R11 the flags, RAX (and OrigRax) the syscall number.
func readFast(t *thread, r *arch.Registers) error {
	le := binary.LittleEndian
	g := func(off int) uint64 { return le.Uint64(t.mem[off:]) }
	fs := g(fastFS)
	if fs >= maxUserBase {
		return errBadFrame
	}
	flags := g(fastFlags)
	*r = arch.Registers{
		Rax: g(fastReg(rAX)), Rcx: g(fastReg(rCX)), Rdx: g(fastReg(rDX)), Rbx: g(fastReg(rBX)),
		Rsp: g(fastReg(rSP)), Rbp: g(fastReg(rBP)), Rsi: g(fastReg(rSI)), Rdi: g(fastReg(rDI)),
		R8: g(fastReg(r8)), R9: g(fastReg(r9)), R10: g(fastReg(r10)), R11: flags,
		R12: g(fastReg(r12)), R13: g(fastReg(r13)), R14: g(fastReg(r14)), R15: g(fastReg(r15)),
		Eflags: flags, Cs: arch.UserCS, Ss: arch.UserDS, FsBase: fs,
	}
	r.Rip = r.Rcx
	r.OrigRax = r.Rax
	return nil
}

// fastResumable reports whether st can go back through t's fast frame:
// t waits in the trampoline, st's FP state is still the one in t's
// registers, and nothing else the fast frame cannot carry changed.
func (c *Context) fastResumable(t *thread, st *arch.State) bool {
	r := &st.Regs
	return t.fast && c.fpAt == t && c.fpOf == st && !st.FPDirty &&
		r.Cs == arch.UserCS && r.GsBase == 0 && r.FsBase < maxUserBase &&
		r.Eflags&arch.EflagsTF == 0 && r.Rip < maxUserBase
}

// writeFast puts st's registers into t's fast frame.
func writeFast(t *thread, st *arch.State) {
	r := &st.Regs
	p := func(off int, v uint64) { binary.LittleEndian.PutUint64(t.mem[off:], v) }
	p(fastReg(rAX), r.Rax)
	p(fastReg(rCX), r.Rcx)
	p(fastReg(rDX), r.Rdx)
	p(fastReg(rBX), r.Rbx)
	p(fastReg(rSP), r.Rsp)
	p(fastReg(rBP), r.Rbp)
	p(fastReg(rSI), r.Rsi)
	p(fastReg(rDI), r.Rdi)
	p(fastReg(r8), r.R8)
	p(fastReg(r9), r.R9)
	p(fastReg(r10), r.R10)
	p(fastReg(r11), r.R11)
	p(fastReg(r12), r.R12)
	p(fastReg(r13), r.R13)
	p(fastReg(r14), r.R14)
	p(fastReg(r15), r.R15)
	p(fastFlags, r.Eflags&arch.SigreturnEflags|arch.EflagsIF|0x2)
	p(fastFS, r.FsBase)
	p(fastRIP, r.Rip)
}

// reenter makes t, waiting in the trampoline, trap into the handler, and
// reads the frame it publishes there: the thread's live FP state and a
// frame to resume it from as after any other trap.
func (c *Context) reenter(t *thread) error {
	if old := t.word.Swap(stateReenter); old == stateFastStubWait {
		futexWake(t.word, 1)
	}
	if err := c.wait(t); err != nil {
		return err
	}
	if err := readFrame(t.mem, t.addr, &t.f); err != nil {
		return err
	}
	t.fast = false
	t.fpOff, t.fpSize = t.f.fpOff, t.f.fpSize
	return nil
}

// inTrampoline reports whether a frame's RIP lies in the trampoline after
// its publishing swap: a signal that stopped the thread there came after
// uk's answer (the handler drops interrupts that come before it), and
// the thread's state is the one uk resumed it with.
func inTrampoline(rip uint64) bool {
	return rip >= siteFast+uint64(fastPublishedOff) && rip < siteFastEnd
}
