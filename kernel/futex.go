package kernel

// futexWake wakes up to n waiters on the futex word at addr.
func (k *Kernel) futexWake(t *Task, addr uint64, shared bool, n int) {}

// futexExitRobustList releases the robust futexes a dying thread holds.
func (k *Kernel) futexExitRobustList(t *Task, head uint64) {}
