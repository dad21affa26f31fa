package ptrace

import (
	"errors"
	"fmt"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// AddressSpace is one stub process. Its main thread (pid) is traced by the
// platform's factory thread and only ever serves injected system calls; each
// context that runs in it gets its own stub thread.
type AddressSpace struct {
	p   *Platform
	pid int    // the stub process, and its main thread
	req []byte // uk's mapping of the request page (read-only in the stub)

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

// newAddressSpace starts a stub process on the factory thread.
func (p *Platform) newAddressSpace() (*AddressSpace, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	reqFD, err := unix.MemfdCreate("uk-stub-requests", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("ptrace: request page memfd: %w", err)
	}
	defer unix.Close(reqFD)
	if err := unix.Ftruncate(reqFD, arch.PageSize); err != nil {
		return nil, fmt.Errorf("ptrace: size request page: %w", err)
	}
	req, err := unix.Mmap(reqFD, 0, arch.PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("ptrace: map request page: %w", err)
	}
	var pid int
	if ferr := p.fac.do(func() { pid, err = p.startStub(reqFD, req) }); ferr != nil {
		err = ferr
	}
	if err != nil {
		unix.Munmap(req)
		return nil, err
	}
	as := &AddressSpace{p: p, pid: pid, req: req, threads: make(map[int]int)}
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

// startStub execs a stub with the memory file as fd 3 and the request page
// as fd 4, and prepares its address space: everything but the stub's code
// unmapped, the request page mapped read-only, fd 4 closed.
//
// Preconditions: runs on the factory thread.
func (p *Platform) startStub(reqFD int, req []byte) (int, error) {
	var lastErr error
	// The kernel places the initial stack at a random address below the
	// top of the user range; in the rare case it lands on the stub's
	// fixed address, exec fails after the point of no return. Retry.
	for attempt := 0; attempt < 8; attempt++ {
		pid, err := p.execStub(reqFD)
		if err != nil {
			return 0, err
		}
		st, err := waitStop(pid)
		if err != nil {
			return 0, err
		}
		if st.exited || st.sig != int(unix.SIGTRAP) {
			lastErr = fmt.Errorf("stub did not reach its first instruction (status %#x)", uint32(st.status))
			unix.Kill(pid, unix.SIGKILL)
			wait4(pid, 0)
			continue
		}
		if err := setOptions(pid, traceOptions); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			wait4(pid, 0)
			return 0, fmt.Errorf("set ptrace options: %w", err)
		}
		if err := prepareStub(pid, req); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			wait4(pid, 0)
			return 0, err
		}
		return pid, nil
	}
	return 0, lastErr
}

// execStub forks and execs the stub image, traced from exec on.
func (p *Platform) execStub(reqFD int) (int, error) {
	closed := ^uintptr(0)
	attr := &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{closed, closed, closed, uintptr(p.memFD), uintptr(reqFD)},
		Sys: &syscall.SysProcAttr{
			Ptrace:    true,
			Setsid:    true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	// Empty network, IPC and UTS namespaces where the host lets us make
	// them: a stub that ever escaped uk's control would see no network.
	// (Not a PID namespace: tids returned by an injected clone would then
	// not be host tids.)
	if !p.noNS.Load() {
		attr.Sys.Cloneflags = unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS
	}
	path := fmt.Sprintf("/proc/self/fd/%d", p.exeFD)
	pid, err := syscall.ForkExec(path, []string{"uk-stub"}, attr)
	if err == syscall.EPERM && attr.Sys.Cloneflags != 0 {
		// Unprivileged: go without namespaces from now on.
		p.noNS.Store(true)
		attr.Sys.Cloneflags = 0
		pid, err = syscall.ForkExec(path, []string{"uk-stub"}, attr)
	}
	if err == syscall.EPERM {
		return 0, fmt.Errorf("start stub: PTRACE_TRACEME denied (seccomp, Yama ptrace_scope or no CAP_SYS_PTRACE): %w", err)
	}
	if err != nil {
		return 0, fmt.Errorf("start stub: %w", err)
	}
	return pid, nil
}

// prepareStub empties a fresh stub's address space around the stub code and
// maps the request page, closes every fd but the memory file, and installs
// the stub's seccomp filter. It takes two injections: the request page
// first, then everything else as one batch read from it (each injection is
// a host round trip, and they are on the path of every uk start).
func prepareStub(pid int, req []byte) error {
	// MAP_FIXED replaces whatever the kernel put there (its stack may
	// reach this high).
	r, err := injectSyscall(pid, unix.SYS_MMAP, reqPage, arch.PageSize, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, 4, 0)
	if err == nil {
		err = errnoOf(r)
	}
	if err != nil {
		return fmt.Errorf("prepare stub: map request page: %w", err)
	}
	filter, err := writeFilter(req)
	if err != nil {
		return fmt.Errorf("prepare stub: %w", err)
	}
	defer clear(req)
	steps := []request{
		// Everything below the stub: the kernel's stack, vDSO, vvar.
		{nr: unix.SYS_MUNMAP, args: [6]uint64{0, stubBase}},
		// Everything above the request page, should the stack be there.
		{nr: unix.SYS_MUNMAP, args: [6]uint64{reqPage + arch.PageSize, stubEnd - reqPage - arch.PageSize}},
		// The request fd, and any fd uk inherited without O_CLOEXEC and
		// so passed on through exec: the stub keeps only fd 3.
		{nr: unix.SYS_CLOSE_RANGE, args: [6]uint64{4, 1<<32 - 1, 0}},
		// No new privileges is required for an unprivileged filter and
		// harmless otherwise.
		{nr: unix.SYS_PRCTL, args: [6]uint64{unix.PR_SET_NO_NEW_PRIVS, 1}},
		{nr: unix.SYS_SECCOMP, args: [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, filter}},
	}
	if err := runBatch(pid, req, steps); err != nil {
		return fmt.Errorf("prepare stub: %w", err)
	}
	return nil
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
	regs := injectRegs(siteBatch)
	regs.Rbx = reqPage
	regs.R12 = uint64(len(reqs))
	if err := runInjected(tid, &regs, siteBatch+0x31); err != nil {
		return err
	}
	if regs.R12 != 0 {
		failed := reqs[len(reqs)-int(regs.R12)]
		return fmt.Errorf("stub syscall %d(%#x, %#x): %w", failed.nr, failed.args[0], failed.args[1], errnoOf(regs.Rax))
	}
	return nil
}

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
	if err := seize(tid, traceOptions); err != nil {
		unix.Tgkill(as.pid, tid, unix.SIGKILL)
		return 0, fmt.Errorf("ptrace: seize stub thread %d: %w", tid, err)
	}
	if err := unix.PtraceInterrupt(tid); err != nil {
		return 0, fmt.Errorf("ptrace: interrupt stub thread %d: %w", tid, err)
	}
	for {
		st, err := waitStop(tid)
		if err != nil {
			return 0, err
		}
		if st.exited {
			return 0, fmt.Errorf("ptrace: stub thread %d died while attaching", tid)
		}
		if st.event == unix.PTRACE_EVENT_STOP {
			break
		}
		resume(unix.PTRACE_CONT, tid)
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
		regs := injectRegs(siteClone)
		regs.Rax = unix.SYS_CLONE
		regs.Rdi = cloneFlags
		if err = runInjected(as.pid, &regs, siteClone+0x11); err != nil {
			return
		}
		if e := errnoOf(regs.Rax); e != nil {
			err = fmt.Errorf("clone: %w", e)
			return
		}
		tid = int(regs.Rax)
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
	unix.Munmap(as.req)
	as.p.mu.Lock()
	delete(as.p.spaces, as)
	as.p.mu.Unlock()
	as.p.reap(dead...)
}
