package stubproc

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// The pieces of the stubs' seccomp filters that both platforms share: the
// classic BPF assembler, the seccomp_data layout, and the only flags a
// stub may mmap, clone, fork and mremap with. What each filter allows is
// the platform's (its seccomp.go).

// Offsets into struct seccomp_data.
const (
	SdNr   = 0
	SdArch = 4
	SdIP   = 8
	SdArg0 = 16
)

// ArgOff is the offset of syscall argument i in struct seccomp_data.
func ArgOff(i int) uint32 { return uint32(SdArg0 + 8*i) }

// BPF opcodes and seccomp return values of the filters.
const (
	BPFLdW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	BPFJeqK  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	BPFJgeK  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	BPFJsetK = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	BPFRetK  = unix.BPF_RET | unix.BPF_K
	RetAllow = unix.SECCOMP_RET_ALLOW
	RetTrap  = unix.SECCOMP_RET_TRAP
	RetKill  = unix.SECCOMP_RET_KILL_PROCESS

	AuditArchX86_64 = 0xc000003e
)

// MapFlags and MapFlagsLazy are the only flags a stub may mmap with: a
// fixed, shared mapping of the memory file, populated (MAP_POPULATE: the
// host sets up every page table entry in the mmap) or not (the host maps
// pages at the thread's first touch, without uk: the memory file's pages
// exist). Space.MapFile chooses (populateMax).
const (
	MapFlags     = unix.MAP_SHARED | unix.MAP_FIXED | unix.MAP_POPULATE
	MapFlagsLazy = unix.MAP_SHARED | unix.MAP_FIXED
)

// CloneFlags are the only flags a stub may clone with: a thread in the
// same address space, file table and signal handlers.
const CloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// ForkFlags are the only flags the master may clone with: a new process
// (an address space's stub) whose exit the master ignores.
const ForkFlags = uint64(unix.SIGCHLD)

// RemapFlags move a new stub's request page into place.
const RemapFlags = unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED

// VsyscallAddr is the legacy vsyscall page, which cannot be unmapped.
const VsyscallAddr = 0xffffffffff600000

// IsVsyscall reports whether addr is in the vsyscall page.
func IsVsyscall(addr uint64) bool { return arch.PageRoundDown(addr) == VsyscallAddr }

// Insn is one classic BPF instruction (struct sock_filter).
type Insn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Prog builds a classic BPF program with labelled forward jumps, so that
// a filter can be edited without recounting offsets. The zero value is an
// empty program.
type Prog struct {
	prog   []Insn
	labels map[string]int
	jumps  []jump
}

type jump struct {
	at    int
	label string
	isJt  bool
}

// Emit appends one instruction without jumps.
func (b *Prog) Emit(code uint16, k uint32) { b.prog = append(b.prog, Insn{Code: code, K: k}) }

// Jeq: if A == k goto label (else fall through).
func (b *Prog) Jeq(k uint32, label string) {
	b.jumps = append(b.jumps, jump{at: len(b.prog), label: label, isJt: true})
	b.Emit(BPFJeqK, k)
}

// Jne: if A != k goto label.
func (b *Prog) Jne(k uint32, label string) {
	b.jumps = append(b.jumps, jump{at: len(b.prog), label: label})
	b.Emit(BPFJeqK, k)
}

// Jlt: if A < k (unsigned) goto label.
func (b *Prog) Jlt(k uint32, label string) {
	b.jumps = append(b.jumps, jump{at: len(b.prog), label: label})
	b.Emit(BPFJgeK, k)
}

// Jge: if A >= k (unsigned) goto label.
func (b *Prog) Jge(k uint32, label string) {
	b.jumps = append(b.jumps, jump{at: len(b.prog), label: label, isJt: true})
	b.Emit(BPFJgeK, k)
}

// Jset: if A & k != 0 goto label.
func (b *Prog) Jset(k uint32, label string) {
	b.jumps = append(b.jumps, jump{at: len(b.prog), label: label, isJt: true})
	b.Emit(BPFJsetK, k)
}

// Label names the next instruction.
func (b *Prog) Label(name string) {
	if b.labels == nil {
		b.labels = map[string]int{}
	}
	b.labels[name] = len(b.prog)
}

// Ld loads the 32-bit word of seccomp_data at off.
func (b *Prog) Ld(off uint32) { b.Emit(BPFLdW, off) }

// Ret returns k.
func (b *Prog) Ret(k uint32) { b.Emit(BPFRetK, k) }

// Need64: unless the 64-bit field at off equals v, goto label.
func (b *Prog) Need64(off uint32, v uint64, label string) {
	b.Ld(off)
	b.Jne(uint32(v), label)
	b.Ld(off + 4)
	b.Jne(uint32(v>>32), label)
}

// Link resolves the jumps and returns the program. A jump backwards (which
// classic BPF cannot do), too far or to a missing label is a bug in the
// filter's builder and panics.
func (b *Prog) Link() []Insn {
	for _, j := range b.jumps {
		target, ok := b.labels[j.label]
		if !ok || target <= j.at || target-j.at-1 > 255 {
			panic(fmt.Sprintf("stubproc: bad BPF jump to %q", j.label))
		}
		off := uint8(target - j.at - 1)
		if j.isJt {
			b.prog[j.at].Jt = off
		} else {
			b.prog[j.at].Jf = off
		}
	}
	return b.prog
}

// EncodeFilter returns prog as the kernel's struct sock_filter array.
func EncodeFilter(prog []Insn) []byte {
	b := make([]byte, 8*len(prog))
	le := binary.LittleEndian
	for i, in := range prog {
		le.PutUint16(b[8*i:], in.Code)
		b[8*i+2], b[8*i+3] = in.Jt, in.Jf
		le.PutUint32(b[8*i+4:], in.K)
	}
	return b
}

// PutFilter places prog on a request page being laid out, with the struct
// sock_fprog that points at it, and returns the stub's address of the
// sock_fprog, for seccomp(SECCOMP_SET_MODE_FILTER).
func PutFilter(d *PageData, prog []Insn) uint64 {
	insns := d.Put(EncodeFilter(prog))
	var fprog [16]byte
	binary.LittleEndian.PutUint16(fprog[0:], uint16(len(prog)))
	binary.LittleEndian.PutUint64(fprog[8:], insns)
	return d.Put(fprog[:])
}

// Eval runs prog, as the kernel would, over the seccomp_data of a syscall
// (archID, nr, the address after its instruction ip, args) and returns its
// verdict. It knows only the instructions Prog emits; the platforms'
// tests check their filters with it.
func Eval(prog []Insn, archID, nr uint32, ip uint64, args [6]uint64) (uint32, error) {
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[SdNr:], nr)
	binary.LittleEndian.PutUint32(data[SdArch:], archID)
	binary.LittleEndian.PutUint64(data[SdIP:], ip)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[SdArg0+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case BPFLdW:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case BPFJeqK, BPFJgeK, BPFJsetK:
			taken := acc == in.K
			switch in.Code {
			case BPFJgeK:
				taken = acc >= in.K
			case BPFJsetK:
				taken = acc&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case BPFRetK:
			return in.K, nil
		default:
			return 0, fmt.Errorf("unexpected BPF op %#x at %d", in.Code, pc)
		}
	}
	return 0, fmt.Errorf("filter fell off its end")
}

// The sections both platforms' stub filters share. Each goes to deny (a
// label) for what it does not allow; the caller jumps to its label ("mremap",
// "seccomp", "clone") on the syscall number.

// LoadNr loads the syscall number, after sending any other architecture
// than x86-64 (an ia32 syscall, whose numbers differ) to deny.
func (b *Prog) LoadNr(deny string) {
	b.Ld(SdArch)
	b.Jne(AuditArchX86_64, deny)
	b.Ld(SdNr)
}

// MapFlagsArg emits, for mmap, a check of its flags: unless they are
// MapFlags or MapFlagsLazy, goto deny. Either maps only what the rest of
// the filter allows; populating changes when the host fills page tables,
// not what the stub can reach.
func (b *Prog) MapFlagsArg(deny string) {
	b.Ld(ArgOff(3) + 4)
	b.Jne(0, deny)
	b.Ld(ArgOff(3))
	b.Jeq(MapFlags, "mapflags-ok")
	b.Jne(MapFlagsLazy, deny)
	b.Label("mapflags-ok")
}

// HostFileCalls emits, for a platform with Config.HostFiles, what its
// filter allows of the calls that map a host file (hostfiles.go):
//
//   - at "socketpair", a new stub's socket pair with uk (a datagram
//     socket of its own);
//   - at "read" and "recvmsg", taking an install's msghdr and then a
//     host file's fd from the host-file socket, the recvmsg without
//     waiting (the records run only once uk has sent both);
//   - at "mmap", before the memory file's checks (notHost, where the
//     flags are not HostMapFlags): a private, fixed mapping of one of the
//     host file fds, never writable, so that no page of it can hold
//     anything but the file's contents (writes go to private copies in
//     the memory file, made by uk).
//
// dup3 and close, which move the received fd into place, the filter
// allows on its own.
func (b *Prog) HostFileCalls(notHost, deny string) {
	b.Label("socketpair")
	b.Need64(ArgOff(0), unix.AF_UNIX, deny)
	b.Need64(ArgOff(1), unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, deny)
	b.Need64(ArgOff(2), 0, deny)
	b.Ret(RetAllow)

	b.Label("read")
	b.Need64(ArgOff(0), HostSockInStub, deny)
	b.Ret(RetAllow)

	b.Label("recvmsg")
	b.Need64(ArgOff(0), HostSockInStub, deny)
	b.Need64(ArgOff(2), unix.MSG_DONTWAIT, deny)
	b.Ret(RetAllow)

	b.Label("mmap")
	b.Ld(ArgOff(3) + 4)
	b.Jne(0, deny)
	b.Ld(ArgOff(3))
	b.Jne(HostMapFlags, notHost)
	b.Ld(ArgOff(4) + 4)
	b.Jne(0, deny)
	b.Ld(ArgOff(4))
	b.Jlt(HostFDBase, deny)
	b.Jge(HostFDBase+MaxHostFiles, deny)
	b.Ld(ArgOff(2) + 4)
	b.Jne(0, deny)
	b.Ld(ArgOff(2))
	b.Jset(unix.PROT_WRITE, deny)
	b.Ret(RetAllow)
}

// RequestPageMove emits, at "mremap", what the master's filter allows of
// mremap: a request page, moved onto ReqPage (Host.prepareStub).
func (b *Prog) RequestPageMove(deny string) {
	b.Label("mremap")
	b.Need64(ArgOff(1), arch.PageSize, deny)
	b.Need64(ArgOff(2), arch.PageSize, deny)
	b.Need64(ArgOff(3), RemapFlags, deny)
	b.Need64(ArgOff(4), ReqPage, deny)
	b.Ret(RetAllow)
}

// AddFilter emits, at "seccomp", what the filters allow of seccomp: only
// adding a filter (which can only take away).
func (b *Prog) AddFilter(deny string) {
	b.Label("seccomp")
	b.Need64(ArgOff(0), unix.SECCOMP_SET_MODE_FILTER, deny)
	b.Need64(ArgOff(1), 0, deny)
	b.Ret(RetAllow)
}

// Clone emits, at "clone", what the filters allow of clone: only a thread
// with exactly CloneFlags (with master, also a process with ForkFlags).
func (b *Prog) Clone(master bool, deny string) {
	b.Label("clone")
	b.Ld(ArgOff(0) + 4)
	b.Jne(0, deny)
	b.Ld(ArgOff(0))
	if master {
		b.Jeq(uint32(ForkFlags), "allow")
	}
	b.Jne(CloneFlags, deny)
	b.Ret(RetAllow)
}
