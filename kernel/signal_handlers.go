package kernel

import (
	"sync"
	"sync/atomic"
)

// sigHandlers is a signal handler table, Linux's sighand_struct: a
// process's own, or shared by the processes that a clone with
// CLONE_SIGHAND but not CLONE_THREAD made (they share their memory too:
// CLONE_SIGHAND needs CLONE_VM), until one of them execs. kcmp's
// KCMP_SIGHAND compares it.
type sigHandlers struct {
	mu      sync.Mutex
	actions [65]SigAction // indexed by signal number; protected by mu
	// users counts the processes using the table, as Linux's
	// sighand->count: from the clone that shares it to the process's
	// reaping or exec. unshare(CLONE_SIGHAND) of a shared one is EINVAL.
	users atomic.Int32
}

// newSigHandlers returns a table of one user with entries, as fork's
// child gets a copy of its parent's.
func newSigHandlers(actions *[65]SigAction) *sigHandlers {
	h := &sigHandlers{actions: *actions}
	h.users.Store(1)
	return h
}

// handlers returns tg's table, made (every handler default) on first use.
func (tg *ThreadGroup) handlers() *sigHandlers {
	if h := tg.sighand.Load(); h != nil {
		return h
	}
	tg.sighand.CompareAndSwap(nil, newSigHandlers(&[65]SigAction{}))
	return tg.sighand.Load()
}

// shareHandlers gives child, a new process of a clone with CLONE_SIGHAND,
// tg's table.
func (tg *ThreadGroup) shareHandlers(child *ThreadGroup) {
	h := tg.handlers()
	h.users.Add(1)
	child.sighand.Store(h)
}

// releaseHandlers drops tg's use of its table (the process is reaped, or
// execs and takes a table of its own).
func (tg *ThreadGroup) releaseHandlers() {
	if h := tg.sighand.Load(); h != nil {
		h.users.Add(-1)
	}
}

// handlersShared reports whether another process uses tg's table.
func (tg *ThreadGroup) handlersShared() bool { return tg.handlers().users.Load() > 1 }

// get returns the entry for sig (1..64).
func (h *sigHandlers) get(sig int) SigAction {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.actions[sig]
}

// set replaces the entry for sig.
func (h *sigHandlers) set(sig int, a SigAction) {
	h.mu.Lock()
	h.actions[sig] = a
	h.mu.Unlock()
}

// copy returns a new table of one user with h's entries, as a fork's
// child gets.
func (h *sigHandlers) copy() *sigHandlers {
	h.mu.Lock()
	defer h.mu.Unlock()
	return newSigHandlers(&h.actions)
}
