package kernel

import (
	"testing"

	"uk/platform"
)

// fakeClockAS is an address space with a host CPU clock the test sets.
type fakeClockAS struct {
	platform.AddressSpace
	ns   int64
	dead bool
}

func (a *fakeClockAS) CPUTime() (int64, bool) { return a.ns, !a.dead }

// plainAS is an address space without a clock.
type plainAS struct{ platform.AddressSpace }

func TestProcessCPU(t *testing.T) {
	var c processCPU
	if _, ok := c.time(); ok {
		t.Fatal("a process that never ran has host CPU time")
	}
	c.useAddressSpace(plainAS{})
	if _, ok := c.time(); ok {
		t.Fatal("an address space without a clock gave host CPU time")
	}
	a := &fakeClockAS{ns: 1000} // a renewed stub: its clock did not start at 0
	c.useAddressSpace(a)
	a.ns = 1500
	if got, _ := c.time(); got != 500 {
		t.Errorf("after 500 ns on the first space: %d", got)
	}
	c.useAddressSpace(a) // another thread of the process starts: nothing changes
	if got, _ := c.time(); got != 500 {
		t.Errorf("a second thread's start changed the time: %d", got)
	}
	b := &fakeClockAS{ns: 7000} // exec into a new space
	a.ns = 1700
	c.useAddressSpace(b)
	a.ns = 9999 // the old stub serves someone else now
	b.ns = 7300
	if got, _ := c.time(); got != 700+300 {
		t.Errorf("after the exec: %d, want 1000", got)
	}
	b.dead = true // the stub is gone: its last reading stands
	if got, _ := c.time(); got != 1000 {
		t.Errorf("with the stub gone: %d, want 1000", got)
	}
	b.dead = false
	b.ns = 7400
	c.finish()
	b.ns = 9000 // renewed for the next program
	if got, _ := c.time(); got != 1100 {
		t.Errorf("after the end: %d, want 1100", got)
	}
	c.useAddressSpace(&fakeClockAS{ns: 5})
	if got, _ := c.time(); got != 1100 {
		t.Errorf("a finished count moved: %d", got)
	}
}
