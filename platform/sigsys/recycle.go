package sigsys

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform/internal/stubproc"
)

// Stubs of ended processes serve the next ones.
//
// A process's last thread leaves its address space when it exits
// (Context.Leave), so that when the kernel releases the space no context
// holds a thread there and every thread it has is parked, that is uk's
// alone. If the platform wants a spare, the release renews the stub
// instead of killing it, off the exit's path: each parked thread is sent
// to its exit and everything below MaxUserAddress is unmapped (the old
// program's pages are then out of every thread's reach, and are freed:
// ReleaseThen's done). The stub becomes a new AddressSpace with the same
// slots, but gets its first thread (made afresh, like any) and is offered
// as a spare only once every thread the old space made is gone: a thread
// that ran the old program's code may have been taken over by it (its
// state word and frame are the program's memory), and must not be left
// beside the next program. A program cannot make threads of its own, so
// those are all there are. Any step that fails (a thread does not end,
// the batch fails, there are spares enough) kills the stub as before.
//
// A shell loop's child costs the platform, without this, a stub made by
// the factory (a fork of the master, its filter and serving thread) and
// one killed and reaped by the host.

// threadEndWait bounds how long a renewal waits for a parked thread to
// reach the handler, and for ended threads to be gone.
const threadEndWait = 5 * time.Millisecond

// renewableLocked reports whether the released space's stub may be
// renewed as far as the space itself says: live, no thread being
// parked, no context holding a thread here.
//
// Preconditions: Mu is held.
func (as *AddressSpace) renewableLocked() bool {
	if as.ReleasedLocked() || as.refill != nil {
		return false
	}
	as.p.smu.Lock()
	defer as.p.smu.Unlock()
	return as.held == 0
}

// tryRenew starts renewing the stub (see above) and reports true, or
// reports false having done nothing. done is ReleaseThen's.
func (as *AddressSpace) tryRenew(done func()) bool {
	as.Mu.Lock()
	ok := as.renewableLocked()
	as.Mu.Unlock()
	// The platform must want a spare (it then expects this one: Offer
	// or Unexpect follows). Asked without Mu: Spaces' lock comes first.
	if !ok || !as.p.spaces.Expect() {
		return false
	}
	as.Mu.Lock()
	if !as.renewableLocked() {
		// Nothing maps into a released program's space, so nothing
		// should have changed; if it did, the stub is killed as ever.
		as.Mu.Unlock()
		as.p.spaces.Unexpect()
		return false
	}
	parked := as.parked
	as.parked = nil
	as.Mu.Unlock()
	cpu := stubproc.CurrentCPU()
	go func() {
		nas, tids := as.renew(parked)
		if nas == nil {
			as.p.spaces.Unexpect()
			as.kill(done)
			return
		}
		// Unmapped: no thread of the stub can reach the old pages.
		done()
		if !as.threadsGone(tids, threadEndWait) {
			as.p.spaces.Unexpect()
			nas.Release()
			return
		}
		if !as.p.spaces.Offer(nas) {
			nas.Release()
			return
		}
		// Offered first: a task that takes it meanwhile waits for this
		// thread (the space's Mu) rather than make its own.
		defer as.p.h.Background(cpu)()
		as.p.spaces.Warm(nas)
	}()
	return true
}

// renew sends the parked threads to their exit, empties the stub and
// returns the new AddressSpace on it, with every thread the old one made
// (which must all be gone before the new one gets a thread), or nil if
// that failed (the caller then kills the stub).
func (as *AddressSpace) renew(parked []*thread) (*AddressSpace, []int) {
	for _, t := range parked {
		if !t.endParked() {
			return nil, nil
		}
	}
	nas := &AddressSpace{p: as.p}
	var tids []int
	s, err := as.Renew(func() {
		// Every slot is free, still mapped, once its thread is gone.
		nas.slots = as.slots
		nas.tids = make([]int, len(as.slots))
		for i, slot := range as.slots {
			nas.freeSlots = append(nas.freeSlots, threadSlot{i: i, slot: slot, mapped: true})
		}
		tids = as.tids
		as.slots, as.freeSlots, as.tids = nil, nil, nil
	})
	if err != nil {
		return nil, nil
	}
	nas.Space = s
	as.p.spaces.Remove(as)
	if !as.p.spaces.Add(nas) {
		nas.Release()
		return nil, nil
	}
	return nas, tids
}

// endParked sends a parked thread (waiting in the handler, or on its way
// to its entry trap) to its exit, and reports whether it could.
func (t *thread) endParked() bool {
	deadline := time.Now().Add(threadEndWait)
	for !trapped(t.word.Load()) {
		if unix.Tgkill(t.as.Pid, t.tid, 0) == unix.ESRCH || time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Microsecond)
	}
	if readFrame(t.mem, t.addr, &t.f) != nil {
		return false
	}
	return t.exit() == nil
}

// exit resumes t, waiting in the handler with the frame t.f read, into
// siteExit, where it exits.
func (t *thread) exit() error {
	st := arch.State{Regs: arch.Registers{Rip: siteExit, Cs: arch.UserCS, Ss: arch.UserDS, Eflags: 0x202},
		FP: arch.NewFPState()}
	if err := writeFrame(t.mem, t.addr, &t.f, &st, true); err != nil {
		return err
	}
	resume(t)
	return nil
}

// threadsGone waits up to timeout for tids, stub threads of this space,
// to be gone from the host, and reports whether they are. It looks every
// threadGonePoll: a thread sent to its exit takes tens of microseconds to
// go, and the goroutine waits off every task's path.
func (as *AddressSpace) threadsGone(tids []int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for _, tid := range tids {
		for tid != 0 && unix.Tgkill(as.Pid, tid, 0) != unix.ESRCH {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(threadGonePoll)
		}
	}
	return true
}

// threadGonePoll is how often threadsGone looks.
const threadGonePoll = 100 * time.Microsecond
