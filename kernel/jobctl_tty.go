package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/tty"
	"uk/fs/vfs"
)

// TTYJobControl is the kernel's side of terminal job control: it answers
// fs/tty's questions about sessions, process groups and controlling
// terminals, and sends the signals a terminal generates.
type TTYJobControl struct{ k *Kernel }

// JobControl returns the kernel's tty.JobControl.
func (k *Kernel) JobControl() *TTYJobControl { return &TTYJobControl{k} }

func callerTG(ctx vfs.Context) *ThreadGroup {
	if t, ok := ctx.(*Task); ok {
		return t.tg
	}
	return nil
}

// Caller implements tty.JobControl.
func (j *TTYJobControl) Caller(ctx vfs.Context) tty.Proc {
	tg := callerTG(ctx)
	if tg == nil {
		return tty.Proc{}
	}
	j.k.mu.Lock()
	defer j.k.mu.Unlock()
	return tty.Proc{PID: tg.pid, PGID: tg.proc.pgid, SID: tg.proc.sid}
}

// ControllingTerminal implements tty.JobControl.
func (j *TTYJobControl) ControllingTerminal(ctx vfs.Context) *tty.Terminal {
	tg := callerTG(ctx)
	if tg == nil {
		return nil
	}
	j.k.mu.Lock()
	defer j.k.mu.Unlock()
	return tg.proc.ctty
}

// SetControllingTerminal implements tty.JobControl.
func (j *TTYJobControl) SetControllingTerminal(ctx vfs.Context, t *tty.Terminal) {
	tg := callerTG(ctx)
	if tg == nil {
		return
	}
	j.k.mu.Lock()
	tg.proc.ctty = t
	j.k.mu.Unlock()
}

// ClearControllingTerminal implements tty.JobControl.
func (j *TTYJobControl) ClearControllingTerminal(sid int32, t *tty.Terminal) {
	j.k.mu.Lock()
	defer j.k.mu.Unlock()
	for _, tg := range j.k.tgs {
		if tg.proc.sid == sid && tg.proc.ctty == t {
			tg.proc.ctty = nil
		}
	}
}

// GroupSession implements tty.JobControl.
func (j *TTYJobControl) GroupSession(pgid int32) (int32, bool) {
	j.k.mu.Lock()
	defer j.k.mu.Unlock()
	for _, tg := range j.k.tgs {
		if tg.proc.pgid == pgid && !tg.proc.zombie {
			return tg.proc.sid, true
		}
	}
	return 0, false
}

// SignalGroup implements tty.JobControl.
func (j *TTYJobControl) SignalGroup(pgid int32, sig unix.Signal) {
	for _, tg := range j.k.threadGroups() {
		if tg.ProcessGroup() == pgid {
			tg.SendSignal(&arch.SignalInfo{Signo: int32(sig), Code: arch.SI_KERNEL}, nil)
		}
	}
}

// SignalProcess implements tty.JobControl.
func (j *TTYJobControl) SignalProcess(pid int32, sig unix.Signal) {
	if tg := j.k.ThreadGroupByPID(pid); tg != nil {
		tg.SendSignal(&arch.SignalInfo{Signo: int32(sig), Code: arch.SI_KERNEL}, nil)
	}
}

// IgnoresSignal implements tty.BackgroundControl.
func (j *TTYJobControl) IgnoresSignal(ctx vfs.Context, sig unix.Signal) bool {
	t, ok := ctx.(*Task)
	if !ok {
		return true
	}
	return t.SigMask().Has(int(sig)) || t.tg.SigAction(int(sig)).Handler == sigIGN
}

// OrphanedGroup implements tty.BackgroundControl: a group none of whose
// members has a parent in another group of the same session.
func (j *TTYJobControl) OrphanedGroup(ctx vfs.Context) bool {
	tg := callerTG(ctx)
	if tg == nil {
		return true
	}
	j.k.mu.Lock()
	defer j.k.mu.Unlock()
	pgid, sid := tg.proc.pgid, tg.proc.sid
	for _, m := range j.k.tgs {
		if m.proc.pgid != pgid || m.proc.zombie {
			continue
		}
		if p := m.proc.parent; p != nil && p.proc.pgid != pgid && p.proc.sid == sid {
			return false
		}
	}
	return true
}

// capSysTTYConfig is CAP_SYS_TTY_CONFIG, which vhangup(2) needs.
const capSysTTYConfig = 26

// VHangup is vhangup(2): with CAP_SYS_TTY_CONFIG (EPERM otherwise), the
// caller's controlling terminal, if it has one, is hung up as by
// TIOCVHANGUP.
func (t *Task) VHangup() error {
	if !t.Credentials().HasCap(capSysTTYConfig) {
		return unix.EPERM
	}
	t.k.mu.Lock()
	ctty := t.tg.proc.ctty
	t.k.mu.Unlock()
	if ctty != nil {
		ctty.VHangup()
	}
	return nil
}
