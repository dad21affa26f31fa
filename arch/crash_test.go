package arch

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A function that stores through a NULL pointer:
//
//	401000: 55                push %rbp
//	401001: 48 89 e5          mov  %rsp,%rbp
//	401004: c7 00 2a 00 00 00 movl $0x2a,(%rax)   <- faults, rax = 0
//	40100a: 5d                pop  %rbp
//	40100b: c3                ret
var nullStore = []byte{0x55, 0x48, 0x89, 0xe5, 0xc7, 0x00, 0x2a, 0, 0, 0, 0x5d, 0xc3}

func TestCrashReport(t *testing.T) {
	regs := &Registers{Rip: 0x401004, Rsp: 0x7ffc0000, Rbp: 0x7ffc0000, Eflags: 0x10246,
		Cs: UserCS, Ss: UserDS, OrigRax: ^uint64(0), R12: 0x1234}
	for _, tc := range []struct {
		name     string
		signo    int
		code     int
		addr     uint64
		text     []byte
		textAddr uint64
		want     []string
		notWant  []string
	}{
		{
			name: "null store", signo: SIGSEGV, code: SEGV_MAPERR, addr: 0, text: nullStore, textAddr: 0x401000,
			want: []string{
				"SIGSEGV (SEGV_MAPERR: address not mapped to object)",
				"fault address: 0x0 (near address 0: NULL pointer dereference?)",
				"     r12 0000000000001234",
				"rflags [PF ZF IF RF]",
				"orig_rax -1",
				"    0x401000: 55",
				"push %rbp",
				" => 0x401004: c7 00 2a 00 00 00",
				"movl $0x2a,(%rax)",
				"    0x40100b: c3",
			},
		},
		{
			name: "text starts at rip", signo: SIGSEGV, code: SEGV_ACCERR, addr: 0x7ffbfff8,
			text: nullStore[4:], textAddr: 0x401004,
			want:    []string{"SEGV_ACCERR", "stack overflow?", " => 0x401004:"},
			notWant: []string{"0x401000"},
		},
		{
			name: "resync from the middle of an instruction", signo: SIGILL, code: ILL_ILLOPN, addr: 0x401004,
			text: nullStore[2:], textAddr: 0x401002,
			want: []string{"SIGILL (ILL_ILLOPN: illegal operand)", " => 0x401004:"},
		},
		{
			name: "undecodable bytes", signo: SIGILL, code: ILL_ILLOPC, addr: 0x401004,
			text: []byte{0x06, 0x06, 0x90}, textAddr: 0x401004,
			want: []string{" => 0x401004: 06", "(bad)", "    0x401006: 90", "nop"},
		},
		{
			name: "no code", signo: SIGSEGV, code: SEGV_MAPERR, addr: 0xdead0000,
			want: []string{"could not be read", "fault address: 0xdead0000\n"},
		},
		{
			name: "not a fault", signo: SIGABRT, code: SI_TKILL,
			want:    []string{"SIGABRT (SI_TKILL: sent by tkill or tgkill)"},
			notWant: []string{"fault address"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := CrashReport(&out, tc.signo, tc.code, tc.addr, regs, tc.text, tc.textAddr); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("missing %q in report:\n%s", w, s)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(s, w) {
					t.Errorf("unexpected %q in report:\n%s", w, s)
				}
			}
			if testing.Verbose() {
				t.Logf("\n%s", s)
			}
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) { f.n++; return 0, errors.New("closed") }

func TestCrashReportOneWriteAndError(t *testing.T) {
	w := &failWriter{}
	err := CrashReport(w, SIGSEGV, SEGV_MAPERR, 0, &Registers{Rip: 0x401004}, nullStore, 0x401000)
	if err == nil || w.n != 1 {
		t.Errorf("err %v after %d writes", err, w.n)
	}
	var b bytes.Buffer
	if err := CrashReport(&b, SIGBUS, BUS_ADRERR, 0x5000, nil, nil, 0); err != nil || !strings.Contains(b.String(), "BUS_ADRERR") {
		t.Errorf("nil regs: %v %q", err, b.String())
	}
}

func TestEflagsString(t *testing.T) {
	for fl, want := range map[uint64]string{0: "", 0x202: "IF", 0x10246: "PF ZF IF RF", 0x8c5: "CF PF ZF SF OF"} {
		if got := EflagsString(fl); got != want {
			t.Errorf("EflagsString(%#x) = %q, want %q", fl, got, want)
		}
	}
}

func FuzzDisassemble(f *testing.F) {
	f.Add(nullStore, uint8(4))
	f.Add([]byte{0x0f, 0x0b, 0x06, 0xff}, uint8(2))
	f.Fuzz(func(t *testing.T, text []byte, off uint8) {
		if int(off) >= len(text) {
			return
		}
		var b bytes.Buffer
		regs := Registers{Rip: 0x1000 + uint64(off)}
		if err := CrashReport(&b, SIGILL, ILL_ILLOPC, regs.Rip, &regs, text, 0x1000); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), " => ") {
			t.Fatalf("faulting instruction not marked:\n%s", b.String())
		}
	})
}
