package stubproc

import (
	"encoding/binary"

	"uk/arch"
	"uk/platform"
)

// The stub is the only code a stub process owns. It is a tiny static ELF64
// executable, assembled here byte by byte so that uk needs no toolchain and
// no copy of its own Go runtime in the child. Once exec'd it never runs on its
// own: the tracer takes control at the post-exec SIGTRAP and from then on only
// ever points RIP at one of the sites below (or at application code).
//
// The image is one PT_LOAD segment, read+execute, at StubBase, the top of the
// user address range. Everything below StubBase is the platform's: the
// application's, and on sigsys its thread region below that. The page after
// the code holds the per-address-space request page (mapped read-only by the
// stub, written by uk through its own mapping of the request file,
// requests.go) that the batch site reads.
//
// BaseCode holds the sites every platform uses, in its first BaseCodeSize
// bytes; a platform may append code of its own after them (sigsys: its
// thread entry, exit and signal handler) and build the image with Image.
const (
	// StubBase is where the stub's code page lives. The region
	// [StubBase, StubEnd) belongs to the stub; the kernel's own stack may
	// not overlap it at exec time (retried, see Host.startMasterAs).
	StubBase = 0x7fffffff0000
	// StubEnd is TASK_SIZE on x86-64 with 4-level paging: the first
	// address user space cannot map.
	StubEnd = 0x7ffffffff000
	// ReqPage is the request page of the batch site.
	ReqPage = StubBase + 0x1000

	// CodeOff is the file offset of the code, after the ELF and program
	// headers; the code is mapped at StubBase+CodeOff.
	CodeOff = 0x80
	// BaseCodeSize is the length of BaseCode: a platform's own code
	// starts at this offset from StubBase+CodeOff.
	BaseCodeSize = 0x80
)

// Addresses of the code sites of BaseCode.
const (
	SiteEntry   = StubBase + CodeOff + 0x00
	SiteSyscall = StubBase + CodeOff + 0x10
	SiteClone   = StubBase + CodeOff + 0x20
	SiteBatch   = StubBase + CodeOff + 0x40

	// SiteSyscallTrap and SiteCloneTrap are the addresses after the int3
	// that ends an injection at SiteSyscall or SiteClone (RunInjected's
	// trapRip); SiteBatchTrap the one after the batch site's.
	SiteSyscallTrap = SiteSyscall + 3
	SiteCloneTrap   = SiteClone + 0x11
	SiteBatchTrap   = SiteBatch + 0x31
)

// ReqSize is the size of one request record on the request page: the
// syscall number and six arguments, eight bytes each.
const ReqSize = 7 * 8

// MaxBatch is how many requests fit on the request page, below its
// control words (serve.go).
const MaxBatch = CtlSeq / ReqSize

// BaseCode returns the machine code of the shared sites, laid out so that
// each site starts at the offset named above (padding is int3, which traps
// if ever reached).
func BaseCode() []byte {
	code := make([]byte, BaseCodeSize)
	for i := range code {
		code[i] = 0xcc // int3 padding
	}
	put := func(off int, b ...byte) { copy(code[off:], b) }

	// SiteEntry: the ELF entry point. The tracer owns the process from the
	// post-exec stop on and never resumes it here, so reaching this is a
	// bug; exit_group(127) rather than run anything else.
	put(0x00,
		0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
		0xbf, 0x7f, 0x00, 0x00, 0x00, // mov edi, 127
		0x0f, 0x05, // syscall
	)

	// SiteSyscall: the injection site. The tracer loads RAX and the
	// argument registers, sets RIP here and PTRACE_CONTs; the syscall runs
	// on the host and the int3 right after hands control back with the
	// result in RAX.
	put(0x10,
		0x0f, 0x05, // syscall
		0xcc, // int3
	)

	// SiteClone: like SiteSyscall, for clone(CLONE_THREAD|...). The parent
	// (RAX = child tid) traps at the int3. The child (RAX = 0) must not
	// trap, since it is not traced (ptrace: it waits for its future tracer
	// to PTRACE_SEIZE and PTRACE_INTERRUPT it) or is pointed elsewhere by
	// its tracer before it runs (sigsys): should it run here, it parks in
	// pause(). The stack pointer is never used.
	put(0x20,
		0x0f, 0x05, // syscall
		0x48, 0x85, 0xc0, // test rax, rax
		0x75, 0x09, // jnz parent (skip the 9-byte child loop)
		// child:
		0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp child (-9)
		// parent:
		0xcc, // int3
	)

	// SiteBatch: run R12 requests from the request page starting at RBX,
	// each {nr, a0..a5}, one host syscall per record. It stops at the first
	// negative result (an errno), leaving it in RAX and the number of
	// requests not yet completed (failed one included) in R12, so the
	// tracer knows which one failed. RBX and R12 survive syscalls; RCX and
	// R11 do not and are not used.
	put(0x40,
		// loop:
		0x4d, 0x85, 0xe4, // test r12, r12
		0x74, 0x2b, // jz done (+43)
		0x48, 0x8b, 0x03, // mov rax, [rbx]
		0x48, 0x8b, 0x7b, 0x08, // mov rdi, [rbx+8]
		0x48, 0x8b, 0x73, 0x10, // mov rsi, [rbx+16]
		0x48, 0x8b, 0x53, 0x18, // mov rdx, [rbx+24]
		0x4c, 0x8b, 0x53, 0x20, // mov r10, [rbx+32]
		0x4c, 0x8b, 0x43, 0x28, // mov r8, [rbx+40]
		0x4c, 0x8b, 0x4b, 0x30, // mov r9, [rbx+48]
		0x0f, 0x05, // syscall
		0x48, 0x85, 0xc0, // test rax, rax
		0x78, 0x09, // js done (+9)
		0x48, 0x83, 0xc3, 0x38, // add rbx, 56
		0x49, 0xff, 0xcc, // dec r12
		0xeb, 0xd0, // jmp loop (-48)
		// done:
		0xcc, // int3
	)
	return code
}

// Image returns the complete ELF executable whose code (loaded at
// StubBase+CodeOff) is code, which starts with BaseCode.
func Image(code []byte) []byte {
	img := make([]byte, CodeOff+len(code))
	le := binary.LittleEndian

	// ELF header (Elf64_Ehdr, 64 bytes).
	copy(img[0:], []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* EV_CURRENT */})
	le.PutUint16(img[16:], 2)         // e_type: ET_EXEC (fixed address)
	le.PutUint16(img[18:], 62)        // e_machine: EM_X86_64
	le.PutUint32(img[20:], 1)         // e_version
	le.PutUint64(img[24:], SiteEntry) // e_entry
	le.PutUint64(img[32:], 64)        // e_phoff: right after this header
	le.PutUint64(img[40:], 0)         // e_shoff: no sections
	le.PutUint32(img[48:], 0)         // e_flags
	le.PutUint16(img[52:], 64)        // e_ehsize
	le.PutUint16(img[54:], 56)        // e_phentsize
	le.PutUint16(img[56:], 1)         // e_phnum
	le.PutUint16(img[58:], 64)        // e_shentsize
	le.PutUint16(img[60:], 0)         // e_shnum
	le.PutUint16(img[62:], 0)         // e_shstrndx

	// Program header (Elf64_Phdr, 56 bytes): the whole file, R+X, at
	// StubBase. No PT_GNU_STACK: the kernel's default is fine because the
	// stack is unmapped before anything runs.
	ph := img[64:]
	le.PutUint32(ph[0:], 1)                 // p_type: PT_LOAD
	le.PutUint32(ph[4:], 5)                 // p_flags: PF_R|PF_X
	le.PutUint64(ph[8:], 0)                 // p_offset
	le.PutUint64(ph[16:], StubBase)         // p_vaddr
	le.PutUint64(ph[24:], StubBase)         // p_paddr
	le.PutUint64(ph[32:], uint64(len(img))) // p_filesz
	le.PutUint64(ph[40:], uint64(len(img))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)           // p_align

	copy(img[CodeOff:], code)
	return img
}

// SpecialMappings are the stub's code page (which the application can run
// and read, as the stub runs in its address space), its request page
// (read-only, and empty but while a mapping batch runs) and, with
// Config.HostFiles, its scratch page, which every address space holds
// above the platform's MaxUserAddress.
func (h *Host) SpecialMappings() []platform.SpecialMapping {
	m := []platform.SpecialMapping{
		{Start: StubBase, End: StubBase + arch.PageSize, Access: platform.Read | platform.Exec, Name: "[uk-stub]"},
		{Start: ReqPage, End: ReqPage + arch.PageSize, Access: platform.Read, Name: "[uk-stub-requests]"},
	}
	if h.cfg.HostFiles {
		m = append(m, platform.SpecialMapping{Start: ScratchPage, End: ScratchPage + arch.PageSize, Access: platform.Read | platform.Write, Name: "[uk-stub-scratch]"})
	}
	return m
}
