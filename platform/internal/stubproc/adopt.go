package stubproc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// A stub thread that a context's own OS thread traces: cloned on the
// factory thread and let go into pause() (CloneParked), then attached from
// the thread that will drive it (Adopt), and ended by that thread
// (ExitTraced). ptrace runs application threads this way.

// CloneParked clones a stub thread from the main thread, on the factory
// thread, and lets it go, untraced, into the pause() loop at SiteClone's
// child side, for another thread to Adopt.
func (s *Space) CloneParked() (int, error) {
	var tid int
	var err error
	if ferr := s.h.Do(func() {
		if tid, err = s.CloneThread(); err != nil {
			return
		}
		// Let it go (the SIGSTOP suppressed) into pause().
		if derr := unix.PtraceDetach(tid); derr != nil {
			unix.Tgkill(s.Pid, tid, unix.SIGKILL)
			err = fmt.Errorf("hand over new thread %d: %w", tid, derr)
			tid = 0
		}
	}); ferr != nil {
		err = ferr
	}
	return tid, err
}

// Adopt attaches the calling OS thread to tid, a thread CloneParked
// made, and stops it. On an error the stub is killed: a thread in an
// unknown state may not stay in it.
func (s *Space) Adopt(tid int) error {
	fail := func(err error) error {
		unix.Tgkill(s.Pid, tid, unix.SIGKILL)
		return err
	}
	if err := Seize(tid, TraceOptions); err != nil {
		return fail(fmt.Errorf("seize stub thread %d: %w", tid, err))
	}
	if err := unix.PtraceInterrupt(tid); err != nil {
		return fail(fmt.Errorf("interrupt stub thread %d: %w", tid, err))
	}
	for {
		st, err := WaitStop(tid)
		if err != nil {
			return fail(err)
		}
		if st.Exited {
			return fmt.Errorf("stub thread %d died while attaching", tid)
		}
		if st.Event == unix.PTRACE_EVENT_STOP {
			return nil
		}
		Resume(unix.PTRACE_CONT, tid)
	}
}

// ExitTraced makes tid, a stopped stub thread the caller traces, exit(0)
// (which ends only that thread) and reaps it.
func ExitTraced(tid int) {
	regs := InjectRegs(SiteSyscall)
	regs.Rax = unix.SYS_EXIT
	if err := SetRegs(tid, &regs); err != nil || Resume(unix.PTRACE_CONT, tid) != nil {
		return
	}
	for {
		s, err := WaitStop(tid)
		if err != nil || s.Exited {
			return
		}
		Resume(unix.PTRACE_CONT, tid)
	}
}
