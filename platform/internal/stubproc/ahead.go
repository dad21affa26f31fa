package stubproc

import "golang.org/x/sys/unix"

// Mappings made ahead of need (platform.AheadMapper).
//
// Every batch is a round trip to the stub's serving thread, and at a
// switch the queue used to go out whatever it held. A dynamic program's
// start is a run of mmap calls (ld.so maps each library in four or five,
// the kernel queues a prefault with each) that the program touches only
// afterwards: one batch a call. A mapping the kernel makes ahead of need
// into a range where nothing is mapped may instead wait in the queue:
// until a request that must be in place before the program runs (an
// unmap, a change of rights, a fault's or an exec's mapping) takes the
// whole queue out in order, or until the program touches the range: the
// host raises a fault there, which the platform hands to FlushAheadAt
// before the kernel sees it, and resumes the program once the queue is
// in. Nothing can reach the wrong pages meanwhile: where such a mapping
// waits, the host maps nothing at all.
//
// A fault the platform does not resolve so (one in a range of a
// different kind, or a platform that never asks) reaches the kernel as
// any fault does, which maps the page again with a request that must go
// out: only a request too many.

// aheadRange is the range [start, end) of a queued mapping that may wait.
type aheadRange struct{ start, end uint64 }

// MapNextAhead implements platform.AheadMapper, on a platform that set
// Config.MapAhead: the next MapFile, MapFileLazy or MapHostFile call may
// wait. Any other call on the space (Protect, Unmap) drops the mark.
func (s *Space) MapNextAhead() {
	if s.h.cfg.MapAhead {
		s.nextAhead.Store(true)
	}
}

// takeAhead takes MapNextAhead's mark.
func (s *Space) takeAhead() bool { return s.nextAhead.Swap(false) }

// appendLocked queues rs; ahead says they are a mapping that may wait
// (and whatever installs it needs).
//
// Preconditions: Mu is held; the space is live.
func (s *Space) appendLocked(ahead bool, rs ...Request) {
	s.pending = append(s.pending, rs...)
	if !ahead {
		s.must = true
		return
	}
	for _, r := range rs {
		if r.Nr == unix.SYS_MMAP {
			s.ahead = append(s.ahead, aheadRange{r.Args[0], r.Args[0] + r.Args[1]})
		}
	}
}

// ranLocked notes that the queue has gone out (or was dropped); the
// caller then updates quiet (noteLocked).
//
// Preconditions: Mu is held.
func (s *Space) ranLocked() {
	s.must = false
	s.ahead = s.ahead[:0]
}

// FlushAheadAt is the platform's look at a fault at addr before the kernel
// sees it: if a mapping waiting in the queue covers addr, it runs the
// queue and reports true (the program may be resumed as it was: the
// access is retried). False means the fault is the kernel's.
func (s *Space) FlushAheadAt(addr uint64) (bool, error) {
	if s.aheadN.Load() == 0 {
		return false, nil
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return false, nil
	}
	for _, r := range s.ahead {
		if addr >= r.start && addr < r.end {
			return true, s.flushAnywhereLocked()
		}
	}
	return false, nil
}
