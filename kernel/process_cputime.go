package kernel

import (
	"sync"

	"uk/platform"
)

// processCPU counts a process's CPU time with the host's clock of the
// address spaces it runs in, where the platform has one
// (platform.CPUClocker: sigsys's and ptrace's stub processes): what the
// host measured for the stub from when the process began using it. A
// thread's time in Switch, which the other platforms count, also holds
// the time the thread waited for a host CPU: eight busy threads on two
// CPUs showed four times their CPU time that way.
//
// A vfork child shares its parent's address space until it execs, and
// both count that stub meanwhile: the parent, which waits, is charged
// the child's time before its exec.
type processCPU struct {
	mu sync.Mutex
	// as is the address space counted now: nil before the first one,
	// on a platform without host clocks, and once the process ended.
	as platform.CPUClocker // protected by mu
	// base is as's clock when the process began using it; last its
	// latest reading, kept for when it can no longer be read.
	base, last int64 // protected by mu
	// acc is the time on the address spaces used before as, and the
	// whole time once final.
	acc int64 // protected by mu
	// clocked is set once the process ran on an address space with a
	// clock: its CPU time is acc and as's, not its threads' time in
	// Switch.
	clocked bool // protected by mu
	final   bool // protected by mu
}

// useAddressSpace starts counting as's clock for the process (its first
// thread starts, or it execs into a new address space); the time on the
// one before is kept.
func (c *processCPU) useAddressSpace(as platform.AddressSpace) {
	ck, ok := as.(platform.CPUClocker)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.final || (ok && c.as == ck) {
		return
	}
	c.foldLocked()
	if !ok {
		return
	}
	if now, ok := ck.CPUTime(); ok {
		c.as, c.base, c.last, c.clocked = ck, now, now, true
	}
}

// foldLocked adds the time on the current address space to acc and stops
// counting it.
//
// Preconditions: c.mu is held.
func (c *processCPU) foldLocked() {
	if c.as == nil {
		return
	}
	c.acc += c.readLocked() - c.base
	c.as = nil
}

// readLocked reads the current address space's clock (its last reading
// if it cannot be read any more).
//
// Preconditions: c.mu is held; c.as is not nil.
func (c *processCPU) readLocked() int64 {
	if now, ok := c.as.CPUTime(); ok && now > c.last {
		c.last = now
	}
	return c.last
}

// hasClock reports whether the process's CPU time comes from host clocks
// (time's ok), without reading one.
func (c *processCPU) hasClock() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clocked
}

// time returns the process's CPU time from the host clocks, ok false if
// it never ran on an address space that has one.
func (c *processCPU) time() (ns int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.clocked {
		return 0, false
	}
	if c.as == nil {
		return c.acc, true
	}
	return c.acc + c.readLocked() - c.base, true
}

// finish stops the count for good: the process's last thread has left
// the application (its stub may go on serving another program).
func (c *processCPU) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.foldLocked()
	c.final = true
}
