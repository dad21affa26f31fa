package kernel

import "time"

// System time: what a thread spends in uk's kernel (Linux's stime).
//
// A thread's user time is the host's clock of its stub, or its time in
// Switch (process_cputime.go). Its system time is the time from each
// Switch's return to the next Switch: the syscall, fault or signal uk
// handled for it, less the waits in between (a read of an empty pipe
// sleeps; Linux counts no CPU time for that either). It is measured with
// the monotonic clock, so a uk thread the host preempted meanwhile counts
// that time too: as Linux's tick-based accounting, it is an estimate,
// never zero for a program that makes system calls (times(2), getrusage's
// ru_stime, `time`'s "sys", /proc/PID/stat's stime). The CPU clocks
// (CLOCK_PROCESS_CPUTIME_ID, RLIMIT_CPU, --cpu-time) count both.
//
// Where the process's time is a stub's host clock, that clock already
// holds most of the system time: on the sigsys platform the stub thread
// spins in its handler while uk serves its trap on the other CPU. So the
// process's CPU time is the larger of the two, and its user time what the
// stub's clock has beyond the system time. (Counting both in full, a
// thread making system calls in a loop used 0.77 s of CPU in 0.5 s;
// counted so, 0.44 s, of which 0.30 system.) On one CPU, where the stub
// sleeps while uk works, this counts less than the truth, never more.

// sleepBegin marks the start of a wait of the task ('S' in /proc); the
// outermost one's time is kept out of its system time.
//
// Called by the task's goroutine only.
func (t *Task) sleepBegin() {
	if t.asleepN.Add(1) == 1 {
		t.asleepFrom = monoNow()
		// A wait is a voluntary context switch (ru_nvcsw), as a task
		// blocking in Linux's kernel is. Involuntary ones are the
		// host's preemptions of the stub thread, which uk does not see:
		// ru_nivcsw stays 0.
		t.nvcsw.Add(1)
		t.tg.nvcsw.Add(1)
	}
}

// sleepEnd ends a wait begun with sleepBegin.
//
// Called by the task's goroutine only.
func (t *Task) sleepEnd() {
	if t.asleepN.Add(-1) == 0 && t.asleepFrom != 0 {
		t.slept += monoNow() - t.asleepFrom
		t.asleepFrom = 0
	}
}

// chargeSys adds the time since the last Switch returned, less the waits,
// to the task's system time; now is monoNow.
//
// Called by the task's goroutine only.
func (t *Task) chargeSys(now time.Duration) {
	if t.leftApp != 0 {
		if d := now - t.leftApp - t.slept; d > 0 {
			t.sysNS.Add(int64(d))
		}
	}
	t.leftApp, t.slept = 0, 0
}

// leaveApp notes that a Switch returned at now: system time runs.
//
// Called by the task's goroutine only.
func (t *Task) leaveApp(now time.Duration) { t.leftApp, t.slept = now, 0 }

// SysTime is the system time the thread has used, ns.
func (t *Task) SysTime() int64 { return t.sysNS.Load() }

// sysTime is the system time the whole process has used, ns.
func (tg *ThreadGroup) sysTime() int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	total := tg.deadSys
	for _, t := range tg.tasks {
		total += t.sysNS.Load()
	}
	return total
}

// SysTime is the system time the whole process has used, ns: the part of
// CPUTime spent in uk's kernel.
func (tg *ThreadGroup) SysTime() int64 { return tg.sysTime() }

// ChildrenSys is the system time of reaped children, ns: the part of
// ChildrenCPU spent in uk's kernel.
func (tg *ThreadGroup) ChildrenSys() int64 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.stime
}

// VoluntarySwitches is the process's waits in uk (ru_nvcsw).
func (tg *ThreadGroup) VoluntarySwitches() int64 { return tg.nvcsw.Load() }

// ChildrenVoluntarySwitches is the waits of reaped children.
func (tg *ThreadGroup) ChildrenVoluntarySwitches() int64 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.cnvcsw
}

// VoluntarySwitches is the task's own waits in uk.
func (t *Task) VoluntarySwitches() int64 { return t.nvcsw.Load() }

// MinorFaults is the page faults uk resolved for the process (ru_minflt).
func (tg *ThreadGroup) MinorFaults() int64 { return tg.minFlt.Load() }

// ChildrenMinorFaults is the page faults of reaped children.
func (tg *ThreadGroup) ChildrenMinorFaults() int64 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.cminflt
}
