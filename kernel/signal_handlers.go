package kernel

import "sync"

// sigHandlers is a signal handler table, Linux's sighand_struct: a
// process's own, or shared by the processes that a clone with
// CLONE_SIGHAND but not CLONE_THREAD made (they share their memory too:
// CLONE_SIGHAND needs CLONE_VM), until one of them execs. kcmp's
// KCMP_SIGHAND compares it.
type sigHandlers struct {
	mu      sync.Mutex
	actions [65]SigAction // indexed by signal number; protected by mu
}

// handlers returns tg's table, made (every handler default) on first use.
func (tg *ThreadGroup) handlers() *sigHandlers {
	if h := tg.sighand.Load(); h != nil {
		return h
	}
	tg.sighand.CompareAndSwap(nil, &sigHandlers{})
	return tg.sighand.Load()
}

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

// copy returns a new table with h's entries, as a fork's child gets.
func (h *sigHandlers) copy() *sigHandlers {
	n := &sigHandlers{}
	h.mu.Lock()
	n.actions = h.actions
	h.mu.Unlock()
	return n
}
