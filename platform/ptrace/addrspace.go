package ptrace

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// AddressSpace is one stub process. Its main thread (pid) is traced by the
// platform's factory thread and only ever serves injected system calls; each
// context that runs in it gets its own stub thread.
type AddressSpace struct {
	p    *Platform
	pid  int    // the stub process, and its main thread (host pid)
	slot int    // its page in the request file
	req  []byte // uk's mapping of the request page (read-only in the stub)

	mu       sync.Mutex
	parked   []int       // stub threads cloned ahead, parked in pause() and not yet traced; protected by mu
	pending  []request   // queued mapping changes, in order; protected by mu
	threads  map[int]int // tracer tid -> stub thread tid; protected by mu
	released bool        // protected by mu
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
		return nil, fmt.Errorf("ptrace: %w", err)
	}
	as := &AddressSpace{p: p, pid: pid, slot: slot, req: p.reqs.page(slot), threads: make(map[int]int)}
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
		return fmt.Errorf("ptrace: MapFile(%#x, %#x, %#x): %w", addr, off, length, unix.EINVAL)
	}
	if length == 0 {
		return nil
	}
	if addr >= stubBase || length > stubBase-addr {
		return fmt.Errorf("ptrace: MapFile(%#x, %#x): beyond MaxUserAddress: %w", addr, length, unix.EINVAL)
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
		return fmt.Errorf("ptrace: Unmap(%#x): %w", addr, unix.EINVAL)
	}
	length, ok := arch.PageRoundUp(length)
	if !ok {
		return fmt.Errorf("ptrace: Unmap(%#x, %#x): %w", addr, length, unix.EINVAL)
	}
	if addr >= stubBase || length == 0 {
		return nil
	}
	if length > stubBase-addr {
		length = stubBase - addr // never touch the stub itself
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return errReleased
	}
	as.pending = append(as.pending, request{nr: unix.SYS_MUNMAP, args: [6]uint64{addr, length}})
	return as.flushAnywhereLocked()
}

var errReleased = errors.New("ptrace: address space released")

// flushAnywhereLocked runs the queue through the caller's own stub thread
// if the caller is a context's goroutine with one here (cheapest), else
// through the factory and the main thread.
//
// Preconditions: as.mu is held.
func (as *AddressSpace) flushAnywhereLocked() error {
	if tid, ok := as.threads[unix.Gettid()]; ok {
		// Only the goroutine locked to this OS thread can be running here,
		// and it is not inside Switch, so its stub thread is stopped.
		return as.flushLocked(tid)
	}
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
			return fmt.Errorf("ptrace: flush mappings (stub killed): %w", err)
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

// newThread clones a stub thread in this address space for the calling
// context's OS thread, which becomes its tracer.
//
// Preconditions: runs on the goroutine locked to tracer (the caller's OS
// thread).
func (as *AddressSpace) newThread(tracer, cpu int) (int, error) {
	as.mu.Lock()
	released := as.released
	as.mu.Unlock()
	if released {
		return 0, errReleased
	}
	as.mu.Lock()
	var tid int
	if n := len(as.parked); n > 0 {
		// Cloned ahead (see park): no trip to the factory thread.
		tid, as.parked = as.parked[n-1], as.parked[:n-1]
	}
	as.mu.Unlock()
	if tid == 0 {
		var err error
		if tid, err = as.cloneOnFactory(); err != nil {
			return 0, err
		}
	}
	// The child parks in pause(); attach and stop it from this thread.
	if err := stubproc.Seize(tid, stubproc.TraceOptions); err != nil {
		unix.Tgkill(as.pid, tid, unix.SIGKILL)
		return 0, fmt.Errorf("ptrace: seize stub thread %d: %w", tid, err)
	}
	if err := unix.PtraceInterrupt(tid); err != nil {
		return 0, fmt.Errorf("ptrace: interrupt stub thread %d: %w", tid, err)
	}
	for {
		st, err := stubproc.WaitStop(tid)
		if err != nil {
			return 0, err
		}
		if st.Exited {
			return 0, fmt.Errorf("ptrace: stub thread %d died while attaching", tid)
		}
		if st.Event == unix.PTRACE_EVENT_STOP {
			break
		}
		stubproc.Resume(unix.PTRACE_CONT, tid)
	}
	if err := pinThread(tid, cpu); err != nil {
		return 0, fmt.Errorf("ptrace: pin stub thread: %w", err)
	}
	as.mu.Lock()
	as.threads[tracer] = tid
	as.mu.Unlock()
	return tid, nil
}

// cloneOnFactory clones a stub thread, parked in pause() and not traced,
// by an injection into the stub's main thread (whose tracer is the factory
// thread).
func (as *AddressSpace) cloneOnFactory() (int, error) {
	var tid int
	var err error
	ferr := as.p.fac.do(func() {
		regs := stubproc.InjectRegs(siteClone)
		regs.Rax = unix.SYS_CLONE
		regs.Rdi = cloneFlags
		// RAX will hold the tid inside the stub's PID namespace; the
		// clone event gives it as uk sees it.
		err = stubproc.RunInjectedEvents(as.pid, &regs, siteClone+0x11, func(event int, msg uint) {
			if event == unix.PTRACE_EVENT_CLONE {
				tid = int(msg)
			}
		})
		if err != nil {
			return
		}
		if e := stubproc.ErrnoOf(regs.Rax); e != nil {
			err = fmt.Errorf("clone: %w", e)
			return
		}
		if tid == 0 {
			err = fmt.Errorf("clone: no clone event")
			return
		}
		// The thread was attached to this (the factory) thread at birth
		// and stops with SIGSTOP before its first instruction. Let it go
		// (the SIGSTOP suppressed) into pause(), for the context that
		// takes it to seize from its own thread.
		if err = stubproc.WaitNewTracee(tid); err == nil {
			err = unix.PtraceDetach(tid)
		}
		if err != nil {
			unix.Tgkill(as.pid, tid, unix.SIGKILL)
			err = fmt.Errorf("hand over new thread %d: %w", tid, err)
		}
	})
	if ferr != nil {
		err = ferr
	}
	if err != nil {
		return 0, fmt.Errorf("ptrace: new stub thread: %w", err)
	}
	return tid, nil
}

// park clones a stub thread ahead of need, for the next newThread to take
// without a trip to the factory thread (which may be busy starting a stub).
func (as *AddressSpace) park() error {
	tid, err := as.cloneOnFactory()
	if err != nil {
		return err
	}
	as.mu.Lock()
	as.parked = append(as.parked, tid)
	as.mu.Unlock()
	return nil
}

// forgetThread drops the record of tracer's stub thread.
func (as *AddressSpace) forgetThread(tracer int) {
	as.mu.Lock()
	delete(as.threads, tracer)
	as.mu.Unlock()
}

// Release kills the stub process and reaps its threads (now or, for threads
// still exiting, at a later Release).
func (as *AddressSpace) Release() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return
	}
	as.released = true
	as.pending = nil
	dead := []int{as.pid}
	for _, tid := range as.threads {
		dead = append(dead, tid)
	}
	as.mu.Unlock()
	unix.Kill(as.pid, unix.SIGKILL)
	as.p.reqs.put(as.slot)
	as.p.mu.Lock()
	delete(as.p.spaces, as)
	as.p.mu.Unlock()
	as.p.reap(dead...)
}
