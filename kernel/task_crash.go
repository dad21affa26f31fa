package kernel

import (
	"bytes"
	"fmt"

	"uk/arch"
)

// crashText reads the application's code around rip for a crash report:
// up to 32 bytes before it on rip's own page (so that the instructions
// leading to the fault show, without reaching into a page that may be
// unmapped) and as much of the 32 from rip on as is mapped. It is empty
// when rip itself cannot be read (a jump to nowhere).
func (t *Task) crashText(rip uint64) ([]byte, uint64) {
	const crashBefore, crashAfter = 32, 32
	before := min(crashBefore, rip&arch.PageMask)
	buf := make([]byte, before+crashAfter)
	for n := len(buf); n > int(before); n-- {
		if t.CopyIn(rip-before, buf[:n]) == nil {
			return buf[:n], rip - before
		}
	}
	return nil, rip
}

// crashReportBytes is the report crash prints: which process died, then
// arch.CrashReport (signal, fault address, registers, disassembly).
func (t *Task) crashReportBytes(sig, code int, addr uint64, why string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "uk: process %d (%s) killed: ", t.tg.pid, t.Comm())
	text, textAddr := t.crashText(t.State.Regs.Rip)
	arch.CrashReport(&b, sig, code, addr, &t.State.Regs, text, textAddr)
	if why != "" {
		fmt.Fprintf(&b, "  (%s)\n", why)
	}
	return b.Bytes()
}
