package stubproc

import (
	"slices"
	"sync"

	"uk/platform"
)

// Spaces keeps a platform's live address spaces (T: its *AddressSpace),
// to release them all at Close, and spare ones ready ahead of need.
//
// The first spare is the address space that proved the platform works,
// later ones are started in the background once the sandbox has asked for
// a second address space (it forks or execs, and will likely again), or
// are the emptied stubs of processes that ended (Offer). A stub costs
// milliseconds to start; a fork or exec that finds one ready does not
// wait for them. At most maxSpares wait: a shell loop's child ends before
// the next one needs a stub, and its stub is then the next one's.
//
// Lock order: Spaces' lock before an address space's Space.Mu. Spaces
// never holds its lock while it makes, warms or releases an address space.
type Spaces[T interface {
	comparable
	platform.AddressSpace
}] struct {
	// New makes an address space and registers it with Add.
	New func() (T, error)
	// Warm, if set, readies a spare further (its first stub thread) so
	// that the task that gets it does not wait for the factory; a failure
	// is left to that task.
	Warm func(T)
	// Background, if set, is called first by the goroutine that starts a
	// spare, with the CPU the caller of Get ran on, and what it returns
	// last (Host.Background).
	Background func(callerCPU int) (done func())

	mu     sync.Mutex
	live   map[T]struct{} // protected by mu
	closed bool           // protected by mu
	spares []T            // protected by mu
	// refill is closed when the spare being started in the background is
	// ready (or failed); nil when none is. Protected by mu.
	refill chan struct{}
	// handedOut counts Get calls. Protected by mu.
	handedOut int
	// expected counts address spaces on their way back (Expect); Get
	// waits for one rather than make another. Protected by mu.
	expected int
	// changed is signalled when a spare arrives, a refill or an expected
	// one ends, or Close begins. Its L is &mu (set by cond).
	changed sync.Cond
}

// cond returns changed, tied to mu.
//
// Preconditions: mu is held.
func (s *Spaces[T]) cond() *sync.Cond {
	if s.changed.L == nil {
		s.changed.L = &s.mu
	}
	return &s.changed
}

// Add registers a new address space; false if the platform is closed
// (the caller then releases it).
func (s *Spaces[T]) Add(as T) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.live == nil {
		s.live = make(map[T]struct{})
	}
	s.live[as] = struct{}{}
	return true
}

// Remove forgets a released address space.
func (s *Spaces[T]) Remove(as T) {
	s.mu.Lock()
	delete(s.live, as)
	s.mu.Unlock()
}

// Closed reports whether Close has begun.
func (s *Spaces[T]) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// maxSpares bounds the address spaces kept ready.
const maxSpares = 2

// SetSpare makes as a spare (the probe's address space).
func (s *Spaces[T]) SetSpare(as T) {
	s.mu.Lock()
	s.spares = append(s.spares, as)
	s.mu.Unlock()
}

// Expect records that an address space is being emptied for a new
// program, to come back through Offer or Unexpect, and reports true; or
// reports false, recording nothing, if the platform is closed or has
// spares enough, counting those on their way.
func (s *Spaces[T]) Expect() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.spares)+s.expected >= maxSpares {
		return false
	}
	s.expected++
	return true
}

// Unexpect ends an Expect whose address space does not come back.
func (s *Spaces[T]) Unexpect() {
	s.mu.Lock()
	s.expected--
	s.cond().Broadcast()
	s.mu.Unlock()
}

// Offer ends an Expect: it keeps as, a registered address space emptied
// for a new program, as a spare; false if the platform is closed (or
// there are spares enough), and then the caller releases it.
func (s *Spaces[T]) Offer(as T) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expected--
	s.cond().Broadcast()
	if s.closed || len(s.spares) >= maxSpares {
		return false
	}
	s.spares = append(s.spares, as)
	return true
}

// Get hands out a spare (waiting for the one being started, if none is
// ready) or makes a new address space: Platform.NewAddressSpace. From the
// second call on, it also starts the next spare in the background when it
// took the last.
func (s *Spaces[T]) Get() (platform.AddressSpace, error) {
	var zero T
	s.mu.Lock()
	s.handedOut++
	for len(s.spares) == 0 && (s.refill != nil || s.expected > 0) && !s.closed {
		// One is nearly ready: waiting costs less than starting another.
		s.cond().Wait()
	}
	as := zero
	if len(s.spares) > 0 {
		// The oldest: the one most likely warmed already.
		as = s.spares[0]
		s.spares = slices.Delete(s.spares, 0, 1)
	}
	prefill := s.handedOut >= 2
	s.mu.Unlock()
	if as == zero {
		var err error
		if as, err = s.New(); err != nil {
			return nil, err
		}
	}
	if prefill {
		s.startRefill()
	}
	return as, nil
}

// startRefill starts a spare in the background unless there is one or one
// is being started.
func (s *Spaces[T]) startRefill() {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.spares) > 0 || s.refill != nil {
		return
	}
	done := make(chan struct{})
	s.refill = done
	cpu := currentCPU()
	go func() {
		if s.Background != nil {
			defer s.Background(cpu)()
		}
		as, err := s.New()
		if err == nil && !s.Closed() && s.Warm != nil {
			s.Warm(as)
		}
		s.mu.Lock()
		if err == nil && len(s.spares) < maxSpares && !s.closed {
			s.spares, as = append(s.spares, as), zero
		}
		s.refill = nil
		close(done)
		s.cond().Broadcast()
		s.mu.Unlock()
		if err == nil && as != zero {
			as.Release() // not wanted after all (closed meanwhile, or enough spares)
		}
	}()
}

// Close releases every live address space, once; it reports false if
// Close had begun already. A spare being started finishes first (it sees
// the platform closed and releases its stub): shutting the factory down
// under its clone would leave both waiting on each other.
func (s *Spaces[T]) Close() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed = true
	s.spares = nil
	s.cond().Broadcast()
	if refill := s.refill; refill != nil {
		s.mu.Unlock()
		<-refill
		s.mu.Lock()
	}
	var spaces []T
	for as := range s.live {
		spaces = append(spaces, as)
	}
	s.mu.Unlock()
	for _, as := range spaces {
		as.Release()
	}
	return true
}
