package kernel

import "sync/atomic"

// I/O accounting: /proc/PID/io's counters, as Linux's task_io_accounting.
// rchar and wchar are the bytes read(2), write(2) and their kin moved
// (whatever the file: pipes and terminals too), syscr and syscw the calls
// that got as far as reading or writing. Storage counters (read_bytes,
// write_bytes) stay 0: uk's files are memory or a host file read through
// the host's cache, and Linux's tmpfs shows 0 there too.
//
// A thread counts its own; its process keeps what its exited threads
// counted and, once it waits for them, what its children and theirs did
// (Linux's signal_struct ioac, added in wait_task_zombie).

// IOAccounting is one set of the counters.
type IOAccounting struct {
	RChar, WChar, SysCR, SysCW uint64
}

// add adds o to a.
func (a *IOAccounting) add(o IOAccounting) {
	a.RChar += o.RChar
	a.WChar += o.WChar
	a.SysCR += o.SysCR
	a.SysCW += o.SysCW
}

// ioCounters are a thread's, updated without locks by the thread itself.
type ioCounters struct {
	rchar, wchar, syscr, syscw atomic.Uint64
}

func (c *ioCounters) snapshot() IOAccounting {
	return IOAccounting{RChar: c.rchar.Load(), WChar: c.wchar.Load(), SysCR: c.syscr.Load(), SysCW: c.syscw.Load()}
}

// AccountRead counts one read call that moved n bytes (n <= 0: none).
func (t *Task) AccountRead(n int64) {
	t.io.syscr.Add(1)
	if n > 0 {
		t.io.rchar.Add(uint64(n))
	}
}

// AccountWrite counts one write call that moved n bytes (n <= 0: none).
func (t *Task) AccountWrite(n int64) {
	t.io.syscw.Add(1)
	if n > 0 {
		t.io.wchar.Add(uint64(n))
	}
}

// IO is the thread's own counters (/proc/PID/task/TID/io).
func (t *Task) IO() IOAccounting { return t.io.snapshot() }

// IO is the process's counters (/proc/PID/io): its live threads', its
// exited threads' and its waited-for children's.
func (tg *ThreadGroup) IO() IOAccounting {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	sum := tg.ioGone
	for _, t := range tg.tasks {
		sum.add(t.io.snapshot())
	}
	return sum
}

// keepIOLocked moves an exiting thread's counters into its process's.
//
// Preconditions: tg.mu is held.
func (t *Task) keepIOLocked() { t.tg.ioGone.add(t.io.snapshot()) }
