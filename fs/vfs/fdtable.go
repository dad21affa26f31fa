package vfs

import (
	"math/bits"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/lock"
)

// FDTable maps file descriptor numbers to open file descriptions plus the
// per-descriptor FD_CLOEXEC flag. It is safe for concurrent use (threads
// sharing it with CLONE_FILES use the same table). The table holds one
// reference on each installed description.
//
// Limits: every call that allocates a number takes limit, the caller's
// RLIMIT_NOFILE soft limit; numbers >= limit are never allocated (EMFILE;
// dup2/dup3 to such a number give EBADF as Linux does).
//
// Finding the lowest free number must not cost what the table holds (a
// program with a million descriptors would make every open, dup and
// socket call walk them all), so the table keeps Linux's two bitmaps: open
// (one bit per number) and full (one bit per word of open, set when all 64
// numbers of that word are in use). A search skips 4096 numbers per word
// of full it reads: at most 256 words for the largest table (nr_open).
//
// Memory: the arrays grow with the highest number in use (a program may
// dup2 to 1048575) and every description installed costs uk's heap, so
// both are charged to the sandbox's memory budget when the table has one
// (SetBudget): a table that cannot grow, or a description that cannot be
// charged, is ENOMEM, as Linux's expand_files and file allocation.
type FDTable struct {
	mu      sync.Mutex
	files   []*FileDescription // index = fd number; len is a multiple of 64; protected by mu
	open    []uint64           // bit n: files[n] != nil; protected by mu
	full    []uint64           // bit w: open[w] is all ones; protected by mu
	cloexec []uint64           // bit n: FD_CLOEXEC of n; protected by mu
	used    int                // installed entries; protected by mu
	budget  Charger            // nil: not charged; protected by mu
	charged int64              // bytes of the arrays charged to budget; protected by mu
}

// SetBudget charges the table's arrays, and each description installed
// from now on, to the sandbox's memory budget b; Fork passes it on.
func (t *FDTable) SetBudget(b Charger) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.budget != nil {
		t.budget.Uncharge(t.charged)
	}
	t.budget, t.charged = b, 0
	if !b.Charge(t.arraysBytesLocked()) {
		t.budget = nil
		return unix.ENOMEM
	}
	t.charged = t.arraysBytesLocked()
	t.eachOpenLocked(0, len(t.files), func(n int) { t.files[n].chargeTo(b) })
	return nil
}

// arraysBytesLocked is what the table's arrays take in uk's heap.
func (t *FDTable) arraysBytesLocked() int64 {
	return int64(len(t.files)+len(t.open)+len(t.full)+len(t.cloexec)) * 8
}

// MaxFDLimit bounds any limit passed in (Linux's default fs.nr_open).
const MaxFDLimit = 1 << 20

// NewFDTable returns an empty table.
func NewFDTable() *FDTable { return &FDTable{} }

func clampLimit(limit uint64) int {
	if limit > MaxFDLimit {
		return MaxFDLimit
	}
	return int(limit)
}

// Get returns the description at n with a new reference (the caller must
// DecRef it) and its FD_CLOEXEC flag; EBADF if n is not open.
func (t *FDTable) Get(n int32) (*FileDescription, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd, cloexec, ok := t.entryLocked(n)
	if !ok {
		return nil, false, unix.EBADF
	}
	fd.IncRef()
	return fd, cloexec, nil
}

func (t *FDTable) entryLocked(n int32) (*FileDescription, bool, bool) {
	if n < 0 || int(n) >= len(t.files) || t.files[n] == nil {
		return nil, false, false
	}
	return t.files[n], t.cloexec[n/64]&(1<<(n%64)) != 0, true
}

// growLocked makes room for number n: the table doubles (from 64 entries)
// so a program that fills it pays for the copies only logarithmically.
// ENOMEM when the budget cannot cover the larger arrays.
func (t *FDTable) growLocked(n int) error {
	if n < len(t.files) {
		return nil
	}
	size := max(64, len(t.files))
	for size <= n {
		size *= 2
	}
	size = min(size, MaxFDLimit)
	words := size / 64
	if t.budget != nil {
		grown := int64(size+2*words+(words+63)/64) * 8
		if !t.budget.Charge(grown - t.charged) {
			return unix.ENOMEM
		}
		t.charged = grown
	}
	t.files = append(t.files, make([]*FileDescription, size-len(t.files))...)
	t.open = append(t.open, make([]uint64, words-len(t.open))...)
	t.cloexec = append(t.cloexec, make([]uint64, words-len(t.cloexec))...)
	if fw := (words + 63) / 64; fw > len(t.full) {
		t.full = append(t.full, make([]uint64, fw-len(t.full))...)
	}
	return nil
}

// setCloexecLocked sets or clears the FD_CLOEXEC bit of the open number n.
func (t *FDTable) setCloexecLocked(n int, cloexec bool) {
	if cloexec {
		t.cloexec[n/64] |= 1 << (n % 64)
	} else {
		t.cloexec[n/64] &^= 1 << (n % 64)
	}
}

// setLocked installs fd at n (taking a reference) and returns the
// description it replaced, whose table reference the caller must drop
// after unlocking. ENOMEM, changing nothing, when the budget cannot cover
// the table's growth or the description.
func (t *FDTable) setLocked(n int, fd *FileDescription, cloexec bool) (*FileDescription, error) {
	if err := t.growLocked(n); err != nil {
		return nil, err
	}
	if t.budget != nil && !fd.chargeTo(t.budget) {
		return nil, unix.ENOMEM
	}
	old := t.files[n]
	if old == nil {
		t.used++
		w := n / 64
		t.open[w] |= 1 << (n % 64)
		if t.open[w] == ^uint64(0) {
			t.full[w/64] |= 1 << (w % 64)
		}
	}
	fd.IncRef()
	t.files[n] = fd
	t.setCloexecLocked(n, cloexec)
	return old, nil
}

// clearLocked empties the open number n and returns its description, whose
// table reference the caller must drop after unlocking.
func (t *FDTable) clearLocked(n int) *FileDescription {
	fd := t.files[n]
	t.files[n] = nil
	t.used--
	w := n / 64
	t.open[w] &^= 1 << (n % 64)
	t.cloexec[w] &^= 1 << (n % 64)
	t.full[w/64] &^= 1 << (w % 64)
	return fd
}

// lowestFreeLocked returns the lowest number >= min not in use, if it is
// below limit: Linux's find_next_fd. It reads the word of open holding
// min, then skips full words through the summary.
func (t *FDTable) lowestFreeLocked(min int, limit int) (int, error) {
	n := t.firstFreeLocked(min)
	if n >= limit {
		return 0, unix.EMFILE
	}
	return n, nil
}

func (t *FDTable) firstFreeLocked(min int) int {
	w := min / 64
	if w >= len(t.open) {
		return min
	}
	// Numbers below min in its word count as taken.
	if x := t.open[w] | (1<<(min%64) - 1); x != ^uint64(0) {
		return w*64 + bits.TrailingZeros64(^x)
	}
	// The first word after w that is not full, by the summary.
	w++
	for fw := w / 64; fw < len(t.full); fw++ {
		x := t.full[fw]
		if fw == w/64 {
			x |= 1<<(w%64) - 1
		}
		if x == ^uint64(0) {
			continue
		}
		w = fw*64 + bits.TrailingZeros64(^x)
		if w >= len(t.open) {
			break
		}
		return w*64 + bits.TrailingZeros64(^t.open[w])
	}
	return len(t.files)
}

// Install puts fd at the lowest free number >= min and returns it. The
// table takes its own reference; the caller keeps its own.
func (t *FDTable) Install(fd *FileDescription, min int32, cloexec bool, limit uint64) (int32, error) {
	if min < 0 {
		return 0, unix.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.installLowestLocked(fd, min, cloexec, limit)
}

// installLowestLocked puts fd at the lowest free number >= min.
func (t *FDTable) installLowestLocked(fd *FileDescription, min int32, cloexec bool, limit uint64) (int32, error) {
	n, err := t.lowestFreeLocked(int(min), clampLimit(limit))
	if err != nil {
		return 0, err
	}
	if _, err := t.setLocked(n, fd, cloexec); err != nil {
		return 0, err
	}
	return int32(n), nil
}

// InstallAt puts fd at exactly n, closing what was there (used to set up
// fds 0-2 of the first process).
func (t *FDTable) InstallAt(n int32, fd *FileDescription, cloexec bool) error {
	if n < 0 || n >= MaxFDLimit {
		return unix.EBADF
	}
	t.mu.Lock()
	old, err := t.setLocked(int(n), fd, cloexec)
	t.mu.Unlock()
	if old != nil {
		old.DecRef()
	}
	return err
}

// Dup is dup(2): the lowest free number, FD_CLOEXEC clear.
func (t *FDTable) Dup(old int32, limit uint64) (int32, error) {
	return t.DupFD(old, 0, false, limit)
}

// DupFD is fcntl F_DUPFD / F_DUPFD_CLOEXEC: the lowest free number >= min.
// EINVAL if min is beyond the limit, as Linux.
func (t *FDTable) DupFD(old int32, min int32, cloexec bool, limit uint64) (int32, error) {
	if min < 0 || int(min) >= clampLimit(limit) {
		return 0, unix.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fd, _, ok := t.entryLocked(old)
	if !ok {
		return 0, unix.EBADF
	}
	return t.installLowestLocked(fd, min, cloexec, limit)
}

// Dup2 is dup2(2): old == new returns new if old is open.
func (t *FDTable) Dup2(old, new int32, limit uint64) (int32, error) {
	if old == new {
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, _, ok := t.entryLocked(old); !ok {
			return 0, unix.EBADF
		}
		return new, nil
	}
	return t.Dup3(old, new, 0, limit)
}

// Dup3 is dup3(2): flags may only be O_CLOEXEC; old == new is EINVAL.
func (t *FDTable) Dup3(old, new int32, flags int, limit uint64) (int32, error) {
	if flags&^unix.O_CLOEXEC != 0 || old == new {
		return 0, unix.EINVAL
	}
	if new < 0 || int(new) >= clampLimit(limit) {
		return 0, unix.EBADF
	}
	t.mu.Lock()
	fd, _, ok := t.entryLocked(old)
	if !ok {
		t.mu.Unlock()
		return 0, unix.EBADF
	}
	replaced, err := t.setLocked(int(new), fd, flags&unix.O_CLOEXEC != 0)
	t.mu.Unlock()
	if replaced != nil {
		t.closed(replaced)
		replaced.DecRef()
	}
	if err != nil {
		return 0, err
	}
	return new, nil
}

// Remove takes n out of the table and returns its description with the
// table's reference, for close(2) (which then calls DecRef, after doing
// anything per-close such as releasing POSIX locks).
func (t *FDTable) Remove(n int32) (*FileDescription, error) {
	t.mu.Lock()
	if _, _, ok := t.entryLocked(n); !ok {
		t.mu.Unlock()
		return nil, unix.EBADF
	}
	fd := t.clearLocked(int(n))
	t.mu.Unlock()
	t.closed(fd)
	return fd, nil
}

// closed does what closing one of the table's descriptors does besides
// dropping a reference: the table's POSIX locks on the file go (Linux's
// locks_remove_posix, whose owner is the files_struct), whatever other
// descriptors of it remain.
func (t *FDTable) closed(fd *FileDescription) {
	lock.Global.Release(fd.LockKey(), t)
}

// Close is close(2): remove n and drop the table's reference.
func (t *FDTable) Close(n int32) error {
	fd, err := t.Remove(n)
	if err != nil {
		return err
	}
	fd.DecRef()
	return nil
}

// SetCloexec sets or clears FD_CLOEXEC (F_SETFD, FIOCLEX, FIONCLEX).
func (t *FDTable) SetCloexec(n int32, cloexec bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, _, ok := t.entryLocked(n); !ok {
		return unix.EBADF
	}
	t.setCloexecLocked(int(n), cloexec)
	return nil
}

// Cloexec reports FD_CLOEXEC of n (F_GETFD).
func (t *FDTable) Cloexec(n int32) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, cloexec, ok := t.entryLocked(n)
	if !ok {
		return false, unix.EBADF
	}
	return cloexec, nil
}

// Size is the number of slots the table has now (Linux's max_fds): 64,
// doubled as higher numbers are installed, never shrunk. select ignores
// the bits past it.
func (t *FDTable) Size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(64, len(t.files))
}

// Fork returns a copy sharing the same descriptions (fork, or clone
// without CLONE_FILES, or unshare(CLONE_FILES)); ENOMEM when the budget
// cannot cover the copy's arrays.
func (t *FDTable) Fork() (*FDTable, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.budget != nil && !t.budget.Charge(t.charged) {
		return nil, unix.ENOMEM
	}
	c := &FDTable{
		budget:  t.budget,
		charged: t.charged,
		files:   slices.Clone(t.files),
		open:    slices.Clone(t.open),
		full:    slices.Clone(t.full),
		cloexec: slices.Clone(t.cloexec),
		used:    t.used,
	}
	t.eachOpenLocked(0, len(t.files), func(n int) { t.files[n].IncRef() })
	return c, nil
}

// eachOpenLocked calls f for each open number in [first, end) in
// increasing order, reading the bitmap a word at a time so that empty
// stretches of a large table cost little.
func (t *FDTable) eachOpenLocked(first, end int, f func(n int)) {
	end = min(end, len(t.files))
	for w := first / 64; w*64 < end; w++ {
		x := t.open[w]
		if w == first/64 {
			x &^= 1<<(first%64) - 1
		}
		for x != 0 {
			n := w*64 + bits.TrailingZeros64(x)
			if n >= end {
				return
			}
			x &= x - 1
			f(n)
		}
	}
}

// CloseOnExec closes every FD_CLOEXEC descriptor (execve).
func (t *FDTable) CloseOnExec() {
	var dead []*FileDescription
	t.mu.Lock()
	t.eachOpenLocked(0, len(t.files), func(n int) {
		if t.cloexec[n/64]&(1<<(n%64)) != 0 {
			dead = append(dead, t.clearLocked(n))
		}
	})
	t.mu.Unlock()
	for _, fd := range dead {
		t.closed(fd)
		fd.DecRef()
	}
}

// CloseRange is close_range(2) over [first, last]. With
// unix.CLOSE_RANGE_CLOEXEC it sets FD_CLOEXEC instead of closing.
// CLOSE_RANGE_UNSHARE is accepted; the caller unshares (Fork) first.
func (t *FDTable) CloseRange(first, last uint32, flags uint32) error {
	if flags&^(unix.CLOSE_RANGE_CLOEXEC|unix.CLOSE_RANGE_UNSHARE) != 0 || first > last {
		return unix.EINVAL
	}
	var dead []*FileDescription
	t.mu.Lock()
	if uint64(first) < uint64(len(t.files)) {
		end := int(min(uint64(last)+1, uint64(len(t.files))))
		t.eachOpenLocked(int(first), end, func(n int) {
			if flags&unix.CLOSE_RANGE_CLOEXEC != 0 {
				t.setCloexecLocked(n, true)
				return
			}
			dead = append(dead, t.clearLocked(n))
		})
	}
	t.mu.Unlock()
	for _, fd := range dead {
		t.closed(fd)
		fd.DecRef()
	}
	return nil
}

// CloseAll empties the table for good (its last user is gone) and gives
// its arrays back to the budget.
func (t *FDTable) CloseAll() {
	_ = t.CloseRange(0, ^uint32(0), 0)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.files, t.open, t.full, t.cloexec = nil, nil, nil, nil
	if t.budget != nil {
		t.budget.Uncharge(t.charged)
		t.charged = 0
	}
}

// Count returns how many descriptors are open.
func (t *FDTable) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.used
}

// ForEach calls f for each open descriptor in increasing order (for
// /proc/self/fd). f runs without the table lock held, on a snapshot.
func (t *FDTable) ForEach(f func(n int32, fd *FileDescription, cloexec bool)) {
	type ent struct {
		n       int32
		fd      *FileDescription
		cloexec bool
	}
	t.mu.Lock()
	snap := make([]ent, 0, t.used)
	t.eachOpenLocked(0, len(t.files), func(n int) {
		fd, cloexec, _ := t.entryLocked(int32(n))
		fd.IncRef()
		snap = append(snap, ent{int32(n), fd, cloexec})
	})
	t.mu.Unlock()
	for _, e := range snap {
		f(e.n, e.fd, e.cloexec)
		e.fd.DecRef()
	}
}
