package kernel

import (
	"uk/kernel/futex"
	"uk/kernel/mm"
)

// futexSpace is a task's memory as the futex package sees it.
type futexSpace struct{ m *mm.MM }

// Key names the futex word at addr: private futexes by (address space,
// address); shared ones by the memory-file offset when the page is
// shared, so every process mapping it meets the same futex.
func (s futexSpace) Key(addr uint64, private bool) (futex.Key, error) {
	if private {
		return futex.PrivateKey(s.m, addr), nil
	}
	off, shared, err := s.m.SharedOffset(addr)
	if err != nil {
		return futex.Key{}, err
	}
	if shared {
		return futex.SharedKey(off), nil
	}
	return futex.ProcessKey(s.m, addr), nil
}

// Bytes implements futex.Translator.
func (s futexSpace) Bytes(addr uint64, n int, write bool) ([]byte, error) {
	return s.m.KernelBytes(addr, n, write)
}

// FutexMemory returns the task's memory for futex operations. Its waits
// let go of the task's OS thread where the platform allows (futex.Parker).
func (t *Task) FutexMemory() futex.Memory {
	return parkingMemory{futex.BytesMemory(futexSpace{t.MM}), t}
}

// parkingMemory is a task's futex memory whose waits unbind the task's OS
// thread (Task.unbind), as Task.Block does: a futex wake then costs one
// host wake-up, not two.
type parkingMemory struct {
	futex.Memory
	t *Task
}

// Park implements futex.Parker; only the task's own goroutine waits.
func (m parkingMemory) Park() func() {
	m.t.sleepBegin() // asleep: /proc shows 'S'
	if m.t.unbind() {
		return m.t.wakeRelock
	}
	return m.t.wake1
}

// Futexes is the sandbox's futex manager.
func (k *Kernel) Futexes() *futex.Manager { return k.futexes }

// Interrupt is the channel a blocking operation watches for signals.
func (t *Task) Interrupt() <-chan struct{} { return t.interrupt }

// futexWake wakes up to n waiters on the futex word at addr.
func (k *Kernel) futexWake(t *Task, addr uint64, private bool, n int) {
	k.futexes.Wake(t.FutexMemory(), addr, private, n, futex.BitsetMatchAny)
}

// futexExitRobustList releases the robust futexes a dying thread holds.
func (k *Kernel) futexExitRobustList(t *Task, head uint64) {
	k.futexes.ExitRobustList(t.FutexMemory(), head, t.tid)
}

// ThreadExists implements futex.PIOwners.
func (k *Kernel) ThreadExists(tid uint32) bool {
	return tid <= 1<<31-1 && k.TaskByTID(int32(tid)) != nil
}
