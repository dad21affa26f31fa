package kernel

import "testing"

// An unset I/O priority reads 0 for the thread, and its effective one
// follows the policy and the nice value; a zombie's own is gone.
func TestEffectiveIOPrio(t *testing.T) {
	for _, c := range []struct {
		attr      SchedAttr
		own, want uint16
	}{
		{SchedAttr{}, 0, 2<<13 | 4},
		{SchedAttr{Nice: 19}, 0, 2<<13 | 7},
		{SchedAttr{Nice: -20}, 0, 2<<13 | 0},
		{SchedAttr{Nice: -16}, 0, 2<<13 | 0},
		{SchedAttr{Nice: -15}, 0, 2<<13 | 1},
		{SchedAttr{Policy: SchedIdle, Nice: 7}, 0, 3<<13 | 5},
		{SchedAttr{Policy: SchedFIFO, RTPriority: 3, Nice: 3}, 0, 1<<13 | 4},
		{SchedAttr{Policy: SchedDeadline}, 0, 1<<13 | 4},
		{SchedAttr{Policy: SchedBatch}, 0, 2<<13 | 4},
		{SchedAttr{IOPrio: 1 << 3}, 1 << 3, 2<<13 | 4}, // a hint without a class
		{SchedAttr{IOPrio: 3<<13 | 5, Nice: -20}, 3<<13 | 5, 3<<13 | 5},
	} {
		task := &Task{sched: c.attr}
		live := task.SchedTarget()
		if own, eff := live.IOPrio(), live.EffectiveIOPrio(); own != c.own || eff != c.want {
			t.Errorf("%+v: IOPrio %#x, EffectiveIOPrio %#x; want %#x, %#x", c.attr, own, eff, c.own, c.want)
		}
		zombie := SchedTarget{attr: c.attr}
		a := c.attr
		a.IOPrio = 0
		want := (&Task{sched: a}).SchedTarget().EffectiveIOPrio()
		if own, eff := zombie.IOPrio(), zombie.EffectiveIOPrio(); own != 0 || eff != want {
			t.Errorf("zombie %+v: IOPrio %#x, EffectiveIOPrio %#x; want 0, %#x", c.attr, own, eff, want)
		}
	}
}

// A fork inherits an I/O priority with a class only, and SetSched leaves
// the I/O priority as SetIOPrio set it.
func TestIOPrioForkAndSetSched(t *testing.T) {
	for prio, want := range map[uint16]uint16{0: 0, 1 << 3: 0, 2<<13 | 3: 2<<13 | 3, 3 << 13: 3 << 13} {
		if got := forkIOPrio(prio); got != want {
			t.Errorf("forkIOPrio(%#x) = %#x, want %#x", prio, got, want)
		}
	}
	task := &Task{}
	task.SchedTarget().SetIOPrio(2<<13 | 1)
	task.SetSched(SchedAttr{Nice: 4})
	if a := task.Sched(); a.IOPrio != 2<<13|1 || a.Nice != 4 {
		t.Errorf("after SetIOPrio and SetSched: %+v", a)
	}
}
