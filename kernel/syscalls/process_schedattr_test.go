package syscalls

import (
	"testing"

	"uk/kernel"
)

// struct sched_attr's fields land where Linux's layout has them, and read
// back as written.
func TestSchedAttrLayout(t *testing.T) {
	s := schedAttr{Size: 56, Policy: 6, Flags: 0x11, Nice: -3, Priority: 7, Runtime: 1 << 40,
		Deadline: 2 << 40, Period: 3 << 40, UtilMin: 100, UtilMax: 1024}
	b := s.encode()
	if len(b) != schedAttrSize || b[0] != 56 || b[4] != 6 || b[8] != 0x11 || b[16] != 0xfd || b[20] != 7 ||
		b[29] != 1 || b[37] != 2 || b[45] != 3 || b[48] != 100 || b[53] != 4 {
		t.Fatalf("encode = % x", b)
	}
	var got schedAttr
	got.decode(b)
	if got != s {
		t.Errorf("decode(encode(%+v)) = %+v", s, got)
	}
}

// The limits of __checkparam_dl, as schedattr.c finds them natively.
func TestValidDeadline(t *testing.T) {
	for _, c := range []struct {
		runtime, deadline, period, flags uint64
		want                             bool
	}{
		{1000000, 30000000, 30000000, 0, true},
		{1024, 100000, 0, 0, true},
		{1023, 100000, 0, 0, false},
		{1024, 1024, 0, 0, false},                     // period under 100 us
		{1000000, 0, 2000000, 0, false},               // no deadline
		{2000000, 1000000, 3000000, 0, false},         // runtime > deadline
		{1000000, 3000000, 2000000, 0, false},         // deadline > period
		{1000000, 3000000, dlMaxPeriod, 0, true},      // the longest period
		{1000000, 3000000, dlMaxPeriod + 1, 0, false}, // past it
		{1000000, 3000000, 1 << 63, 0, false},         // a sign bit
		{0, 0, 0, schedFlagSugov, true},               // schedutil's: not checked
		{1000000, 1 << 63, 0, 0, false},               // a sign bit in the deadline
		{100000, 20000000, 0, schedFlagReclaim, true}, // other flags change nothing
		{1000000, 100000000, 100000000, 0, true},
	} {
		s := schedAttr{Runtime: c.runtime, Deadline: c.deadline, Period: c.period, Flags: c.flags}
		if got := s.validDeadline(); got != c.want {
			t.Errorf("validDeadline(%+v) = %v, want %v", s, got, c.want)
		}
	}
}

// get_params reports the parameters of the thread's policy only.
func TestSchedAttrParams(t *testing.T) {
	dl := kernel.SchedAttr{Policy: kernel.SchedDeadline, Nice: 5,
		Deadline: kernel.DeadlineParams{Runtime: 1, Deadline: 2, Period: 3, Flags: schedFlagReclaim}}
	s := schedAttr{Flags: schedFlagResetOnFork | schedFlagDLOverrun}
	s.params(dl)
	if s.Nice != 0 || s.Runtime != 1 || s.Deadline != 2 || s.Period != 3 || s.Flags != schedFlagResetOnFork|schedFlagReclaim {
		t.Errorf("deadline: %+v", s)
	}
	s = schedAttr{}
	s.params(kernel.SchedAttr{Policy: kernel.SchedFIFO, RTPriority: 9, Nice: 5, Slice: 7})
	if s.Priority != 9 || s.Nice != 0 || s.Runtime != 0 {
		t.Errorf("fifo: %+v", s)
	}
	s = schedAttr{}
	s.params(kernel.SchedAttr{Policy: kernel.SchedIdle, Nice: 5})
	if s.Nice != 5 || s.Runtime != defaultSlice() || s.Runtime == 0 {
		t.Errorf("idle: %+v", s)
	}
}
