// Package cbpf is classic BPF as Linux runs it for seccomp filters and
// socket filters (SO_ATTACH_FILTER): the instruction format programs hand
// in (struct sock_filter), Linux's checks of a program (net/core/filter.c's
// bpf_check_classic, and seccomp's own restrictions), and interpreters.
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
	return checkClassic(p, seccompCodes, func(k uint32) bool { return k < dataSize && k&3 == 0 })
}

// checkClassic is what every classic program must pass (Linux's
// bpf_check_classic): 1 to MaxInstructions instructions among codes, no
// constant division or modulo by zero or shift by 32 or more, scratch
// words inside the scratch memory and stored before they are loaded on
// every path, jumps forward and inside the program, absolute loads at
// offsets absOK takes, and a return at the end.
func checkClassic(p []Instruction, codes map[uint16]bool, absOK func(k uint32) bool) error {
	if len(p) == 0 || len(p) > MaxInstructions {
		return ErrInvalid
	}
	n := len(p)
	for pc, in := range p {
		if !codes[in.Code] {
			return ErrInvalid
		}
		switch in.Code {
		case classALU | aluDIV | srcK, classALU | aluMOD | srcK:
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
		case classLD | sizeW | modeABS, classLD | sizeH | modeABS, classLD | sizeB | modeABS:
			if !absOK(in.K) {
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
	var m machine
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code {
		case classLD | sizeW | modeABS:
			if int(in.K)+4 > len(data) {
				return 0
			}
			m.a = binary.LittleEndian.Uint32(data[in.K:])
		case classLD | sizeW | modeLEN:
			m.a = uint32(len(data))
		case classLDX | sizeW | modeLEN:
			m.x = uint32(len(data))
		default:
			if ret, done := m.step(in, &pc); done {
				return ret
			}
		}
	}
	return 0 // fell off the end: Check refuses that
}

// machine is the interpreter's state: the accumulator, the index register
// and the scratch words.
type machine struct {
	a, x uint32
	mem  [memWords]uint32
}

// step runs one instruction that does not read the packet (immediate and
// scratch loads, stores, transfers, ALU, jumps, returns), moving pc for a
// jump; done reports a return (ret its value) or an instruction it does
// not know (ret 0: Check refuses those).
func (m *machine) step(in Instruction, pc *int) (ret uint32, done bool) {
	switch in.Code {
	case classLD | modeIMM:
		m.a = in.K
	case classLDX | modeIMM:
		m.x = in.K
	case classLD | modeMEM:
		m.a = m.mem[in.K%memWords]
	case classLDX | modeMEM:
		m.x = m.mem[in.K%memWords]
	case classST:
		m.mem[in.K%memWords] = m.a
	case classSTX:
		m.mem[in.K%memWords] = m.x
	case classMISC | miscTAX:
		m.x = m.a
	case classMISC | miscTXA:
		m.a = m.x
	case classALU | aluNEG:
		m.a = -m.a
	case classRET | retK:
		return in.K, true
	case classRET | retA:
		return m.a, true
	case classJMP | jmpJA:
		*pc += int(in.K)
	default:
		v := in.K
		if in.Code&srcX != 0 {
			v = m.x
		}
		switch in.Code & 0x07 {
		case classALU:
			switch in.Code & 0xf0 {
			case aluADD:
				m.a += v
			case aluSUB:
				m.a -= v
			case aluMUL:
				m.a *= v
			case aluDIV:
				if v == 0 {
					return 0, true // Linux's division by a zero X: the program returns 0
				}
				m.a /= v
			case aluMOD:
				if v == 0 {
					return 0, true
				}
				m.a %= v
			case aluOR:
				m.a |= v
			case aluAND:
				m.a &= v
			case aluXOR:
				m.a ^= v
			case aluLSH:
				m.a <<= v & 31
			case aluRSH:
				m.a >>= v & 31
			default:
				return 0, true
			}
		case classJMP:
			var ok bool
			switch in.Code & 0xf0 {
			case jmpJEQ:
				ok = m.a == v
			case jmpJGT:
				ok = m.a > v
			case jmpJGE:
				ok = m.a >= v
			case jmpJSET:
				ok = m.a&v != 0
			default:
				return 0, true
			}
			if ok {
				*pc += int(in.Jt)
			} else {
				*pc += int(in.Jf)
			}
		default:
			return 0, true
		}
	}
	return 0, false
}

// Ancillary loads of socket filters: LD ABS at SKF_AD_OFF plus these
// offsets reads a property of the packet instead of its bytes.
const (
	skfAdOff      = 0xfffff000 // -4096
	skfAdMax      = 64         // the offsets below it, in steps of 4, are known (SKF_AD_MAX)
	skfAdAluXorX  = 40
	skfAdRandom   = 56
	skfAdProtocol = 0
)

// socketCodes are the instructions a socket filter may use (Linux's
// chk_code_allowed).
var socketCodes = func() map[uint16]bool {
	m := map[uint16]bool{
		classRET | retK: true, classRET | retA: true,
		classALU | aluNEG: true,
		classLD | modeIMM: true, classLDX | modeIMM: true,
		classMISC | miscTAX: true, classMISC | miscTXA: true,
		classLD | modeMEM: true, classLDX | modeMEM: true,
		classST: true, classSTX: true,
		classJMP | jmpJA:          true,
		classLD | sizeW | modeLEN: true, classLDX | sizeW | modeLEN: true,
		classLDX | sizeB | modeMSH: true,
	}
	for _, size := range []uint16{sizeW, sizeH, sizeB} {
		m[classLD|size|modeABS], m[classLD|size|modeIND] = true, true
	}
	for _, op := range []uint16{aluADD, aluSUB, aluMUL, aluDIV, aluMOD, aluAND, aluOR, aluXOR, aluLSH, aluRSH} {
		m[classALU|op|srcK], m[classALU|op|srcX] = true, true
	}
	for _, op := range []uint16{jmpJEQ, jmpJGE, jmpJGT, jmpJSET} {
		m[classJMP|op|srcK], m[classJMP|op|srcX] = true, true
	}
	return m
}()

// CheckSocket checks a socket filter as Linux's bpf_check_classic: 1 to
// MaxInstructions instructions, jumps forward and inside the program, no
// constant division or modulo by zero or shift by 32 or more, only known
// ancillary loads, scratch words stored before they are loaded, and a
// return at the end.
func CheckSocket(p []Instruction) error {
	return checkClassic(p, socketCodes, func(k uint32) bool {
		return k < skfAdOff || (k-skfAdOff < skfAdMax && (k-skfAdOff)%4 == 0)
	})
}

// RunSocket runs a checked socket filter over a packet and returns how
// many of its bytes to keep (0: drop it). Packet loads are big-endian, as
// network data; a load past the packet's end drops it, as Linux's does.
// Ancillary data the packet does not have (a protocol, a VLAN tag, an
// interface) reads as 0.
func RunSocket(p []Instruction, pkt []byte, random func() uint32) uint32 {
	var m machine
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code & 0xe0 {
		case modeABS, modeIND, modeMSH, modeLEN:
			if in.Code&0x07 != classLD && in.Code&0x07 != classLDX {
				break
			}
			switch {
			case in.Code&0xe0 == modeLEN && in.Code&0x07 == classLD:
				m.a = uint32(len(pkt))
			case in.Code&0xe0 == modeLEN:
				m.x = uint32(len(pkt))
			case in.Code&0xe0 == modeMSH:
				v, ok := loadPacket(pkt, in.K, sizeB)
				if !ok {
					return 0
				}
				m.x = (v & 0xf) << 2
			case in.Code&0xe0 == modeABS && in.K >= skfAdOff:
				switch in.K - skfAdOff {
				case skfAdAluXorX:
					m.a ^= m.x
				case skfAdRandom:
					m.a = random()
				default:
					m.a = 0
				}
			default:
				off := in.K
				if in.Code&0xe0 == modeIND {
					off += m.x
				}
				v, ok := loadPacket(pkt, off, in.Code&0x18)
				if !ok {
					return 0
				}
				m.a = v
			}
			continue
		}
		if ret, done := m.step(in, &pc); done {
			return ret
		}
	}
	return 0
}

// loadPacket reads a big-endian word, halfword or byte of pkt at off;
// false if it does not lie inside.
func loadPacket(pkt []byte, off uint32, size uint16) (uint32, bool) {
	n := uint32(4)
	switch size {
	case sizeH:
		n = 2
	case sizeB:
		n = 1
	}
	if off >= uint32(len(pkt)) || uint32(len(pkt))-off < n {
		return 0, false
	}
	switch size {
	case sizeH:
		return uint32(binary.BigEndian.Uint16(pkt[off:])), true
	case sizeB:
		return uint32(pkt[off]), true
	}
	return binary.BigEndian.Uint32(pkt[off:]), true
}
