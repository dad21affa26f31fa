package kernel

import (
	"golang.org/x/sys/unix"
)

// releaseFiles drops a task's use of a descriptor table; the last user
// closes every descriptor.
func (k *Kernel) releaseFiles(f *FDTable) {
	if f == nil {
		return
	}
	k.mu.Lock()
	k.fdUsers[f]--
	last := k.fdUsers[f] <= 0
	if last {
		delete(k.fdUsers, f)
	}
	k.mu.Unlock()
	if last {
		f.CloseAll()
	}
}

// shareFiles records another user of a descriptor table.
func (k *Kernel) shareFiles(f *FDTable) {
	k.mu.Lock()
	k.fdUsers[f]++
	k.mu.Unlock()
}

// exitThreadDuties does what Linux's mm_release and exit_robust_list do
// for a thread that ends: walk its robust futex list, and clear and wake
// the clear_child_tid word (how pthread_join learns a thread is gone).
func (t *Task) exitThreadDuties() {
	ctid, robust := t.clearChildTID.Swap(0), t.robustList.Swap(0)
	if robust != 0 {
		t.k.futexExitRobustList(t, robust)
	}
	if ctid != 0 {
		if t.CopyOut(ctid, []byte{0, 0, 0, 0}) == nil {
			t.k.futexWake(t, ctid, false, 1)
		}
	}
}

// Wait options.
const (
	wNoHang    = 0x1
	wUntraced  = 0x2
	wExited    = 0x4
	wContinued = 0x8
	wNoWait    = 0x01000000
	wNoThread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// WaitSelector says which children a wait call is for.
type WaitSelector struct {
	// Pid > 0: that child; 0: any child; PGID > 0: children in that group.
	Pid, PGID int32
}

// WaitResult is a reaped (or observed) child.
type WaitResult struct {
	Pid    int32
	UID    uint32
	Status int // wait status
	CPU    int64
	Sys    int64 // the system-time part of CPU
	MaxRSS int   // the child's and its waited children's peak resident pages
	MinFlt int64 // page faults of the child and its waited children
	Nvcsw  int64 // voluntary context switches of the child and its waited children
}

// Wait implements wait4/waitid for children of t's process. It returns a
// zero Pid with WNOHANG when no child has changed state.
func (t *Task) Wait(sel WaitSelector, options int) (WaitResult, error) {
	k := t.k
	// interrupted is the error of a wait a signal ended: it is returned
	// only after one more look finds no child ready. A child's exit makes
	// it a zombie before it sends SIGCHLD, so the wake-up and the signal
	// come together, and Linux's do_wait reports the child then (a
	// SIGCHLD handler without SA_RESTART would otherwise see waitpid fail
	// with EINTR for a child that had exited).
	var interrupted error
	for {
		k.mu.Lock()
		var found bool
		var ready *ThreadGroup
		for c := range t.tg.proc.children {
			if sel.Pid > 0 && c.pid != sel.Pid || sel.PGID > 0 && c.proc.pgid != sel.PGID {
				continue
			}
			// A "clone" child, one that reports its exit with a signal
			// other than SIGCHLD, is waited for only with __WCLONE; the
			// others only without it; __WALL waits for both.
			if clone := c.proc.exitSignal != int(unix.SIGCHLD); options&wAll == 0 && clone != (options&wClone != 0) {
				continue
			}
			found = true
			if c.proc.zombie && !c.proc.ptraceHeld && options&wExited != 0 {
				ready = c
				break
			}
			if st, ok := c.jobStatusLocked(options); ok {
				k.mu.Unlock()
				return WaitResult{Pid: c.pid, Status: st}, nil
			}
		}
		if ready == nil && len(t.tg.proc.tracees) > 0 {
			r, ok, any, then := t.ptraceWaitLocked(sel, options)
			if ok {
				k.mu.Unlock()
				then()
				return r, nil
			}
			found = found || any
		}
		if ready != nil {
			both := max(ready.MaxRSSPages(), ready.proc.cmaxRSS)
			sys, minflt, nvcsw := ready.sysBothLocked()
			r := WaitResult{Pid: ready.pid, Status: ready.proc.waitStatus, CPU: ready.cpuBothLocked(), Sys: sys, MaxRSS: both, MinFlt: minflt, Nvcsw: nvcsw}
			if options&wNoWait == 0 {
				// Only a wait passes the child's peak to its parent, as
				// Linux's wait_task_zombie (not an automatic reaping).
				t.tg.proc.cmaxRSS = max(t.tg.proc.cmaxRSS, both)
				// So does its I/O (and that of the children it waited for).
				io := ready.IO()
				t.tg.mu.Lock()
				t.tg.ioGone.add(io)
				t.tg.mu.Unlock()
				k.reapLocked(ready)
			}
			k.mu.Unlock()
			return r, nil
		}
		if t.tg.proc.childEvent == nil {
			t.tg.proc.childEvent = make(chan struct{})
		}
		ev := t.tg.proc.childEvent
		k.mu.Unlock()
		if !found {
			return WaitResult{}, unix.ECHILD
		}
		if options&wNoHang != 0 {
			return WaitResult{}, nil
		}
		if interrupted != nil {
			return WaitResult{}, interrupted
		}
		// Block: the wait lets go of the OS thread where the platform
		// allows (Task.unbind), so the child's exit wakes it at once.
		interrupted = t.Block(ev)
	}
}
