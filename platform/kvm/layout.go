package kvm

// The guest's memory and the supervisor trampoline.
//
// Guest physical memory is two KVM memory slots:
//
//   - slot 0 at GPA 0: the memory file, so a memory-file offset is a
//     guest-physical address and mapping a page into an address space is
//     writing its offset into a page-table entry;
//   - slot 1 at sysBase (the memory file's size rounded up to 1 GiB): the
//     system memory, a separate sparse memfd holding the trampoline code,
//     the IDT, per-vCPU blocks and every page-table page. The application
//     never sees it.
//
// Guest virtual memory: the application owns [0, MaxUserAddress). PML4
// slot 255, [MaxUserAddress, 2^47), is the supervisor window: entry 255 of
// every address space's PML4 points to one shared window PDPT that maps
// the whole system memory with 2 MiB supervisor-only pages at windowBase.
// The window sits at the top of the lower half, not in the upper half, because
// under kvm_pvm the host owns the upper half (platforms.md §3.3).

const (
	// MaxUserAddress is the start of the supervisor window: the
	// application may use everything below it.
	MaxUserAddress = windowBase
	// windowBase is PML4 slot 255.
	windowBase = 0x7f80_0000_0000

	// sysSize is the system memory's size. It is sparse: only pages in use
	// cost memory. 256 MiB of page tables map well over 100 GiB.
	sysSize = 256 << 20

	// Offsets in system memory.
	offCode     = 0x0000 // two pages: entry points, then the exception stubs
	offIDT      = 0x2000 // 256 16-byte gates
	offWinPDPT  = 0x3000 // the window's PDPT, shared by all address spaces
	offWinPD    = 0x4000 // its page directory: 2 MiB pages over system memory
	offIdleRoot = 0x5000 // a PML4 with only the window, for fresh vCPUs
	offAlloc    = 0x6000 // first page the page allocator hands out

	// Entry points, as offsets from offCode.
	codeLSTAR   = 0x00           // the syscall entry: one hlt
	codeCSTAR   = 0x20           // the compat-mode syscall entry: one hlt
	codeEnter   = 0x40           // apply the mailbox, load CR3, iretq to the user
	codeIret    = codeEnter + 64 // the enter code's iretq: the fast entry
	codeVectors = 0x1000         // 16 bytes per exception vector

	// A per-vCPU block is two pages: the mailbox page (edit queue, GDT,
	// TSS) and the kernel stack page, whose top is RSP0 and IST1.
	blockPages = 2
	// Mailbox layout (words): count, cr3 (0: keep), halt flag, then the
	// window addresses of the page-table pages to zap, entry i (1-based)
	// at word 2+i.
	mbCount, mbCR3, mbHalt = 0, 1, 2
	mbMaxZaps              = (mbGDT - 24) / 8
	mbGDT                  = 0xf00 // 9 descriptors
	mbTSS                  = 0xf80 // 104 bytes
	gdtLimit               = 9*8 - 1
	tssLimit               = 103

	// The CPU's exception frame at the top of the stack: error code
	// (for vectors that have one), RIP, CS, RFLAGS, RSP, SS.
	frameWords = 5
)

// Selectors: Linux's values, which kvm_pvm expects.
const (
	selKernelCS = 0x10
	selKernelDS = 0x18
	selUser32CS = 0x23
	selUserDS   = 0x2b
	selUserCS   = 0x33
	selTSS      = 0x38
)

// Control registers and flags.
const (
	cr0Value      = 0x80050033 // PG|AM|WP|NE|ET|MP|PE
	cr4PAE        = 1 << 5
	cr4OSFXSR     = 1 << 9
	cr4OSXMMEXCPT = 1 << 10
	cr4OSXSAVE    = 1 << 18
	eferValue     = 0xd01 // NXE|LMA|LME|SCE

	// sfmask clears TF, IF, DF, AC and NT on syscall entry.
	sfmask   = 0x47700
	patValue = 0x0007040600070406

	rflagsIF = 1 << 9
	// userFlags are the RFLAGS bits an application may set (Linux's
	// FIX_EFLAGS): CF PF AF ZF SF TF DF OF AC RF ID; IF is always on.
	userFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x10000 | 0x200000
)

// Page-table entry bits.
const (
	ptePresent  = 1 << 0
	pteWrite    = 1 << 1
	pteUser     = 1 << 2
	pteAccessed = 1 << 5
	pteDirty    = 1 << 6
	pteLarge    = 1 << 7
	pteNX       = 1 << 63
	pteAddr     = 0x000f_ffff_ffff_f000
)

// vectorHasError reports whether the CPU pushes an error code for an
// exception vector.
func vectorHasError(v int) bool {
	switch v {
	case 8, 10, 11, 12, 13, 14, 17, 21, 29, 30:
		return true
	}
	return false
}

// trampoline returns the two code pages. Everything runs in guest
// supervisor mode with interrupts off; none of it ever touches
// application memory.
func trampoline() []byte {
	code := make([]byte, 0x2000)
	for i := range code {
		code[i] = 0xf4 // hlt: anything reached by mistake exits to uk
	}
	put := func(off int, b ...byte) { copy(code[off:], b) }

	// LSTAR. On VMX/SVM a user syscall lands here in supervisor mode
	// with RCX = return RIP and R11 = RFLAGS, and the hlt exits with RIP
	// = LSTAR+1. (Under kvm_pvm the syscall never gets here: it arrives
	// as a page fault at this address, see classify.)
	put(codeLSTAR, 0xf4)
	// CSTAR: a syscall executed in compat mode (AMD; Intel raises #UD)
	// lands here instead, so that uk can tell a 32-bit call from a
	// 64-bit one and refuse it.
	put(codeCSTAR, 0xf4)

	// Enter. uk sets RSP to an IRET frame at the top of the vCPU's stack
	// page and the general registers to the application's. The code
	// saves the four it uses, runs the mailbox's zaps (one locked 16-bit
	// add of 0 to each listed page-table page: a misaligned write that
	// makes KVM drop its shadow of that page, where it shadows, without
	// changing a byte; the lock keeps it atomic against uk's 8-byte
	// stores of entries from the host), loads CR3 if asked (which also
	// flushes this vCPU's TLB), restores the registers and returns to the
	// application with iretq, or halts when the mailbox asks for another
	// round.
	put(codeEnter,
		0x50,             // push rax
		0x51,             // push rcx
		0x56,             // push rsi
		0x57,             // push rdi
		0x48, 0x89, 0xe7, // mov rdi, rsp
		0x48, 0x81, 0xe7, 0x00, 0xf0, 0xff, 0xff, // and rdi, -4096
		0x48, 0x81, 0xef, 0x00, 0x10, 0x00, 0x00, // sub rdi, 4096: the mailbox page
		0x48, 0x8b, 0x0f, // mov rcx, [rdi]: count
		// loop:
		0xe3, 0x0f, // jrcxz done
		0x48, 0x8b, 0x74, 0xcf, 0x10, // mov rsi, [rdi+rcx*8+16]
		0xf0, 0x66, 0x83, 0x06, 0x00, // lock add word [rsi], 0
		0x48, 0xff, 0xc9, // dec rcx
		0xeb, 0xef, // jmp loop
		// done:
		0x48, 0x8b, 0x47, 0x08, // mov rax, [rdi+8]: new CR3 or 0
		0x48, 0x85, 0xc0, // test rax, rax
		0x74, 0x03, // jz +3
		0x0f, 0x22, 0xd8, // mov cr3, rax
		0x48, 0x83, 0x7f, 0x10, 0x00, // cmp qword [rdi+16], 0: halt flag
		0x5f,       // pop rdi
		0x5e,       // pop rsi
		0x59,       // pop rcx
		0x58,       // pop rax
		0x75, 0x02, // jnz +2 (halt)
		0x48, 0xcf, // iretq
		0xf4, // hlt: round done, more to come
	)

	// Exception stubs, 16 bytes apart, IST 1: each is a lone hlt. The
	// vector is known from where it halted, and the CPU's frame (with
	// the error code for vectors that have one) is at the top of the
	// stack. Under kvm_pvm every instruction here is emulated, at
	// microseconds each, so nothing more is done in the guest: CR2, when
	// needed, comes from KVM_GET_SREGS.
	for v := 0; v < 256; v++ {
		put(codeVectors+16*v, 0xf4)
	}
	return code
}

// idt returns the IDT page: an interrupt gate per vector to its stub,
// IST 1, DPL 0 except for #BP and #OF so that int3 and into work from
// user mode (an `int n` through any other gate is a #GP, as on Linux).
func idt(base uint64) []byte {
	b := make([]byte, 4096)
	for v := 0; v < 256; v++ {
		addr := base + codeVectors + uint64(16*v)
		dpl := uint64(0)
		if v == 3 || v == 4 {
			dpl = 3
		}
		lo := addr&0xffff | selKernelCS<<16 | 1<<32 | (0x8e|dpl<<5)<<40 | (addr>>16&0xffff)<<48
		le.PutUint64(b[16*v:], lo)
		le.PutUint64(b[16*v+8:], addr>>32)
	}
	return b
}

// gdt writes the descriptors of one vCPU (its own TSS) into b.
func gdt(b []byte, tss uint64) {
	d := []uint64{
		0,
		0x00cf9b000000ffff, // 0x08 kernel CS32 (unused)
		0x00af9b000000ffff, // 0x10 kernel CS64
		0x00cf93000000ffff, // 0x18 kernel DS
		0x00cffb000000ffff, // 0x20 user CS32 (0x23): never entered
		0x00cff3000000ffff, // 0x28 user DS (0x2b)
		0x00affb000000ffff, // 0x30 user CS64 (0x33)
		tssLimit | (tss&0xffffff)<<16 | 0x8b<<40 | (tss>>24&0xff)<<56, // 0x38 TSS, busy
		tss >> 32,
	}
	for i, v := range d {
		le.PutUint64(b[8*i:], v)
	}
}

// tss writes a 64-bit TSS whose RSP0 and IST1 are stackTop and whose I/O
// bitmap lies beyond its limit (every port access faults).
func tss(b []byte, stackTop uint64) {
	clear(b[:tssLimit+1])
	le.PutUint64(b[4:], stackTop)  // RSP0
	le.PutUint64(b[36:], stackTop) // IST1
	le.PutUint16(b[102:], tssLimit+1)
}
