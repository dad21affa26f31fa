package sigsys

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// The stubs' seccomp filters. There are three, stacked (the kernel runs
// every filter of a thread; the strictest answer wins: KILL over TRAP over
// ALLOW).
//
// The master stub installs the master filter; each address space's stub
// inherits it and adds the stub filter, which takes the master's fork and
// mremap away again. Together they allow the host calls uk injects into a
// stub's main thread (the edit thread): mmap only of the memory file or the
// slot file with fixed flags, munmap, mprotect, a thread clone with fixed
// flags, sigaltstack and adding a filter (to set up a new thread), and the
// calls the handler makes. Everything else returns SECCOMP_RET_TRAP, not
// KILL: an application thread inherits both filters, and its every other
// syscall must become a SIGSYS for uk, never a dead stub.
//
// Application threads add the thread filter (threadFilter) before they run
// any application code. It returns SECCOMP_RET_TRAP for everything but
// three calls, each only from one site of the handler's own code (by
// seccomp_data.instruction_pointer, the address after the syscall
// instruction): futex WAIT or WAKE (the op checked: no PI, requeue or
// wake-op), rt_sigreturn, and exit. The program can jump to those sites
// with any registers; what it gets is harmless to anyone but itself:
//
//   - futex WAIT/WAKE on its own memory: it blocks itself or wakes a
//     waiter on a page it maps. uk's waiters (on slot state words) recheck
//     the word after every wakeup; guest futexes are uk's, not host ones.
//   - rt_sigreturn with a forged frame: the host kernel validates it as for
//     any program (user selectors forced, flags masked), so it gets the
//     registers it could have loaded itself. It can also set its own
//     host signal mask and alternate stack that way: blocking SIGSYS makes
//     the host kill the stub at its next syscall; blocking the interrupt
//     signal or moving its alternate stack away only keeps its own thread
//     from coming back to uk (Interrupt then waits until it traps).
//   - exit: it ends its own host thread; uk sees the thread gone.
//
// No application thread can issue mmap, so no forged mapping of the memory
// file (or of another thread's slot) can ever be made from application
// code; only the edit thread, which never runs application code and is
// only ever driven by ptrace injections from uk, can.
//
// The legacy vsyscall page, which the host kernel emulates on an
// instruction fetch without a syscall instruction, is trapped by the same
// filter: the three vsyscall numbers return SECCOMP_RET_TRAP, which uk
// reports as a fault at the vsyscall address (see Context.classify), as
// Linux with vsyscall=none would.

// Offsets into struct seccomp_data.
const (
	sdNr   = 0
	sdArch = 4
	sdIP   = 8
	sdArg0 = 16
)

// BPF opcodes and seccomp return values used below.
const (
	bpfLdW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfRetK  = unix.BPF_RET | unix.BPF_K
	retAllow = unix.SECCOMP_RET_ALLOW
	retTrap  = unix.SECCOMP_RET_TRAP

	auditArchX86_64 = 0xc000003e
)

// mapFlags are the only flags the stub may mmap with: a fixed, shared,
// populated mapping of the memory file.
const mapFlags = unix.MAP_SHARED | unix.MAP_FIXED | unix.MAP_POPULATE

// cloneFlags are the only flags the stub may clone with: a thread in the
// same address space, file table and signal handlers.
const cloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// forkFlags are the only flags the master may clone with: a new process
// (an address space's stub) whose exit the master ignores.
const forkFlags = uint64(unix.SIGCHLD)

// remapFlags move a new stub's request page into place.
const remapFlags = unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED

// vsyscallAddr is the legacy vsyscall page, which cannot be unmapped.
const vsyscallAddr = 0xffffffffff600000

type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// bpfProg builds a classic BPF program with labelled forward jumps, so
// that a filter can be edited without recounting offsets.
type bpfProg struct {
	prog   []bpfInsn
	labels map[string]int
	jumps  []struct {
		at    int
		label string
		isJt  bool
	}
}

func (b *bpfProg) emit(code uint16, k uint32) { b.prog = append(b.prog, bpfInsn{code: code, k: k}) }

// jeq: if A == k goto label (else fall through).
func (b *bpfProg) jeq(k uint32, label string) {
	b.jumps = append(b.jumps, struct {
		at    int
		label string
		isJt  bool
	}{len(b.prog), label, true})
	b.emit(bpfJeqK, k)
}

// jne: if A != k goto label.
func (b *bpfProg) jne(k uint32, label string) {
	b.jumps = append(b.jumps, struct {
		at    int
		label string
		isJt  bool
	}{len(b.prog), label, false})
	b.emit(bpfJeqK, k)
}

func (b *bpfProg) label(name string) {
	if b.labels == nil {
		b.labels = map[string]int{}
	}
	b.labels[name] = len(b.prog)
}

// ld loads the 32-bit word of seccomp_data at off.
func (b *bpfProg) ld(off uint32) { b.emit(bpfLdW, off) }

// need64: unless the 64-bit field at off equals v, goto label.
func (b *bpfProg) need64(off uint32, v uint64, label string) {
	b.ld(off)
	b.jne(uint32(v), label)
	b.ld(off + 4)
	b.jne(uint32(v>>32), label)
}

func argOff(i int) uint32 { return uint32(sdArg0 + 8*i) }

func (b *bpfProg) link() []bpfInsn {
	for _, j := range b.jumps {
		target, ok := b.labels[j.label]
		if !ok || target <= j.at || target-j.at-1 > 255 {
			panic(fmt.Sprintf("sigsys: bad BPF jump to %q", j.label))
		}
		off := uint8(target - j.at - 1)
		if j.isJt {
			b.prog[j.at].jt = off
		} else {
			b.prog[j.at].jf = off
		}
	}
	return b.prog
}

// stubFilter builds the stub filter, or with master the master's filter
// (see the top of this file). Anything it does not allow traps.
func stubFilter(master bool) []bpfInsn {
	var b bpfProg
	b.ld(sdArch)
	b.jne(auditArchX86_64, "trap")
	b.ld(sdNr)
	b.jeq(unix.SYS_MUNMAP, "allow")
	b.jeq(unix.SYS_MPROTECT, "allow")
	b.jeq(unix.SYS_PAUSE, "allow")
	b.jeq(unix.SYS_EXIT, "allow")
	b.jeq(unix.SYS_SIGALTSTACK, "allow")
	// The handler's calls; the thread filter restricts them further.
	b.jeq(unix.SYS_FUTEX, "allow")
	b.jeq(unix.SYS_RT_SIGRETURN, "allow")
	b.jeq(unix.SYS_MMAP, "mmap")
	b.jeq(unix.SYS_CLONE, "clone")
	b.jeq(unix.SYS_SECCOMP, "seccomp")
	if master {
		b.jeq(unix.SYS_MREMAP, "mremap")
	}
	b.emit(bpfRetK, retTrap)

	if master {
		// mremap: only a request page, moved onto reqPage.
		b.label("mremap")
		b.need64(argOff(1), arch.PageSize, "trap")
		b.need64(argOff(2), arch.PageSize, "trap")
		b.need64(argOff(3), remapFlags, "trap")
		b.need64(argOff(4), reqPage, "trap")
		b.emit(bpfRetK, retAllow)
	}

	// seccomp: only adding a filter (which can only take away).
	b.label("seccomp")
	b.need64(argOff(0), unix.SECCOMP_SET_MODE_FILTER, "trap")
	b.need64(argOff(1), 0, "trap")
	b.emit(bpfRetK, retAllow)

	// mmap: only mapFlags mappings of the memory file (fd 3) or the slot
	// file (fd 5).
	b.label("mmap")
	b.need64(argOff(3), mapFlags, "trap")
	b.ld(argOff(4) + 4)
	b.jne(0, "trap")
	b.ld(argOff(4))
	b.jeq(memFDInStub, "allow")
	b.jeq(slotFDInStub, "allow")
	b.emit(bpfRetK, retTrap)

	// clone: only a thread with exactly cloneFlags (the master: or a
	// process with forkFlags).
	b.label("clone")
	b.ld(argOff(0) + 4)
	b.jne(0, "trap")
	b.ld(argOff(0))
	if master {
		b.jeq(uint32(forkFlags), "allow")
	}
	b.jne(cloneFlags, "trap")
	b.emit(bpfRetK, retAllow)

	// Shared exits; classic BPF only jumps forward, so they come last.
	b.label("allow")
	b.emit(bpfRetK, retAllow)
	b.label("trap")
	b.emit(bpfRetK, retTrap)
	return b.link()
}

// threadFilter builds the filter of application threads (see the top of
// this file): everything traps but the handler's futex, rt_sigreturn and
// the exit site, each from its own instruction only.
func threadFilter() []bpfInsn {
	var b bpfProg
	b.ld(sdArch)
	b.jne(auditArchX86_64, "trap")
	b.ld(sdNr)
	b.jeq(unix.SYS_FUTEX, "futex")
	b.jeq(unix.SYS_RT_SIGRETURN, "sigreturn")
	b.jeq(unix.SYS_EXIT, "exit")
	b.emit(bpfRetK, retTrap)

	// futex: from the handler's two futex sites, WAIT or WAKE only (the
	// op is an int: its upper half is ignored by the kernel).
	b.label("futex")
	b.ld(sdIP + 4)
	b.jne(uint32(siteWakeRet>>32), "trap")
	b.ld(sdIP)
	b.jeq(uint32(siteWakeRet), "futexop")
	b.jne(uint32(siteWaitRet), "trap")
	b.label("futexop")
	b.ld(argOff(1))
	b.jeq(futexOpWait, "allow")
	b.jeq(futexOpWake, "allow")
	b.emit(bpfRetK, retTrap)

	b.label("sigreturn")
	b.need64(sdIP, siteSigreturnRet, "trap")
	b.emit(bpfRetK, retAllow)

	b.label("exit")
	b.need64(sdIP, siteExitRet, "trap")
	b.emit(bpfRetK, retAllow)

	b.label("allow")
	b.emit(bpfRetK, retAllow)
	b.label("trap")
	b.emit(bpfRetK, retTrap)
	return b.link()
}

// encodeFilter returns prog as the kernel's struct sock_filter array.
func encodeFilter(prog []bpfInsn) []byte {
	b := make([]byte, 8*len(prog))
	le := binary.LittleEndian
	for i, in := range prog {
		le.PutUint16(b[8*i:], in.code)
		b[8*i+2], b[8*i+3] = in.jt, in.jf
		le.PutUint32(b[8*i+4:], in.k)
	}
	return b
}

// putFilter places prog on a request page being laid out, with the struct
// sock_fprog that points at it, and returns the stub's address of the
// sock_fprog, for seccomp(SECCOMP_SET_MODE_FILTER).
func putFilter(d *pageData, prog []bpfInsn) uint64 {
	insns := d.put(encodeFilter(prog))
	var fprog [16]byte
	binary.LittleEndian.PutUint16(fprog[0:], uint16(len(prog)))
	binary.LittleEndian.PutUint64(fprog[8:], insns)
	return d.put(fprog[:])
}

// isVsyscall reports whether addr is in the vsyscall page.
func isVsyscall(addr uint64) bool { return arch.PageRoundDown(addr) == vsyscallAddr }
