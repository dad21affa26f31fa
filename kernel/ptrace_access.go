package kernel

import (
	"golang.org/x/sys/unix"

	"uk/kernel/landlock"
	"uk/kernel/mm"
)

// capSysPtrace is CAP_SYS_PTRACE.
const capSysPtrace = 19

// MayPtraceAccess reports whether t may inspect or act on target as one
// that could ptrace it, as Linux's ptrace_may_access with
// PTRACE_MODE_REALCREDS (pidfd_getfd's ATTACH, kcmp's READ: the two modes
// differ only for Yama, which uk does not model, as a host with Yama off
// or at ptrace_scope 0):
//   - a thread of t's own process, always;
//   - otherwise t's real uid and gid must be target's real, effective and
//     saved ones, or t must have CAP_SYS_PTRACE;
//   - a target made non-dumpable (PR_SET_DUMPABLE 0) needs CAP_SYS_PTRACE;
//   - and (commoncap) target's permitted capabilities must be within t's
//     permitted ones, or t must have CAP_SYS_PTRACE;
//   - and (Landlock) target's domain must be t's or nested in it.
//
// Linux also makes a process non-dumpable when its credentials change
// (setuid and the like) until it execs; uk's dumpable flag changes only
// by prctl, so such a process is reachable here where Linux refuses.
func (t *Task) MayPtraceAccess(target *Task) bool {
	if target.tg == t.tg {
		return true
	}
	c, tc := t.Credentials(), target.Credentials()
	ptraceCap := c.Effective&(1<<capSysPtrace) != 0
	sameIDs := c.UID == tc.UID && c.UID == tc.EUID && c.UID == tc.SUID &&
		c.GID == tc.GID && c.GID == tc.EGID && c.GID == tc.SGID
	switch {
	case !sameIDs && !ptraceCap:
		return false
	case target.tg.Dumpable() != 1 && !ptraceCap:
		return false
	case tc.Permitted&^c.Permitted != 0 && !ptraceCap:
		return false
	}
	// Landlock: a restricted task reaches only tasks in its own domain
	// or one nested in it, whatever its capabilities.
	return landlock.Within(landlock.Of(tc), landlock.Of(c))
}

// RemoteMM returns the memory of the process that thread tid belongs to,
// for process_vm_readv and process_vm_writev, holding a user reference
// the caller drops (DecUsers): ESRCH when there is no such live process,
// EPERM when t may not ptrace it (Linux's mm_access with
// PTRACE_MODE_ATTACH_REALCREDS, whose EACCES those calls report as EPERM).
func (t *Task) RemoteMM(tid int32) (*mm.MM, error) {
	target := t.k.TaskByTID(tid)
	if target == nil {
		return nil, unix.ESRCH
	}
	if !t.MayPtraceAccess(target) {
		return nil, unix.EPERM
	}
	tg := target.tg
	// Under tg.mu, which execve holds to replace a task's MM before it
	// drops the old one: the MM taken here still has its task's reference.
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.exiting || len(tg.tasks) == 0 {
		return nil, unix.ESRCH
	}
	m := tg.tasks[0].MM
	m.IncUsers()
	return m, nil
}
