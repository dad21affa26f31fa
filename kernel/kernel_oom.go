package kernel

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/mm"
)

// The OOM killer. When the memory file is exhausted, the task whose
// allocation failed does not get SIGBUS (that would kill whoever faults
// next, the parent as likely as the hog): as Linux's out_of_memory, uk
// picks the process holding the most memory (weighed by its
// oom_score_adj: kernel_oom_score.go), SIGKILLs it (and every
// process sharing its address space), says so in one line on its own
// stderr, waits until the victim's memory is given back, and the failed
// allocation is tried again.
//
// Pages stay owned as kernel/mm says: the victim's pages are freed by its
// own exit (its last task releases its address space before its pages),
// never by the killer.

// oomWait bounds how long a task waits for a victim's memory: a victim
// that cannot exit in time (a task stuck where SIGKILL does not reach) is
// passed over and the next largest is chosen.
const oomWait = 5 * time.Second

// oomKiller is the kernel's OOM state.
type oomKiller struct {
	mu sync.Mutex
	// dying are the victims killed and not yet gone, with the address
	// space whose release each frees the memory; protected by mu.
	dying map[*ThreadGroup]*mm.MM
	// given up on: victims that did not release their memory in time;
	// protected by mu.
	stale map[*ThreadGroup]bool
	// kills are the first maxOOMKillsKept victims, for uk run's
	// --report, and killCount how many there were; protected by mu.
	kills     []OOMKill
	killCount int
}

// OOMKill is one process the OOM killer killed.
type OOMKill struct {
	PID  int32
	Comm string
}

// maxOOMKillsKept bounds the victims remembered: a sandbox that keeps
// running out of memory must not grow the list without end.
const maxOOMKillsKept = 64

// OOMKills returns the first victims of the OOM killer (at most 64) and
// how many there were in all.
func (k *Kernel) OOMKills() ([]OOMKill, int) {
	k.oom.mu.Lock()
	defer k.oom.mu.Unlock()
	return append([]OOMKill(nil), k.oom.kills...), k.oom.killCount
}

// outOfMemory runs the OOM killer for t, whose allocation found the memory
// file exhausted. It reports whether the allocation should be retried:
// true once a victim's memory is released (or t itself is the victim and
// will exit), false when there is nothing left to kill (only init, or
// victims that would not die) and the caller must fail.
func (k *Kernel) outOfMemory(t *Task) bool {
	// Clean page-cache pages of mapped files can be read from the host
	// again: they go before any process does, as on Linux
	// (memfile.MappedReclaimer; the caller holds no lock).
	if k.MemFile != nil && k.MemFile.ReclaimMapped(k.MemFile.Size()>>arch.PageShift/32) > 0 {
		return true
	}
	o := &k.oom
	o.mu.Lock()
	if o.dying == nil {
		o.dying = make(map[*ThreadGroup]*mm.MM)
		o.stale = make(map[*ThreadGroup]bool)
	}
	// A victim already on its way out frees memory soon: wait for it
	// rather than kill another (Linux's oom_reaper victim check).
	for tg, m := range o.dying {
		select {
		case <-m.Released():
			delete(o.dying, tg)
			continue
		default:
		}
		o.mu.Unlock()
		return k.awaitVictim(t, tg, m)
	}
	victim, vm := k.chooseOOMVictim()
	if victim == nil {
		o.mu.Unlock()
		return false
	}
	o.dying[victim] = vm
	comm := victim.comm()
	if len(o.kills) < maxOOMKillsKept {
		o.kills = append(o.kills, OOMKill{PID: victim.pid, Comm: comm})
	}
	o.killCount++
	o.mu.Unlock()

	fmt.Fprintf(k.CrashLog, "uk: out of memory: killed process %d (%s)\n", victim.pid, comm)
	// Every process using the victim's memory goes with it, or the
	// memory would stay (Linux: processes sharing the victim's mm).
	for _, tg := range k.threadGroups() {
		if tg == victim || tg.mm() == vm {
			tg.kill(int(unix.SIGKILL))
		}
	}
	if victim == t.tg {
		return true // t exits at its next look at its state
	}
	return k.awaitVictim(t, victim, vm)
}

// awaitVictim waits until victim's memory m is released, t is killed, or
// oomWait passes (the victim is then marked stale and passed over).
func (k *Kernel) awaitVictim(t *Task, victim *ThreadGroup, m *mm.MM) bool {
	deadline := time.NewTimer(oomWait)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-m.Released():
			return true
		case <-deadline.C:
			k.oom.mu.Lock()
			delete(k.oom.dying, victim)
			k.oom.stale[victim] = true
			k.oom.mu.Unlock()
			return true
		case <-poll.C:
			if t.isExiting() {
				return true
			}
		}
	}
}

// chooseOOMVictim returns the live process with the highest OOM badness
// (kernel_oom_score.go: the pages it holds, moved by its oom_score_adj)
// and its address space; init (PID 1, which Linux never kills either),
// exempt processes and victims given up on are passed over. Ties go to
// the newest process.
//
// Preconditions: k.oom.mu held.
func (k *Kernel) chooseOOMVictim() (*ThreadGroup, *mm.MM) {
	var best *ThreadGroup
	var bestMM *mm.MM
	var bestPoints int64
	total := k.oomTotalPages()
	for _, tg := range k.threadGroups() {
		if tg.pid == 1 || tg.isKernelInit || k.oom.stale[tg] {
			continue
		}
		m := tg.mm()
		if m == nil {
			continue
		}
		n, ok := tg.oomBadness(m, total)
		if !ok {
			continue
		}
		if best == nil || n > bestPoints || n == bestPoints && tg.pid > best.pid {
			best, bestMM, bestPoints = tg, m, n
		}
	}
	return best, bestMM
}

// mm returns the process's address space (nil once every task is gone).
func (tg *ThreadGroup) mm() *mm.MM {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.exiting || len(tg.tasks) == 0 {
		return nil
	}
	return tg.tasks[0].MM
}

// comm is the process's name: its first task's.
func (tg *ThreadGroup) comm() string {
	if t := tg.firstTask(); t != nil {
		return t.Comm()
	}
	return ""
}

// firstTask is the process's first live thread (its leader while that
// runs), nil once none is left.
func (tg *ThreadGroup) firstTask() *Task {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.tasks) == 0 {
		return nil
	}
	return tg.tasks[0]
}
