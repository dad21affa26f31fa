package sigsys

import (
	"encoding/binary"

	"uk/arch"
	"uk/platform/internal/stubproc"
)

// The stub's code is stubproc.BaseCode (the sites every stub platform
// injects at), then this platform's own: the sites below, where
// application threads start and end, and the signal handler that brings
// them back to uk.

// ownCode is where this platform's code starts: the first byte after
// stubproc.BaseCode.
const ownCode = stubproc.StubBase + stubproc.CodeOff + stubproc.BaseCodeSize

// Code sites for application threads (see the package doc and
// handlerCode). Their syscall instructions are the only ones the thread
// filter (seccomp.go) lets an application thread run on the host, each for
// one syscall number: the address after each is what the filter compares
// seccomp_data.instruction_pointer with.
const (
	// siteThreadEntry: where a new stub thread starts once uk detaches it.
	// Its syscall traps (the thread filter is already in place), so the
	// thread enters the handler and waits there for its first Switch.
	siteThreadEntry = ownCode + 0x00
	// siteExit: exit(0) of one stub thread, for Context.Release.
	siteExit = ownCode + 0x10
	// siteHandler: the signal handler of every stub thread.
	siteHandler = ownCode + 0x80
	// siteFast: the trampoline of patched syscall sites (fastcall.go).
	siteFast = ownCode + 0x200
)

// Addresses after the handler's syscall instructions, filled in by
// stubCode (they depend on the handler's length only, which is constant),
// and of the serving loop, which follows the handler.
var (
	siteServe        uint64 // the serving thread's loop (serveCode)
	siteFastWakeRet  uint64 // the trampoline's futex(FUTEX_WAKE) (fastcall.go)
	siteFastWaitRet  uint64 // the trampoline's futex(FUTEX_WAIT)
	siteFastExit     uint64 // the trampoline's exit path: uk has answered
	siteFastEnd      uint64 // the end of the trampoline
	fastPublishedOff int    // the end of the trampoline's publishing xchg, from siteFast
	siteWakeRet      uint64 // futex(FUTEX_WAKE) telling a sleeping uk a trap is ready
	siteWaitRet      uint64 // futex(FUTEX_WAIT) sleeping until uk is done
	siteSigreturnRet uint64 // rt_sigreturn restoring the edited frame
	siteExitRet      = uint64(siteExit + 9)
)

func init() { stubCode() }

// asm is a tiny assembler for the stub's own code: bytes, labels and
// forward or backward jumps, 8-bit (jcc) or 32-bit (jmp32).
type asm struct {
	b      []byte
	labels map[string]int
	fix    []struct {
		at    int
		label string
		wide  bool
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
		wide  bool
	}{len(a.b) - 1, label, false})
}

// jmp32 emits a jump with a 32-bit displacement to label.
func (a *asm) jmp32(label string) {
	a.emit(0xe9, 0, 0, 0, 0)
	a.fix = append(a.fix, struct {
		at    int
		label string
		wide  bool
	}{len(a.b) - 4, label, true})
}

func (a *asm) link() []byte {
	for _, f := range a.fix {
		if f.wide {
			d := a.labels[f.label] - (f.at + 4)
			binary.LittleEndian.PutUint32(a.b[f.at:], uint32(int32(d)))
			continue
		}
		d := a.labels[f.label] - (f.at + 1)
		if d < -128 || d > 127 {
			panic("sigsys: stub code jump out of range")
		}
		a.b[f.at] = byte(int8(d))
	}
	return a.b
}

func imm64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

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
	// An interrupt that finds the thread in the trampoline before uk has
	// answered its fast trap is dropped: the thread is on its way to uk
	// (before the publishing swap) or uk has its trap (the word still
	// says so), and the kernel sees the interrupt at the trap's return.
	// Publishing it would clobber the fast trap. After uk's answer it is
	// published: uk then knows the state the thread was returning to.
	a.emit(0x83, 0xff, byte(interruptSignal)) // cmp edi, SIGUSR2
	a.jcc(0x75, "post")                       // jne post
	a.emit(0x48, 0x8b, 0x82)                  // mov rax, [rdx+uc_mcontext.rip]
	a.emit(imm32(ucMcontextOff + scRip)...)   //
	a.emit(0x48, 0xb9)                        // mov rcx, siteFast
	a.emit(imm64(siteFast)...)                //
	a.emit(0x48, 0x29, 0xc8)                  // sub rax, rcx
	a.emit(0x48, 0x3d)                        // cmp rax, fast exit offset
	a.emit(imm32(uint32(siteFastExit - siteFast))...)
	a.jcc(0x73, "post") // jae post (outside, or answered)
	a.emit(0x48, 0x3d)  // cmp rax, published offset
	a.emit(imm32(uint32(fastPublishedOff))...)
	a.jcc(0x72, "drop")                   // jb drop
	a.emit(0x8b, 0x03)                    // mov eax, [rbx]
	a.emit(0x83, 0xf8, stateFastTrapped)  // cmp eax, stateFastTrapped
	a.jcc(0x74, "drop")                   // je drop
	a.emit(0x83, 0xf8, stateFastStubWait) // cmp eax, stateFastStubWait
	a.jcc(0x75, "post")                   // jne post
	a.label("drop")                       //
	a.jmp32("sigreturn")                  // jmp sigreturn (the frame as the host pushed it)
	a.label("post")
	a.emit(0x48, 0x89, 0x7b, hdrSigno)   // mov [rbx+hdrSigno], rdi
	a.emit(0x48, 0x89, 0x73, hdrInfo)    // mov [rbx+hdrInfo], rsi
	a.emit(0x48, 0x89, 0x53, hdrUctx)    // mov [rbx+hdrUctx], rdx
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xc1) // rdfsbase rcx
	a.emit(0x48, 0x89, 0x4b, hdrFS)      // mov [rbx+hdrFS], rcx
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xc9) // rdgsbase rcx
	a.emit(0x48, 0x89, 0x4b, hdrGS)      // mov [rbx+hdrGS], rcx
	_, wake, wait = a.publishAndWait(stateTrapped, stateStubWait, "resume")
	a.label("resume")                    //
	a.emit(0x48, 0x8b, 0x4b, hdrSetFS)   // mov rcx, [rbx+hdrSetFS]
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xd1) // wrfsbase rcx
	a.emit(0x48, 0x8b, 0x4b, hdrSetGS)   // mov rcx, [rbx+hdrSetGS]
	a.emit(0xf3, 0x48, 0x0f, 0xae, 0xd9) // wrgsbase rcx
	a.label("sigreturn")                 //
	a.emit(0x48, 0x83, 0xc4, 0x08)       // add rsp, 8 (rt_sigreturn finds the frame at rsp-8)
	a.emit(0xb8)                         // mov eax, SYS_rt_sigreturn
	a.emit(imm32(sysRtSigreturn)...)     //
	a.emit(0x0f, 0x05)                   // syscall
	sigret = len(a.b)                    //
	a.emit(0x0f, 0x0b)                   // ud2 (rt_sigreturn does not return)
	return a.link(), wake, wait, sigret
}

// publishAndWait emits the hand-off the handler and the trampoline both
// make, with RBX the slot: swap trapped into the state word (xchg is a
// full barrier, so what was recorded before is visible first), waking uk
// if it slept on the word; then wait until uk has moved the word off
// trapped and stubWait, spinning as many PAUSEs as hdrSpin says (uk sets
// 0 when it shares our CPU), and that many again for each round hdrHold
// still grants (uk sets it while it works on the trap), then sleeping on
// the word (stubWait), and
// go on at label answered with EAX the word. It returns the offsets of
// the end of the xchg and of its futex WAKE and WAIT syscalls.
func (a *asm) publishAndWait(trapped, stubWait uint32, answered string) (published, wake, wait int) {
	if arch.HasRDTSCP() {
		// Where the thread runs, when uk asked (cpuAsked: rehome after a
		// long run): RDTSCP leaves TSC_AUX, which Linux keeps as its CPU
		// number, in ECX. Only then: it costs 30-60 ns, a tenth of a
		// patched syscall's round trip.
		a.emit(0x83, 0x7b, hdrCPU, 0xff) // cmp dword [rbx+hdrCPU], cpuAsked (-1)
		a.jcc(0x75, "cpukept")           // jne cpukept
		a.emit(0x0f, 0x01, 0xf9)         // rdtscp (clobbers EAX, EDX, ECX)
		a.emit(0x89, 0x4b, hdrCPU)       // mov [rbx+hdrCPU], ecx
		a.label("cpukept")
	}
	a.emit(0xb9)                  // mov ecx, trapped
	a.emit(imm32(trapped)...)     //
	a.emit(0x87, 0x0b)            // xchg [rbx], ecx
	published = len(a.b)          //
	a.emit(0xf6, 0xc1, ukSleeps)  // test cl, ukSleeps
	a.jcc(0x74, "wait")           // jz wait
	a.emit(0x48, 0x89, 0xdf)      // mov rdi, rbx
	a.emit(0xbe)                  // mov esi, FUTEX_WAKE
	a.emit(imm32(futexOpWake)...) //
	a.emit(0xba, 1, 0, 0, 0)      // mov edx, 1 (one waiter: uk)
	a.emit(0xb8)                  // mov eax, SYS_futex
	a.emit(imm32(sysFutex)...)    //
	a.emit(0x0f, 0x05)            // syscall
	wake = len(a.b)
	a.label("wait")
	a.emit(0x8b, 0x4b, hdrSpin)        // mov ecx, [rbx+hdrSpin]
	a.label("spin")                    //
	a.emit(0x8b, 0x03)                 // mov eax, [rbx]
	a.emit(0x83, 0xf8, byte(trapped))  // cmp eax, trapped
	a.jcc(0x74, "still")               // je still
	a.emit(0x83, 0xf8, byte(stubWait)) // cmp eax, stubWait
	a.jcc(0x75, answered)              // jne answered
	a.label("still")                   //
	a.emit(0x83, 0xe9, 0x01)           // sub ecx, 1
	a.jcc(0x72, "held")                // jb held (the count was 0: spun enough)
	a.emit(0xf3, 0x90)                 // pause
	a.jcc(0xeb, "spin")                // jmp spin
	a.label("held")                    //
	a.emit(0x83, 0x6b, hdrHold, 0x01)  // sub dword [rbx+hdrHold], 1
	a.jcc(0x72, "unheld")              // jb unheld (no round left)
	a.emit(0x8b, 0x4b, hdrSpin)        // mov ecx, [rbx+hdrSpin] (one more round)
	a.jcc(0xeb, "spin")                // jmp spin
	a.label("unheld")                  //
	a.emit(0xc7, 0x43, hdrHold)        // mov dword [rbx+hdrHold], 0 (undo the borrow)
	a.emit(imm32(0)...)                //
	a.label("sleep")                   //
	a.emit(0xb8)                       // mov eax, trapped
	a.emit(imm32(trapped)...)          //
	a.emit(0xba)                       // mov edx, stubWait
	a.emit(imm32(stubWait)...)         //
	a.emit(0xf0, 0x0f, 0xb1, 0x13)     // lock cmpxchg [rbx], edx (trapped -> stub waits)
	a.emit(0x48, 0x89, 0xdf)           // mov rdi, rbx
	a.emit(0x31, 0xf6)                 // xor esi, esi (FUTEX_WAIT)
	a.emit(0xba)                       // mov edx, stubWait (sleep only if still so)
	a.emit(imm32(stubWait)...)         //
	a.emit(0x45, 0x31, 0xd2)           // xor r10d, r10d (no timeout)
	a.emit(0xb8)                       // mov eax, SYS_futex
	a.emit(imm32(sysFutex)...)         //
	a.emit(0x0f, 0x05)                 // syscall
	wait = len(a.b)                    //
	a.jcc(0xeb, "wait")                // jmp wait (recheck: wakeups may be spurious)
	return published, wake, wait
}

// serveCode assembles the serving thread's loop (stubproc's serve.go has
// the protocol): close the pipe's read end (fd 0: uk has its own), then
// sleep on the request page's sequence word until it
// changes, run the batch's records as stubproc.SiteBatch does, write the
// packets that report it to the completion pipe (fd R13, set by uk when it
// made the thread), and sleep again. It uses no memory but the request
// page and no stack.
func serveCode() []byte {
	var a asm
	a.emit(0xb8, 0x03, 0x00, 0x00, 0x00)       // mov eax, 3 (close)
	a.emit(0x31, 0xff)                         // xor edi, edi (fd 0: the pipe's read end, which uk has taken)
	a.emit(0x0f, 0x05)                         // syscall
	a.emit(0x49, 0xbe)                         // mov r14, ReqPage
	a.emit(imm64(stubproc.ReqPage)...)         //
	a.emit(0x45, 0x31, 0xff)                   // xor r15d, r15d (the last sequence number run: the page starts cleared)
	a.label("wait")                            //
	a.emit(0x41, 0x8b, 0x86)                   // mov eax, [r14+CtlSeq]
	a.emit(imm32(stubproc.CtlSeq)...)          //
	a.emit(0x44, 0x39, 0xf8)                   // cmp eax, r15d
	a.jcc(0x75, "run")                         // jne run
	a.emit(0x49, 0x8d, 0xbe)                   // lea rdi, [r14+CtlSeq]
	a.emit(imm32(stubproc.CtlSeq)...)          //
	a.emit(0x31, 0xf6)                         // xor esi, esi (FUTEX_WAIT, shared: uk wakes it through its own mapping)
	a.emit(0x44, 0x89, 0xfa)                   // mov edx, r15d (sleep only while unchanged)
	a.emit(0x45, 0x31, 0xd2)                   // xor r10d, r10d (no timeout)
	a.emit(0xb8)                               // mov eax, SYS_futex
	a.emit(imm32(sysFutex)...)                 //
	a.emit(0x0f, 0x05)                         // syscall
	a.jcc(0xeb, "wait")                        // jmp wait (recheck: the program may wake it too)
	a.label("run")                             //
	a.emit(0x41, 0x89, 0xc7)                   // mov r15d, eax
	a.emit(0x45, 0x8b, 0xa6)                   // mov r12d, [r14+CtlCount]
	a.emit(imm32(stubproc.CtlCount)...)        //
	a.emit(0x4c, 0x89, 0xf3)                   // mov rbx, r14 (the first record)
	a.label("batch")                           //
	a.emit(0x4d, 0x85, 0xe4)                   // test r12, r12
	a.jcc(0x74, "done")                        // jz done
	a.emit(0x48, 0x8b, 0x03)                   // mov rax, [rbx]
	a.emit(0x48, 0x8b, 0x7b, 0x08)             // mov rdi, [rbx+8]
	a.emit(0x48, 0x8b, 0x73, 0x10)             // mov rsi, [rbx+16]
	a.emit(0x48, 0x8b, 0x53, 0x18)             // mov rdx, [rbx+24]
	a.emit(0x4c, 0x8b, 0x53, 0x20)             // mov r10, [rbx+32]
	a.emit(0x4c, 0x8b, 0x43, 0x28)             // mov r8, [rbx+40]
	a.emit(0x4c, 0x8b, 0x4b, 0x30)             // mov r9, [rbx+48]
	a.emit(0x0f, 0x05)                         // syscall
	a.emit(0x48, 0x85, 0xc0)                   // test rax, rax
	a.jcc(0x78, "done")                        // js done (an errno: stop here)
	a.emit(0x48, 0x83, 0xc3, stubproc.ReqSize) // add rbx, ReqSize
	a.emit(0x49, 0xff, 0xcc)                   // dec r12
	a.jcc(0xeb, "batch")                       // jmp batch
	a.label("done")                            //
	a.emit(0x48, 0x89, 0xc5)                   // mov rbp, rax (the last result)
	a.emit(0x44, 0x89, 0xef)                   // mov edi, r13d (the pipe)
	a.emit(0x4c, 0x89, 0xf6)                   // mov rsi, r14 (any readable bytes)
	a.emit(0x49, 0x8d, 0x54, 0x24, 0x01)       // lea rdx, [r12+1] (1 + requests not completed)
	a.emit(0xb8, 0x01, 0x00, 0x00, 0x00)       // mov eax, 1 (write)
	a.emit(0x0f, 0x05)                         // syscall
	a.emit(0x4d, 0x85, 0xe4)                   // test r12, r12
	a.jcc(0x75, "failed")                      // jnz failed
	a.jmp32("wait")                            // jmp wait
	a.label("failed")                          //
	a.emit(0x44, 0x89, 0xef)                   // mov edi, r13d
	a.emit(0x4c, 0x89, 0xf6)                   // mov rsi, r14
	a.emit(0x48, 0x89, 0xea)                   // mov rdx, rbp
	a.emit(0x48, 0xf7, 0xda)                   // neg rdx (the errno)
	a.emit(0xb8, 0x01, 0x00, 0x00, 0x00)       // mov eax, 1 (write)
	a.emit(0x0f, 0x05)                         // syscall
	a.jmp32("wait")                            // jmp wait
	return a.link()
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

// stubCode returns the machine code of the stub, laid out so that each
// site starts at the address named above (padding is int3, which traps if
// ever reached).
func stubCode() []byte {
	fast, published, fwake, fwait, exit := fastCode()
	fastPublishedOff = published
	siteFastWakeRet = siteFast + uint64(fwake)
	siteFastWaitRet = siteFast + uint64(fwait)
	siteFastExit = siteFast + uint64(exit)
	siteFastEnd = siteFast + uint64(len(fast))
	h, wake, wait, sigret := handlerCode()
	if siteHandler+uint64(len(h)) > siteFast {
		panic("sigsys: the handler overlaps the trampoline")
	}
	serve := serveCode()
	serveOff := (int(siteFastEnd-ownCode) + 15) &^ 15
	base := stubproc.BaseCode()
	code := make([]byte, len(base)+serveOff+len(serve))
	for i := range code {
		code[i] = 0xcc // int3 padding
	}
	copy(code, base)
	put := func(addr uint64, b ...byte) { copy(code[addr-ownCode+uint64(len(base)):], b) }
	siteWakeRet = siteHandler + uint64(wake)
	siteWaitRet = siteHandler + uint64(wait)
	siteSigreturnRet = siteHandler + uint64(sigret)
	siteServe = ownCode + uint64(serveOff)

	// siteThreadEntry: any syscall traps into the handler (the number
	// does not matter; uk ignores this first trap).
	put(siteThreadEntry,
		0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, 39 (getpid)
		0x0f, 0x05, // syscall
		0x0f, 0x0b, // ud2
	)

	// siteExit: end this thread only. The thread filter allows exit here
	// with any argument: a program that jumps here just ends its thread.
	put(siteExit,
		0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x31, 0xff, // xor edi, edi
		0x0f, 0x05, // syscall
		0x0f, 0x0b, // ud2
	)

	put(siteHandler, h...)
	put(siteFast, fast...)
	put(siteServe, serve...)
	return code
}
