package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/internal/stubproc"
)

// AddressSpace is one stub process. Its main thread is traced by the
// platform's factory thread and only ever serves injected system calls
// (stubproc.Space); each context that runs in it gets its own stub thread,
// traced by the context's OS thread.
type AddressSpace struct {
	p *Platform
	*stubproc.Space

	// Protected by Space.Mu.
	parked  []int       // stub threads cloned ahead, parked in pause() and not yet traced
	threads map[int]int // tracer tid -> stub thread tid
}

var (
	_ platform.AddressSpace   = (*AddressSpace)(nil)
	_ platform.HostFileMapper = (*AddressSpace)(nil)
)

// newAddressSpace forks a stub process from the master, on the factory
// thread.
func (p *Platform) newAddressSpace() (*AddressSpace, error) {
	if p.spaces.Closed() {
		return nil, p.h.ErrClosed()
	}
	s, err := p.h.NewSpace(MaxUserAddress)
	if err != nil {
		return nil, err
	}
	as := &AddressSpace{p: p, Space: s, threads: make(map[int]int)}
	s.FlushHere = as.ownThreadLocked
	if !p.spaces.Add(as) {
		as.Release()
		return nil, p.h.ErrClosed()
	}
	return as, nil
}

// ownThreadLocked returns the caller's own stub thread here if the caller
// is a context's goroutine with one: a mapping batch runs there without a
// trip to the factory thread.
//
// Preconditions: Space.Mu is held.
func (as *AddressSpace) ownThreadLocked() (int, bool) {
	// Only the goroutine locked to this OS thread can be running here,
	// and it is not inside Switch, so its stub thread is stopped.
	tid, ok := as.threads[unix.Gettid()]
	return tid, ok
}

// newThread clones a stub thread in this address space for the calling
// context's OS thread, which becomes its tracer.
//
// Preconditions: runs on the goroutine locked to tracer (the caller's OS
// thread).
func (as *AddressSpace) newThread(tracer, cpu int) (int, error) {
	as.Mu.Lock()
	if as.ReleasedLocked() {
		as.Mu.Unlock()
		return 0, as.ErrReleased()
	}
	var tid int
	if n := len(as.parked); n > 0 {
		// Cloned ahead (see park): no trip to the factory thread.
		tid, as.parked = as.parked[n-1], as.parked[:n-1]
	}
	as.Mu.Unlock()
	if tid == 0 {
		var err error
		if tid, err = as.CloneParked(); err != nil {
			return 0, fmt.Errorf("ptrace: new stub thread: %w", err)
		}
	}
	// The child parks in pause(); attach and stop it from this thread.
	if err := as.Adopt(tid); err != nil {
		return 0, fmt.Errorf("ptrace: %w", err)
	}
	if err := stubproc.PinThread(tid, cpu); err != nil {
		return 0, fmt.Errorf("ptrace: pin stub thread: %w", err)
	}
	as.Mu.Lock()
	as.threads[tracer] = tid
	as.Mu.Unlock()
	return tid, nil
}

// park clones a stub thread ahead of need, for the next newThread to take
// without a trip to the factory thread (which may be busy starting a stub).
func (as *AddressSpace) park() error {
	tid, err := as.CloneParked()
	if err != nil {
		return err
	}
	as.Mu.Lock()
	as.parked = append(as.parked, tid)
	as.Mu.Unlock()
	return nil
}

// forgetThread drops the record of tracer's stub thread.
func (as *AddressSpace) forgetThread(tracer int) {
	as.Mu.Lock()
	delete(as.threads, tracer)
	as.Mu.Unlock()
}

// Release kills the stub process and reaps its threads (now or, for threads
// still exiting, at a later Release).
func (as *AddressSpace) Release() { as.release(nil) }

// ReleaseThen is Release, with done called from another goroutine once
// the stub has been reaped: no thread of it can reach what it mapped any
// more (mm frees its pages then). The caller does not wait for the stub
// to die.
func (as *AddressSpace) ReleaseThen(done func()) { as.release(done) }

// release is Release, and with done ReleaseThen.
func (as *AddressSpace) release(done func()) {
	var dead []int
	locked := func() {
		for _, tid := range as.threads {
			dead = append(dead, tid)
		}
	}
	if done != nil {
		// The leader last: it is reapable only once its threads are.
		if as.Space.ReleaseThen(locked, func() []int { return dead }, done) {
			as.p.spaces.Remove(as)
		}
		return
	}
	if !as.Space.Release(locked) {
		return
	}
	as.p.spaces.Remove(as)
	as.p.h.Reap(append(dead, as.Pid)...)
}
