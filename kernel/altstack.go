package kernel

// AltStack is a sigaltstack(2) setting (stack_t).
type AltStack struct {
	Sp    uint64
	Flags int32
	Size  uint64
}

// ssOnStack is SS_ONSTACK, reported while running on the alternate stack.
const ssOnStack = 1

// AltStack returns the task's alternate signal stack, with SS_ONSTACK set
// when the task is running on it.
func (t *Task) AltStack() AltStack {
	t.mu.Lock()
	s := t.altStack
	t.mu.Unlock()
	if t.OnAltStack() {
		s.Flags |= ssOnStack
	}
	return s
}

// SetAltStack replaces the alternate signal stack.
func (t *Task) SetAltStack(s AltStack) {
	t.mu.Lock()
	t.altStack = s
	t.mu.Unlock()
}

// OnAltStack reports whether the stack pointer is inside the alternate
// signal stack.
func (t *Task) OnAltStack() bool {
	t.mu.Lock()
	s := t.altStack
	t.mu.Unlock()
	sp := t.State.Regs.Rsp
	return s.Size != 0 && sp > s.Sp && sp-s.Sp <= s.Size
}
