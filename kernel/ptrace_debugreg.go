package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// Debug registers a tracer sets (PTRACE_POKEUSER of u_debugreg), as
// gdb's hardware watchpoints and `hbreak` use them.
//
// No platform lends uk the host's debug registers for a program's
// thread, so uk runs what DR7 enables itself: while a breakpoint is
// enabled the task runs one instruction at a time (the trap flag, which
// every platform steps by for PTRACE_SINGLESTEP), and after each:
//   - an execution breakpoint fires when the next instruction is at its
//     address, before it runs, as the CPU's; not again for the
//     instruction the task resumes at after it fired (the CPU's RF);
//   - a watchpoint fires after an instruction that accessed the bytes it
//     covers, as the CPU's: a write watchpoint at a write, a read/write
//     one at either. The access is the instruction's explicit memory
//     operand or its stack push or pop, decoded before it runs
//     (arch.MemAccesses), or any change of the bytes across it (a string
//     instruction's store, say, which is not decoded).
//
// Firing sets the slot's bit in DR6 and sends the task SIGTRAP
// (TRAP_HWBKPT) at the instruction pointer, which stops it for its
// tracer. What the emulation does not see: a string instruction's read,
// and its write of the value already there. Before, the registers were
// kept and never fired: a gdb watchpoint let the program run to its
// end. A step costs a trap (as gdb's software watchpoints, without gdb's
// own round trip for each); a task with nothing enabled pays a pointer
// load a switch.
//
// Linux's checks apply when DR7 is written (an I/O breakpoint, an
// execution breakpoint of other than one byte, an address not aligned to
// the length: EINVAL, and DR7 keeps its old value) and when an enabled
// slot's address is; DR6 reads and writes in Linux's polarity (its
// reserved bits read as set), and a tracer's detach or exit clears
// them all.

// hwBreak is one breakpoint DR7 enables.
type hwBreak struct {
	n     int    // its slot, DR0-DR3
	addr  uint64 // its address
	size  int    // the bytes it covers (a watchpoint): 1, 2, 4 or 8
	exec  bool   // an execution breakpoint
	reads bool   // a watchpoint that reads fire too (RW 11)
}

// overlaps reports whether access a touches the bytes b watches, in a way
// that fires it.
func (b hwBreak) overlaps(a arch.MemAccess) bool {
	return (a.Write || b.reads) && a.Addr < b.addr+uint64(b.size) && b.addr < a.Addr+uint64(a.Size)
}

// debugStepState is the stepping of a task with breakpoints enabled.
// Used by the task's goroutine only.
type debugStepState struct {
	stepping bool // the last switch ran with the trap flag for breakpoints
	setTF    bool // and uk set the flag (the program or a tracer's step had not)
	resumed  bool // an execution breakpoint just fired: the next instruction runs (RF)
	// old holds the bytes each watchpoint covered before the step, valid
	// when readable.
	old      [4][8]byte
	readable [4]bool
	// accesses are the memory accesses of the stepped instruction.
	accesses []arch.MemAccess
}

// DR7's fields.
const (
	dr7EnableMask = 0xff   // L0, G0, ... L3, G3
	dr7Reserved   = 0xfc00 // Linux's DR_CONTROL_RESERVED: dropped on write
	dr6Reserved   = 0xffff0ff0
	trapHWBkpt    = 4 // si_code TRAP_HWBKPT
	trapTraceCode = 2 // si_code TRAP_TRACE: the trap flag's SIGTRAP
)

// dr7Slot decodes slot n of DR7: whether it is enabled, its type (RW
// bits) and its length (LEN bits).
func dr7Slot(dr7 uint64, n int) (enabled bool, rw, ln uint64) {
	enabled = dr7>>(2*n)&3 != 0
	rw = dr7 >> (16 + 4*n) & 3
	ln = dr7 >> (18 + 4*n) & 3
	return enabled, rw, ln
}

// breakSize is the bytes a LEN field covers.
func breakSize(ln uint64) int { return [4]int{1, 2, 8, 4}[ln] }

// checkBreak applies Linux's checks to an enabled slot: an I/O type, an
// execution breakpoint of more than one byte, an address not aligned to
// its length are EINVAL.
func checkBreak(addr, rw, ln uint64) error {
	switch {
	case rw == 2, rw == 0 && ln != 0:
		return unix.EINVAL
	case addr&uint64(breakSize(ln)-1) != 0:
		return unix.EINVAL
	}
	return nil
}

// DebugReg returns debug register n as a tracer reads it (PEEKUSER of
// u_debugreg): DR4 and DR5 read as 0, DR6 in the architecture's polarity.
func (t *Task) DebugReg(n int) uint64 {
	if n == 4 || n == 5 {
		return 0
	}
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if n == 6 {
		return t.ptraceDebug[6] ^ dr6Reserved
	}
	return t.ptraceDebug[n]
}

// SetDebugReg sets debug register n for a tracer (POKEUSER of
// u_debugreg), checked as Linux's ptrace_set_debugreg: a breakpoint
// address must be a user one, and aligned if its slot is enabled
// (EINVAL); DR4 and DR5 do not exist (EIO); a DR7 that enables a slot
// Linux would refuse is EINVAL and changes nothing.
func (t *Task) SetDebugReg(n int, v uint64) error {
	switch {
	case n == 4 || n == 5:
		return unix.EIO
	case n < 4 && v >= arch.TaskSizeMax:
		return unix.EINVAL
	}
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	regs := t.ptraceDebug
	switch n {
	case 6:
		v ^= dr6Reserved
	case 7:
		v &^= dr7Reserved
	}
	regs[n] = v
	for i := 0; i < 4; i++ {
		if on, rw, ln := dr7Slot(regs[7], i); on && (n == 7 || n == i) {
			if err := checkBreak(regs[i], rw, ln); err != nil {
				return err
			}
		}
	}
	t.ptraceDebug = regs
	t.armBreaksLocked()
	return nil
}

// armBreaksLocked publishes the breakpoints DR7 enables to the task.
//
// Preconditions: k.mu is held.
func (t *Task) armBreaksLocked() {
	var bs []hwBreak
	for i := 0; i < 4; i++ {
		if on, rw, ln := dr7Slot(t.ptraceDebug[7], i); on {
			bs = append(bs, hwBreak{n: i, addr: t.ptraceDebug[i], size: breakSize(ln), exec: rw == 0, reads: rw == 3})
		}
	}
	if bs == nil {
		t.hwBreaks.Store(nil)
		return
	}
	t.hwBreaks.Store(&bs)
}

// clearDebugRegsLocked drops what a tracer set, at its detach or exit (as
// Linux's flush_ptrace_hw_breakpoint).
//
// Preconditions: k.mu is held.
func (t *Task) clearDebugRegsLocked() {
	t.ptraceDebug = [8]uint64{}
	t.hwBreaks.Store(nil)
}

// fireBreaks reports the breakpoint slots of mask: their bits in DR6, and
// SIGTRAP.
func (t *Task) fireBreaks(mask uint64) {
	t.k.mu.Lock()
	t.ptraceDebug[6] |= mask
	t.k.mu.Unlock()
	t.forceSignal(sigTrap, trapHWBkpt, t.State.Regs.Rip)
}

// watchHit reports whether the instruction just stepped accessed what
// watchpoint b watches: one of its decoded accesses, or a change of the
// bytes.
func (t *Task) watchHit(b hwBreak) bool {
	ds := &t.debugStep
	for _, a := range ds.accesses {
		if b.overlaps(a) {
			return true
		}
	}
	var now [8]byte
	return ds.readable[b.n] && t.MM.CopyIn(b.addr, now[:b.size]) == nil && now != ds.old[b.n]
}

// debugBreakBefore fires an enabled execution breakpoint at the next
// instruction, before the task runs it, and reports whether it did.
// Called by the task's goroutine before each switch.
func (t *Task) debugBreakBefore() bool {
	bs := t.hwBreaks.Load()
	ds := &t.debugStep
	if bs == nil {
		ds.resumed = false
		return false
	}
	if ds.resumed {
		ds.resumed = false
		return false
	}
	for _, b := range *bs {
		if b.exec && b.addr == t.State.Regs.Rip {
			ds.resumed = true
			t.fireBreaks(1 << b.n)
			return true
		}
	}
	return false
}

// debugStepBegin sets the trap flag for one instruction if breakpoints
// are enabled, and keeps what each watchpoint covers.
func (t *Task) debugStepBegin() {
	bs := t.hwBreaks.Load()
	if bs == nil {
		return
	}
	ds := &t.debugStep
	ds.stepping = true
	ds.setTF = t.State.Regs.Eflags&arch.EflagsTF == 0
	t.State.Regs.Eflags |= arch.EflagsTF
	data := false
	for _, b := range *bs {
		if !b.exec {
			ds.readable[b.n] = t.MM.CopyIn(b.addr, ds.old[b.n][:b.size]) == nil
			data = true
		}
	}
	ds.accesses = ds.accesses[:0]
	if data {
		ds.accesses = t.instructionAccesses(ds.accesses)
	}
}

// instructionAccesses appends to acc the memory accesses of the
// instruction at the task's RIP, as far as it decodes.
func (t *Task) instructionAccesses(acc []arch.MemAccess) []arch.MemAccess {
	rip := t.State.Regs.Rip
	// Up to the longest instruction, not past the page if the next one
	// cannot be read.
	code := make([]byte, 15)
	if t.MM.CopyIn(rip, code) != nil {
		code = code[:min(15, arch.PageRoundDown(rip)+arch.PageSize-rip)]
		if t.MM.CopyIn(rip, code) != nil {
			return acc
		}
	}
	a, ok := arch.MemAccesses(code, &t.State.Regs)
	if !ok {
		return acc
	}
	return append(acc, a...)
}

// debugStepEnd ends the step debugStepBegin began, with trap what ended
// the switch, and reports whether the trap was the step's own (nothing
// else to do with it). A watchpoint whose bytes changed fires; the trap
// flag goes back to what it was, so that a tracer or the program never
// sees uk's.
func (t *Task) debugStepEnd(trap platform.Trap) bool {
	ds := &t.debugStep
	if !ds.stepping {
		return false
	}
	ds.stepping = false
	if ds.setTF {
		t.State.Regs.Eflags &^= arch.EflagsTF
	}
	// The flag's trap is SIGTRAP with TRAP_TRACE; any other signal is the
	// instruction's own (a fault, which did not complete it, or an int3
	// a debugger planted, which the tracer must see).
	step := trap.Kind == platform.TrapSignal && trap.Signo == int32(sigTrap) && trap.Code == trapTraceCode
	own := ds.setTF && step
	if trap.Kind == platform.TrapSignal && !step {
		return false
	}
	if bs := t.hwBreaks.Load(); bs != nil && step {
		var hit uint64
		for _, b := range *bs {
			if !b.exec && t.watchHit(b) {
				hit |= 1 << b.n
			}
		}
		switch {
		case hit != 0 && own:
			t.fireBreaks(hit)
		case hit != 0:
			// A tracer's single step ends here too, and its SIGTRAP
			// is the one the tracer sees, with these bits in DR6.
			t.k.mu.Lock()
			t.ptraceDebug[6] |= hit
			t.k.mu.Unlock()
		}
	}
	return own
}
