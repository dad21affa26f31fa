package kernel

import "uk/arch"

// CPUTotal is the CPU time every process of the sandbox has used, those
// gone included, in ns: what --cpu-time limits. Where the platform has no
// host clock for a process (processCPU), its tasks count their time in
// the application when they come back to the kernel, so each one running
// application code now is interrupted once (a loop that makes no system
// call would count nothing otherwise); its time shows from the next call
// on.
func (k *Kernel) CPUTotal() int64 {
	k.mu.Lock()
	total := k.goneCPU
	tgs := map[*ThreadGroup]bool{}
	var running []*Task
	for _, t := range k.tasks {
		tgs[t.tg] = true
		if t.inApp.Load() {
			running = append(running, t)
		}
	}
	k.mu.Unlock()
	for tg := range tgs {
		total += tg.cpuTime()
	}
	for _, t := range running {
		if !t.tg.cpu.hasClock() {
			t.interruptApp()
		}
	}
	return total
}

// interruptApp interrupts the task if it runs application code, so that
// it comes back to the kernel (to count its time in Switch, or to see a
// signal).
func (t *Task) interruptApp() {
	if !t.inApp.Load() {
		return
	}
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	if ctx != nil {
		ctx.Interrupt()
	}
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

// MainPID is the PID of the program uk started (uk run's job), 0 before
// it exists.
func (k *Kernel) MainPID() int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mainTG == nil {
		return 0
	}
	return k.mainTG.pid
}
