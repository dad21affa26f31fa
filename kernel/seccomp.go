package kernel

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/cbpf"
)

// Seccomp: a program's own system call filter (seccomp(2),
// prctl(PR_SET_SECCOMP)), as Linux's kernel/seccomp.c. uk runs the
// filters itself, before it runs each call: strict mode allows read,
// write, exit and rt_sigreturn; filter mode runs every filter of the
// thread's chain over struct seccomp_data and acts on the most severe
// answer. A thread's mode and chain are inherited by clone and kept by
// execve; filters are only ever added.

// Seccomp modes (PR_GET_SECCOMP, /proc/PID/status).
const (
	SeccompModeNone   = 0
	SeccompModeStrict = 1
	SeccompModeFilter = 2
)

// Filter return values (SECCOMP_RET_*): the action in the high 16 bits
// (compared as a signed number: the lower, the more severe), data in the
// low 16.
const (
	SeccompRetKillProcess = 0x80000000
	SeccompRetKillThread  = 0x00000000
	SeccompRetTrap        = 0x00030000
	SeccompRetErrno       = 0x00050000
	SeccompRetUserNotif   = 0x7fc00000
	SeccompRetTrace       = 0x7ff00000
	SeccompRetLog         = 0x7ffc0000
	SeccompRetAllow       = 0x7fff0000

	seccompRetActionFull = 0xffff0000
	seccompRetData       = 0x0000ffff
)

// SeccompDataSize is sizeof(struct seccomp_data): nr, arch,
// instruction_pointer, args[6].
const SeccompDataSize = 64

// AuditArchX86_64 is AUDIT_ARCH_X86_64: seccomp_data's arch, and
// PTRACE_GET_SYSCALL_INFO's.
const AuditArchX86_64 = 0xc000003e

// maxSeccompPath is MAX_INSNS_PER_PATH: a chain's instructions, each
// filter counted with 4 more, may not pass it (ENOMEM).
const maxSeccompPath = 1 << 15

// seccompFilterCost is what a filter costs the sandbox besides its
// instructions.
const seccompFilterCost = 128

// sysSeccomp is SYS_SECCOMP, SIGSYS's si_code for a filter's SECCOMP_RET_TRAP.
const sysSeccomp = 1

// seccompFilter is one installed filter. A chain is immutable: threads
// and children share it, and a new filter points back at the old chain.
type seccompFilter struct {
	prog []cbpf.Instruction
	prev *seccompFilter
	// pathLen is the chain's length for maxSeccompPath; count its filters.
	pathLen, count int
}

// seccompState is a thread's mode and filter chain (immutable: a change
// stores a new one).
type seccompState struct {
	mode   int
	filter *seccompFilter
}

// SeccompMode returns the thread's mode (PR_GET_SECCOMP).
func (t *Task) SeccompMode() int {
	if s := t.seccomp.Load(); s != nil {
		return s.mode
	}
	return SeccompModeNone
}

// SeccompFilters returns how many filters the thread's chain has.
func (t *Task) SeccompFilters() int {
	if s := t.seccomp.Load(); s != nil && s.filter != nil {
		return s.filter.count
	}
	return 0
}

// SetSeccompStrict enters strict mode: EINVAL if the thread has filters.
func (t *Task) SetSeccompStrict() error {
	t.tg.mu.Lock() // serializes with TSYNC, which changes other threads
	defer t.tg.mu.Unlock()
	if s := t.seccomp.Load(); s != nil {
		return unix.EINVAL
	}
	t.seccomp.Store(&seccompState{mode: SeccompModeStrict})
	return nil
}

// SeccompFilterFlags are seccomp(SECCOMP_SET_MODE_FILTER)'s flags uk
// takes. LOG (audit logging of allowed calls) and SPEC_ALLOW (leave
// speculation mitigations alone) change nothing in uk, which has no audit
// log and does not set the host's mitigations.
const (
	SeccompFlagTsync      = 1
	SeccompFlagLog        = 2
	SeccompFlagSpecAllow  = 4
	SeccompFlagTsyncESRCH = 16
)

// AddSeccompFilter installs a filter (already checked with
// cbpf.CheckSeccomp) in the thread's chain, as seccomp_attach_filter:
// EINVAL in strict mode, ENOMEM past maxSeccompPath; with TSYNC every
// other thread of the process gets the new chain too, which needs each
// to have none or an ancestor of the caller's: otherwise nothing changes
// and the result is the first such thread's TID (ESRCH with
// TSYNC_ESRCH).
func (t *Task) AddSeccompFilter(prog []cbpf.Instruction, flags int) (uint64, error) {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := t.seccomp.Load()
	var prev *seccompFilter
	if old != nil {
		if old.mode != SeccompModeFilter {
			return 0, unix.EINVAL
		}
		prev = old.filter
	}
	f := &seccompFilter{prog: prog, prev: prev, pathLen: len(prog) + 4, count: 1}
	if prev != nil {
		f.pathLen += prev.pathLen
		f.count += prev.count
	}
	if f.pathLen > maxSeccompPath {
		return 0, unix.ENOMEM
	}
	// Each thread may build a chain of its own: what they hold is charged
	// to the sandbox, and given back when no thread holds the filter.
	cost := int64(len(prog))*cbpf.InstructionSize + seccompFilterCost
	budget := t.MemoryBudget()
	if !budget.Charge(cost) {
		return 0, unix.ENOMEM
	}
	charged := false
	defer func() {
		if !charged {
			budget.Uncharge(cost)
		}
	}()
	st := &seccompState{mode: SeccompModeFilter, filter: f}
	if flags&SeccompFlagTsync != 0 {
		for _, o := range tg.tasks {
			if o == t {
				continue
			}
			if !seccompAncestor(o.seccomp.Load(), prev) {
				if flags&SeccompFlagTsyncESRCH != 0 {
					return 0, unix.ESRCH
				}
				return uint64(o.tid), nil
			}
		}
		for _, o := range tg.tasks {
			if o != t {
				o.seccomp.Store(st)
				if t.NoNewPrivs() {
					o.SetNoNewPrivs()
				}
			}
		}
	}
	t.seccomp.Store(st)
	charged = true
	runtime.AddCleanup(f, func(n int64) { budget.Uncharge(n) }, cost)
	return 0, nil
}

// seccompAncestor reports whether another thread's state s may be
// synchronized to a chain whose previous part is prev: s has no filter,
// or its chain is prev or a part of it (Linux's is_ancestor), and s is
// not strict mode.
func seccompAncestor(s *seccompState, prev *seccompFilter) bool {
	if s == nil {
		return true
	}
	if s.mode != SeccompModeFilter {
		return false
	}
	for f := prev; f != nil; f = f.prev {
		if f == s.filter {
			return true
		}
	}
	return s.filter == nil
}

// seccompCheck runs the thread's mode or filters for the system call
// about to run (nr, args at the registers' rip) and acts on the answer.
// It reports whether the call is to run; if not, it has set the result
// (and any signal) itself, and err is what strace shows.
func (t *Task) seccompCheck(s *seccompState, nr uint64, args [6]uint64) (run bool, err error) {
	return t.seccompRun(s, nr, args, false)
}

// seccompTrace is SECCOMP_RET_TRACE: a tracer that asked for it
// (PTRACE_O_TRACESECCOMP) sees the call in a PTRACE_EVENT_SECCOMP stop,
// with the filter's data as the event message, and may change or cancel
// it (orig_rax -1); the filters then judge the call again, RET_TRACE now
// allowing it. Without such a tracer the call fails with ENOSYS.
func (t *Task) seccompTrace(s *seccompState, data uint32) (bool, error) {
	r := &t.State.Regs
	enosys := int64(unix.ENOSYS)
	r.Rax = uint64(-enosys)
	if !t.ptraceEvent(ptraceEventSeccomp, uint64(data)) {
		return false, unix.ENOSYS
	}
	if t.isExiting() || int64(r.OrigRax) < 0 {
		return false, ErrNoReturnValue // skipped: RAX is the tracer's
	}
	return t.seccompRun(s, r.OrigRax, r.SyscallArgs(), true)
}

// seccompRun is seccompCheck; recheck is the judgment after a tracer's
// PTRACE_EVENT_SECCOMP stop, where SECCOMP_RET_TRACE allows the call.
func (t *Task) seccompRun(s *seccompState, nr uint64, args [6]uint64, recheck bool) (run bool, err error) {
	r := &t.State.Regs
	if s.mode == SeccompModeStrict {
		switch nr {
		case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN:
			return true, nil
		}
		// Linux's do_exit(SIGKILL): the thread dies, and with the last
		// thread the process.
		t.killThread(int(unix.SIGKILL))
		return false, ErrNoReturnValue
	}
	var data [SeccompDataSize]byte
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], AuditArchX86_64)
	binary.LittleEndian.PutUint64(data[8:], r.Rip)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	ret := uint32(SeccompRetAllow)
	for f := s.filter; f != nil; f = f.prev {
		if cur := cbpf.RunSeccomp(f.prog, data[:]); int32(cur&seccompRetActionFull) < int32(ret&seccompRetActionFull) {
			ret = cur
		}
	}
	val := ret & seccompRetData
	switch ret & seccompRetActionFull {
	case SeccompRetAllow, SeccompRetLog:
		return true, nil
	case SeccompRetErrno:
		e := unix.Errno(min(val, 4095))
		r.Rax = uint64(-int64(e))
		return false, e
	case SeccompRetTrace:
		if recheck {
			return true, nil
		}
		return t.seccompTrace(s, val)
	case SeccompRetUserNotif:
		// No listener: the call fails as Linux's does then.
		e := unix.ENOSYS
		r.Rax = uint64(-int64(e))
		return false, e
	case SeccompRetTrap:
		// The handler sees the call's registers as they were: rax
		// rolled back to the number.
		r.Rax = r.OrigRax
		t.forceSignalInfo(&arch.SignalInfo{Signo: int32(unix.SIGSYS), Errno: int32(val), Code: sysSeccomp,
			Addr: r.Rip, Syscall: int32(nr), Arch: AuditArchX86_64})
		return false, ErrNoReturnValue
	case SeccompRetKillThread:
		t.tg.mu.Lock()
		alone := len(t.tg.tasks) == 1
		t.tg.mu.Unlock()
		if !alone {
			t.killThread(int(unix.SIGSYS))
			return false, ErrNoReturnValue
		}
	}
	// SECCOMP_RET_KILL_PROCESS, an unknown action, or the last thread's
	// KILL_THREAD: the process dies of SIGSYS.
	r.Rax = r.OrigRax
	t.crash(int(unix.SIGSYS), sysSeccomp, r.Rip, fmt.Sprintf("seccomp filter returned %#x for %s", ret, arch.SyscallName(nr)))
	return false, ErrNoReturnValue
}

// killThread ends the thread as killed by sig: the process too, with that
// status, if it is its last thread.
func (t *Task) killThread(sig int) {
	t.tg.mu.Lock()
	if !t.tg.exiting && len(t.tg.tasks) == 1 {
		t.tg.exiting = true
		t.tg.exitStatus = sig
	}
	t.tg.mu.Unlock()
	t.mu.Lock()
	t.exiting = true
	t.mu.Unlock()
}
