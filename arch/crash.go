package arch

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// CrashReport writes the report uk prints when an application dies of a
// fault signal: the signal and what its si_code means, the fault address
// with a hint when it looks like a NULL dereference or a stack overflow,
// every register, and the instructions around rip disassembled (GNU/AT&T
// syntax, as objdump and gdb show them) with the faulting one marked.
//
// text holds instruction bytes read from the application starting at
// textAddr. textAddr may be below regs.Rip so that a few instructions
// before the fault can be shown; x86 cannot be decoded backwards, so the
// earliest start whose decoding lands exactly on rip is used. Bytes that do
// not decode are shown as "(bad)". text may be empty when the code could
// not be read (e.g. a jump to an unmapped address).
//
// The whole report goes to w in one Write.
func CrashReport(w io.Writer, signo, sicode int, faultAddr uint64, regs *Registers, text []byte, textAddr uint64) error {
	var b strings.Builder
	name, meaning := SiCodeName(signo, sicode)
	fmt.Fprintf(&b, "application crashed: %s", SignalName(signo))
	if meaning != "" {
		fmt.Fprintf(&b, " (%s: %s)", name, meaning)
	} else {
		fmt.Fprintf(&b, " (si_code %s)", name)
	}
	b.WriteByte('\n')
	if faultSignal(signo) {
		fmt.Fprintf(&b, "  fault address: %#x%s\n", faultAddr, faultHint(signo, sicode, faultAddr, regs))
	}
	if regs == nil {
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "  at rip %#x\n", regs.Rip)

	r := regs
	grid := [][2]any{
		{"rax", r.Rax}, {"rbx", r.Rbx}, {"rcx", r.Rcx}, {"rdx", r.Rdx},
		{"rsi", r.Rsi}, {"rdi", r.Rdi}, {"rbp", r.Rbp}, {"rsp", r.Rsp},
		{"r8", r.R8}, {"r9", r.R9}, {"r10", r.R10}, {"r11", r.R11},
		{"r12", r.R12}, {"r13", r.R13}, {"r14", r.R14}, {"r15", r.R15},
		{"rip", r.Rip}, {"rflags", r.Eflags}, {"fs_base", r.FsBase}, {"gs_base", r.GsBase},
	}
	b.WriteString("registers:\n")
	for i, cell := range grid {
		if i%4 == 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, " %7s %016x", cell[0], cell[1])
		if i%4 == 3 {
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "  rflags [%s]  cs %#x  ss %#x  orig_rax %s\n",
		EflagsString(r.Eflags), r.Cs, r.Ss, origRaxString(r.OrigRax))

	b.WriteString("code:\n")
	if len(text) == 0 || textAddr > r.Rip || r.Rip-textAddr >= uint64(len(text)) {
		b.WriteString("  (instructions at rip could not be read)\n")
	} else {
		Disassemble(&b, text, textAddr, r.Rip, 6)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// faultSignal reports whether si_addr means something for signo.
func faultSignal(signo int) bool {
	switch signo {
	case SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP:
		return true
	}
	return false
}

// faultHint guesses the common causes of a SIGSEGV for the reader.
func faultHint(signo, sicode int, addr uint64, r *Registers) string {
	if signo != SIGSEGV {
		return ""
	}
	switch {
	case sicode == SI_KERNEL:
		return " (not meaningful: raised by the kernel, e.g. for a general protection fault (a non-canonical address, a privileged instruction) or a signal frame it could not write)"
	case addr < 64*1024:
		return " (near address 0: NULL pointer dereference?)"
	case r != nil && addr < r.Rsp && r.Rsp-addr <= 64*1024:
		return " (just below the stack pointer: stack overflow?)"
	case r != nil && addr == r.Rip && sicode == SEGV_ACCERR:
		return " (executing memory that is not executable)"
	}
	return ""
}

func origRaxString(v uint64) string {
	if v == ^uint64(0) {
		return "-1"
	}
	return fmt.Sprintf("%d (%s)", v, SyscallName(v))
}

var eflagsNames = []struct {
	bit  uint64
	name string
}{
	{EflagsCF, "CF"}, {EflagsPF, "PF"}, {EflagsAF, "AF"}, {EflagsZF, "ZF"}, {EflagsSF, "SF"},
	{EflagsTF, "TF"}, {EflagsIF, "IF"}, {EflagsDF, "DF"}, {EflagsOF, "OF"}, {EflagsRF, "RF"},
	{EflagsAC, "AC"},
}

// EflagsString names the set status and control bits of rflags
// ("ZF PF IF"), the way gdb shows them.
func EflagsString(fl uint64) string {
	var s []string
	for _, f := range eflagsNames {
		if fl&f.bit != 0 {
			s = append(s, f.name)
		}
	}
	return strings.Join(s, " ")
}

// Disassemble writes up to max instructions of text (which starts at
// textAddr), beginning a few instructions before mark when text allows,
// one line per instruction: address, bytes, GNU syntax. The instruction at
// mark is flagged with "=>". Undecodable bytes are shown one at a time as
// "(bad)", as objdump does.
func Disassemble(w io.Writer, text []byte, textAddr, mark uint64, max int) {
	start := syncStart(text, textAddr, mark)
	const before = 3
	// Keep at most `before` instructions ahead of mark.
	var starts []uint64
	for pc := start; pc < mark; {
		starts = append(starts, pc)
		pc += uint64(decodeLen(text[pc-textAddr:]))
	}
	if len(starts) > before {
		start = starts[len(starts)-before]
	}
	pc := start
	for n := 0; n < max && pc-textAddr < uint64(len(text)); n++ {
		code := text[pc-textAddr:]
		inst, err := x86asm.Decode(code, 64)
		var asm string
		size := inst.Len
		if err != nil || size == 0 {
			size = 1
			asm = "(bad)"
		} else {
			asm = x86asm.GNUSyntax(inst, pc, nil)
		}
		prefix := "    "
		if pc == mark {
			prefix = " => "
		}
		fmt.Fprintf(w, "%s%#x: %-30s %s\n", prefix, pc, hexBytes(code[:size]), asm)
		pc += uint64(size)
	}
}

// decodeLen is the length of the instruction at code, or 1 if it does not
// decode (the resynchronization step objdump uses).
func decodeLen(code []byte) int {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Len == 0 {
		return 1
	}
	return inst.Len
}

// syncStart returns the earliest address in [textAddr, mark] from which
// decoding instruction by instruction lands exactly on mark, with no
// undecodable bytes on the way; mark itself if none does.
func syncStart(text []byte, textAddr, mark uint64) uint64 {
	for s := textAddr; s < mark; s++ {
		pc, ok := s, true
		for pc < mark {
			inst, err := x86asm.Decode(text[pc-textAddr:], 64)
			if err != nil || inst.Len == 0 {
				ok = false
				break
			}
			pc += uint64(inst.Len)
		}
		if ok && pc == mark {
			return s
		}
	}
	return mark
}

func hexBytes(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}
