package sigsys

import "encoding/binary"

// The stub is the only code a stub process owns. It is a tiny static ELF64
// executable, assembled here byte by byte so that uk needs no toolchain and
// no copy of its own Go runtime in the child. Once exec'd it never runs on its
// own: the tracer takes control at the post-exec SIGTRAP and from then on only
// ever points RIP at one of the sites below (or at application code).
//
// The image is one PT_LOAD segment, read+execute, at stubBase, the top of the
// user address range. Everything below stubBase is given to the application
// (MaxUserAddress). The page after the code holds the per-address-space
// request page (mapped read-only by the stub, written by uk through its own
// mapping of the request file, confine.go) that the batch site reads.
const (
	// stubBase is where the stub's code page lives. The region
	// [stubBase, stubEnd) belongs to the stub; the kernel's own stack may
	// not overlap it at exec time (retried, see startMasterAs).
	stubBase = 0x7fffffff0000
	// stubEnd is TASK_SIZE on x86-64 with 4-level paging: the first
	// address user space cannot map.
	stubEnd = 0x7ffffffff000
	// reqPage is the request page of the batch site.
	reqPage = stubBase + 0x1000

	codeOff = 0x80 // file offset of the code, after the ELF and program headers
)

// Addresses of the code sites, relative to stubBase; see stubCode.
const (
	siteEntry   = stubBase + codeOff + 0x00
	siteSyscall = stubBase + codeOff + 0x10
	siteClone   = stubBase + codeOff + 0x20
	siteBatch   = stubBase + codeOff + 0x40
)

// reqSize is the size of one request record on the request page: the
// syscall number and six arguments, eight bytes each.
const reqSize = 7 * 8

// maxBatch is how many requests fit on the request page.
const maxBatch = 4096 / reqSize

// Code sites for application threads (see the package doc and
// handlerCode). Their syscall instructions are the only ones the thread
// filter (seccomp.go) lets an application thread run on the host, each for
// one syscall number: the address after each is what the filter compares
// seccomp_data.instruction_pointer with.
const (
	// siteThreadEntry: where a new stub thread starts once uk detaches it.
	// Its syscall traps (the thread filter is already in place), so the
	// thread enters the handler and waits there for its first Switch.
	siteThreadEntry = stubBase + codeOff + 0x80
	// siteExit: exit(0) of one stub thread, for Context.Release.
	siteExit = stubBase + codeOff + 0x90
	// siteHandler: the signal handler of every stub thread.
	siteHandler = stubBase + codeOff + 0x100
)

// Addresses after the handler's syscall instructions, filled in by
// stubCode (they depend on the handler's length only, which is constant).
var (
	siteWakeRet      uint64 // futex(FUTEX_WAKE) telling a sleeping uk a trap is ready
	siteWaitRet      uint64 // futex(FUTEX_WAIT) sleeping until uk is done
	siteSigreturnRet uint64 // rt_sigreturn restoring the edited frame
	siteExitRet      = uint64(siteExit + 9)
)

func init() { stubCode() }

// asm is a tiny assembler for the handler: bytes, labels and forward or
// backward 8-bit jumps.
type asm struct {
	b      []byte
	labels map[string]int
	fix    []struct {
		at    int
		label string
	}
}

func (a *asm) emit(b ...byte) { a.b = append(a.b, b...) }
func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.b)
}

// jcc emits a short jump with opcode op (0xeb jmp, 0x74 je, 0x75 jne) to label.
func (a *asm) jcc(op byte, label string) {
	a.emit(op, 0)
	a.fix = append(a.fix, struct {
		at    int
		label string
	}{len(a.b) - 1, label})
}

func (a *asm) link() []byte {
	for _, f := range a.fix {
		d := a.labels[f.label] - (f.at + 1)
		if d < -128 || d > 127 {
			panic("sigsys: handler jump out of range")
		}
		a.b[f.at] = byte(int8(d))
	}
	return a.b
}

func imm32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// handlerCode assembles the SIGSYS (and fault, and interrupt) handler at
// siteHandler and returns it with the offsets, from siteHandler, of the
// ends of its three syscall instructions.
//
// The kernel enters it on the thread's alternate stack, inside the thread's
// slot (slot.go), with every signal blocked (sa_mask), RDI = signo, RSI =
// &stubproc.Siginfo, RDX = &ucontext, RSP = the frame. The slot is slotSize aligned
// and the stack lies inside it, so RSP rounded down is the slot's header.
// It uses no stack and clobbers what it likes: rt_sigreturn restores every
// register from the (edited) frame.
func handlerCode() (code []byte, wake, wait, sigret int) {
	var a asm
	a.emit(0x48, 0x89, 0xe3) //          mov rbx, rsp
	a.emit(0x48, 0x81, 0xe3) //          and rbx, -slotSize   (the slot header)
	a.emit(imm32(uint32(-int32(slotSize)))...)
	a.emit(0x48, 0x89, 0x7b, hdrSigno)   // mov [rbx+hdrSigno], rdi
	a.emit(0x48, 0x89, 0x73, hdrInfo)    // mov [rbx+hdrInfo], rsi
	a.emit(0x48, 0x89, 0x53, hdrUctx)    // mov [rbx+hdrUctx], rdx
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xc1) // rdfsbase rcx
	a.emit(0x48, 0x89, 0x4b, hdrFS)      // mov [rbx+hdrFS], rcx
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xc9) // rdgsbase rcx
	a.emit(0x48, 0x89, 0x4b, hdrGS)      // mov [rbx+hdrGS], rcx
	// Publish: the state word becomes stateTrapped (xchg is a full
	// barrier, so the header is visible first). If uk was asleep on it,
	// wake it.
	a.emit(0xb9)                    // mov ecx, stateTrapped
	a.emit(imm32(stateTrapped)...)  //
	a.emit(0x87, 0x0b)              // xchg [rbx], ecx
	a.emit(0x83, 0xf9, stateUKWait) // cmp ecx, stateUKWait
	a.jcc(0x75, "wait")             // jne wait
	a.emit(0x48, 0x89, 0xdf)        // mov rdi, rbx
	a.emit(0xbe)                    // mov esi, FUTEX_WAKE
	a.emit(imm32(futexOpWake)...)   //
	a.emit(0xba, 1, 0, 0, 0)        // mov edx, 1 (one waiter: uk)
	a.emit(0xb8)                    // mov eax, SYS_futex
	a.emit(imm32(sysFutex)...)      //
	a.emit(0x0f, 0x05)              // syscall
	wake = len(a.b)
	// Wait until uk has moved the word off stateTrapped/stateStubWait:
	// spin a little, then sleep on the word.
	a.label("wait")
	a.emit(0x8b, 0x4b, hdrSpin)          // mov ecx, [rbx+hdrSpin] (set by uk: 0 when it shares our CPU)
	a.label("spin")                      //
	a.emit(0x8b, 0x03)                   // mov eax, [rbx]
	a.emit(0x83, 0xf8, stateTrapped)     // cmp eax, stateTrapped
	a.jcc(0x74, "still")                 // je still
	a.emit(0x83, 0xf8, stateStubWait)    // cmp eax, stateStubWait
	a.jcc(0x75, "resume")                // jne resume
	a.label("still")                     //
	a.emit(0x83, 0xe9, 0x01)             // sub ecx, 1
	a.jcc(0x72, "sleep")                 // jb sleep (the count was 0: spun enough)
	a.emit(0xf3, 0x90)                   // pause
	a.jcc(0xeb, "spin")                  // jmp spin
	a.label("sleep")                     //
	a.emit(0xb8)                         // mov eax, stateTrapped
	a.emit(imm32(stateTrapped)...)       //
	a.emit(0xba)                         // mov edx, stateStubWait
	a.emit(imm32(stateStubWait)...)      //
	a.emit(0xf0, 0x0f, 0xb1, 0x13)       // lock cmpxchg [rbx], edx (trapped -> stub waits)
	a.emit(0x48, 0x89, 0xdf)             // mov rdi, rbx
	a.emit(0x31, 0xf6)                   // xor esi, esi (FUTEX_WAIT)
	a.emit(0xba)                         // mov edx, stateStubWait (sleep only if still so)
	a.emit(imm32(stateStubWait)...)      //
	a.emit(0x45, 0x31, 0xd2)             // xor r10d, r10d (no timeout)
	a.emit(0xb8)                         // mov eax, SYS_futex
	a.emit(imm32(sysFutex)...)           //
	a.emit(0x0f, 0x05)                   // syscall
	wait = len(a.b)                      //
	a.jcc(0xeb, "wait")                  // jmp wait (recheck: wakeups may be spurious)
	a.label("resume")                    //
	a.emit(0x48, 0x8b, 0x4b, hdrSetFS)   // mov rcx, [rbx+hdrSetFS]
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xd1) // wrfsbase rcx
	a.emit(0x48, 0x8b, 0x4b, hdrSetGS)   // mov rcx, [rbx+hdrSetGS]
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xd9) // wrgsbase rcx
	a.emit(0x48, 0x83, 0xc4, 0x08)       // add rsp, 8 (rt_sigreturn finds the frame at rsp-8)
	a.emit(0xb8)                         // mov eax, SYS_rt_sigreturn
	a.emit(imm32(sysRtSigreturn)...)     //
	a.emit(0x0f, 0x05)                   // syscall
	sigret = len(a.b)                    //
	a.emit(0x0f, 0x0b)                   // ud2 (rt_sigreturn does not return)
	return a.link(), wake, wait, sigret
}

// Syscall numbers and futex ops the handler uses.
const (
	sysFutex       = 202
	sysRtSigreturn = 15
	futexOpWait    = 0
	futexOpWake    = 1
)

// handlerSpin is how many pause iterations the handler spins (when uk and
// the stub thread are not pinned to one CPU) before it sleeps on the state
// word: a few microseconds (PAUSE takes tens of cycles on recent CPUs),
// enough for uk to answer a cheap syscall without a futex wake-up (a
// cross-CPU wake-up costs tens of microseconds on a VM), not so long that
// a stub thread burns a shared CPU for long. uk writes it to the slot
// header (hdrSpin) before each resume.
const handlerSpin = 200

// stubCode returns the machine code, laid out so that each site starts at
// the offset named above (padding is int3, which traps if ever reached).
func stubCode() []byte {
	h, wake, wait, sigret := handlerCode()
	code := make([]byte, 0x100+len(h))
	for i := range code {
		code[i] = 0xcc // int3 padding
	}
	put := func(off int, b ...byte) { copy(code[off:], b) }
	siteWakeRet = siteHandler + uint64(wake)
	siteWaitRet = siteHandler + uint64(wait)
	siteSigreturnRet = siteHandler + uint64(sigret)

	// siteEntry: the ELF entry point. The tracer owns the process from the
	// post-exec stop on and never resumes it here, so reaching this is a
	// bug; exit_group(127) rather than run anything else.
	put(0x00,
		0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
		0xbf, 0x7f, 0x00, 0x00, 0x00, // mov edi, 127
		0x0f, 0x05, // syscall
	)

	// siteSyscall: the injection site. The tracer loads RAX and the
	// argument registers, sets RIP here and PTRACE_CONTs; the syscall runs
	// on the host and the int3 right after hands control back with the
	// result in RAX.
	put(0x10,
		0x0f, 0x05, // syscall
		0xcc, // int3
	)

	// siteClone: like siteSyscall, for clone(CLONE_THREAD|...). The parent
	// (RAX = child tid) traps at the int3. The child (RAX = 0) is traced
	// from birth and never runs here: its tracer points it elsewhere.
	// Should it ever run, it parks in pause().
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

	// siteBatch: run R12 requests from the request page starting at RBX,
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

	// siteThreadEntry: any syscall traps into the handler (the number
	// does not matter; uk ignores this first trap).
	put(0x80,
		0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, 39 (getpid)
		0x0f, 0x05, // syscall
		0x0f, 0x0b, // ud2
	)

	// siteExit: end this thread only. The thread filter allows exit here
	// with any argument: a program that jumps here just ends its thread.
	put(0x90,
		0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x31, 0xff, // xor edi, edi
		0x0f, 0x05, // syscall
		0x0f, 0x0b, // ud2
	)

	put(0x100, h...)
	return code
}

// stubImage returns the complete ELF executable.
func stubImage() []byte {
	code := stubCode()
	img := make([]byte, codeOff+len(code))
	le := binary.LittleEndian

	// ELF header (Elf64_Ehdr, 64 bytes).
	copy(img[0:], []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* EV_CURRENT */})
	le.PutUint16(img[16:], 2)         // e_type: ET_EXEC (fixed address)
	le.PutUint16(img[18:], 62)        // e_machine: EM_X86_64
	le.PutUint32(img[20:], 1)         // e_version
	le.PutUint64(img[24:], siteEntry) // e_entry
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
	// stubBase. No PT_GNU_STACK: the kernel's default is fine because the
	// stack is unmapped before anything runs.
	ph := img[64:]
	le.PutUint32(ph[0:], 1)                 // p_type: PT_LOAD
	le.PutUint32(ph[4:], 5)                 // p_flags: PF_R|PF_X
	le.PutUint64(ph[8:], 0)                 // p_offset
	le.PutUint64(ph[16:], stubBase)         // p_vaddr
	le.PutUint64(ph[24:], stubBase)         // p_paddr
	le.PutUint64(ph[32:], uint64(len(img))) // p_filesz
	le.PutUint64(ph[40:], uint64(len(img))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)           // p_align

	copy(img[codeOff:], code)
	return img
}
