package sigsys

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/internal/stubproc"
)

// AddressSpace is one stub process. Its main thread (pid), the edit
// thread, is traced by the platform's factory thread, never runs
// application code and only ever serves injected system calls (mapping
// batches, new threads); each context that runs in it gets its own stub
// thread, which is not traced.
type AddressSpace struct {
	p *Platform
	*stubproc.Space

	// Protected by Space.Mu.
	parked []*thread // stub threads made ahead, waiting in the handler
	// handedOut counts the threads newThread gave out; refill is closed
	// when the thread being parked in the background is ready (or
	// failed), nil when none is (newThread).
	handedOut int
	refill    chan struct{}
	// Thread slots: every slot this stub maps (returned to the slot file
	// when the stub is reaped and no context holds its threads: held),
	// and those of ended threads, still mapped, for new threads to reuse.
	slots     []int
	freeSlots []threadSlot
	// tids are, by slot index, the last stub thread made on each slot
	// (earlier ones were gone before it was made): every thread the
	// space has made that may still live.
	tids []int

	// Protected by Platform.smu. held counts this space's stub threads
	// that contexts hold (Context.threads): uk may still read a held
	// thread's slot or swap its state word, even after the stub has died
	// (a context waiting for its trap notices only then). So a reaped
	// stub's slots (gone) go back to the slot file only once held is 0
	// as well: handed to a new thread earlier, a slot's word would have a
	// stale waiter in uk, which could take the futex wake meant for the
	// new thread and leave it asleep for good.
	held   int
	reaped bool
	gone   []int
}

// hold records that a context took one of the space's threads.
func (as *AddressSpace) hold() {
	as.p.smu.Lock()
	as.held++
	as.p.smu.Unlock()
}

// drop records that a context let go of t, one of the space's threads,
// and gives the stub's slots back if it was the last held after the
// stub was reaped. t must not be used again.
func (as *AddressSpace) drop(t *thread) {
	t.dropped = true
	p := as.p
	p.smu.Lock()
	as.held--
	var give []int
	if as.held == 0 && as.reaped {
		give, as.gone = as.gone, nil
	}
	p.smu.Unlock()
	if len(give) > 0 {
		p.slots.put(give...)
	}
}

// threadSlot is a slot of a stub: index i of its thread region (at
// threadBase + i*slotSize) showing slot file slot once mapped; for a free
// one, the last thread that used it (which must be gone before it is
// reused).
type threadSlot struct {
	i, slot int
	tid     int
	// mapped is set once a thread's setup has mapped the slot (a free
	// slot whose thread's setup failed early may not be).
	mapped bool
}

// retire records that t has been told to exit: its slot can be reused
// once it is gone.
func (as *AddressSpace) retire(t *thread) {
	as.Mu.Lock()
	if !as.ReleasedLocked() {
		ts := t.ts
		ts.tid = t.tid
		as.freeSlots = append(as.freeSlots, ts)
	}
	as.Mu.Unlock()
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
	// Application threads never issue mmap: a queue runs through the
	// stub's serving thread (stubproc's serve.go).
	as := &AddressSpace{p: p, Space: s}
	if !p.spaces.Add(as) {
		as.Release()
		return nil, p.h.ErrClosed()
	}
	return as, nil
}

// newThread makes a stub thread in this address space for a context: a
// parked one if there is one (waiting for the one being parked, if any),
// else a new one (makeThread).
//
// From the second thread of a space on, it also parks the next one in the
// background: a space that had one more context will likely have another
// (a shell's vfork children each run in its space until they exec, a
// program starts its threads), and making one on demand waits for the
// factory thread, which is busy meanwhile starting the next spare stub
// (each vfork child of a shell loop waited 0.3-4.5 ms for that).
func (as *AddressSpace) newThread() (*thread, error) {
	as.Mu.Lock()
	if as.ReleasedLocked() {
		as.Mu.Unlock()
		return nil, as.ErrReleased()
	}
	as.handedOut++
	if len(as.parked) == 0 && as.refill != nil {
		// One is nearly ready: waiting costs less than making another.
		wait := as.refill
		as.Mu.Unlock()
		<-wait
		as.Mu.Lock()
	}
	var t *thread
	if n := len(as.parked); n > 0 {
		t = as.parked[n-1]
		as.parked = as.parked[:n-1]
	}
	if as.handedOut >= 2 && len(as.parked) == 0 && as.refill == nil && !as.ReleasedLocked() {
		done := make(chan struct{})
		as.refill = done
		cpu := stubproc.CurrentCPU()
		go func() {
			defer as.p.h.Background(cpu)()
			as.park()
			as.Mu.Lock()
			as.refill = nil
			close(done)
			as.Mu.Unlock()
		}()
	}
	as.Mu.Unlock()
	if t != nil {
		return t, nil
	}
	return as.makeThread()
}

// park makes a stub thread ahead of need, for the next newThread to take
// without a trip to the factory thread (which may be busy starting a stub).
func (as *AddressSpace) park() error {
	t, err := as.makeThread()
	if err != nil {
		return err
	}
	as.Mu.Lock()
	as.parked = append(as.parked, t)
	as.Mu.Unlock()
	return nil
}

// maxParked bounds the threads an address space keeps parked: a shell's
// vfork children each give theirs back at their execve (Context.Leave),
// and make -j2 has two out at once.
const maxParked = 4

// repark makes t, a thread of this space whose context let go of it (it
// waits in the handler with a frame), a parked one again, for the next
// newThread to hand out. It reports false, leaving t to its context, if
// the space is released or has maxParked already.
func (as *AddressSpace) repark(t *thread) bool {
	as.Mu.Lock()
	ok := !as.ReleasedLocked() && len(as.parked) < maxParked
	if ok {
		t.ctx = nil
		t.fresh = true
		as.parked = append(as.parked, t)
	}
	as.Mu.Unlock()
	if ok {
		as.p.smu.Lock()
		as.held--
		as.p.smu.Unlock()
	}
	return ok
}

// makeThread creates a stub thread: on the factory thread, a clone of the
// edit thread that is traced from birth, and into which uk injects, before
// it ever runs and in one batch: the mapping of its slot (unless it reuses
// the still mapped slot of an ended thread), its alternate signal stack
// (the slot) and the thread filter. It is then pointed at siteThreadEntry
// and detached: its first syscall traps into the handler, where it waits
// for its context's first Switch.
func (as *AddressSpace) makeThread() (*thread, error) {
	p := as.p
	as.Mu.Lock()
	if as.ReleasedLocked() {
		as.Mu.Unlock()
		return nil, as.ErrReleased()
	}
	var ts threadSlot
	found := false
	for i, fs := range as.freeSlots {
		// Reuse a slot only once its last thread is gone: until then it
		// may still read its frame there.
		if fs.tid == 0 || unix.Tgkill(as.Pid, fs.tid, 0) == unix.ESRCH {
			ts, found = fs, true
			as.freeSlots = append(as.freeSlots[:i], as.freeSlots[i+1:]...)
			break
		}
	}
	if !found {
		if len(as.slots) >= maxThreads {
			as.Mu.Unlock()
			return nil, fmt.Errorf("sigsys: %d threads in one address space: %w", maxThreads, unix.EAGAIN)
		}
		s, err := p.slots.get()
		if err != nil {
			as.Mu.Unlock()
			return nil, err
		}
		ts = threadSlot{i: len(as.slots), slot: s}
		as.slots = append(as.slots, s)
	}
	// Mu stays held to the end: the setup below uses the request page,
	// which a flush uses under Mu too.
	defer as.Mu.Unlock()

	mem := p.slots.slot(ts.slot)
	addr := threadBase + uint64(ts.i)*slotSize
	clear(mem[:altStackOff])
	binary.LittleEndian.PutUint64(mem[hdrSelf:], addr)
	// Running until its entry trap: uk may sleep on the word meanwhile,
	// and the handler's swap to trapped then wakes it.
	stateWord(mem).Store(stateRunning)
	t := &thread{as: as, mem: mem, addr: addr, ts: ts, word: stateWord(mem), fresh: true}
	var err error
	// The factory never takes Mu (a flush holds it while it waits for
	// the factory, as this does).
	ferr := p.h.Do(func() { t.tid, err = as.cloneThread(t, !ts.mapped) })
	if ferr != nil {
		err = ferr
	}
	if err != nil {
		// Not mapped if the clone failed; a failed setup killed the stub.
		as.freeSlots = append(as.freeSlots, ts)
		return nil, fmt.Errorf("sigsys: new stub thread: %w", err)
	}
	t.ts.mapped = true
	for len(as.tids) <= ts.i {
		as.tids = append(as.tids, 0)
	}
	as.tids[ts.i] = t.tid
	return t, nil
}

// cloneThread clones the edit thread, sets the child up for t (mapping its
// slot first with mapSlot) and lets it go (see makeThread). It returns the
// child's host tid.
//
// Preconditions: runs on the factory thread.
func (as *AddressSpace) cloneThread(t *thread, mapSlot bool) (int, error) {
	tid, err := as.CloneThread()
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int, error) {
		// Killing a thread kills its whole stub: the address space is
		// lost, and says so from now on.
		unix.Tgkill(as.Pid, tid, unix.SIGKILL)
		return 0, fmt.Errorf("set up thread %d (stub killed): %w", tid, err)
	}
	req := as.ReqPage()
	d := stubproc.NewPageData(req)
	defer clear(req)
	var ss [24]byte // stack_t: ss_sp, ss_flags (and padding), ss_size
	putUint64(ss[0:], t.addr+altStackOff)
	putUint64(ss[16:], slotSize-altStackOff)
	var steps []stubproc.Step
	if mapSlot {
		// The new thread maps its own slot: it has the edit thread's
		// filters, which allow a mapping of the slot file, and one
		// injection fewer than the edit thread mapping it first.
		steps = append(steps, stubproc.Must("map the thread slot", unix.SYS_MMAP, t.addr, slotSize,
			unix.PROT_READ|unix.PROT_WRITE, stubproc.MapFlags, slotFDInStub, uint64(t.ts.slot)*slotSize))
	}
	steps = append(steps,
		stubproc.Must("set the signal stack", unix.SYS_SIGALTSTACK, d.Put(ss[:])),
		stubproc.Must("install the thread filter", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, stubproc.PutFilter(d, threadFilter())),
	)
	err = stubproc.RunSteps(tid, d, steps)
	if err != nil {
		return fail(err)
	}
	entry := stubproc.InjectRegs(siteThreadEntry)
	if err := stubproc.SetRegs(tid, &entry); err != nil {
		return fail(err)
	}
	// From here on the thread is not traced: its signals go to its
	// handler, not to a ptrace stop.
	if err := unix.PtraceDetach(tid); err != nil {
		return fail(err)
	}
	return tid, nil
}

// Release kills the stub process; its slots go back to the slot file once
// it has been reaped (now or at a later reap).
func (as *AddressSpace) Release() { as.release(nil) }

// ReleaseThen is Release, with done called from another goroutine once
// the stub has been reaped: no thread of it can reach what it mapped any
// more (mm frees its pages then). The caller does not wait for the stub
// to die.
func (as *AddressSpace) ReleaseThen(done func()) { as.release(done) }

// release is Release, and with done ReleaseThen, which renews the stub
// for another program instead if it can (recycle.go).
func (as *AddressSpace) release(done func()) {
	if done != nil && as.tryRenew(done) {
		return
	}
	as.kill(done)
}

// kill is release without renewing: the stub is killed.
func (as *AddressSpace) kill(done func()) {
	var slots []int
	locked := func() {
		slots = as.slots
		as.slots, as.freeSlots, as.parked = nil, nil, nil
		// Recorded before the stub can be reaped (p.reaped).
		as.p.smu.Lock()
		as.gone = slots
		as.p.released[as.Pid] = as
		as.p.smu.Unlock()
	}
	if done != nil {
		if as.Space.ReleaseThen(locked, func() []int { return nil }, done) {
			as.p.spaces.Remove(as)
		}
		return
	}
	if !as.Space.Release(locked) {
		return
	}
	as.p.spaces.Remove(as)
	as.p.h.Reap(as.Pid)
}
