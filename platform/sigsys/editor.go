package sigsys

import (
	"fmt"

	"golang.org/x/sys/unix"

	"uk/platform/internal/stubproc"
)

// Edit threads of a context's own.
//
// Only a traced stub thread that never runs application code may map
// (seccomp.go), and a traced thread is driven by its tracer's OS thread
// alone. The stub's main edit thread is traced by the factory thread, so a
// mapping batch through it costs two goroutine hand-offs (each a wake-up
// of another OS thread, across CPUs a wake-up of a halted virtual CPU)
// besides the injection. A context whose address space keeps needing
// batches (page faults, mmap and munmap) therefore gets an edit thread of
// its own in that space: a clone of the main edit thread (the same
// filters; no thread filter, no signal stack, never application code),
// attached to the context's OS thread and pinned to its CPU, which
// Space.FlushHere then finds. It ends with the context (Release) or with
// the stub.
//
// The context that takes a space's first thread gets one at once: that
// thread comes with an edit thread parked beside it (makeThread), which
// the context adopts when it takes the thread. Nearly every program's
// first context needs batches at once (its image and first faults; after
// a fork, its first writes), and the factory is then often busy starting
// the next spare stub: a fork's child waited for that, not for its batch.

// editorAfter is how many batches an OS thread runs through the factory
// in one address space before its context gets an edit thread there: a short-lived
// program (most run one or two batches: the loaded image, then exit) does
// not pay for one.
const editorAfter = 3

// ownEditorLocked is the address space's Space.FlushHere: the calling OS
// thread's edit thread here, if it has one. It is stopped: only its tracer
// (the caller) runs it, and only under Mu. Without one, the batch goes
// through the factory, and the calling thread's count of such batches
// grows (needsEditor).
//
// Preconditions: Space.Mu is held.
func (as *AddressSpace) ownEditorLocked() (int, bool) {
	self := unix.Gettid()
	tid, ok := as.editors[self]
	if !ok {
		as.factoryFlushes[self]++
	}
	return tid, ok
}

// needsEditor reports whether the calling context should get an edit
// thread in as before its next flush: its OS thread has run enough
// batches through the factory there (a Switch's own flushes, or the
// unmaps of munmap and madvise).
func (c *Context) needsEditor(as *AddressSpace) bool {
	if _, ok := c.editors[as]; ok || as.Quiet() {
		return false // it has one, or no batch is due
	}
	as.Mu.Lock()
	defer as.Mu.Unlock()
	return as.factoryFlushes[c.tid] >= editorAfter && !as.ReleasedLocked()
}

// adoptEditor makes an edit thread of the calling OS thread's own in as.
func (c *Context) adoptEditor(as *AddressSpace) error {
	tid, err := as.CloneParked()
	if err != nil {
		return fmt.Errorf("sigsys: edit thread: %w", err)
	}
	return c.adopt(as, tid)
}

// adoptParked adopts an edit thread parked with as's first thread
// (makeThread), if one is left and the context has none there yet.
func (c *Context) adoptParked(as *AddressSpace) error {
	if _, ok := c.editors[as]; ok {
		return nil
	}
	as.Mu.Lock()
	n := len(as.parkedEditors)
	if n == 0 {
		as.Mu.Unlock()
		return nil
	}
	tid := as.parkedEditors[n-1]
	as.parkedEditors = as.parkedEditors[:n-1]
	as.Mu.Unlock()
	return c.adopt(as, tid)
}

// adopt attaches the calling OS thread to tid, a parked thread of as, and
// makes it the context's edit thread there.
func (c *Context) adopt(as *AddressSpace, tid int) error {
	// Beside uk's thread, before it is woken to stop: each batch is a
	// ptrace stop and resume.
	stubproc.PinThread(tid, c.pl.home)
	if err := as.Adopt(tid); err != nil {
		return fmt.Errorf("sigsys: edit thread: %w", err)
	}
	tracer := unix.Gettid()
	as.Mu.Lock()
	if as.ReleasedLocked() {
		as.Mu.Unlock()
		return as.ErrReleased()
	}
	as.editors[tracer] = tid
	delete(as.factoryFlushes, tracer)
	as.Mu.Unlock()
	if c.editors == nil {
		c.editors = make(map[*AddressSpace]editor)
	}
	c.editors[as] = editor{tid: tid, tracer: tracer}
	return nil
}

// editor is a context's edit thread in one address space.
type editor struct {
	tid    int // the stub thread
	tracer int // the OS thread that traces it
}

// endEditors ends the context's edit threads in live address spaces, on
// their tracer's OS thread (a released space's die with their stub). A
// tracer must not leave one behind: once its OS thread exits, the thread
// would run on untraced.
func (c *Context) endEditors() {
	self := unix.Gettid()
	for as, e := range c.editors {
		if e.tracer != self {
			continue // not ours to drive; it dies with its stub
		}
		as.Mu.Lock()
		live := !as.ReleasedLocked()
		if live {
			delete(as.editors, e.tracer)
		}
		as.Mu.Unlock()
		if live {
			stubproc.ExitTraced(e.tid)
		}
	}
	c.editors = nil
}
