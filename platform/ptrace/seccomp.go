package ptrace

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// The stubs' seccomp filters. Since Linux 4.8 seccomp runs after the ptrace
// syscall-entry stop, and a PTRACE_SYSEMU stop skips the syscall before
// seccomp is consulted, so a filter only ever judges syscalls uk injects at
// the stub's sites. It allows exactly those and kills the stub for anything
// else: defense in depth should the application ever manage to run a host
// syscall in a stub.
//
// There are two, stacked (the kernel runs both; the strictest answer wins).
// The master stub, which only ever forks the stubs of address spaces
// (confine.go), installs the master filter; it also admits that fork, the
// mremap that moves a new stub's request page into place and the seccomp
// call that adds the second filter. Each address-space stub inherits it and
// adds the stub filter, which takes those three away again.
//
// The one exception is the legacy vsyscall page, which the host kernel
// emulates on an instruction fetch without a syscall instruction, and so
// without a SYSEMU stop: the three vsyscall numbers return SECCOMP_RET_TRAP,
// which turns such a call into a SIGSYS that uk reports as a fault at the
// vsyscall address (see Context.classify), as Linux with vsyscall=none would.

// Offsets into struct seccomp_data.
const (
	sdNr   = 0
	sdArch = 4
	sdArg0 = 16
)

// BPF opcodes and seccomp return values used below.
const (
	bpfLdW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfRetK  = unix.BPF_RET | unix.BPF_K
	retAllow = unix.SECCOMP_RET_ALLOW
	retTrap  = unix.SECCOMP_RET_TRAP
	retKill  = unix.SECCOMP_RET_KILL_PROCESS

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

// stubFilter builds the stub filter, or with master the master's filter.
// Jump targets are computed from labels so that the program can be edited
// without recounting offsets.
func stubFilter(master bool) []bpfInsn {
	type jump struct {
		at    int
		label string
		isJt  bool
	}
	var prog []bpfInsn
	labels := map[string]int{}
	var jumps []jump
	emit := func(code uint16, k uint32) { prog = append(prog, bpfInsn{code: code, k: k}) }
	// jeq: if A == k goto label (else fall through).
	jeq := func(k uint32, label string) {
		jumps = append(jumps, jump{at: len(prog), label: label, isJt: true})
		emit(bpfJeqK, k)
	}
	// jne: if A != k goto label.
	jne := func(k uint32, label string) {
		jumps = append(jumps, jump{at: len(prog), label: label})
		emit(bpfJeqK, k)
	}
	label := func(name string) { labels[name] = len(prog) }
	argLo := func(i int) uint32 { return uint32(sdArg0 + 8*i) }
	argHi := func(i int) uint32 { return uint32(sdArg0 + 8*i + 4) }

	emit(bpfLdW, sdArch)
	jne(auditArchX86_64, "kill")
	emit(bpfLdW, sdNr)
	jeq(unix.SYS_MUNMAP, "allow")
	jeq(unix.SYS_MPROTECT, "allow")
	jeq(unix.SYS_PAUSE, "allow")
	jeq(unix.SYS_EXIT, "allow")
	jeq(unix.SYS_MMAP, "mmap")
	jeq(unix.SYS_CLONE, "clone")
	jeq(unix.SYS_GETTIMEOFDAY, "trap")
	jeq(unix.SYS_TIME, "trap")
	jeq(unix.SYS_GETCPU, "trap")
	if master {
		jeq(unix.SYS_MREMAP, "mremap")
		jeq(unix.SYS_SECCOMP, "seccomp")
	}
	emit(bpfRetK, retKill)

	if master {
		// mremap: only a request page, moved onto reqPage.
		label("mremap")
		emit(bpfLdW, argLo(1))
		jne(arch.PageSize, "kill")
		emit(bpfLdW, argHi(1))
		jne(0, "kill")
		emit(bpfLdW, argLo(2))
		jne(arch.PageSize, "kill")
		emit(bpfLdW, argHi(2))
		jne(0, "kill")
		emit(bpfLdW, argLo(3))
		jne(remapFlags, "kill")
		emit(bpfLdW, argHi(3))
		jne(0, "kill")
		emit(bpfLdW, argLo(4))
		jne(uint32(reqPage&0xffffffff), "kill")
		emit(bpfLdW, argHi(4))
		jne(uint32(reqPage>>32), "kill")
		emit(bpfRetK, retAllow)

		// seccomp: only adding a filter (which can only take away).
		label("seccomp")
		emit(bpfLdW, argLo(0))
		jne(unix.SECCOMP_SET_MODE_FILTER, "kill")
		emit(bpfLdW, argHi(0))
		jne(0, "kill")
		emit(bpfLdW, argLo(1))
		jne(0, "kill")
		emit(bpfLdW, argHi(1))
		jne(0, "kill")
		emit(bpfRetK, retAllow)
	}

	// mmap: only mapFlags mappings of the memory file (fd 3).
	label("mmap")
	emit(bpfLdW, argLo(3))
	jne(mapFlags, "kill")
	emit(bpfLdW, argHi(3))
	jne(0, "kill")
	emit(bpfLdW, argLo(4))
	jne(3, "kill")
	emit(bpfLdW, argHi(4))
	jne(0, "kill")
	emit(bpfRetK, retAllow)

	// clone: only a thread with exactly cloneFlags (the master: or a
	// process with forkFlags).
	label("clone")
	emit(bpfLdW, argHi(0))
	jne(0, "kill")
	emit(bpfLdW, argLo(0))
	if master {
		jeq(uint32(forkFlags), "allow")
	}
	jne(cloneFlags, "kill")
	emit(bpfRetK, retAllow)

	// Shared exits; classic BPF only jumps forward, so they come last.
	label("allow")
	emit(bpfRetK, retAllow)
	label("trap")
	emit(bpfRetK, retTrap)
	label("kill")
	emit(bpfRetK, retKill)

	for _, j := range jumps {
		target, ok := labels[j.label]
		if !ok || target <= j.at || target-j.at-1 > 255 {
			panic(fmt.Sprintf("ptrace: bad BPF jump to %q", j.label))
		}
		off := uint8(target - j.at - 1)
		if j.isJt {
			prog[j.at].jt = off
		} else {
			prog[j.at].jf = off
		}
	}
	return prog
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
