package stubproc

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// Space is what every platform's address space has of its stub process:
// the stub, forked from the master, whose main thread (Pid) is traced by
// the factory thread, never runs application code and only ever serves
// injected system calls; its request page; and the queue of mapping
// changes not yet made in it. A platform's AddressSpace embeds it, adds
// its stub threads, and protects its own fields with Mu too.
type Space struct {
	h *Host
	// Pid is the stub process, and its main thread (host pid).
	Pid int
	// Limit is the platform's MaxUserAddress: MapFile refuses and Unmap
	// ignores what lies above it (the platform's and the stub's own).
	Limit uint64
	slot  int    // its page in the request file
	req   []byte // uk's view of the request page (read-only in the stub)
	// server is the stub's serving thread (serve.go), or nil: then
	// batches are injected into a traced edit thread. Used under Mu.
	server *server
	// cpu is the CPU the main thread is pinned to (Config.FollowCaller),
	// or -1. Used only on the factory thread.
	cpu int

	// FlushHere, if set, returns a stub thread of this space that the
	// calling OS thread traces and that is stopped, through which the
	// queue may run without a trip to the factory thread (ptrace: the
	// caller's own). Called with Mu held.
	FlushHere func() (tid int, ok bool)

	// Mu protects pending and released, and the embedding platform's own
	// fields of this address space.
	Mu       sync.Mutex
	pending  []Request // queued mapping changes, in order; protected by Mu
	released bool      // protected by Mu
	// gone mirrors released for Released, which takes no lock: a
	// context that moves to a new address space (a vfork child's execve)
	// asks whether its old ones are gone, and the old one's Mu may be
	// held for a whole stub-thread creation (a thread parked in the
	// background), which kept a shell's spawns waiting 110-170 us each.
	gone atomic.Bool
	// hostSock is uk's end of the stub's host-file socket (hostfiles.go),
	// -1 if none; hostFDs are the host files installed in the stub, with
	// their fds there; queuedInstalls counts the installs the next batch
	// makes. Protected by Mu.
	hostSock       int
	hostFDs        map[platform.HostFile]uint64
	queuedInstalls int
	// quiet is set, under Mu, while nothing pending must be installed
	// before a switch and the space is live: a Switch's Flush, which
	// finds it so nearly always, then takes no lock (a thread being
	// parked holds Mu while the factory makes it).
	quiet atomic.Bool

	// Mappings made ahead of need (ahead.go). nextAhead is MapNextAhead's
	// mark for the next mapping call; must is set while pending holds a
	// request that is not such a mapping; ahead are the ranges of those
	// pending, and aheadN their number, read without Mu. Protected by Mu
	// (but nextAhead and aheadN).
	nextAhead atomic.Bool
	must      bool
	ahead     []aheadRange
	aheadN    atomic.Int32
}

// noteLocked updates quiet after a change of pending or released.
//
// Preconditions: Mu is held.
func (s *Space) noteLocked() {
	s.quiet.Store((len(s.pending) == 0 || !s.must) && !s.released)
	s.aheadN.Store(int32(len(s.ahead)))
}

// NewSpace forks a stub process from the master, on the factory thread,
// for an address space whose application owns [0, limit).
func (h *Host) NewSpace(limit uint64) (*Space, error) {
	slot, err := h.reqs.get()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.cfg.Name, err)
	}
	var pid, cpu, sock int
	var sv *server
	if ferr := h.fac.do(func() {
		pid, sv, sock, err = h.forkStub(slot)
		cpu = h.masterCPU // the fork inherits the master's pin
	}); ferr != nil {
		err = ferr
	}
	if err != nil {
		h.reqs.put(slot)
		return nil, fmt.Errorf("%s: %w", h.cfg.Name, err)
	}
	s := &Space{h: h, Pid: pid, Limit: limit, slot: slot, req: h.reqs.page(slot), cpu: cpu, server: sv, hostSock: sock}
	s.quiet.Store(true)
	return s, nil
}

// CPUTime implements platform.CPUClocker: the host's CPU clock of the
// stub process (all its threads: the application's, and the serving
// thread's mapping work done for it). A renewed stub keeps counting.
func (s *Space) CPUTime() (int64, bool) {
	// Linux's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED); any process's
	// is readable.
	id := int32(^uint32(s.Pid)<<3 | 2)
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}

// ReqPage returns uk's view of the space's request page below its control
// words (which the serving thread watches). It may be used only with Mu
// held (flushes use it too), and must be left cleared.
func (s *Space) ReqPage() []byte { return s.req[:CtlSeq:CtlSeq] }

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

// MapFile queues a mapping of the memory file; it is installed before the
// next Switch into this address space resumes application code.
//
// A writable or small mapping is populated (MAP_POPULATE): uk maps what it
// expects the application to touch (an anonymous fault's run, a data
// segment copied whole, a new program's first pages), and setting up the
// page tables in the mmap (0.37 us a page here) costs less than the host
// faults the stub would otherwise take one by one (each an exception into
// a hypervisor on a VM). A read-only mapping larger than populateMax is
// not: those are file windows mapped ahead (a fault's 2 MiB window of a
// library's text, a whole segment at exec, the shared pages a fork's child
// may read), most of which the program never touches; the host maps their
// pages at its first touch, 16 at a time (fault-around), without uk. The
// pages themselves exist already or are ones uk has handed out. Pages the
// host has not backed yet come through MapFileLazy instead: populating
// them would allocate every one.
func (s *Space) MapFile(addr uint64, off int64, length uint64, access platform.Access) error {
	flags := uint64(MapFlags)
	if access&platform.Write == 0 && length > populateMax {
		flags = MapFlagsLazy
	}
	return s.queueMap(addr, off, length, access, flags)
}

// MapFileLazy implements platform.LazyMapper: MapFile never populated.
// Measured with a program writing one byte every 2 MiB of fresh anonymous
// memory (each write a fault whose 64 KiB window is 16 cold pages): 70-90
// us a fault populated, 17-32 lazily (sigsys, ptrace); filling fresh
// memory page by page costs the same either way (2.2-3.6 us a page).
func (s *Space) MapFileLazy(addr uint64, off int64, length uint64, access platform.Access) error {
	return s.queueMap(addr, off, length, access, MapFlagsLazy)
}

// Protect implements platform.Protector: an mprotect in the next batch,
// run by the stub's own thread like an mmap record (an application
// thread's mprotect traps, as all its syscalls do).
func (s *Space) Protect(addr, length uint64, access platform.Access) error {
	s.nextAhead.Store(false)
	if empty, err := s.checkMap("Protect", addr, 0, length); empty || err != nil {
		return err
	}
	return s.queue(Request{Nr: unix.SYS_MPROTECT, Args: [6]uint64{addr, length, protOf(access)}}, false)
}

// checkMap checks the arguments of a mapping (op names the call in the
// error): page aligned, below Limit. empty reports one of no length.
func (s *Space) checkMap(op string, addr uint64, off int64, length uint64) (empty bool, err error) {
	if addr&arch.PageMask != 0 || off&arch.PageMask != 0 || length&arch.PageMask != 0 {
		return false, fmt.Errorf("%s: %s(%#x, %#x, %#x): %w", s.h.cfg.Name, op, addr, off, length, unix.EINVAL)
	}
	if length == 0 {
		return true, nil
	}
	if addr >= s.Limit || length > s.Limit-addr {
		return false, fmt.Errorf("%s: %s(%#x, %#x): beyond MaxUserAddress: %w", s.h.cfg.Name, op, addr, length, unix.EINVAL)
	}
	return false, nil
}

// queueMap is MapFile with the mmap flags chosen.
func (s *Space) queueMap(addr uint64, off int64, length uint64, access platform.Access, flags uint64) error {
	ahead := s.takeAhead()
	if empty, err := s.checkMap("MapFile", addr, off, length); empty || err != nil {
		return err
	}
	return s.queue(Request{Nr: unix.SYS_MMAP, Args: [6]uint64{
		addr, length, protOf(access), flags, MemFDInStub, uint64(off)}}, ahead)
}

// queue adds r to the next batch, running the batch now if it is full;
// ahead says r is a mapping that may wait (ahead.go).
func (s *Space) queue(r Request, ahead bool) error {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return s.ErrReleased()
	}
	defer s.noteLocked()
	s.appendLocked(ahead, r)
	if len(s.pending) >= MaxBatch {
		return s.flushAnywhereLocked()
	}
	return nil
}

// Unmap removes mappings in [addr, addr+length); when it returns, no stub
// thread can reach the old pages.
func (s *Space) Unmap(addr, length uint64) error {
	if addr&arch.PageMask != 0 {
		return fmt.Errorf("%s: Unmap(%#x): %w", s.h.cfg.Name, addr, unix.EINVAL)
	}
	length, ok := arch.PageRoundUp(length)
	if !ok {
		return fmt.Errorf("%s: Unmap(%#x, %#x): %w", s.h.cfg.Name, addr, length, unix.EINVAL)
	}
	if addr >= s.Limit || length == 0 {
		return nil
	}
	if length > s.Limit-addr {
		length = s.Limit - addr // never touch the platform's or the stub's own
	}
	s.nextAhead.Store(false)
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return s.ErrReleased()
	}
	defer s.noteLocked()
	s.pending = append(s.pending, Request{Nr: unix.SYS_MUNMAP, Args: [6]uint64{addr, length}})
	return s.flushAnywhereLocked()
}

// populateMax is the largest read-only mapping MapFile populates: 4
// pages. Populating costs 0.37 us a page of present pages (190 us for a
// 2 MiB window); an unpopulated mapping costs ~4 us plus ~3.7 us a 64 KiB
// block actually touched (one host fault, which maps up to 16 pages
// around it), measured on the 2-CPU VM, 2026-12-03. So populating pays
// only for runs that small; above it, a window touched in one block
// already costs less unpopulated (64 KiB: ~6 us populated against one
// fault), and one touched nowhere costs nothing.
const populateMax = 16 << 10

// ErrReleased is the error of operations on a released address space.
func (s *Space) ErrReleased() error {
	return fmt.Errorf("%s: address space released", s.h.cfg.Name)
}

// Released reports whether the space has been released, without taking
// Mu.
func (s *Space) Released() bool { return s.gone.Load() }

// ReleasedLocked is Released with Mu held.
func (s *Space) ReleasedLocked() bool { return s.released }

// Flush runs the queue before a switch into the space: through tid, a
// stopped stub thread the caller traces, or, with tid 0, anywhere
// (flushAnywhereLocked). It fails on a released space.
func (s *Space) Flush(tid int) error {
	if s.quiet.Load() {
		return nil
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return s.ErrReleased()
	}
	if len(s.pending) == 0 || !s.must {
		return nil
	}
	if tid == 0 {
		return s.flushAnywhereLocked()
	}
	return s.flushLocked(tid)
}

// flushAnywhereLocked runs the queue through the serving thread if there
// is one (cheapest), else through FlushHere's thread if there is one, else
// through the factory and the main thread.
//
// Preconditions: Mu is held.
func (s *Space) flushAnywhereLocked() error {
	if s.server != nil {
		return s.runQueueLocked(s.serveLocked)
	}
	if s.FlushHere != nil {
		if tid, ok := s.FlushHere(); ok {
			return s.flushLocked(tid)
		}
	}
	var err error
	if ferr := s.h.fac.do(func() {
		s.h.follow(s.Pid, &s.cpu)
		err = s.flushLocked(s.Pid)
	}); ferr != nil {
		return ferr
	}
	return err
}

// flushLocked runs all queued requests in stub thread tid, in batches that
// fit the request page.
//
// Preconditions: Mu is held; the caller is tid's tracer; tid is stopped.
func (s *Space) flushLocked(tid int) error {
	return s.runQueueLocked(func(reqs []Request) error { return RunBatch(tid, s.req, reqs) })
}

// runQueueLocked runs all queued requests with run, in batches that fit
// the request page.
//
// Preconditions: Mu is held; run may use the request page.
func (s *Space) runQueueLocked(run func([]Request) error) error {
	defer s.noteLocked()
	for len(s.pending) > 0 {
		n := min(len(s.pending), MaxBatch)
		err := run(s.pending[:n])
		if err != nil {
			// The requests after the failed one did not run, unmaps
			// among them: the stub may still reach pages uk is about to
			// free. Nothing may run in it again, so kill it (Release
			// reaps it later); every use from now on fails.
			s.pending = s.pending[:0]
			s.ranLocked()
			unix.Kill(s.Pid, unix.SIGKILL)
			return fmt.Errorf("%s: flush mappings (stub killed): %w", s.h.cfg.Name, err)
		}
		s.pending = s.pending[:copy(s.pending, s.pending[n:])]
	}
	s.queuedInstalls = 0
	s.ranLocked()
	return nil
}

// CloneThread clones a stub thread from the main thread by an injection.
// The new thread is traced by the calling (the factory) thread from birth
// and is returned in its first stop, before its first instruction: the
// caller sets it up and detaches it. On an error the thread, if any, is
// killed (and with it the stub, whose address space is lost).
//
// Preconditions: runs on the factory thread (Host.Do).
func (s *Space) CloneThread() (int, error) {
	// The new thread starts on the factory's CPU too.
	s.h.follow(s.Pid, &s.cpu)
	return cloneStopped(s.Pid)
}

// cloneStopped clones a thread from stub pid's main thread by an injection
// and returns it in its first stop, before its first instruction: attached
// to this (the factory) thread at birth, it stops with SIGSTOP. On an
// error the thread, if any, is killed (and with it the stub).
//
// Preconditions: runs on the factory thread; pid is stopped.
func cloneStopped(pid int) (int, error) {
	tid, err := injectClone(pid, SiteClone, SiteCloneTrap, CloneFlags, unix.PTRACE_EVENT_CLONE)
	if err != nil {
		return 0, err
	}
	if err := WaitNewTracee(tid); err != nil {
		unix.Tgkill(pid, tid, unix.SIGKILL)
		return 0, fmt.Errorf("new thread %d: %w", tid, err)
	}
	return tid, nil
}

// Release marks the space released, with locked (if set) run under Mu
// for the platform's own state, kills the stub and gives its request page
// back. It reports false, doing nothing, if the space was released already.
// The caller reaps the stub (Host.Reap).
func (s *Space) Release(locked func()) bool {
	if !s.markReleased(locked) {
		return false
	}
	unix.Kill(s.Pid, unix.SIGKILL)
	s.h.reqs.put(s.slot)
	return true
}

// ReleaseThen is Release, except that the stub is killed and reaped in
// the background: threads (the stub's traced threads) and then its main
// thread are reaped (Host.ReapThen), its request page is given back, and
// done is called, from another goroutine, once no thread of the stub is
// left. The caller does not wait for the host's kill (tens of
// microseconds: it wakes every thread of the stub) or the teardown. It
// reports false, calling done at once from another goroutine, if the space
// was released already.
func (s *Space) ReleaseThen(locked func(), threads func() []int, done func()) bool {
	if !s.markReleased(locked) {
		go done()
		return false
	}
	tids := append(threads(), s.Pid)
	go func() {
		if !s.h.killStub(s.Pid) {
			// Closed meanwhile: every stub dies with the master.
			s.h.ReapThen(done, tids...)
			return
		}
		s.h.ReapThen(func() {
			s.h.putRequestPage(s.slot)
			done()
		}, tids...)
		// Off the exit's path: collect the stubs killed before, which
		// have had time to die.
		s.h.Reap()
	}()
	return true
}

// markReleased marks the space released, with locked run under Mu; false
// if it was already.
func (s *Space) markReleased(locked func()) bool {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return false
	}
	s.released = true
	s.gone.Store(true)
	s.pending = nil
	s.ranLocked()
	s.closeHostSockLocked()
	s.noteLocked()
	if s.server != nil {
		// No batch runs (that takes Mu): the thread sleeps, and dies
		// with its stub.
		s.server.close()
		s.server = nil
	}
	if locked != nil {
		locked()
	}
	return true
}
