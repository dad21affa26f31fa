package hostfilter

import (
	"encoding/binary"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// The filter program. Its shape keeps two costs down:
//
//   - Syscalls admitted whatever their arguments are decided from the
//     architecture and the number alone, before any argument is loaded, so
//     the kernel's seccomp action cache (Linux 5.11+) admits them without
//     running the program at all: uk's hot path (ptrace, wait4) pays
//     nothing for the filter.
//   - The number is found by a binary search (a few comparisons), not a
//     linear scan of the list.
//
// Layout: check the architecture (kill for any other); load the number; the search tree, whose
// leaves jump to one block per rule; the blocks; the default action. Every
// conditional jump is short (classic BPF allows 255 instructions); far
// targets are reached through an unconditional ja, which has 32 bits.

// Offsets into struct seccomp_data.
const (
	dataNr   = 0
	dataArch = 4
	dataArgs = 16
)

// auditArchX86_64 is AUDIT_ARCH_X86_64: a syscall made through the 64-bit
// entry. uk never makes any other; an int 0x80 from uk would be a bug or an
// attack, and is killed.
const auditArchX86_64 = 0xc000003e

// Seccomp return values.
const (
	retAllow       = unix.SECCOMP_RET_ALLOW
	retTrap        = unix.SECCOMP_RET_TRAP
	retKillProcess = unix.SECCOMP_RET_KILL_PROCESS
)

// Insn is one classic BPF instruction (struct sock_filter).
type Insn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// BPF opcodes used.
const (
	opLdW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opJeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opJset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	opJa   = unix.BPF_JMP | unix.BPF_JA
	opRet  = unix.BPF_RET | unix.BPF_K
	opAnd  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
)

// asm assembles a program with symbolic labels.
type asm struct {
	prog   []Insn
	labels map[string]int
	fixups []fixup
	n      int // for fresh labels
}

type fixup struct {
	at    int
	label string
	kind  byte // 't': Jt, 'f': Jf, 'a': K of a ja
}

func (a *asm) emit(code uint16, k uint32) { a.prog = append(a.prog, Insn{Code: code, K: k}) }

// jump emits a conditional jump to labels t (true) and f (false); "" means
// the next instruction.
func (a *asm) jump(code uint16, k uint32, t, f string) {
	at := len(a.prog)
	a.emit(code, k)
	if t != "" {
		a.fixups = append(a.fixups, fixup{at, t, 't'})
	}
	if f != "" {
		a.fixups = append(a.fixups, fixup{at, f, 'f'})
	}
}

func (a *asm) ja(label string) {
	a.fixups = append(a.fixups, fixup{len(a.prog), label, 'a'})
	a.emit(opJa, 0)
}

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.prog)
}

func (a *asm) fresh(prefix string) string {
	a.n++
	return fmt.Sprintf("%s.%d", prefix, a.n)
}

func (a *asm) link() ([]Insn, error) {
	for _, f := range a.fixups {
		target, ok := a.labels[f.label]
		if !ok || target <= f.at {
			return nil, fmt.Errorf("hostfilter: jump to %q: no such label after %d", f.label, f.at)
		}
		off := target - f.at - 1
		switch f.kind {
		case 't', 'f':
			if off > 255 {
				return nil, fmt.Errorf("hostfilter: conditional jump to %q too far (%d)", f.label, off)
			}
			if f.kind == 't' {
				a.prog[f.at].Jt = uint8(off)
			} else {
				a.prog[f.at].Jf = uint8(off)
			}
		case 'a':
			a.prog[f.at].K = uint32(off)
		}
	}
	return a.prog, nil
}

// Compile turns rules into a filter program whose default action is
// SECCOMP_RET_TRAP (a SIGSYS, which the Go runtime reports as a crash
// naming the call site) and which kills the process for a syscall of any
// other architecture.
func Compile(rules []Rule) ([]Insn, error) { return compile(rules, retTrap) }

// compile is Compile with the action for syscalls not on the list.
func compile(rules []Rule, deny uint32) ([]Insn, error) {
	rs := append([]Rule(nil), rules...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Nr < rs[j].Nr })
	for i := 1; i < len(rs); i++ {
		if rs[i].Nr == rs[i-1].Nr {
			return nil, fmt.Errorf("hostfilter: %s listed twice", rs[i].Name)
		}
	}
	var a asm
	a.emit(opLdW, dataArch)
	a.jump(opJeq, auditArchX86_64, "arch.ok", "")
	a.emit(opRet, retKillProcess)
	a.label("arch.ok")
	a.emit(opLdW, dataNr)
	a.tree(rs)
	for _, r := range rs {
		a.label("rule." + r.Name)
		a.block(r)
	}
	a.label("deny")
	a.emit(opRet, deny)
	return a.link()
}

// tree emits a binary search over rs (sorted) on the number in A; each leaf
// jumps to its rule's block, anything else to deny.
func (a *asm) tree(rs []Rule) {
	const leaf = 4
	if len(rs) <= leaf {
		for _, r := range rs {
			// jeq nr: ja to the block, else skip it.
			a.jump(opJeq, uint32(r.Nr), "", "")
			a.prog[len(a.prog)-1].Jf = 1
			a.ja("rule." + r.Name)
		}
		a.ja("deny")
		return
	}
	mid := len(rs) / 2
	right := a.fresh("tree")
	// jge nr[mid]: ja to the right half, else skip that ja.
	a.jump(opJge, uint32(rs[mid].Nr), "", "")
	a.prog[len(a.prog)-1].Jf = 1
	a.ja(right)
	a.tree(rs[:mid])
	a.label(right)
	a.tree(rs[mid:])
}

// block emits a rule's argument checks: admitted if any alternative
// matches, else denied.
func (a *asm) block(r Rule) {
	if len(r.Alts) == 0 {
		a.emit(opRet, retAllow)
		return
	}
	for _, alt := range r.Alts {
		next := a.fresh("alt")
		for _, c := range alt {
			if c.Ne {
				// Low 32 bits only (see Arg).
				a.emit(opLdW, uint32(dataArgs+8*c.Index))
				if m := uint32(c.mask()); m != 0xffffffff {
					a.emit(opAnd, m)
				}
				a.jump(opJeq, uint32(c.Value), next, "")
				continue
			}
			for half := 0; half < 2; half++ {
				mask := uint32(c.mask() >> (32 * half))
				val := uint32(c.Value >> (32 * half))
				if mask == 0 {
					continue
				}
				a.emit(opLdW, uint32(dataArgs+8*c.Index+4*half))
				if mask != 0xffffffff {
					a.emit(opAnd, mask)
				}
				a.jump(opJeq, val, "", next)
			}
		}
		a.emit(opRet, retAllow)
		a.label(next)
	}
	a.ja("deny")
}

// Encode returns prog as the kernel's struct sock_filter array.
func Encode(prog []Insn) []byte {
	b := make([]byte, 8*len(prog))
	for i, in := range prog {
		binary.LittleEndian.PutUint16(b[8*i:], in.Code)
		b[8*i+2], b[8*i+3] = in.Jt, in.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
	}
	return b
}

// Run interprets prog on a seccomp_data for (arch, nr, args), as the
// kernel would, and returns the action. Tests use it.
func Run(prog []Insn, arch, nr uint32, args [6]uint64) (uint32, error) {
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[dataNr:], nr)
	binary.LittleEndian.PutUint32(data[dataArch:], arch)
	for i, v := range args {
		binary.LittleEndian.PutUint64(data[dataArgs+8*i:], v)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case opLdW:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case opAnd:
			acc &= in.K
		case opJeq, opJge, opJset:
			var ok bool
			switch in.Code {
			case opJeq:
				ok = acc == in.K
			case opJge:
				ok = acc >= in.K
			case opJset:
				ok = acc&in.K != 0
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opJa:
			pc += int(in.K)
		case opRet:
			return in.K, nil
		default:
			return 0, fmt.Errorf("unexpected BPF op %#x at %d", in.Code, pc)
		}
	}
	return 0, fmt.Errorf("filter fell off its end")
}
