package cbpf

import (
	"encoding/binary"
	"testing"
)

func stmt(code uint16, k uint32) Instruction { return Instruction{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Code: code, Jt: jt, Jf: jf, K: k}
}

const (
	ldAbs = classLD | sizeW | modeABS
	retKc = classRET | retK
	retAc = classRET | retA
	jeqK  = classJMP | jmpJEQ | srcK
)

func TestCheckSeccomp(t *testing.T) {
	ok := stmt(retKc, 0x7fff0000)
	for _, tc := range []struct {
		name string
		prog []Instruction
		ok   bool
	}{
		{"empty", nil, false},
		{"return", []Instruction{ok}, true},
		{"too long", make([]Instruction, MaxInstructions+1), false},
		{"no return at the end", []Instruction{stmt(ldAbs, 0)}, false},
		{"load nr", []Instruction{stmt(ldAbs, 0), stmt(retAc, 0)}, true},
		{"load the last word", []Instruction{stmt(ldAbs, 60), stmt(retAc, 0)}, true},
		{"load past the data", []Instruction{stmt(ldAbs, 64), stmt(retAc, 0)}, false},
		{"unaligned", []Instruction{stmt(ldAbs, 6), stmt(retAc, 0)}, false},
		{"halfword", []Instruction{stmt(classLD|sizeH|modeABS, 0), stmt(retAc, 0)}, false},
		{"jump in range", []Instruction{jump(jeqK, 1, 0, 1), ok, ok}, true},
		{"jump out", []Instruction{jump(jeqK, 1, 0, 2), ok, ok}, false},
		{"ja to the last", []Instruction{stmt(classJMP|jmpJA, 1), ok, ok}, true},
		{"ja out", []Instruction{stmt(classJMP|jmpJA, 2), ok, ok}, false},
		{"ja huge", []Instruction{stmt(classJMP|jmpJA, 0xffffffff), ok}, false},
		{"div by 0", []Instruction{stmt(classALU|aluDIV|srcK, 0), ok}, false},
		{"div by X", []Instruction{stmt(classALU|aluDIV|srcX, 0), ok}, true},
		{"mod", []Instruction{stmt(classALU|aluMOD|srcK, 2), ok}, false},
		{"lsh 31", []Instruction{stmt(classALU|aluLSH|srcK, 31), ok}, true},
		{"lsh 32", []Instruction{stmt(classALU|aluLSH|srcK, 32), ok}, false},
		{"mem 15", []Instruction{stmt(classST, 15), stmt(classLD|modeMEM, 15), ok}, true},
		{"mem 16", []Instruction{stmt(classST, 16), ok}, false},
		{"load before store", []Instruction{stmt(classLD|modeMEM, 0), ok}, false},
		{"store on one path only", []Instruction{jump(jeqK, 0, 0, 1), stmt(classST, 1), stmt(classLDX|modeMEM, 1), ok}, false},
		{"store on both paths", []Instruction{stmt(classST, 1), jump(jeqK, 0, 0, 0), stmt(classLDX|modeMEM, 1), ok}, true},
		// Linux carries what reached a return into the code after it.
		{"load after a return", []Instruction{jump(jeqK, 0, 0, 2), stmt(classST, 0), stmt(classJMP|jmpJA, 1),
			ok, stmt(classLD|modeMEM, 0), stmt(retAc, 0)}, false},
		{"return X", []Instruction{stmt(classRET|srcX, 0)}, false},
		{"ind load", []Instruction{stmt(classLD|sizeW|modeIND, 0), ok}, false},
	} {
		if err := CheckSeccomp(tc.prog, 64); (err == nil) != tc.ok {
			t.Errorf("%s: CheckSeccomp = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestRunSeccomp(t *testing.T) {
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], 39)
	binary.LittleEndian.PutUint32(data[16:], 7)
	binary.LittleEndian.PutUint32(data[20:], 1)
	for _, tc := range []struct {
		name string
		prog []Instruction
		want uint32
	}{
		{"nr", []Instruction{stmt(ldAbs, 0), stmt(retAc, 0)}, 39},
		{"jeq taken", []Instruction{stmt(ldAbs, 0), jump(jeqK, 39, 0, 1), stmt(retKc, 1), stmt(retKc, 2)}, 1},
		{"jeq not taken", []Instruction{stmt(ldAbs, 0), jump(jeqK, 40, 0, 1), stmt(retKc, 1), stmt(retKc, 2)}, 2},
		{"jset", []Instruction{stmt(ldAbs, 20), jump(classJMP|jmpJSET|srcK, 1, 0, 1), stmt(retKc, 1), stmt(retKc, 2)}, 1},
		{"jgt X", []Instruction{stmt(classLDX|modeIMM, 6), stmt(ldAbs, 16), jump(classJMP|jmpJGT|srcX, 0, 0, 1), stmt(retKc, 1), stmt(retKc, 2)}, 1},
		{"alu", []Instruction{stmt(ldAbs, 16), stmt(classALU|aluMUL|srcK, 6), stmt(classALU|aluSUB|srcK, 2),
			stmt(classALU|aluDIV|srcK, 4), stmt(classALU|aluLSH|srcK, 3), stmt(classALU|aluRSH|srcK, 1),
			stmt(classALU|aluXOR|srcK, 1), stmt(classALU|aluOR|srcK, 0x100), stmt(classALU|aluAND|srcK, 0x1ff), stmt(retAc, 0)}, 0x129},
		{"neg", []Instruction{stmt(classLD|modeIMM, 1), stmt(classALU|aluNEG, 0), stmt(retAc, 0)}, 0xffffffff},
		{"div by X zero", []Instruction{stmt(classLD|modeIMM, 5), stmt(classALU|aluDIV|srcX, 0), stmt(retKc, 9)}, 0},
		{"len", []Instruction{stmt(classLD|sizeW|modeLEN, 0), stmt(retAc, 0)}, 64},
		{"scratch", []Instruction{stmt(classLD|modeIMM, 77), stmt(classST, 3), stmt(classLD|modeIMM, 0),
			stmt(classLDX|modeMEM, 3), stmt(classMISC|miscTXA, 0), stmt(retAc, 0)}, 77},
		{"ja", []Instruction{stmt(classJMP|jmpJA, 1), stmt(retKc, 1), stmt(retKc, 2)}, 2},
	} {
		if err := CheckSeccomp(tc.prog, 64); err != nil {
			t.Errorf("%s: not a valid program: %v", tc.name, err)
			continue
		}
		if got := RunSeccomp(tc.prog, data); got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// FuzzSeccomp: any bytes decode to a program that Check either refuses
// or that Run finishes, within as many steps as it has instructions.
func FuzzSeccomp(f *testing.F) {
	f.Add([]byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0x16, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x15, 0, 0, 1, 39, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x06, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := len(b) / InstructionSize
		prog := Decode(b, n)
		data := make([]byte, 64)
		for i := range data {
			data[i] = byte(i * 7)
		}
		if CheckSeccomp(prog, 64) == nil {
			RunSeccomp(prog, data)
		}
		RunSeccomp(prog, data) // unchecked programs too: never a panic
	})
}

func TestSocketFilters(t *testing.T) {
	pkt := []byte{0x45, 0x00, 0x01, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 9}
	rnd := func() uint32 { return 7 }
	for _, tc := range []struct {
		name  string
		prog  []Instruction
		valid bool
		want  uint32
	}{
		{"accept all", []Instruction{stmt(retKc, 0xffff)}, true, 0xffff},
		{"word, big-endian", []Instruction{stmt(classLD|sizeW|modeABS, 4), stmt(retAc, 0)}, true, 0xaabbccdd},
		{"halfword", []Instruction{stmt(classLD|sizeH|modeABS, 2), stmt(retAc, 0)}, true, 0x0102},
		{"byte", []Instruction{stmt(classLD|sizeB|modeABS, 8), stmt(retAc, 0)}, true, 9},
		{"past the end drops", []Instruction{stmt(classLD|sizeW|modeABS, 6), stmt(retKc, 5)}, true, 0},
		{"msh and ind", []Instruction{stmt(classLDX|sizeB|modeMSH, 0), stmt(classLD|sizeB|modeIND, 0), stmt(retAc, 0)}, true, 0},
		{"len", []Instruction{stmt(classLD|sizeW|modeLEN, 0), stmt(retAc, 0)}, true, 9},
		{"mod", []Instruction{stmt(classLD|modeIMM, 10), stmt(classALU|aluMOD|srcK, 4), stmt(retAc, 0)}, true, 2},
		{"mod by 0", []Instruction{stmt(classALU|aluMOD|srcK, 0), stmt(retAc, 0)}, false, 0},
		{"random", []Instruction{stmt(classLD|sizeW|modeABS, skfAdOff+skfAdRandom), stmt(retAc, 0)}, true, 7},
		{"unknown ancillary", []Instruction{stmt(classLD|sizeW|modeABS, skfAdOff+skfAdMax), stmt(retAc, 0)}, false, 0},
		{"no return", []Instruction{stmt(classLD|modeIMM, 1)}, false, 0},
	} {
		err := CheckSocket(tc.prog)
		if (err == nil) != tc.valid {
			t.Errorf("%s: CheckSocket = %v, want valid %v", tc.name, err, tc.valid)
			continue
		}
		if err == nil {
			if got := RunSocket(tc.prog, pkt, rnd); got != tc.want {
				t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
			}
		}
	}
}

// FuzzSocket: any program either is refused or runs to an end over any
// packet.
func FuzzSocket(f *testing.F) {
	f.Add([]byte{0x28, 0, 0, 0, 12, 0, 0, 0, 0x16, 0, 0, 0, 0, 0, 0, 0}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b, pkt []byte) {
		prog := Decode(b, len(b)/InstructionSize)
		rnd := func() uint32 { return 1 }
		if CheckSocket(prog) == nil {
			RunSocket(prog, pkt, rnd)
		}
		RunSocket(prog, pkt, rnd)
	})
}
