package tty

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// Proc is the calling process's identity as job control needs it. A
// process is a session leader when PID == SID.
type Proc struct {
	PID, PGID, SID int32
}

// JobControl is what terminals ask of the kernel, which owns processes,
// process groups and sessions. Every method is called without any lock of
// this package held; implementations must not call back into this package
// while holding locks their own methods take.
//
// The controlling terminal is per process as on Linux (inherited by fork,
// dropped by setsid). A kernel that stores it per session instead is
// correct except that TIOCNOTTY by a non-leader then changes nothing.
type JobControl interface {
	// Caller returns the ids of the calling task's process.
	Caller(ctx vfs.Context) Proc
	// ControllingTerminal returns the caller's controlling terminal, or
	// nil.
	ControllingTerminal(ctx vfs.Context) *Terminal
	// SetControllingTerminal makes t the calling process's controlling
	// terminal (TIOCSCTTY, or opening a terminal without O_NOCTTY as a
	// session leader); t == nil drops it (TIOCNOTTY).
	SetControllingTerminal(ctx vfs.Context, t *Terminal)
	// ClearControllingTerminal makes every process of session sid whose
	// controlling terminal is t lose it (hangup, a stolen terminal, the
	// leader's TIOCNOTTY or exit).
	ClearControllingTerminal(sid int32, t *Terminal)
	// GroupSession returns the session of process group pgid; ok is false
	// if no live process is in that group.
	GroupSession(pgid int32) (sid int32, ok bool)
	// SignalGroup sends sig, as the kernel (SI_KERNEL), to every process
	// of group pgid; nothing if the group is empty.
	SignalGroup(pgid int32, sig unix.Signal)
	// SignalProcess sends sig, as the kernel, to process pid.
	SignalProcess(pid int32, sig unix.Signal)
}

// BackgroundControl may also be implemented by a JobControl; with it,
// terminals stop background process groups as Linux does: a read of the
// controlling terminal from a background group sends SIGTTIN to that
// group (EIO if SIGTTIN is ignored or blocked, or the group is orphaned);
// a write with TOSTOP set, and termios/flush/foreground changes, send
// SIGTTOU (allowed if SIGTTOU is ignored or blocked). Without it
// background groups read and write freely.
type BackgroundControl interface {
	// IgnoresSignal reports whether the calling thread blocks sig or its
	// process ignores it (SIG_IGN).
	IgnoresSignal(ctx vfs.Context, sig unix.Signal) bool
	// OrphanedGroup reports whether the caller's process group is
	// orphaned (no member has a parent in another group of the same
	// session).
	OrphanedGroup(ctx vfs.Context) bool
}

// checkChange is Linux's __tty_check_change: may the caller (reading,
// writing with TOSTOP, or changing settings) use t, its controlling
// terminal, from its process group? nil, EIO, or ERESTARTSYS after
// signalling its group (the syscall restarts once the group continues).
func (t *Terminal) checkChange(ctx vfs.Context, sig unix.Signal) error {
	jc := t.jobControl()
	if jc == nil {
		return nil
	}
	bc, ok := jc.(BackgroundControl)
	if !ok || jc.ControllingTerminal(ctx) != t {
		return nil
	}
	t.mu.Lock()
	pg := t.pgrp
	t.mu.Unlock()
	me := jc.Caller(ctx)
	if pg == 0 || me.PGID == pg {
		return nil
	}
	if bc.IgnoresSignal(ctx, sig) {
		if sig == unix.SIGTTIN {
			return unix.EIO
		}
		return nil
	}
	if bc.OrphanedGroup(ctx) {
		return unix.EIO
	}
	jc.SignalGroup(me.PGID, sig)
	return arch.ERESTARTSYS
}

// tiocsctty is TIOCSCTTY: the caller, a session leader without a
// controlling terminal, acquires t. A terminal that already controls
// another session is stolen only with arg 1 by a privileged caller.
func (t *Terminal) tiocsctty(ctx vfs.Context, fd *vfs.FileDescription, arg uint64) error {
	jc := t.jobControl()
	if jc == nil {
		return nil
	}
	t.jobMu.Lock()
	defer t.jobMu.Unlock()
	me := jc.Caller(ctx)
	leader := me.PID == me.SID
	t.mu.Lock()
	sid := t.sid
	t.mu.Unlock()
	if leader && sid == me.SID {
		return nil
	}
	if !leader || jc.ControllingTerminal(ctx) != nil {
		return unix.EPERM
	}
	priv := ctx.Credentials().Privileged
	if sid != 0 && (arg != 1 || !priv) {
		return unix.EPERM
	}
	// Write-only access must not give a terminal's privileges.
	if fd != nil && !fd.Readable() && !priv {
		return unix.EPERM
	}
	if sid != 0 {
		jc.ClearControllingTerminal(sid, t)
	}
	t.mu.Lock()
	t.sid, t.pgrp = me.SID, me.PGID
	t.mu.Unlock()
	jc.SetControllingTerminal(ctx, t)
	return nil
}

// acquireOnOpen is tty_open_proc_set_tty: a session leader without a
// controlling terminal that opens (for reading) a terminal no session
// controls, without O_NOCTTY, acquires it.
func (t *Terminal) acquireOnOpen(ctx vfs.Context, flags uint32) {
	jc := t.jobControl()
	if jc == nil || flags&unix.O_NOCTTY != 0 {
		return
	}
	if acc := flags & unix.O_ACCMODE; acc != unix.O_RDONLY && acc != unix.O_RDWR {
		return
	}
	t.jobMu.Lock()
	defer t.jobMu.Unlock()
	me := jc.Caller(ctx)
	if me.PID != me.SID || jc.ControllingTerminal(ctx) != nil {
		return
	}
	t.mu.Lock()
	if t.sid != 0 {
		t.mu.Unlock()
		return
	}
	t.sid, t.pgrp = me.SID, me.PGID
	t.mu.Unlock()
	jc.SetControllingTerminal(ctx, t)
}

// tiocnotty is TIOCNOTTY: the caller gives up its controlling terminal t;
// a session leader also detaches the whole session, sending SIGHUP and
// SIGCONT to the foreground group.
func (t *Terminal) tiocnotty(ctx vfs.Context) error {
	jc := t.jobControl()
	if jc == nil {
		return nil
	}
	if jc.ControllingTerminal(ctx) != t {
		return unix.ENOTTY
	}
	me := jc.Caller(ctx)
	if me.PID == me.SID {
		t.jobMu.Lock()
		t.mu.Lock()
		pg := t.pgrp
		if t.sid == me.SID {
			t.sid, t.pgrp = 0, 0
		}
		t.mu.Unlock()
		if pg != 0 {
			jc.SignalGroup(pg, unix.SIGHUP)
			jc.SignalGroup(pg, unix.SIGCONT)
		}
		jc.ClearControllingTerminal(me.SID, t)
		t.jobMu.Unlock()
	}
	jc.SetControllingTerminal(ctx, nil)
	return nil
}

// getJob answers TIOCGPGRP and TIOCGSID. Through the master of a pty the
// caller need not be controlled by the slave.
func (t *Terminal) getJob(ctx vfs.Context, cmd uint32, arg uint64, master bool) error {
	jc := t.jobControl()
	if jc == nil {
		return unix.ENOTTY
	}
	if !master && jc.ControllingTerminal(ctx) != t {
		return unix.ENOTTY
	}
	t.mu.Lock()
	v := t.pgrp
	if cmd == TIOCGSID {
		v = t.sid
	}
	t.mu.Unlock()
	if cmd == TIOCGSID && v == 0 {
		return unix.ENOTTY
	}
	return copyOutInt32(ctx, arg, v)
}

// tiocspgrp is TIOCSPGRP: the caller, controlled by t, makes group pgid
// of its own session the foreground group.
func (t *Terminal) tiocspgrp(ctx vfs.Context, arg uint64) error {
	jc := t.jobControl()
	if jc == nil {
		return nil
	}
	if err := t.checkChange(ctx, unix.SIGTTOU); err != nil {
		if err == unix.EIO {
			return unix.ENOTTY
		}
		return err
	}
	pg, err := copyInInt32(ctx, arg)
	if err != nil {
		return err
	}
	if pg < 0 {
		return unix.EINVAL
	}
	me := jc.Caller(ctx)
	t.mu.Lock()
	sid := t.sid
	t.mu.Unlock()
	if jc.ControllingTerminal(ctx) != t || sid != me.SID {
		return unix.ENOTTY
	}
	gs, ok := jc.GroupSession(pg)
	if !ok {
		return unix.ESRCH
	}
	if gs != me.SID {
		return unix.EPERM
	}
	t.mu.Lock()
	t.pgrp = pg
	t.mu.Unlock()
	return nil
}
