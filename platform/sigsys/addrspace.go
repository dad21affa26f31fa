package sigsys

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// AddressSpace is one stub process. Its main thread (pid), the edit
// thread, is traced by the platform's factory thread, never runs
// application code and only ever serves injected system calls (mapping
// batches, new threads); each context that runs in it gets its own stub
// thread, which is not traced.
type AddressSpace struct {
	p    *Platform
	pid  int    // the stub process, and its main thread (host pid)
	slot int    // its page in the request file
	req  []byte // uk's mapping of the request page (read-only in the stub)

	mu       sync.Mutex
	parked   []*thread // stub threads made ahead, waiting in the handler; protected by mu
	pending  []request // queued mapping changes, in order; protected by mu
	released bool      // protected by mu
	// Thread slots: every slot this stub maps (returned to the slot file
	// when the stub is reaped), and those of ended threads, still mapped,
	// for new threads to reuse. Protected by mu.
	slots     []int
	freeSlots []threadSlot
}

// threadSlot is a slot mapped in a stub: index i of its thread region
// (at threadBase + i*slotSize) showing slot file slot; for a free one, the
// last thread that used it (which must be gone before it is reused).
type threadSlot struct {
	i, slot int
	tid     int
}

// retire records that t has been told to exit: its slot can be reused
// once it is gone.
func (as *AddressSpace) retire(t *thread) {
	as.mu.Lock()
	if !as.released {
		ts := t.ts
		ts.tid = t.tid
		as.freeSlots = append(as.freeSlots, ts)
	}
	as.mu.Unlock()
}

var _ platform.AddressSpace = (*AddressSpace)(nil)

// request is one host system call for the stub to run.
type request struct {
	nr   uint64
	args [6]uint64
}

// protOf converts access rights to PROT_* bits.
func protOf(a platform.Access) uint64 {
	var p uint64
	if a&platform.Read != 0 {
		p |= unix.PROT_READ
	}
	if a&platform.Write != 0 {
		p |= unix.PROT_WRITE
	}
	if a&platform.Exec != 0 {
		p |= unix.PROT_EXEC
	}
	return p
}

// newAddressSpace forks a stub process from the master, on the factory
// thread.
func (p *Platform) newAddressSpace() (*AddressSpace, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	slot, err := p.reqs.get()
	if err != nil {
		return nil, err
	}
	var pid int
	if ferr := p.fac.do(func() { pid, err = p.forkStub(slot) }); ferr != nil {
		err = ferr
	}
	if err != nil {
		p.reqs.put(slot)
		return nil, fmt.Errorf("sigsys: %w", err)
	}
	as := &AddressSpace{p: p, pid: pid, slot: slot, req: p.reqs.page(slot)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		as.Release()
		return nil, errClosed
	}
	p.spaces[as] = struct{}{}
	p.mu.Unlock()
	return as, nil
}

// MapFile queues a mapping of the memory file; it is installed before the
// next Switch into this address space resumes application code.
//
// The mapping is populated (MAP_POPULATE): uk maps what it expects the
// application to touch (a fault's run, a file window, a new program's
// first pages), and setting up the page tables in the mmap costs far less
// than the host faults the stub would otherwise take one by one (each an
// exception into a hypervisor on a VM). The pages themselves exist already
// or are ones uk has handed out.
func (as *AddressSpace) MapFile(addr uint64, off int64, length uint64, access platform.Access) error {
	if addr&arch.PageMask != 0 || off&arch.PageMask != 0 || length&arch.PageMask != 0 {
		return fmt.Errorf("sigsys: MapFile(%#x, %#x, %#x): %w", addr, off, length, unix.EINVAL)
	}
	if length == 0 {
		return nil
	}
	if addr >= MaxUserAddress || length > MaxUserAddress-addr {
		return fmt.Errorf("sigsys: MapFile(%#x, %#x): beyond MaxUserAddress: %w", addr, length, unix.EINVAL)
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return errReleased
	}
	as.pending = append(as.pending, request{nr: unix.SYS_MMAP, args: [6]uint64{
		addr, length, protOf(access), mapFlags, 3, uint64(off)}})
	if len(as.pending) >= maxBatch {
		return as.flushAnywhereLocked()
	}
	return nil
}

// Unmap removes mappings in [addr, addr+length); when it returns, no stub
// thread can reach the old pages.
func (as *AddressSpace) Unmap(addr, length uint64) error {
	if addr&arch.PageMask != 0 {
		return fmt.Errorf("sigsys: Unmap(%#x): %w", addr, unix.EINVAL)
	}
	length, ok := arch.PageRoundUp(length)
	if !ok {
		return fmt.Errorf("sigsys: Unmap(%#x, %#x): %w", addr, length, unix.EINVAL)
	}
	if addr >= MaxUserAddress || length == 0 {
		return nil
	}
	if length > MaxUserAddress-addr {
		length = MaxUserAddress - addr // never touch the slots or the stub
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return errReleased
	}
	as.pending = append(as.pending, request{nr: unix.SYS_MUNMAP, args: [6]uint64{addr, length}})
	return as.flushAnywhereLocked()
}

var errReleased = errors.New("sigsys: address space released")

// flushAnywhereLocked runs the queue through the factory and the edit
// thread: application threads never issue mmap.
//
// Preconditions: as.mu is held.
func (as *AddressSpace) flushAnywhereLocked() error {
	var err error
	if ferr := as.p.fac.do(func() { err = as.flushLocked(as.pid) }); ferr != nil {
		return ferr
	}
	return err
}

// flushLocked runs all queued requests in stub thread tid, in batches that
// fit the request page.
//
// Preconditions: as.mu is held; the caller is tid's tracer; tid is stopped.
func (as *AddressSpace) flushLocked(tid int) error {
	for len(as.pending) > 0 {
		n := min(len(as.pending), maxBatch)
		err := runBatch(tid, as.req, as.pending[:n])
		if err != nil {
			// The requests after the failed one did not run, unmaps
			// among them: the stub may still reach pages uk is about to
			// free. Nothing may run in it again, so kill it (Release
			// reaps it later); every use from now on fails.
			as.pending = as.pending[:0]
			unix.Kill(as.pid, unix.SIGKILL)
			return fmt.Errorf("sigsys: flush mappings (stub killed): %w", err)
		}
		as.pending = as.pending[:copy(as.pending, as.pending[n:])]
	}
	return nil
}

// runBatch writes reqs (at most maxBatch) to the request page (uk's view:
// req) and runs them in stub thread tid with one injection. It fails at the
// first request the host refuses, naming it.
//
// Preconditions: the caller is tid's tracer; tid is stopped; the request
// page is mapped in tid's stub at reqPage.
func runBatch(tid int, req []byte, reqs []request) error {
	for i, r := range reqs {
		rec := req[i*reqSize : (i+1)*reqSize]
		putUint64(rec[0:], r.nr)
		for j, a := range r.args {
			putUint64(rec[8+8*j:], a)
		}
	}
	// What the batch asked stays readable to the application (the page
	// is in its address space) only while the batch runs.
	defer clear(req[:len(reqs)*reqSize])
	regs := stubproc.InjectRegs(siteBatch)
	regs.Rbx = reqPage
	regs.R12 = uint64(len(reqs))
	if err := stubproc.RunInjected(tid, &regs, siteBatch+0x31); err != nil {
		return err
	}
	if regs.R12 != 0 {
		i := len(reqs) - int(regs.R12)
		return &batchError{index: i, req: reqs[i], err: stubproc.ErrnoOf(regs.Rax)}
	}
	return nil
}

// batchError is a request of a batch that the host refused; the ones
// after it did not run.
type batchError struct {
	index int
	req   request
	err   error
}

func (e *batchError) Error() string {
	return fmt.Sprintf("stub syscall %d(%#x, %#x): %v", e.req.nr, e.req.args[0], e.req.args[1], e.err)
}

func (e *batchError) Unwrap() error { return e.err }

// newThread makes a stub thread in this address space for a context: a
// parked one if there is one, else a new one (makeThread).
func (as *AddressSpace) newThread() (*thread, error) {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return nil, errReleased
	}
	if n := len(as.parked); n > 0 {
		t := as.parked[n-1]
		as.parked = as.parked[:n-1]
		as.mu.Unlock()
		return t, nil
	}
	as.mu.Unlock()
	return as.makeThread()
}

// park makes a stub thread ahead of need, for the next newThread to take
// without a trip to the factory thread (which may be busy starting a stub).
func (as *AddressSpace) park() error {
	t, err := as.makeThread()
	if err != nil {
		return err
	}
	as.mu.Lock()
	as.parked = append(as.parked, t)
	as.mu.Unlock()
	return nil
}

// makeThread creates a stub thread: a slot mapped in the stub (reused from
// an ended thread or new), then, on the factory thread, a clone of the edit
// thread that is traced from birth, and into which uk injects, before it
// ever runs: its alternate signal stack (the slot) and the thread filter.
// It is then pointed at siteThreadEntry and detached: its first syscall
// traps into the handler, where it waits for its context's first Switch.
func (as *AddressSpace) makeThread() (*thread, error) {
	p := as.p
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return nil, errReleased
	}
	var ts threadSlot
	mapped := false
	for i, fs := range as.freeSlots {
		// Reuse a slot only once its last thread is gone: until then it
		// may still read its frame there.
		if fs.tid == 0 || unix.Tgkill(as.pid, fs.tid, 0) == unix.ESRCH {
			ts, mapped = fs, true
			as.freeSlots = append(as.freeSlots[:i], as.freeSlots[i+1:]...)
			break
		}
	}
	if !mapped {
		if len(as.slots) >= maxThreads {
			as.mu.Unlock()
			return nil, fmt.Errorf("sigsys: %d threads in one address space: %w", maxThreads, unix.EAGAIN)
		}
		s, err := p.slots.get()
		if err != nil {
			as.mu.Unlock()
			return nil, err
		}
		ts = threadSlot{i: len(as.slots), slot: s}
		as.slots = append(as.slots, s)
	}
	as.mu.Unlock()

	mem := p.slots.slot(ts.slot)
	addr := threadBase + uint64(ts.i)*slotSize
	clear(mem[:altStackOff])
	// Running until its entry trap: uk may sleep on the word meanwhile,
	// and the handler's swap to trapped then wakes it.
	stateWord(mem).Store(stateRunning)
	t := &thread{as: as, mem: mem, addr: addr, ts: ts, word: stateWord(mem), fresh: true}
	var err error
	// The factory never takes as.mu (a flush holds it while it waits for
	// the factory); the request page it uses is only ever used on the
	// factory thread.
	ferr := p.fac.do(func() {
		if !mapped {
			var r uint64
			r, err = stubproc.InjectSyscall(as.pid, siteSyscall, unix.SYS_MMAP, addr, slotSize, unix.PROT_READ|unix.PROT_WRITE,
				mapFlags, slotFDInStub, uint64(ts.slot)*slotSize)
			if err == nil {
				err = stubproc.ErrnoOf(r)
			}
			if err != nil {
				err = fmt.Errorf("map thread slot: %w", err)
				return
			}
		}
		t.tid, err = as.cloneThread(t)
	})
	if ferr != nil {
		err = ferr
	}
	if err != nil {
		as.mu.Lock()
		as.freeSlots = append(as.freeSlots, ts)
		as.mu.Unlock()
		return nil, fmt.Errorf("sigsys: new stub thread: %w", err)
	}
	return t, nil
}

// cloneThread clones the edit thread, sets the child up for t and lets it
// go (see makeThread). It returns the child's host tid.
//
// Preconditions: runs on the factory thread.
func (as *AddressSpace) cloneThread(t *thread) (int, error) {
	regs := stubproc.InjectRegs(siteClone)
	regs.Rax = unix.SYS_CLONE
	regs.Rdi = cloneFlags
	tid := 0
	// RAX will hold the tid inside the stub's PID namespace; the clone
	// event gives it as uk sees it.
	err := stubproc.RunInjectedEvents(as.pid, &regs, siteClone+0x11, func(event int, msg uint) {
		if event == unix.PTRACE_EVENT_CLONE {
			tid = int(msg)
		}
	})
	if err != nil {
		return 0, err
	}
	if e := stubproc.ErrnoOf(regs.Rax); e != nil {
		return 0, fmt.Errorf("clone: %w", e)
	}
	if tid == 0 {
		return 0, fmt.Errorf("clone: no clone event")
	}
	fail := func(err error) (int, error) {
		// Killing a thread kills its whole stub: the address space is
		// lost, and says so from now on.
		unix.Tgkill(as.pid, tid, unix.SIGKILL)
		return 0, fmt.Errorf("set up thread %d (stub killed): %w", tid, err)
	}
	// Attached to this (the factory) thread at birth, it stops with
	// SIGSTOP before its first instruction.
	if err := stubproc.WaitNewTracee(tid); err != nil {
		return fail(err)
	}
	d := &pageData{req: as.req, top: len(as.req)}
	defer clear(as.req)
	var ss [24]byte // stack_t: ss_sp, ss_flags (and padding), ss_size
	putUint64(ss[0:], t.addr+altStackOff)
	putUint64(ss[16:], slotSize-altStackOff)
	err = runSteps(tid, d, []step{
		{what: "set the signal stack", request: request{nr: unix.SYS_SIGALTSTACK, args: [6]uint64{d.put(ss[:])}}},
		{what: "install the thread filter", request: request{nr: unix.SYS_SECCOMP,
			args: [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, putFilter(d, threadFilter())}}},
	})
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
func (as *AddressSpace) Release() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return
	}
	as.released = true
	as.pending = nil
	slots := as.slots
	as.slots, as.freeSlots, as.parked = nil, nil, nil
	as.mu.Unlock()
	unix.Kill(as.pid, unix.SIGKILL)
	as.p.reqs.put(as.slot)
	as.p.mu.Lock()
	delete(as.p.spaces, as)
	as.p.mu.Unlock()
	as.p.zmu.Lock()
	as.p.slotsOf[as.pid] = slots
	as.p.zmu.Unlock()
	as.p.reap(as.pid)
}
