package stubproc

import (
	"sync"

	"uk/platform"
)

// Spaces keeps a platform's live address spaces (T: its *AddressSpace),
// to release them all at Close, and a spare one started ahead of need.
//
// The spare is first the address space that proved the platform works,
// later one started in the background once the sandbox has asked for a
// second address space (it forks or execs, and will likely again). A stub
// costs milliseconds to start; a fork or exec that finds one ready does
// not wait for them.
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
	spare  T              // zero if none; protected by mu
	// refill is closed when the spare being started in the background is
	// ready (or failed); nil when none is. Protected by mu.
	refill chan struct{}
	// handedOut counts Get calls. Protected by mu.
	handedOut int
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

// SetSpare makes as the spare (the probe's address space).
func (s *Spaces[T]) SetSpare(as T) {
	s.mu.Lock()
	s.spare = as
	s.mu.Unlock()
}

// Get hands out the spare (waiting for the one being started, if any) or
// makes a new address space: Platform.NewAddressSpace. From the second
// call on, it also starts the next spare in the background.
func (s *Spaces[T]) Get() (platform.AddressSpace, error) {
	var zero T
	s.mu.Lock()
	s.handedOut++
	if s.spare == zero && s.refill != nil {
		// One is nearly ready: waiting costs less than starting another.
		wait := s.refill
		s.mu.Unlock()
		<-wait
		s.mu.Lock()
	}
	as := s.spare
	s.spare = zero
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
	if s.closed || s.spare != zero || s.refill != nil {
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
		if err == nil && s.spare == zero && !s.closed {
			s.spare, as = as, zero
		}
		s.refill = nil
		close(done)
		s.mu.Unlock()
		if err == nil && as != zero {
			as.Release() // not wanted after all (closed meanwhile)
		}
	}()
}

// Close releases every live address space, once; it reports false if
// Close had begun already. A spare being started finishes first (it sees
// the platform closed and releases its stub): shutting the factory down
// under its clone would leave both waiting on each other.
func (s *Spaces[T]) Close() bool {
	var zero T
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed = true
	s.spare = zero
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
