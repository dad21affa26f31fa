package kernel

import (
	"golang.org/x/sys/unix"

	"uk/kernel/mm"
)

// The sandbox's task limit. Every application thread costs host
// resources uk cannot share out: an OS thread of uk's (a task's goroutine
// is locked to one), a stub thread on the ptrace platform, their PIDs and
// kernel stacks. So a sandbox holds at most Config.MaxTasks tasks, as a
// pids cgroup would, and clone beyond that fails with EAGAIN, as Linux's
// fork does at threads-max, pid_max or RLIMIT_NPROC.
//
// Zombies hold no thread but do hold a PID and their process's state
// until they are reaped, so the number of processes (zombies included)
// is capped at the same number.

// reserveTask counts a task about to be created by a task with creds and
// RLIMIT_NPROC nproc; EAGAIN when the sandbox or the user is at its limit.
// The caller gives the reservation back with unreserveTask if the task is
// never registered; a registered task gives it back in removeTask.
func (k *Kernel) reserveTask(creds uidCreds, nproc uint64, newProcess bool) error {
	// RLIMIT_NPROC counts the threads of the caller's real user, as
	// Linux's copy_process does; root and a task with CAP_SYS_RESOURCE
	// are exempt there too. Credentials are read outside k.mu (they have
	// their own lock); a race can only let a few concurrent clones
	// through, as on Linux.
	if nproc != RlimInfinity && !creds.privileged && creds.uid != 0 {
		k.mu.Lock()
		tasks := make([]*Task, 0, len(k.tasks))
		for _, t := range k.tasks {
			tasks = append(tasks, t)
		}
		k.mu.Unlock()
		n := uint64(0)
		for _, t := range tasks {
			if t.Credentials().UID == creds.uid {
				n++
			}
		}
		if n >= nproc {
			return unix.EAGAIN
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if max := k.MaxTasks; max > 0 {
		if k.nrTasks >= max || newProcess && len(k.tgs) >= max {
			return unix.EAGAIN
		}
	}
	k.nrTasks++
	return nil
}

// uidCreds is what the task limits look at in a task's credentials.
type uidCreds struct {
	uid        uint32
	privileged bool
}

// unreserveTask gives back a reservation of a task never registered.
func (k *Kernel) unreserveTask() {
	k.mu.Lock()
	k.nrTasks--
	k.mu.Unlock()
}

// TaskCount returns the number of live tasks in the sandbox.
func (k *Kernel) TaskCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nrTasks
}

// MaxRSSPages is the process's resident high-water mark in pages
// (ru_maxrss of RUSAGE_SELF): the highest of the memories it left or
// ended with and of the one it runs in now.
func (tg *ThreadGroup) MaxRSSPages() int {
	tg.mu.Lock()
	peak := tg.maxRSS
	var m *mm.MM
	if len(tg.tasks) > 0 {
		m = tg.tasks[0].MM
		m.IncUsers()
	}
	tg.mu.Unlock()
	if m != nil {
		peak = max(peak, m.PeakPages())
		m.DecUsers()
	}
	return peak
}

// ChildrenMaxRSSPages is RUSAGE_CHILDREN's ru_maxrss, in pages.
func (tg *ThreadGroup) ChildrenMaxRSSPages() int {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.cmaxRSS
}
