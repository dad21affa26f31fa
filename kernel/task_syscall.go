package kernel

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// SyscallFn implements one system call. It returns the value for RAX, or an
// error: a unix.Errno becomes -errno; ErrNoReturnValue leaves the registers
// as the handler set them (rt_sigreturn, execve).
type SyscallFn func(t *Task, args [6]uint64) (uint64, error)

// ErrNoReturnValue tells the dispatcher not to write a result into RAX.
var ErrNoReturnValue = errors.New("registers already set")

// ArgKind says how --strace shows one syscall argument.
type ArgKind uint8

// Argument kinds for --strace.
const (
	ArgNone          ArgKind = iota // argument not used
	ArgInt                          // signed decimal
	ArgHex                          // hexadecimal (addresses, flags without names)
	ArgFD                           // file descriptor (AT_FDCWD named)
	ArgPath                         // pointer to a NUL-terminated string
	ArgInBuf                        // pointer to a buffer whose length is the next argument, read before the call
	ArgOutBuf                       // pointer to a buffer filled by the call; the result is its length
	ArgOct                          // octal (modes)
	ArgOpenFlags                    // open(2) flags
	ArgProt                         // mmap protection
	ArgMapFlags                     // mmap flags
	ArgSignal                       // signal number
	ArgCloneFlags                   // clone flags
	ArgAtFlags                      // AT_* flags
	ArgIoctlReq                     // ioctl request
	ArgPrctlOpt                     // prctl option
	ArgArchPrctlCode                // arch_prctl code
	ArgFcntlCmd                     // fcntl command
)

// Syscall is one entry of the syscall table.
type Syscall struct {
	Name string
	Fn   SyscallFn
	Args []ArgKind
	// RetHex shows the result in hex (addresses: mmap, brk).
	RetHex bool
	// SigpipeOnEPIPE: an EPIPE result also sends SIGPIPE to the thread,
	// as writes to a pipe or socket with no reader do.
	SigpipeOnEPIPE bool
}

// SyscallTable maps syscall numbers to their implementation.
type SyscallTable struct {
	Entries [arch.SyscallCount]Syscall
}

// Register adds an implementation.
func (st *SyscallTable) Register(nr int, name string, fn SyscallFn, args ...ArgKind) *Syscall {
	st.Entries[nr] = Syscall{Name: name, Fn: fn, Args: args}
	return &st.Entries[nr]
}

// doSyscall runs the syscall the task trapped on and stores its result.
func (t *Task) doSyscall() {
	if t.k.halted.Load() {
		// Powered off: nothing runs any more.
		t.mu.Lock()
		t.exiting = true
		t.mu.Unlock()
		return
	}
	r := &t.State.Regs
	tracerSaw := false // a tracer saw the entry and may have changed it
	if t.traced.Load() {
		run, stopped := t.ptraceSyscallStop(false)
		if !run {
			return
		}
		tracerSaw = stopped
	}
	nr := r.OrigRax
	args := r.SyscallArgs()
	var sc *Syscall
	if nr < uint64(len(t.k.Table.Entries)) && t.k.Table.Entries[nr].Fn != nil {
		sc = &t.k.Table.Entries[nr]
	}
	var pre string
	if t.k.Strace != nil {
		pre = t.straceEnter(nr, sc, args)
	}
	var ret uint64
	var err error
	if s := t.seccomp.Load(); s != nil {
		run, serr := t.seccompCheck(s, nr, args)
		if !run {
			if t.k.Strace != nil {
				t.straceExit(pre, sc, args, serr)
			}
			if t.traced.Load() {
				t.ptraceSyscallStop(true)
			}
			return
		}
		if t.traced.Load() {
			// A tracer's PTRACE_EVENT_SECCOMP stop may have changed
			// the call.
			nr, args, sc = r.OrigRax, r.SyscallArgs(), nil
			if nr < uint64(len(t.k.Table.Entries)) && t.k.Table.Entries[nr].Fn != nil {
				sc = &t.k.Table.Entries[nr]
			}
			tracerSaw = true
		}
	}
	switch {
	case sc != nil:
		t.inSyscall = nr + 1
		ret, err = sc.Fn(t, args)
		t.inSyscall = 0
	case tracerSaw && nr == ^uint64(0):
		// A tracer cancelled the call (orig_rax -1): RAX keeps the
		// -ENOSYS of the entry stop, or what the tracer put there.
		err = ErrNoReturnValue
	default:
		t.k.reportMissing(nr, arch.SyscallName(nr))
		err = unix.ENOSYS
	}
	switch {
	case err == nil:
		r.Rax = ret
	case errors.Is(err, ErrNoReturnValue):
	default:
		var e unix.Errno
		var quiet interface{ NoSIGPIPE() bool } // datagram sockets: EPIPE without SIGPIPE
		if errors.As(err, &e) && e == unix.EPIPE && sc != nil && sc.SigpipeOnEPIPE &&
			!(errors.As(err, &quiet) && quiet.NoSIGPIPE()) {
			t.SendSIGPIPE()
		}
		if !errors.As(err, &e) {
			fmt.Fprintf(t.k.Debug, "uk: [%d] %s: %v\n", t.tid, arch.SyscallName(nr), err)
			e = unix.EIO
		}
		r.Rax = uint64(-int64(e))
	}
	if t.k.Strace != nil {
		t.straceExit(pre, sc, args, err)
	}
	if t.traced.Load() {
		t.ptraceSyscallStop(true)
	}
}

// straceEnter renders "name(args" for the syscall about to run; buffers the
// call fills are shown at exit.
func (t *Task) straceEnter(nr uint64, sc *Syscall, args [6]uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s(", t.tid, arch.SyscallName(nr))
	if sc == nil {
		fmt.Fprintf(&b, "%#x, %#x, %#x, %#x, %#x, %#x", args[0], args[1], args[2], args[3], args[4], args[5])
		return b.String()
	}
	for i, k := range sc.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		if k == ArgOutBuf {
			fmt.Fprintf(&b, "\x00%d", i) // placeholder filled in at exit
			continue
		}
		b.WriteString(t.formatArg(k, args, i))
	}
	return b.String()
}

func (t *Task) straceExit(pre string, sc *Syscall, args [6]uint64, err error) {
	r := &t.State.Regs
	if sc != nil {
		for i, k := range sc.Args {
			if k != ArgOutBuf {
				continue
			}
			v := fmt.Sprintf("%#x", args[i])
			if err == nil && int64(r.Rax) >= 0 {
				v = t.quoteMem(args[i], r.Rax)
			}
			pre = strings.Replace(pre, fmt.Sprintf("\x00%d", i), v, 1)
		}
	}
	var res string
	switch {
	case errors.Is(err, ErrNoReturnValue):
		res = "?"
	case int64(r.Rax) < 0 && int64(r.Rax) > -4096:
		res = "-1 " + arch.ErrnoName(-r.Rax)
	case sc != nil && sc.RetHex:
		res = fmt.Sprintf("%#x", r.Rax)
	default:
		res = fmt.Sprintf("%d", int64(r.Rax))
	}
	fmt.Fprintf(t.k.Strace, "%s) = %s\n", pre, res)
}

func (t *Task) quoteMem(addr, n uint64) string {
	const max = 32
	buf := make([]byte, min(n, max))
	if t.CopyIn(addr, buf) != nil {
		return fmt.Sprintf("%#x", addr)
	}
	s := quote(buf)
	if n > max {
		s += "..."
	}
	return s
}

// quote renders bytes as a C string literal, as strace does.
func quote(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\%o`, c)
		}
	}
	s.WriteByte('"')
	return s.String()
}

func (t *Task) formatArg(k ArgKind, args [6]uint64, i int) string {
	v := args[i]
	switch k {
	case ArgInt:
		return fmt.Sprintf("%d", int64(v))
	case ArgFD:
		if int32(v) == unix.AT_FDCWD {
			return "AT_FDCWD"
		}
		return fmt.Sprintf("%d", int32(v))
	case ArgPath:
		s, err := t.CopyInString(v, 4096)
		if err != nil {
			return fmt.Sprintf("%#x", v)
		}
		return quote([]byte(s))
	case ArgInBuf:
		if i+1 < len(args) {
			return t.quoteMem(v, args[i+1])
		}
	case ArgOct:
		return fmt.Sprintf("%#o", v)
	case ArgOpenFlags, ArgProt, ArgMapFlags, ArgCloneFlags, ArgAtFlags, ArgIoctlReq, ArgPrctlOpt, ArgArchPrctlCode, ArgFcntlCmd:
		return flagString(k, v)
	case ArgSignal:
		return arch.SignalName(int(v))
	}
	return fmt.Sprintf("%#x", v)
}

// SendSIGPIPE raises SIGPIPE on the thread, as a write to a pipe or stream
// socket without readers does.
func (t *Task) SendSIGPIPE() {
	t.tg.SendSignal(&arch.SignalInfo{Signo: int32(unix.SIGPIPE), Code: arch.SI_USER, Pid: t.tg.pid}, t)
}
