package kernel

import (
	"runtime"
	"sync"
	"time"

	"uk/platform"
)

// A worker is what a task goroutine holds beyond the task: its OS thread
// (locked, as a platform context requires) and its platform context. When
// a thread exits, its worker waits a while for the next task created in
// the same address space and runs it, instead of releasing the context and
// ending the OS thread. A program that creates and joins threads in a loop
// then pays neither for a new host thread in uk nor for the platform's
// per-thread host state (on sigsys a new stub thread, made by the factory
// thread with ptrace: most of a pthread_create's cost there). Reuse stays
// inside one address space, that is one process: its stub threads never
// serve another.
type worker struct {
	ctx  platform.Context
	as   platform.AddressSpace // the address space of its last task
	next chan *Task            // the next task, handed over by Start
}

// maxIdleWorkers bounds the workers waiting for a task: each keeps a host
// thread in uk and one in its stub. A loop of create+join needs one.
const maxIdleWorkers = 4

// workerIdle is how long an idle worker waits for a task before it
// releases its context and ends.
const workerIdle = 200 * time.Millisecond

// workerPool holds the idle workers. Its zero value is empty.
type workerPool struct {
	mu   sync.Mutex
	idle []*worker // protected by mu
}

// offer adds w to the idle workers, unless there are enough; it reports
// whether it did.
func (p *workerPool) offer(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= maxIdleWorkers {
		return false
	}
	p.idle = append(p.idle, w)
	return true
}

// take removes and returns an idle worker whose last task ran in as, or
// nil.
func (p *workerPool) take(as platform.AddressSpace) *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if w := p.idle[i]; w.as == as {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return w
		}
	}
	return nil
}

// remove takes w out of the idle workers and reports whether it was
// there: if not, Start took it and a task is on its way.
func (p *workerPool) remove(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, o := range p.idle {
		if o == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

// wait returns w's next task, or nil once it has waited workerIdle for
// none (w is then no longer idle).
func (w *worker) wait(p *workerPool) *Task {
	// An idle worker needs no OS thread of its own either (Task.unbind):
	// the next Start then wakes it without a second host wake-up.
	if u, ok := w.ctx.(platform.Unbinder); ok && u.Unbind() {
		runtime.UnlockOSThread()
		defer runtime.LockOSThread()
	}
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	select {
	case t := <-w.next:
		return t
	case <-timer.C:
	}
	if p.remove(w) {
		return nil
	}
	return <-w.next
}
