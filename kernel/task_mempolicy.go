package kernel

import "uk/kernel/mm"

// MemPolicy is the thread's NUMA policy (set_mempolicy). Only the task's
// own syscalls call it and SetMemPolicy.
func (t *Task) MemPolicy() mm.MemPolicy { return t.memPolicy }

// SetMemPolicy sets the thread's NUMA policy.
func (t *Task) SetMemPolicy(p mm.MemPolicy) { t.memPolicy = p }
