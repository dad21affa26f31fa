package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// RLIMIT_CPU: while a process's soft limit is finite, a watcher reads its
// CPU time (process_cputime.go) every cpuLimitTick and acts as Linux's
// check_process_timers: SIGKILL at the hard limit; at the soft limit
// SIGXCPU, with the soft limit raised by a second (when still below the
// hard one), so that another follows each second of CPU after.
const cpuLimitTick = 10 * time.Millisecond

// watchCPULimit starts the process's watcher if its RLIMIT_CPU soft limit
// is finite and none runs yet (after setrlimit, and in a forked child,
// which inherits the limit).
func (tg *ThreadGroup) watchCPULimit() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.cpuWatched || tg.exiting || tg.rlimits[unix.RLIMIT_CPU].Cur == RlimInfinity {
		return
	}
	tg.cpuWatched = true
	go tg.cpuLimitWatcher()
}

func (tg *ThreadGroup) cpuLimitWatcher() {
	tick := time.NewTicker(cpuLimitTick)
	defer tick.Stop()
	for range tick.C {
		tg.mu.Lock()
		l := tg.rlimits[unix.RLIMIT_CPU]
		if tg.exiting || l.Cur == RlimInfinity {
			tg.cpuWatched = false
			tg.mu.Unlock()
			return
		}
		tg.mu.Unlock()
		used := tg.cpuTimeNow()
		if l.Max != RlimInfinity && uint64(used) >= secondsNS(l.Max) {
			tg.SendSignal(&arch.SignalInfo{Signo: int32(unix.SIGKILL), Code: arch.SI_KERNEL}, nil)
			continue // the watcher ends with the process
		}
		if uint64(used) >= secondsNS(l.Cur) {
			tg.mu.Lock()
			if cur := &tg.rlimits[unix.RLIMIT_CPU]; *cur == l && l.Cur < l.Max {
				cur.Cur++
			}
			tg.mu.Unlock()
			tg.SendSignal(&arch.SignalInfo{Signo: int32(unix.SIGXCPU), Code: arch.SI_KERNEL}, nil)
		}
	}
}

// secondsNS converts a limit in seconds to ns, saturating.
func secondsNS(s uint64) uint64 {
	if s > (1<<63)/uint64(time.Second) {
		return 1 << 63
	}
	return s * uint64(time.Second)
}

// cpuTimeNow is the process's CPU time up to now. Without a host clock,
// its threads count their time when they come back to the kernel, so the
// ones running application code are interrupted (once a tick) to count.
func (tg *ThreadGroup) cpuTimeNow() int64 {
	if tg.cpu.hasClock() {
		return tg.cpuTime()
	}
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.interruptApp()
	}
	return tg.cpuTime()
}
