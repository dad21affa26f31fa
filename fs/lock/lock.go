// Package lock is advisory file locking, as Linux's fs/locks.c: POSIX
// record locks (fcntl F_SETLK, F_SETLKW, F_GETLK), open file description
// locks (F_OFD_*), which share the POSIX locks' byte ranges and conflict
// with them, and BSD flock(2) locks on whole files, which are apart from
// both.
//
// Who holds a lock is an Owner: the descriptor table for a POSIX lock
// (Linux's files_struct: every thread sharing the table holds it, a fork's
// child does not), the open file description for OFD and flock locks. A
// file is any comparable key (an inode).
//
// Invariants: an owner's records on a file never overlap, and two of its
// records of the same kind never touch (they are merged); records of
// different owners overlap only when both are read locks. Every record
// uk holds is counted against maxRecords (ENOLCK past it), so a program
// cannot make uk hold an unbounded lock list.
package lock

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Kind is a lock's type: Read (shared) or Write (exclusive); Unlock
// removes.
type Kind uint8

// Lock kinds.
const (
	Unlock Kind = iota
	Read
	Write
)

// Owner holds locks: a descriptor table or an open file description.
type Owner any

// ToEnd is the end of a range that runs to the end of the file, however
// far it grows.
const ToEnd = ^uint64(0)

// maxRecords bounds the records of every file together (Linux charges
// them to the memory cgroup; uk bounds their number). A variable so that
// tests can make it small.
var maxRecords = 1 << 16

// Record is a lock: its owner's kind over [Start, End).
type Record struct {
	Owner      Owner
	Pid        int32 // what F_GETLK reports: the process that set it, -1 for an OFD lock
	Kind       Kind
	Start, End uint64
}

func (r *Record) overlaps(start, end uint64) bool { return r.Start < end && start < r.End }

func conflicts(a *Record, owner Owner, kind Kind) bool {
	return a.Owner != owner && (a.Kind == Write || kind == Write)
}

// fileLocks are one file's locks.
type fileLocks struct {
	ranges []Record       // POSIX and OFD records
	flocks []Record       // flock records (whole file)
	wake   chan struct{}  // closed when a lock goes or weakens
	waits  map[Owner]bool // owners blocked on this file
}

// Manager holds the locks of every file. Its zero value is ready.
type Manager struct {
	// inUse counts the files in files: Release, which every close
	// calls, skips the lock while no file has locks or waiters.
	inUse atomic.Int64

	mu      sync.Mutex
	files   map[any]*fileLocks
	records int
	// waitsFor maps a POSIX owner blocked in F_SETLKW to the owner
	// whose lock it waits for, for deadlock detection.
	waitsFor map[Owner]Owner
}

// Waiter blocks until ch is closed, or returns an error when a signal
// interrupts (the kernel's tasks).
type Waiter interface {
	Block(ch <-chan struct{}) error
}

func (m *Manager) fileLocked(file any) *fileLocks {
	if m.files == nil {
		m.files = make(map[any]*fileLocks)
	}
	f := m.files[file]
	if f == nil {
		f = &fileLocks{wake: make(chan struct{})}
		m.files[file] = f
		m.inUse.Add(1)
	}
	return f
}

// changedLocked wakes the file's waiters and forgets a file with no locks
// and no waiters.
func (m *Manager) changedLocked(file any, f *fileLocks) {
	close(f.wake)
	f.wake = make(chan struct{})
	m.forgetIfIdleLocked(file, f)
}

// forgetIfIdleLocked forgets a file that has no locks and no waiters.
func (m *Manager) forgetIfIdleLocked(file any, f *fileLocks) {
	if len(f.ranges) == 0 && len(f.flocks) == 0 && len(f.waits) == 0 && m.files[file] == f {
		delete(m.files, file)
		m.inUse.Add(-1)
	}
}

// Test returns the first lock of another owner that a lock of kind over
// [start, end) would conflict with (F_GETLK).
func (m *Manager) Test(file any, owner Owner, kind Kind, start, end uint64) (Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.files[file]
	if f == nil {
		return Record{}, false
	}
	for i := range f.ranges {
		if r := &f.ranges[i]; r.overlaps(start, end) && conflicts(r, owner, kind) {
			return *r, true
		}
	}
	return Record{}, false
}

// Set takes, changes or (kind Unlock) drops owner's lock over [start,
// end) of file. A conflicting lock makes it fail with EAGAIN when w is
// nil, else wait for it to go; a POSIX owner (deadlock true) whose wait
// would close a cycle of waiting owners gets EDEADLK instead.
func (m *Manager) Set(file any, owner Owner, pid int32, kind Kind, start, end uint64, w Waiter, deadlock bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		f := m.fileLocked(file)
		var blocker *Record
		if kind != Unlock {
			for i := range f.ranges {
				if r := &f.ranges[i]; r.overlaps(start, end) && conflicts(r, owner, kind) {
					blocker = r
					break
				}
			}
		}
		if blocker == nil {
			err := m.applyLocked(f, owner, pid, kind, start, end)
			m.changedLocked(file, f)
			return err
		}
		if w == nil {
			m.forgetIfIdleLocked(file, f)
			return unix.EAGAIN
		}
		if deadlock && m.wouldDeadlockLocked(owner, blocker.Owner) {
			return unix.EDEADLK
		}
		if err := m.waitLocked(file, f, owner, blocker.Owner, deadlock, w); err != nil {
			return err
		}
	}
}

// wouldDeadlockLocked reports whether owner waiting for holder closes a
// cycle: holder waits, through others, for owner.
func (m *Manager) wouldDeadlockLocked(owner, holder Owner) bool {
	for n := 0; n < 1024; n++ { // a cycle among other owners must not spin
		if holder == owner {
			return true
		}
		next, ok := m.waitsFor[holder]
		if !ok {
			return false
		}
		holder = next
	}
	return false
}

// waitLocked waits, with m.mu released, for the file's locks to change.
func (m *Manager) waitLocked(file any, f *fileLocks, owner, holder Owner, posix bool, w Waiter) error {
	if f.waits == nil {
		f.waits = make(map[Owner]bool)
	}
	f.waits[owner] = true
	if posix {
		if m.waitsFor == nil {
			m.waitsFor = make(map[Owner]Owner)
		}
		m.waitsFor[owner] = holder
	}
	ch := f.wake
	m.mu.Unlock()
	err := w.Block(ch)
	m.mu.Lock()
	delete(f.waits, owner)
	delete(m.waitsFor, owner)
	if err != nil {
		m.forgetIfIdleLocked(file, f)
		return err
	}
	return nil
}

// applyLocked replaces owner's coverage of [start, end) with a lock of
// kind (none for Unlock), splitting its records at the edges and merging
// touching ones of the same kind.
func (m *Manager) applyLocked(f *fileLocks, owner Owner, pid int32, kind Kind, start, end uint64) error {
	var out []Record
	added := 0
	for _, r := range f.ranges {
		if r.Owner != owner {
			out = append(out, r)
			continue
		}
		if kind != Unlock && r.Kind == kind && r.Start <= end && start <= r.End {
			// Same kind, overlapping or touching: absorb it.
			start, end = min(start, r.Start), max(end, r.End)
			added--
			continue
		}
		if !r.overlaps(start, end) {
			out = append(out, r)
			continue
		}
		added--
		if r.Start < start {
			left := r
			left.End = start
			out = append(out, left)
			added++
		}
		if end < r.End {
			right := r
			right.Start = end
			out = append(out, right)
			added++
		}
	}
	if kind != Unlock {
		out = append(out, Record{Owner: owner, Pid: pid, Kind: kind, Start: start, End: end})
		added++
	}
	if added > 0 && m.records+added > maxRecords {
		return unix.ENOLCK
	}
	m.records += added
	f.ranges = out
	return nil
}

// Flock takes, changes or (Unlock) drops owner's flock lock on file.
// Changing a lock's kind drops it first, as Linux does, so another owner
// may take the file in between. A conflict fails with EWOULDBLOCK when w
// is nil, else waits.
func (m *Manager) Flock(file any, owner Owner, kind Kind, w Waiter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.fileLocked(file)
	for i, r := range f.flocks {
		if r.Owner != owner {
			continue
		}
		if r.Kind == kind {
			return nil
		}
		f.flocks = append(f.flocks[:i], f.flocks[i+1:]...)
		m.records--
		m.changedLocked(file, f)
		f = m.fileLocked(file)
		break
	}
	if kind == Unlock {
		m.forgetIfIdleLocked(file, f)
		return nil
	}
	for {
		busy := false
		for i := range f.flocks {
			if conflicts(&f.flocks[i], owner, kind) {
				busy = true
				break
			}
		}
		if !busy {
			if m.records+1 > maxRecords {
				return unix.ENOLCK
			}
			m.records++
			f.flocks = append(f.flocks, Record{Owner: owner, Kind: kind, End: ToEnd})
			return nil
		}
		if w == nil {
			m.forgetIfIdleLocked(file, f)
			return unix.EWOULDBLOCK
		}
		if err := m.waitLocked(file, f, owner, nil, false, w); err != nil {
			return err
		}
		f = m.fileLocked(file)
	}
}

// Release drops every lock owner holds on file: with posix, its record
// locks (a close by the descriptor table owner); otherwise its OFD and
// flock locks (the description's last reference went).
func (m *Manager) Release(file any, owner Owner) {
	if m.inUse.Load() == 0 {
		return // nothing is locked anywhere: the common close
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.files[file]
	if f == nil {
		return
	}
	n := len(f.ranges) + len(f.flocks)
	f.ranges = dropOwner(f.ranges, owner)
	f.flocks = dropOwner(f.flocks, owner)
	if left := len(f.ranges) + len(f.flocks); left != n {
		m.records -= n - left
		m.changedLocked(file, f)
	}
}

func dropOwner(rs []Record, owner Owner) []Record {
	out := rs[:0]
	for _, r := range rs {
		if r.Owner != owner {
			out = append(out, r)
		}
	}
	return out
}

// Global holds the locks of the sandbox's files (one kernel per uk
// process; files are keys no two kernels share).
var Global Manager
