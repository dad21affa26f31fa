package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/eventfd"
	"uk/fs/vfs"
)

// Pidfds: a file that refers to one process (pidfd_open), through which a
// signal reaches that process and no other even once its pid is reused
// (pidfd_send_signal), and which polls readable once the process has
// exited (every thread gone), as Linux's kernel/pid.c and fork.c's
// pidfd_fops.

// pidFD is a pidfd's file. It implements vfs.FileImpl.
type pidFD struct {
	vfs.FileBase
	// tg is the process. It is nil only inside the clone that makes a
	// CLONE_PIDFD pidfd, between its install in the caller's table and
	// the child's creation: meanwhile the fd is no pidfd (EBADF) and
	// never ready.
	tg atomic.Pointer[ThreadGroup]
}

// OpenPidFD returns a new pidfd description for tg, O_NONBLOCK when asked
// (PIDFD_NONBLOCK), with one reference.
func OpenPidFD(tg *ThreadGroup, nonblock bool) *vfs.FileDescription {
	d, f := newPidFD(nonblock)
	f.tg.Store(tg)
	return d
}

// newPidFD returns a pidfd description with no process yet, and its file.
func newPidFD(nonblock bool) (*vfs.FileDescription, *pidFD) {
	flags := uint32(unix.O_RDWR)
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	f := &pidFD{}
	return vfs.NewFileDescription(f, flags, vfs.Path{}, vfs.FileOptions{}), f
}

// PidFDProcess returns the process a pidfd description refers to, or nil
// if it is not a pidfd.
func PidFDProcess(d *vfs.FileDescription) *ThreadGroup {
	if f, ok := d.Impl().(*pidFD); ok {
		return f.tg.Load()
	}
	return nil
}

// Name is what /proc/PID/fd/N links to.
func (f *pidFD) Name() string { return "anon_inode:[pidfd]" }

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (f *pidFD) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// Readiness implements vfs.FileImpl: readable once the process has
// exited.
func (f *pidFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	if tg := f.tg.Load(); tg != nil && tg.Exited() {
		return mask & vfs.EventIn
	}
	return 0
}

// EventRegister implements vfs.FileImpl.
func (f *pidFD) EventRegister(w *vfs.Waiter) {
	if tg := f.tg.Load(); tg != nil {
		tg.exitQ.Register(w)
	}
}

// EventUnregister implements vfs.FileImpl.
func (f *pidFD) EventUnregister(w *vfs.Waiter) {
	if tg := f.tg.Load(); tg != nil {
		tg.exitQ.Unregister(w)
	}
}

// clonePidFD installs the pidfd a CLONE_PIDFD clone returns in t's table
// (close-on-exec) and writes its number to addr, as Linux does before the
// child exists: EMFILE or EFAULT fail the clone. The caller sets the
// file's process once the child has one, or calls undo if the clone
// fails.
func (t *Task) clonePidFD(addr uint64) (f *pidFD, undo func(), err error) {
	d, f := newPidFD(false)
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, true, t.NoFileLimit())
	if err != nil {
		return nil, nil, err
	}
	undo = func() { t.Files.Close(n) }
	b := []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	if err := t.CopyOut(addr, b); err != nil {
		undo()
		return nil, nil, err
	}
	return f, undo, nil
}

// Exited reports whether every thread of the process has exited (it is a
// zombie, or reaped).
func (tg *ThreadGroup) Exited() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.zombie
}

// ProcessForPidFD returns the process pidfd_open names: ESRCH if none has
// that pid (a zombie still has it), ENOENT for a thread that is not a
// process's leader.
func (k *Kernel) ProcessForPidFD(pid int32) (*ThreadGroup, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg, ok := k.tgs[pid]; ok && !tg.isKernelInit {
		return tg, nil
	}
	if _, ok := k.tasks[pid]; ok {
		return nil, unix.ENOENT
	}
	return nil, unix.ESRCH
}

// SignalProcess sends info to tg, a process a pidfd refers to: EINVAL
// for an invalid signal, ESRCH once it has been reaped, EPERM when from
// may not signal it (Task.mayKill); a zombie takes the
// signal and drops it, as Linux's. Signal 0 only checks.
func (k *Kernel) SignalProcess(from *Task, tg *ThreadGroup, info *arch.SignalInfo) error {
	if info.Signo != 0 && !arch.ValidSignal(int(info.Signo)) {
		return unix.EINVAL
	}
	k.mu.Lock()
	reaped, zombie := k.tgs[tg.pid] != tg, tg.proc.zombie
	k.mu.Unlock()
	switch {
	case reaped:
		return unix.ESRCH
	case !zombie && !from.mayKill(tg, int(info.Signo)):
		return unix.EPERM
	case info.Signo != 0 && !zombie:
		tg.SendSignal(info, nil)
	}
	return nil
}

// PidFDGetFD returns, with a reference, the open file description behind
// fd in the table of tg, a process a pidfd refers to (pidfd_getfd), with
// Linux's errors in its order: ESRCH once the process's leader thread has
// exited (Linux finds the pid's task no more, or one exiting), EPERM
// unless t may ptrace that leader, then EBADF for no such descriptor.
func (t *Task) PidFDGetFD(tg *ThreadGroup, fd int32) (*vfs.FileDescription, error) {
	leader := t.k.TaskByTID(tg.pid)
	if leader == nil || leader.tg != tg {
		return nil, unix.ESRCH
	}
	if !t.MayPtraceAccess(leader) {
		return nil, unix.EPERM
	}
	if leader.Files != nil {
		if d, err := leader.FD(fd); err == nil {
			return d, nil
		}
	}
	if leader.isExiting() {
		// Its table may be closed already: the process is going.
		return nil, unix.ESRCH
	}
	return nil, unix.EBADF
}
