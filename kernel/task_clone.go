package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
)

// CloneArgs are clone(2)/clone3(2)'s arguments, decoded.
type CloneArgs struct {
	Flags      uint64
	ExitSignal int
	Stack      uint64 // new stack pointer (0: the parent's)
	TLS        uint64
	ParentTID  uint64 // CLONE_PARENT_SETTID target, in the parent's memory
	ChildTID   uint64 // CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID target
	PidFD      uint64 // CLONE_PIDFD target
}

// Flags uk accepts; namespaces and the rest are refused with EINVAL.
const cloneSupported = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
	unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | unix.CLONE_VFORK | unix.CLONE_PARENT |
	unix.CLONE_DETACHED | unix.CLONE_PTRACE | unix.CLONE_UNTRACED | unix.CLONE_IO | unix.CLONE_PIDFD |
	unix.CLONE_NEWTIME | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP | unix.CLONE_NEWNET

// Clone creates a thread or a process as clone(2) does and returns the new
// thread's id. The child starts with the caller's registers, returning 0.
func (t *Task) Clone(a CloneArgs) (int32, error) {
	f := a.Flags
	switch {
	case f&^uint64(cloneSupported) != 0:
		return 0, unix.EINVAL
	case f&unix.CLONE_THREAD != 0 && f&unix.CLONE_SIGHAND == 0,
		f&unix.CLONE_SIGHAND != 0 && f&unix.CLONE_VM == 0,
		f&unix.CLONE_NEWNS != 0 && f&unix.CLONE_FS != 0,
		f&unix.CLONE_NEWIPC != 0 && f&unix.CLONE_SYSVSEM != 0,
		f&unix.CLONE_PIDFD != 0 && f&(unix.CLONE_THREAD|unix.CLONE_DETACHED) != 0:
		// A pidfd refers to a process here: Linux 6.9's pidfds of single
		// threads (CLONE_THREAD with CLONE_PIDFD, PIDFD_THREAD) are not
		// uk's, so such a clone is refused as before 6.9.
		return 0, unix.EINVAL
	case f&unix.CLONE_THREAD != 0 && a.ExitSignal != 0:
		// Linux ignores the exit signal of a thread; keep it 0.
		a.ExitSignal = 0
	}
	if f&(unix.CLONE_NEWTIME|unix.CLONE_NEWNS|unix.CLONE_NEWUTS|unix.CLONE_NEWIPC|unix.CLONE_NEWCGROUP|unix.CLONE_NEWNET) != 0 && !t.Credentials().HasCap(capSysAdmin) {
		return 0, unix.EPERM // a new namespace needs CAP_SYS_ADMIN
	}
	k := t.k
	creds := t.Credentials()
	if err := k.reserveTask(uidCreds{creds.UID, creds.Privileged}, t.tg.Rlimit(unix.RLIMIT_NPROC).Cur, f&unix.CLONE_THREAD == 0); err != nil {
		return 0, err
	}
	registered := false
	defer func() {
		if !registered {
			k.unreserveTask()
		}
	}()
	sched, err := t.forkSched()
	if err != nil {
		return 0, err
	}
	var pidfd *pidFD
	if f&unix.CLONE_PIDFD != 0 {
		pf, undo, err := t.clonePidFD(a.PidFD)
		if err != nil {
			return 0, err
		}
		pidfd = pf
		defer func() {
			if !registered {
				undo()
			}
		}()
	}
	child := &Task{k: k, creds: creds, umask: t.Umask(), interrupt: make(chan struct{}, 1)}
	child.comm = t.Comm()
	child.State = t.State.Clone()
	child.State.Regs.Rax = 0
	if a.Stack != 0 {
		child.State.Regs.Rsp = a.Stack
	}
	if f&unix.CLONE_SETTLS != 0 {
		if !canonical(a.TLS) {
			return 0, unix.EPERM
		}
		child.State.Regs.FsBase = a.TLS
	}
	child.sched = sched
	child.persona.Store(t.persona.Load())
	t.cloneTimerSlack(child)
	child.memPolicy = t.memPolicy // as Linux's copy_process (mpol_dup)
	t.cloneTimeNS(child, f)
	// no_new_privs and the seccomp filters are inherited, as Linux's
	// copy_process and copy_seccomp.
	child.noNewPrivs.Store(t.noNewPrivs.Load())
	child.seccomp.Store(t.seccomp.Load())
	t.mu.Lock()
	child.sigMask = t.sigMask
	if f&unix.CLONE_VM == 0 || f&unix.CLONE_VFORK != 0 {
		child.altStack = t.altStack
	} else {
		child.altStack = arch.StackT{Flags: arch.SS_DISABLE}
	}
	t.mu.Unlock()

	// Memory.
	if f&unix.CLONE_VM != 0 {
		t.MM.IncUsers()
		child.MM = t.MM
	} else {
		as, err := k.Platform.NewAddressSpace()
		if err != nil {
			return 0, unix.ENOMEM
		}
		// The child resumes where the parent is: Fork maps what it has
		// before it runs rather than fault it all in.
		child.MM = t.MM.Fork(as, t.State.Regs.Rip)
		if ns := child.TimeNS(); ns != t.TimeNS() {
			// The child's vDSO serves its own namespace's clocks.
			if err := k.switchVVAR(child.MM, ns.shifts()); err != nil {
				child.MM.DecUsers()
				return 0, unix.ENOMEM
			}
		}
	}
	// Files and filesystem context.
	if f&unix.CLONE_FILES != 0 {
		child.Files = t.Files
	} else if t.Files != nil {
		files, err := t.Files.Fork()
		if err != nil {
			child.MM.DecUsers()
			return 0, err
		}
		child.Files = files
	}
	k.shareFiles(child.Files)
	if f&unix.CLONE_FS != 0 || t.FS == nil {
		child.FS = t.FS
	} else {
		child.FS = t.FS.Fork()
	}
	if f&unix.CLONE_NEWNET != 0 {
		if err := child.unshareNet(); err != nil {
			k.releaseFiles(child.Files)
			child.MM.DecUsers()
			return 0, err
		}
	} else {
		child.setNetNamespace(t.netNS.Load())
	}
	if f&unix.CLONE_NEWNS != 0 && child.FS != nil {
		if err := child.newMountNamespace(t.MountNamespace(), child.FS); err != nil {
			child.setNetNamespace(nil)
			child.setIPCNamespace(nil)
			k.releaseFiles(child.Files)
			child.MM.DecUsers()
			return 0, err
		}
	} else {
		child.setMountNamespace(t.mntNS.Load())
	}
	if f&unix.CLONE_NEWUTS != 0 {
		child.utsNS.Store(t.UTSNamespace().copyUTS())
	} else {
		child.utsNS.Store(t.utsNS.Load())
	}
	if f&unix.CLONE_NEWCGROUP != 0 {
		child.cgroupNS.Store(newCgroupNamespace())
	} else {
		child.cgroupNS.Store(t.cgroupNS.Load())
	}
	if f&unix.CLONE_NEWIPC != 0 {
		child.unshareIPC()
	} else {
		child.setIPCNamespace(t.ipcNS.Load())
	}

	// Process.
	var vforkDone chan struct{}
	k.mu.Lock()
	if f&unix.CLONE_THREAD != 0 {
		child.tg = t.tg
	} else {
		tg := &ThreadGroup{k: k, startBoot: k.Uptime(nil), forked: true}
		t.tg.mu.Lock()
		if f&unix.CLONE_SIGHAND != 0 {
			t.tg.shareHandlers(tg)
		} else {
			tg.sighand.Store(t.tg.handlers().copy())
		}
		tg.rlimits = t.tg.rlimits
		tg.noteVMLimitsLocked()
		if f&unix.CLONE_VM == 0 {
			child.MM.Limits = tg.vmLimitsNow // the new process's own
		}
		tg.xperm.Store(t.tg.xperm.Load())
		tg.xpermGuest.Store(t.tg.xpermGuest.Load())
		tg.thpDisabled.Store(t.tg.thpDisabled.Load())
		tg.dumpFilter.Store(t.tg.dumpFilter.Load())
		tg.oomAdj, tg.oomAdjMin = t.tg.oomAdj, t.tg.oomAdjMin
		t.tg.mu.Unlock()
		tg.proc.exitSignal = a.ExitSignal
		tg.proc.pgid, tg.proc.sid = t.tg.proc.pgid, t.tg.proc.sid
		tg.proc.ctty = t.tg.proc.ctty
		parent := t.tg
		if f&unix.CLONE_PARENT != 0 && t.tg.proc.parent != nil {
			parent = t.tg.proc.parent
		}
		if f&unix.CLONE_VFORK != 0 {
			vforkDone = make(chan struct{})
			tg.proc.vforkDone = vforkDone
		}
		child.tg = tg
		k.linkChildLocked(parent, tg)
	}
	child.tid = k.allocTIDLocked(child)
	registered = true // removeTask gives the reservation back from now on
	if child.tg.pid == 0 {
		child.tg.pid = child.tid
		k.registerThreadGroupLocked(child.tg)
	}
	k.mu.Unlock()

	tg := child.tg
	tg.mu.Lock()
	if tg.exiting {
		// The process is exiting (exit_group raced with this clone):
		// undo everything the child took, or its share of the fd table
		// and memory would keep pipes open and pages alive forever.
		tg.mu.Unlock()
		t.k.removeTask(child, false, 0)
		t.k.releaseFiles(child.Files)
		child.setMountNamespace(nil)
		child.setIPCNamespace(nil)
		child.setNetNamespace(nil)
		child.MM.DecUsers()
		return 0, unix.EAGAIN
	}
	tg.tasks = append(tg.tasks, child)
	tg.mu.Unlock()
	// Past the last failure: the child's exit releases what it shares.
	t.cloneSemUndo(child, f&unix.CLONE_SYSVSEM != 0)
	t.cloneKeys(child, f&unix.CLONE_THREAD != 0)

	tid := child.tid
	if pidfd != nil {
		pidfd.tg.Store(child.tg)
	}
	if f&unix.CLONE_PARENT_SETTID != 0 {
		putTID(t, a.ParentTID, tid)
	}
	if f&unix.CLONE_CHILD_SETTID != 0 {
		putTID(child, a.ChildTID, tid)
	}
	if f&unix.CLONE_CHILD_CLEARTID != 0 {
		child.clearChildTID.Store(a.ChildTID)
	}
	event := t.ptraceClone(child, f|uint64(a.ExitSignal))
	child.Start()
	if f&unix.CLONE_THREAD == 0 {
		child.tg.watchCPULimit() // an inherited RLIMIT_CPU
	}
	if event != 0 {
		t.ptraceEvent(event, uint64(tid))
	}
	if vforkDone != nil {
		// The parent sleeps until the child execs or exits; a signal to
		// the parent does not end the wait early (Linux's vfork is
		// killable only).
		<-vforkDone
		t.ptraceEvent(ptraceEventVfkDone, uint64(tid))
	}
	return tid, nil
}

func putTID(t *Task, addr uint64, tid int32) {
	b := []byte{byte(tid), byte(tid >> 8), byte(tid >> 16), byte(tid >> 24)}
	t.CopyOut(addr, b)
}

// canonical reports whether addr is a canonical lower-half address.
func canonical(addr uint64) bool { return addr < 1<<47 }
