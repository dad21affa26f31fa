package arch

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Linux x86-64 signal numbers. Signals 32 to 64 are real-time signals; the
// kernel's SIGRTMIN is 32, while glibc reserves 32-34 for itself and tells
// programs SIGRTMIN is 34, which is no concern of the kernel.
const (
	SIGHUP    = 1
	SIGINT    = 2
	SIGQUIT   = 3
	SIGILL    = 4
	SIGTRAP   = 5
	SIGABRT   = 6
	SIGBUS    = 7
	SIGFPE    = 8
	SIGKILL   = 9
	SIGUSR1   = 10
	SIGSEGV   = 11
	SIGUSR2   = 12
	SIGPIPE   = 13
	SIGALRM   = 14
	SIGTERM   = 15
	SIGSTKFLT = 16
	SIGCHLD   = 17
	SIGCONT   = 18
	SIGSTOP   = 19
	SIGTSTP   = 20
	SIGTTIN   = 21
	SIGTTOU   = 22
	SIGURG    = 23
	SIGXCPU   = 24
	SIGXFSZ   = 25
	SIGVTALRM = 26
	SIGPROF   = 27
	SIGWINCH  = 28
	SIGIO     = 29
	SIGPOLL   = SIGIO
	SIGPWR    = 30
	SIGSYS    = 31
	SIGRTMIN  = 32
	SIGRTMAX  = 64

	// NSIG is the number of signals; valid signal numbers are 1..NSIG.
	NSIG = 64
)

var signalNames = [...]string{
	SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
	SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
	SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
	SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGSTKFLT: "SIGSTKFLT",
	SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP",
	SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU",
	SIGXFSZ: "SIGXFSZ", SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH",
	SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS",
}

// ValidSignal reports whether sig is a signal number (1..NSIG). Signal 0 is
// not a signal: kill(pid, 0) only checks that pid exists.
func ValidSignal(sig int) bool { return sig >= 1 && sig <= NSIG }

// SignalName returns the name strace prints for sig: "SIGSEGV", "SIGRTMIN"
// for 32, "SIGRT_n" for 32+n, and "SIGnn" for anything else.
func SignalName(sig int) string {
	switch {
	case sig > 0 && sig < SIGRTMIN:
		return signalNames[sig]
	case sig == SIGRTMIN:
		return "SIGRTMIN"
	case sig > SIGRTMIN && sig <= SIGRTMAX:
		return "SIGRT_" + strconv.Itoa(sig-SIGRTMIN)
	}
	return "SIG" + strconv.Itoa(sig)
}

// SignalAction is what happens when a signal arrives whose disposition is
// SIG_DFL.
type SignalAction int

// Default actions, as in signal(7).
const (
	ActionTerminate SignalAction = iota // end the thread group
	ActionCoreDump                      // end it and report a core dump in the wait status
	ActionIgnore                        // discard the signal
	ActionStop                          // stop the thread group (job control)
	ActionContinue                      // resume a stopped thread group, otherwise ignore
)

// String names the action in words ("terminate", "core dump", ...), for
// messages and tests.
func (a SignalAction) String() string {
	switch a {
	case ActionTerminate:
		return "terminate"
	case ActionCoreDump:
		return "core dump"
	case ActionIgnore:
		return "ignore"
	case ActionStop:
		return "stop"
	case ActionContinue:
		return "continue"
	}
	return "SignalAction(" + strconv.Itoa(int(a)) + ")"
}

var defaultActions = [...]SignalAction{
	SIGHUP: ActionTerminate, SIGINT: ActionTerminate, SIGQUIT: ActionCoreDump,
	SIGILL: ActionCoreDump, SIGTRAP: ActionCoreDump, SIGABRT: ActionCoreDump,
	SIGBUS: ActionCoreDump, SIGFPE: ActionCoreDump, SIGKILL: ActionTerminate,
	SIGUSR1: ActionTerminate, SIGSEGV: ActionCoreDump, SIGUSR2: ActionTerminate,
	SIGPIPE: ActionTerminate, SIGALRM: ActionTerminate, SIGTERM: ActionTerminate,
	SIGSTKFLT: ActionTerminate, SIGCHLD: ActionIgnore, SIGCONT: ActionContinue,
	SIGSTOP: ActionStop, SIGTSTP: ActionStop, SIGTTIN: ActionStop, SIGTTOU: ActionStop,
	SIGURG: ActionIgnore, SIGXCPU: ActionCoreDump, SIGXFSZ: ActionCoreDump,
	SIGVTALRM: ActionTerminate, SIGPROF: ActionTerminate, SIGWINCH: ActionIgnore,
	SIGIO: ActionTerminate, SIGPWR: ActionTerminate, SIGSYS: ActionCoreDump,
}

// DefaultAction returns the SIG_DFL action for sig. Real-time signals
// terminate; invalid numbers are reported as ActionIgnore so that a caller
// never kills a process over a number it should have rejected.
func DefaultAction(sig int) SignalAction {
	switch {
	case sig > 0 && sig < SIGRTMIN:
		return defaultActions[sig]
	case sig >= SIGRTMIN && sig <= SIGRTMAX:
		return ActionTerminate
	}
	return ActionIgnore
}

// Signal dispositions for SigAction.Handler.
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// SigAction flags (sa_flags).
const (
	SA_NOCLDSTOP      = 0x1
	SA_NOCLDWAIT      = 0x2
	SA_SIGINFO        = 0x4
	SA_UNSUPPORTED    = 0x400 // never set by the kernel; lets programs probe flag support
	SA_EXPOSE_TAGBITS = 0x800
	SA_RESTORER       = 0x04000000
	SA_ONSTACK        = 0x08000000
	SA_RESTART        = 0x10000000
	SA_NODEFER        = 0x40000000
	SA_RESETHAND      = 0x80000000
)

// SigActionFlags are the flags rt_sigaction keeps (Linux's UAPI_SA_FLAGS
// with x86's SA_RESTORER); it clears the others, SA_UNSUPPORTED among
// them.
const SigActionFlags = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER |
	SA_RESETHAND | SA_EXPOSE_TAGBITS | SA_RESTORER

// SigActionSize is the size of the kernel's struct sigaction on x86-64, as
// rt_sigaction(2) reads and writes it.
const SigActionSize = 32

// SigAction is the kernel's struct sigaction for rt_sigaction(2) (not
// glibc's, whose mask is 128 bytes): handler, flags, restorer, mask.
type SigAction struct {
	Handler  uint64 // SIG_DFL, SIG_IGN or the handler's address
	Flags    uint64
	Restorer uint64 // return trampoline calling rt_sigreturn, if SA_RESTORER
	Mask     SigSet // blocked in addition while the handler runs
}

// Encode writes a into b, which must hold SigActionSize bytes.
func (a *SigAction) Encode(b []byte) {
	_ = b[SigActionSize-1]
	le.PutUint64(b[0:], a.Handler)
	le.PutUint64(b[8:], a.Flags)
	le.PutUint64(b[16:], a.Restorer)
	le.PutUint64(b[24:], uint64(a.Mask))
}

// Decode reads a from b, which must hold SigActionSize bytes.
func (a *SigAction) Decode(b []byte) {
	_ = b[SigActionSize-1]
	a.Handler = le.Uint64(b[0:])
	a.Flags = le.Uint64(b[8:])
	a.Restorer = le.Uint64(b[16:])
	a.Mask = SigSet(le.Uint64(b[24:]))
}

// sigaltstack(2) flags and sizes.
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31
	MINSIGSTKSZ   = 2048
	SIGSTKSZ      = 8192
)

// StackTSize is the size of stack_t on x86-64.
const StackTSize = 24

// StackT is stack_t, the alternate signal stack of sigaltstack(2) and
// ucontext's uc_stack.
type StackT struct {
	Sp    uint64
	Flags uint32 // SS_ONSTACK, SS_DISABLE, SS_AUTODISARM (int in C; unsigned here for bit 31)
	Size  uint64
}

// OnStack reports whether the stack pointer sp is on this alternate stack,
// by Linux's on_sig_stack(): sp in (Sp, Sp+Size], since a push first
// decrements. A stack with SS_AUTODISARM never counts as in use (Linux
// disarms it when delivering on it, so nesting is the handler's business).
func (s StackT) OnStack(sp uint64) bool {
	if s.Flags&(SS_DISABLE|SS_AUTODISARM) != 0 {
		return false
	}
	return sp > s.Sp && sp-s.Sp <= s.Size
}

// Encode writes s into b, which must hold StackTSize bytes.
func (s *StackT) Encode(b []byte) {
	_ = b[StackTSize-1]
	le.PutUint64(b[0:], s.Sp)
	le.PutUint32(b[8:], s.Flags)
	le.PutUint32(b[12:], 0)
	le.PutUint64(b[16:], s.Size)
}

// Decode reads s from b, which must hold StackTSize bytes.
func (s *StackT) Decode(b []byte) {
	_ = b[StackTSize-1]
	s.Sp = le.Uint64(b[0:])
	s.Flags = le.Uint32(b[8:])
	s.Size = le.Uint64(b[16:])
}

var le = binary.LittleEndian

// SigSet is a set of signals as the kernel stores it: bit sig-1 stands for
// signal sig. It is the 8-byte sigset_t of rt_sigprocmask(2) and friends.
type SigSet uint64

// UnblockableSignals can never be blocked, ignored or caught.
const UnblockableSignals = SigSet(1<<(SIGKILL-1) | 1<<(SIGSTOP-1))

// SynchronousSignals are the signals Linux delivers before any other
// pending signal, because they report a fault of the current instruction.
const SynchronousSignals = SigSet(1<<(SIGSEGV-1) | 1<<(SIGBUS-1) | 1<<(SIGILL-1) |
	1<<(SIGTRAP-1) | 1<<(SIGFPE-1) | 1<<(SIGSYS-1))

// SigSetOf returns the set holding the given signals; invalid numbers are
// left out.
func SigSetOf(sigs ...int) SigSet {
	var s SigSet
	for _, sig := range sigs {
		s.Add(sig)
	}
	return s
}

// Has reports whether sig is in s.
func (s SigSet) Has(sig int) bool { return ValidSignal(sig) && s&(1<<(sig-1)) != 0 }

// Add puts sig into s; invalid numbers are ignored.
func (s *SigSet) Add(sig int) {
	if ValidSignal(sig) {
		*s |= 1 << (sig - 1)
	}
}

// Remove takes sig out of s.
func (s *SigSet) Remove(sig int) {
	if ValidSignal(sig) {
		*s &^= 1 << (sig - 1)
	}
}

// Blockable returns s without SIGKILL and SIGSTOP, as rt_sigprocmask and
// sigaction masks are stored.
func (s SigSet) Blockable() SigSet { return s &^ UnblockableSignals }

// Next returns the signal Linux would dequeue first from the pending set s,
// or 0 if s is empty: the lowest synchronous (fault) signal if any,
// otherwise the lowest-numbered signal.
func (s SigSet) Next() int {
	if s == 0 {
		return 0
	}
	if f := s & SynchronousSignals; f != 0 {
		return bits.TrailingZeros64(uint64(f)) + 1
	}
	return bits.TrailingZeros64(uint64(s)) + 1
}

// Signals lists the members of s in increasing order.
func (s SigSet) Signals() []int {
	out := make([]int, 0, bits.OnesCount64(uint64(s)))
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, bits.TrailingZeros64(v)+1)
	}
	return out
}

// String formats s as strace does: "[]", "[INT TERM]", "[RTMIN RT_1]", or
// "~[KILL STOP]" when more than half the signals are members.
func (s SigSet) String() string {
	var b strings.Builder
	v := s
	if bits.OnesCount64(uint64(s)) > NSIG/2 {
		b.WriteByte('~')
		v = ^s
	}
	b.WriteByte('[')
	for i, sig := range v.Signals() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.TrimPrefix(SignalName(sig), "SIG"))
	}
	b.WriteByte(']')
	return b.String()
}

// si_code values for any signal. Codes <= 0 say user space sent the
// signal; positive codes say the kernel did.
const (
	SI_USER     = 0    // kill(2)
	SI_KERNEL   = 0x80 // sent by the kernel for no particular reason
	SI_QUEUE    = -1   // sigqueue(3) / rt_sigqueueinfo(2)
	SI_TIMER    = -2   // POSIX timer expiry
	SI_MESGQ    = -3   // POSIX message queue state change
	SI_ASYNCIO  = -4   // AIO completion
	SI_SIGIO    = -5   // queued SIGIO
	SI_TKILL    = -6   // tkill(2) / tgkill(2)
	SI_DETHREAD = -7   // sent by execve killing subsidiary threads
	SI_ASYNCNL  = -60  // getaddrinfo_a completion
)

// si_code values for SIGILL.
const (
	ILL_ILLOPC   = 1 // illegal opcode
	ILL_ILLOPN   = 2 // illegal operand
	ILL_ILLADR   = 3 // illegal addressing mode
	ILL_ILLTRP   = 4 // illegal trap
	ILL_PRVOPC   = 5 // privileged opcode
	ILL_PRVREG   = 6 // privileged register
	ILL_COPROC   = 7 // coprocessor error
	ILL_BADSTK   = 8 // internal stack error
	ILL_BADIADDR = 9 // unimplemented instruction address
)

// si_code values for SIGFPE.
const (
	FPE_INTDIV   = 1  // integer divide by zero
	FPE_INTOVF   = 2  // integer overflow
	FPE_FLTDIV   = 3  // floating-point divide by zero
	FPE_FLTOVF   = 4  // floating-point overflow
	FPE_FLTUND   = 5  // floating-point underflow
	FPE_FLTRES   = 6  // floating-point inexact result
	FPE_FLTINV   = 7  // floating-point invalid operation
	FPE_FLTSUB   = 8  // subscript out of range
	FPE_FLTUNK   = 14 // undiagnosed floating-point exception
	FPE_CONDTRAP = 15 // trap on condition
)

// si_code values for SIGSEGV.
const (
	SEGV_MAPERR = 1  // address not mapped
	SEGV_ACCERR = 2  // invalid permissions for mapped object
	SEGV_BNDERR = 3  // failed address bound checks
	SEGV_PKUERR = 4  // failed protection key checks
	SEGV_CPERR  = 10 // control protection fault (shadow stack)
)

// si_code values for SIGBUS.
const (
	BUS_ADRALN    = 1 // invalid address alignment
	BUS_ADRERR    = 2 // nonexistent physical address (e.g. beyond the end of a mapped file)
	BUS_OBJERR    = 3 // object-specific hardware error
	BUS_MCEERR_AR = 4 // hardware memory error consumed on a machine check
	BUS_MCEERR_AO = 5 // hardware memory error detected but not consumed
)

// si_code values for SIGTRAP.
const (
	TRAP_BRKPT  = 1 // process breakpoint (int3)
	TRAP_TRACE  = 2 // process trace trap (single step)
	TRAP_BRANCH = 3 // process taken branch trap
	TRAP_HWBKPT = 4 // hardware breakpoint or watchpoint
	TRAP_UNK    = 5 // undiagnosed trap
	TRAP_PERF   = 6 // perf event with sigtrap=1
)

// si_code values for SIGCHLD.
const (
	CLD_EXITED    = 1 // child has exited
	CLD_KILLED    = 2 // child was killed
	CLD_DUMPED    = 3 // child terminated abnormally and dumped core
	CLD_TRAPPED   = 4 // traced child has trapped
	CLD_STOPPED   = 5 // child has stopped
	CLD_CONTINUED = 6 // stopped child has continued
)

// ChildStatus is the SIGCHLD (and waitid) si_code and si_status of a child
// whose wait status is ws: continued (0xffff), stopped by a signal,
// exited with a code, or killed by a signal (dumped if the core bit is
// set).
func ChildStatus(ws int) (code, status int32) {
	switch {
	case ws == 0xffff:
		return CLD_CONTINUED, SIGCONT
	case ws&0xff == 0x7f:
		return CLD_STOPPED, int32(ws >> 8 & 0xff)
	case ws&0x7f == 0:
		return CLD_EXITED, int32(ws >> 8 & 0xff)
	case ws&0x80 != 0:
		return CLD_DUMPED, int32(ws & 0x7f)
	}
	return CLD_KILLED, int32(ws & 0x7f)
}

// si_code values for SIGIO/SIGPOLL.
const (
	POLL_IN  = 1 // data input available
	POLL_OUT = 2 // output buffers available
	POLL_MSG = 3 // input message available
	POLL_ERR = 4 // I/O error
	POLL_PRI = 5 // high priority input available
	POLL_HUP = 6 // device disconnected
)

// si_code values for SIGSYS.
const (
	SYS_SECCOMP       = 1 // seccomp filter returned SECCOMP_RET_TRAP
	SYS_USER_DISPATCH = 2 // syscall user dispatch
)

type codeInfo struct{ name, meaning string }

var genericCodes = map[int]codeInfo{
	SI_USER:     {"SI_USER", "sent by kill"},
	SI_KERNEL:   {"SI_KERNEL", "sent by the kernel"},
	SI_QUEUE:    {"SI_QUEUE", "sent by sigqueue"},
	SI_TIMER:    {"SI_TIMER", "POSIX timer expired"},
	SI_MESGQ:    {"SI_MESGQ", "message queue state changed"},
	SI_ASYNCIO:  {"SI_ASYNCIO", "AIO completed"},
	SI_SIGIO:    {"SI_SIGIO", "queued SIGIO"},
	SI_TKILL:    {"SI_TKILL", "sent by tkill or tgkill"},
	SI_DETHREAD: {"SI_DETHREAD", "sent by execve killing subsidiary threads"},
	SI_ASYNCNL:  {"SI_ASYNCNL", "asynchronous name lookup completed"},
}

var signalCodes = map[int][]codeInfo{ // index code-1
	SIGILL: {
		{"ILL_ILLOPC", "illegal opcode"}, {"ILL_ILLOPN", "illegal operand"},
		{"ILL_ILLADR", "illegal addressing mode"}, {"ILL_ILLTRP", "illegal trap"},
		{"ILL_PRVOPC", "privileged opcode"}, {"ILL_PRVREG", "privileged register"},
		{"ILL_COPROC", "coprocessor error"}, {"ILL_BADSTK", "internal stack error"},
		{"ILL_BADIADDR", "unimplemented instruction address"},
	},
	SIGFPE: {
		{"FPE_INTDIV", "integer divide by zero"}, {"FPE_INTOVF", "integer overflow"},
		{"FPE_FLTDIV", "floating-point divide by zero"}, {"FPE_FLTOVF", "floating-point overflow"},
		{"FPE_FLTUND", "floating-point underflow"}, {"FPE_FLTRES", "floating-point inexact result"},
		{"FPE_FLTINV", "floating-point invalid operation"}, {"FPE_FLTSUB", "subscript out of range"},
		{}, {}, {}, {}, {},
		{"FPE_FLTUNK", "undiagnosed floating-point exception"}, {"FPE_CONDTRAP", "trap on condition"},
	},
	SIGSEGV: {
		{"SEGV_MAPERR", "address not mapped to object"},
		{"SEGV_ACCERR", "invalid permissions for mapped object"},
		{"SEGV_BNDERR", "failed address bound checks"},
		{"SEGV_PKUERR", "failed protection key checks"},
		{"SEGV_ACCADI", "ADI not enabled for mapped object"},
		{"SEGV_ADIDERR", "disrupting MCD error"}, {"SEGV_ADIPERR", "precise MCD exception"},
		{"SEGV_MTEAERR", "asynchronous MTE error"}, {"SEGV_MTESERR", "synchronous MTE error"},
		{"SEGV_CPERR", "control protection fault"},
	},
	SIGBUS: {
		{"BUS_ADRALN", "invalid address alignment"},
		{"BUS_ADRERR", "nonexistent physical address"},
		{"BUS_OBJERR", "object-specific hardware error"},
		{"BUS_MCEERR_AR", "hardware memory error consumed on a machine check"},
		{"BUS_MCEERR_AO", "hardware memory error detected in process but not consumed"},
	},
	SIGTRAP: {
		{"TRAP_BRKPT", "process breakpoint"}, {"TRAP_TRACE", "process trace trap"},
		{"TRAP_BRANCH", "process taken branch trap"}, {"TRAP_HWBKPT", "hardware breakpoint/watchpoint"},
		{"TRAP_UNK", "undiagnosed trap"}, {"TRAP_PERF", "perf event"},
	},
	SIGCHLD: {
		{"CLD_EXITED", "child has exited"}, {"CLD_KILLED", "child was killed"},
		{"CLD_DUMPED", "child terminated abnormally"}, {"CLD_TRAPPED", "traced child has trapped"},
		{"CLD_STOPPED", "child has stopped"}, {"CLD_CONTINUED", "stopped child has continued"},
	},
	SIGIO: {
		{"POLL_IN", "data input available"}, {"POLL_OUT", "output buffers available"},
		{"POLL_MSG", "input message available"}, {"POLL_ERR", "i/o error"},
		{"POLL_PRI", "high priority input available"}, {"POLL_HUP", "device disconnected"},
	},
	SIGSYS: {
		{"SYS_SECCOMP", "seccomp triggered"}, {"SYS_USER_DISPATCH", "syscall user dispatch triggered"},
	},
}

// SiCodeName returns the symbolic name of si_code code for signal sig
// ("SEGV_MAPERR", "SI_USER") and a short description of what it means
// ("address not mapped to object"). Unknown codes give the number in
// decimal and an empty meaning.
func SiCodeName(sig, code int) (name, meaning string) {
	if code > 0 && code < SI_KERNEL {
		if tab := signalCodes[sig]; code <= len(tab) && tab[code-1].name != "" {
			return tab[code-1].name, tab[code-1].meaning
		}
	}
	if c, ok := genericCodes[code]; ok {
		return c.name, c.meaning
	}
	return strconv.Itoa(code), ""
}

// SignalInfoSize is the size of siginfo_t.
const SignalInfoSize = 128

// SignalInfo is Linux's siginfo_t: which signal, why, and the fields of
// whichever union member the (signal, si_code) pair selects (see Layout).
// Fields of other layouts are ignored when it is encoded.
type SignalInfo struct {
	Signo int32
	Errno int32
	Code  int32

	// Kill, RT, Chld: sender (or child) thread group id and real uid.
	Pid int32
	Uid uint32

	// Timer: kernel timer id and overrun count.
	TimerID int32
	Overrun int32

	// RT, Timer: the sigval the sender attached (sival_int or sival_ptr).
	Value uint64

	// Chld: exit status or signal, and the child's CPU times in clock ticks.
	Status       int32
	Utime, Stime int64

	// Fault: the faulting address (for SIGSEGV/SIGBUS the data address, for
	// SIGILL/SIGFPE/SIGTRAP the instruction). For SIGSYS: the address of
	// the syscall instruction.
	Addr uint64
	// Fault extras: AddrLSB (BUS_MCEERR_*), Lower/Upper (SEGV_BNDERR),
	// Pkey (SEGV_PKUERR), Perf* (TRAP_PERF).
	AddrLSB      int16
	Lower, Upper uint64
	Pkey         uint32
	PerfData     uint64
	PerfType     uint32
	PerfFlags    uint32

	// Poll: band event (POLL* bits) and file descriptor.
	Band int64
	FD   int32

	// Sys: the syscall number and AUDIT_ARCH_* value.
	Syscall int32
	Arch    uint32
}

// SignalInfoLayout says which union member of siginfo_t is in use.
type SignalInfoLayout int

// Layouts, as Linux's enum siginfo_layout.
const (
	LayoutKill SignalInfoLayout = iota
	LayoutTimer
	LayoutPoll
	LayoutFault
	LayoutFaultMCEErr
	LayoutFaultBndErr
	LayoutFaultPkuErr
	LayoutFaultPerf
	LayoutChld
	LayoutRT
	LayoutSys
)

// sicodeLimits holds, for the signals whose positive codes select a special
// layout, the highest such code (Linux's NSIGILL, NSIGFPE, ...).
var sicodeLimits = map[int32]struct {
	limit  int32
	layout SignalInfoLayout
}{
	SIGILL:  {11, LayoutFault},
	SIGFPE:  {15, LayoutFault},
	SIGSEGV: {10, LayoutFault},
	SIGBUS:  {5, LayoutFault},
	SIGTRAP: {6, LayoutFault},
	SIGCHLD: {6, LayoutChld},
	SIGIO:   {6, LayoutPoll},
	SIGSYS:  {2, LayoutSys},
}

// Layout returns which union member siginfo uses, by the same rule as
// Linux's siginfo_layout(): kernel codes (0 < code < SI_KERNEL) of the
// fault, child, poll and seccomp signals select their own member; SI_TIMER
// the timer one; SI_SIGIO poll; other negative codes rt; all else kill.
func (i *SignalInfo) Layout() SignalInfoLayout {
	sig, code := i.Signo, i.Code
	if code > SI_USER && code < SI_KERNEL {
		if l, ok := sicodeLimits[sig]; ok && code <= l.limit {
			switch {
			case sig == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO):
				return LayoutFaultMCEErr
			case sig == SIGSEGV && code == SEGV_BNDERR:
				return LayoutFaultBndErr
			case sig == SIGSEGV && code == SEGV_PKUERR:
				return LayoutFaultPkuErr
			case sig == SIGTRAP && code == TRAP_PERF:
				return LayoutFaultPerf
			}
			return l.layout
		}
		if code <= 6 { // NSIGPOLL: legacy senders of POLL_* codes with other signals
			return LayoutPoll
		}
		return LayoutKill
	}
	switch {
	case code == SI_TIMER:
		return LayoutTimer
	case code == SI_SIGIO:
		return LayoutPoll
	case code < 0:
		return LayoutRT
	}
	return LayoutKill
}

// Encode writes the 128-byte siginfo_t for i into b (which must hold
// SignalInfoSize bytes), zeroing everything its layout does not use so
// that no stale bytes leak to the application.
func (i *SignalInfo) Encode(b []byte) {
	b = b[:SignalInfoSize]
	clear(b)
	le.PutUint32(b[0:], uint32(i.Signo))
	le.PutUint32(b[4:], uint32(i.Errno))
	le.PutUint32(b[8:], uint32(i.Code))
	u := b[16:] // the union, 8-byte aligned after three ints and padding
	switch i.Layout() {
	case LayoutKill:
		le.PutUint32(u[0:], uint32(i.Pid))
		le.PutUint32(u[4:], i.Uid)
	case LayoutTimer:
		le.PutUint32(u[0:], uint32(i.TimerID))
		le.PutUint32(u[4:], uint32(i.Overrun))
		le.PutUint64(u[8:], i.Value)
	case LayoutRT:
		le.PutUint32(u[0:], uint32(i.Pid))
		le.PutUint32(u[4:], i.Uid)
		le.PutUint64(u[8:], i.Value)
	case LayoutChld:
		le.PutUint32(u[0:], uint32(i.Pid))
		le.PutUint32(u[4:], i.Uid)
		le.PutUint32(u[8:], uint32(i.Status))
		le.PutUint64(u[16:], uint64(i.Utime))
		le.PutUint64(u[24:], uint64(i.Stime))
	case LayoutFault:
		le.PutUint64(u[0:], i.Addr)
	case LayoutFaultMCEErr:
		le.PutUint64(u[0:], i.Addr)
		le.PutUint16(u[8:], uint16(i.AddrLSB))
	case LayoutFaultBndErr:
		le.PutUint64(u[0:], i.Addr)
		le.PutUint64(u[16:], i.Lower)
		le.PutUint64(u[24:], i.Upper)
	case LayoutFaultPkuErr:
		le.PutUint64(u[0:], i.Addr)
		le.PutUint32(u[16:], i.Pkey)
	case LayoutFaultPerf:
		le.PutUint64(u[0:], i.Addr)
		le.PutUint64(u[8:], i.PerfData)
		le.PutUint32(u[16:], i.PerfType)
		le.PutUint32(u[20:], i.PerfFlags)
	case LayoutPoll:
		le.PutUint64(u[0:], uint64(i.Band))
		le.PutUint32(u[8:], uint32(i.FD))
	case LayoutSys:
		le.PutUint64(u[0:], i.Addr)
		le.PutUint32(u[8:], uint32(i.Syscall))
		le.PutUint32(u[12:], i.Arch)
	}
}

// Decode reads a siginfo_t (e.g. from rt_sigqueueinfo(2)) into i, keeping
// the fields of the layout its signal and code select.
func (i *SignalInfo) Decode(b []byte) error {
	if len(b) < SignalInfoSize {
		return fmt.Errorf("siginfo: %d bytes, need %d", len(b), SignalInfoSize)
	}
	*i = SignalInfo{
		Signo: int32(le.Uint32(b[0:])),
		Errno: int32(le.Uint32(b[4:])),
		Code:  int32(le.Uint32(b[8:])),
	}
	u := b[16:]
	switch i.Layout() {
	case LayoutKill:
		i.Pid, i.Uid = int32(le.Uint32(u[0:])), le.Uint32(u[4:])
	case LayoutTimer:
		i.TimerID, i.Overrun, i.Value = int32(le.Uint32(u[0:])), int32(le.Uint32(u[4:])), le.Uint64(u[8:])
	case LayoutRT:
		i.Pid, i.Uid, i.Value = int32(le.Uint32(u[0:])), le.Uint32(u[4:]), le.Uint64(u[8:])
	case LayoutChld:
		i.Pid, i.Uid = int32(le.Uint32(u[0:])), le.Uint32(u[4:])
		i.Status = int32(le.Uint32(u[8:]))
		i.Utime, i.Stime = int64(le.Uint64(u[16:])), int64(le.Uint64(u[24:]))
	case LayoutFault:
		i.Addr = le.Uint64(u[0:])
	case LayoutFaultMCEErr:
		i.Addr, i.AddrLSB = le.Uint64(u[0:]), int16(le.Uint16(u[8:]))
	case LayoutFaultBndErr:
		i.Addr, i.Lower, i.Upper = le.Uint64(u[0:]), le.Uint64(u[16:]), le.Uint64(u[24:])
	case LayoutFaultPkuErr:
		i.Addr, i.Pkey = le.Uint64(u[0:]), le.Uint32(u[16:])
	case LayoutFaultPerf:
		i.Addr, i.PerfData = le.Uint64(u[0:]), le.Uint64(u[8:])
		i.PerfType, i.PerfFlags = le.Uint32(u[16:]), le.Uint32(u[20:])
	case LayoutPoll:
		i.Band, i.FD = int64(le.Uint64(u[0:])), int32(le.Uint32(u[8:]))
	case LayoutSys:
		i.Addr, i.Syscall, i.Arch = le.Uint64(u[0:]), int32(le.Uint32(u[8:])), le.Uint32(u[12:])
	}
	return nil
}

// MarshalBinary returns the 128-byte siginfo_t for i.
func (i *SignalInfo) MarshalBinary() ([]byte, error) {
	b := make([]byte, SignalInfoSize)
	i.Encode(b)
	return b, nil
}

// UnmarshalBinary is Decode, for encoding.BinaryUnmarshaler.
func (i *SignalInfo) UnmarshalBinary(b []byte) error { return i.Decode(b) }
