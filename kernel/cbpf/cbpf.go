// Package cbpf is classic BPF as Linux runs it for seccomp filters: the
// instruction format programs hand in (struct sock_filter), Linux's
// checks of a program (net/core/filter.c's bpf_check_classic, then
// seccomp's own restrictions), and an interpreter.
//
// Programs come from untrusted code. A program that passes Check cannot
// jump out of itself or backwards, read a scratch word it did not store,
// shift by 32 or more, or divide by a zero constant; Run also survives any
// program (a division by a zero X returns 0, as Linux's), so it ends after
// at most len(prog) steps.
package cbpf

import (
	"encoding/binary"
	"errors"
)

// Instruction is one struct sock_filter.
type Instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// MaxInstructions is BPF_MAXINSNS: the longest program Linux takes.
const MaxInstructions = 4096

// memWords is BPF_MEMWORDS: the scratch memory's size in words.
const memWords = 16

// Opcode fields.
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// Decode reads a program of n instructions from b (at least
// n*InstructionSize bytes, in the machine's byte order).
func Decode(b []byte, n int) []Instruction {
	p := make([]Instruction, n)
	for i := range p {
		r := b[i*InstructionSize:]
		p[i] = Instruction{Code: binary.LittleEndian.Uint16(r), Jt: r[2], Jf: r[3], K: binary.LittleEndian.Uint32(r[4:])}
	}
	return p
}

// ErrInvalid is the error of a program Check refuses (EINVAL at the
// syscall boundary).
var ErrInvalid = errors.New("cbpf: invalid program")

// seccompCodes are the instructions a seccomp filter may use (Linux's
// seccomp_check_filter; loads of the packet come as seccomp data loads).
var seccompCodes = func() map[uint16]bool {
	m := map[uint16]bool{
		classRET | retK: true, classRET | retA: true,
		classALU | aluNEG: true,
		classLD | modeIMM: true, classLDX | modeIMM: true,
		classMISC | miscTAX: true, classMISC | miscTXA: true,
		classLD | modeMEM: true, classLDX | modeMEM: true,
		classST: true, classSTX: true,
		classJMP | jmpJA:          true,
		classLD | sizeW | modeABS: true, classLD | sizeW | modeLEN: true, classLDX | sizeW | modeLEN: true,
	}
	for _, op := range []uint16{aluADD, aluSUB, aluMUL, aluDIV, aluAND, aluOR, aluXOR, aluLSH, aluRSH} {
		m[classALU|op|srcK], m[classALU|op|srcX] = true, true
	}
	for _, op := range []uint16{jmpJEQ, jmpJGE, jmpJGT, jmpJSET} {
		m[classJMP|op|srcK], m[classJMP|op|srcX] = true, true
	}
	return m
}()

// CheckSeccomp checks a seccomp filter as Linux does before installing it
// (bpf_check_classic, seccomp_check_filter): 1 to MaxInstructions
// instructions of the seccomp subset, loads only of aligned words inside
// the dataSize bytes of struct seccomp_data, jumps forward and inside the
// program, no constant division by zero or shift by 32 or more, scratch
// words stored before they are loaded on every path, and a return at the
// end.
func CheckSeccomp(p []Instruction, dataSize uint32) error {
	if len(p) == 0 || len(p) > MaxInstructions {
		return ErrInvalid
	}
	n := len(p)
	for pc, in := range p {
		if !seccompCodes[in.Code] {
			return ErrInvalid
		}
		switch in.Code {
		case classALU | aluDIV | srcK:
			if in.K == 0 {
				return ErrInvalid
			}
		case classALU | aluLSH | srcK, classALU | aluRSH | srcK:
			if in.K >= 32 {
				return ErrInvalid
			}
		case classLD | modeMEM, classLDX | modeMEM, classST, classSTX:
			if in.K >= memWords {
				return ErrInvalid
			}
		case classJMP | jmpJA:
			if uint64(in.K) >= uint64(n-pc-1) {
				return ErrInvalid
			}
		case classLD | sizeW | modeABS:
			if in.K >= dataSize || in.K&3 != 0 {
				return ErrInvalid
			}
		}
		if in.Code&0x07 == classJMP && in.Code != classJMP|jmpJA {
			if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
				return ErrInvalid
			}
		}
	}
	if c := p[n-1].Code; c != classRET|retK && c != classRET|retA {
		return ErrInvalid
	}
	return checkLoadsAfterStores(p)
}

// checkLoadsAfterStores is Linux's check_load_and_stores, step for step
// (its answer for code after a return, which only a jump reaches, is
// part of the ABI): a scratch word may be loaded only where every way in
// stored it, jumps only going forward.
func checkLoadsAfterStores(p []Instruction) error {
	masks := make([]uint16, len(p))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, in := range p {
		valid &= masks[pc]
		switch {
		case in.Code == classST || in.Code == classSTX:
			valid |= 1 << in.K
		case in.Code == classLD|modeMEM || in.Code == classLDX|modeMEM:
			if valid&(1<<in.K) == 0 {
				return ErrInvalid
			}
		case in.Code == classJMP|jmpJA:
			masks[pc+1+int(in.K)] &= valid
			valid = 0xffff
		case in.Code&0x07 == classJMP:
			masks[pc+1+int(in.Jt)] &= valid
			masks[pc+1+int(in.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

// RunSeccomp runs a checked seccomp filter over data (struct
// seccomp_data's bytes) and returns what it returns.
func RunSeccomp(p []Instruction, data []byte) uint32 {
	var a, x uint32
	var mem [memWords]uint32
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code {
		case classLD | sizeW | modeABS:
			if int(in.K)+4 > len(data) {
				return 0
			}
			a = binary.LittleEndian.Uint32(data[in.K:])
		case classLD | sizeW | modeLEN:
			a = uint32(len(data))
		case classLDX | sizeW | modeLEN:
			x = uint32(len(data))
		case classLD | modeIMM:
			a = in.K
		case classLDX | modeIMM:
			x = in.K
		case classLD | modeMEM:
			a = mem[in.K%memWords]
		case classLDX | modeMEM:
			x = mem[in.K%memWords]
		case classST:
			mem[in.K%memWords] = a
		case classSTX:
			mem[in.K%memWords] = x
		case classMISC | miscTAX:
			x = a
		case classMISC | miscTXA:
			a = x
		case classALU | aluNEG:
			a = -a
		case classRET | retK:
			return in.K
		case classRET | retA:
			return a
		case classJMP | jmpJA:
			pc += int(in.K)
		default:
			switch in.Code & 0x07 {
			case classALU:
				v := in.K
				if in.Code&srcX != 0 {
					v = x
				}
				switch in.Code & 0xf0 {
				case aluADD:
					a += v
				case aluSUB:
					a -= v
				case aluMUL:
					a *= v
				case aluDIV:
					if v == 0 {
						return 0
					}
					a /= v
				case aluOR:
					a |= v
				case aluAND:
					a &= v
				case aluXOR:
					a ^= v
				case aluLSH:
					a <<= v & 31
				case aluRSH:
					a >>= v & 31
				default:
					return 0
				}
			case classJMP:
				v := in.K
				if in.Code&srcX != 0 {
					v = x
				}
				var ok bool
				switch in.Code & 0xf0 {
				case jmpJEQ:
					ok = a == v
				case jmpJGT:
					ok = a > v
				case jmpJGE:
					ok = a >= v
				case jmpJSET:
					ok = a&v != 0
				default:
					return 0
				}
				if ok {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			default:
				return 0 // not a seccomp instruction: Check refuses it
			}
		}
	}
	return 0 // fell off the end: Check refuses that too
}
