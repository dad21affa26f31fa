package kernel

import "golang.org/x/sys/unix"

// Setsid makes the process the leader of a new session and process group.
func (tg *ThreadGroup) Setsid() (int32, error) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, o := range k.tgs {
		if o.proc.pgid == tg.pid && !o.proc.zombie {
			return 0, unix.EPERM // already a group leader (or its id is in use as one)
		}
	}
	tg.proc.sid, tg.proc.pgid = tg.pid, tg.pid
	tg.proc.ctty = nil
	return tg.pid, nil
}

// Setpgid moves process pid (0: the caller) into group pgid (0: its own
// pid), with Linux's rules: same session, target is the caller or its
// child that has not exec'd, not a session leader.
func (tg *ThreadGroup) Setpgid(pid, pgid int32) error {
	k := tg.k
	if pgid == 0 {
		pgid = pid // Linux checks the group after defaulting it: setpgid(-1, 0) is EINVAL
	}
	if pgid < 0 {
		return unix.EINVAL
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	target := tg
	if pid != 0 && pid != tg.pid {
		target = k.tgs[pid]
		// A zombie child is still found, as Linux's find_task_by_vpid
		// finds it until it is reaped.
		if target == nil || target.proc.parent != tg {
			return unix.ESRCH
		}
		if target.proc.sid != tg.proc.sid {
			return unix.EPERM
		}
		if target.execed.Load() {
			return unix.EACCES // a child that has run execve is its own now
		}
	}
	if target.proc.sid == target.pid {
		return unix.EPERM
	}
	if pgid == 0 {
		pgid = target.pid
	}
	if pgid != target.pid {
		ok := false
		for _, o := range k.tgs {
			if o.proc.pgid == pgid && o.proc.sid == tg.proc.sid && !o.proc.zombie {
				ok = true
				break
			}
		}
		if !ok {
			return unix.EPERM
		}
	}
	target.proc.pgid = pgid
	return nil
}

// GroupOf returns the process group (or session, if session is set) of
// process pid (0: the caller).
func (tg *ThreadGroup) GroupOf(pid int32, session bool) (int32, error) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target := tg
	if pid != 0 {
		target = k.tgs[pid]
		if target == nil {
			return 0, unix.ESRCH
		}
	}
	if session {
		return target.proc.sid, nil
	}
	return target.proc.pgid, nil
}
