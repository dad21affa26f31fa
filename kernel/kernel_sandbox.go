package kernel

import "uk/arch"

// CPUTotal is the CPU time every task of the sandbox has used, those gone
// included, in ns: what --cpu-time limits. A task counts its time in the
// application when it comes back to the kernel, so each one running
// application code now is interrupted once (a loop that makes no system
// call would count nothing otherwise); its time shows from the next
// call on.
func (k *Kernel) CPUTotal() int64 {
	k.mu.Lock()
	total := k.goneCPU
	tasks := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		tasks = append(tasks, t)
	}
	k.mu.Unlock()
	for _, t := range tasks {
		total += t.cpuTime()
		if t.inApp.Load() {
			t.mu.Lock()
			ctx := t.ctx
			t.mu.Unlock()
			if ctx != nil {
				ctx.Interrupt()
			}
		}
	}
	return total
}

// TasksCreated is the number of tasks (threads and processes) the
// sandbox has made (uk run's kernel-made PID 1 runs no code and is none).
func (k *Kernel) TasksCreated() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.created
}

// MissingSyscalls returns how often each syscall uk does not implement
// was called (and failed with ENOSYS), by name.
func (k *Kernel) MissingSyscalls() map[string]int {
	k.missingMu.Lock()
	defer k.missingMu.Unlock()
	out := make(map[string]int, len(k.missing))
	for nr, n := range k.missing {
		out[arch.SyscallName(nr)] += n
	}
	return out
}
