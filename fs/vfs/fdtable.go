package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// FDTable maps file descriptor numbers to open file descriptions plus the
// per-descriptor FD_CLOEXEC flag. It is safe for concurrent use (threads
// sharing it with CLONE_FILES use the same table). The table holds one
// reference on each installed description.
//
// Limits: every call that allocates a number takes limit, the caller's
// RLIMIT_NOFILE soft limit; numbers >= limit are never allocated (EMFILE;
// dup2/dup3 to such a number give EBADF as Linux does).
type FDTable struct {
	mu    sync.Mutex
	files []fdEntry // index = fd number; protected by mu
	used  int       // installed entries; protected by mu
}

type fdEntry struct {
	fd      *FileDescription
	cloexec bool
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
	e, ok := t.entryLocked(n)
	if !ok {
		return nil, false, unix.EBADF
	}
	e.fd.IncRef()
	return e.fd, e.cloexec, nil
}

func (t *FDTable) entryLocked(n int32) (fdEntry, bool) {
	if n < 0 || int(n) >= len(t.files) || t.files[n].fd == nil {
		return fdEntry{}, false
	}
	return t.files[n], true
}

// setLocked installs fd at n (taking a reference) and returns the
// description it replaced, whose table reference the caller must drop
// after unlocking.
func (t *FDTable) setLocked(n int, fd *FileDescription, cloexec bool) *FileDescription {
	for len(t.files) <= n {
		t.files = append(t.files, fdEntry{})
	}
	old := t.files[n].fd
	if old == nil {
		t.used++
	}
	fd.IncRef()
	t.files[n] = fdEntry{fd: fd, cloexec: cloexec}
	return old
}

func (t *FDTable) lowestFreeLocked(min int, limit int) (int, error) {
	for n := min; n < limit; n++ {
		if n >= len(t.files) || t.files[n].fd == nil {
			return n, nil
		}
	}
	return 0, unix.EMFILE
}

// Install puts fd at the lowest free number >= min and returns it. The
// table takes its own reference; the caller keeps its own.
func (t *FDTable) Install(fd *FileDescription, min int32, cloexec bool, limit uint64) (int32, error) {
	if min < 0 {
		return 0, unix.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lowestFreeLocked(int(min), clampLimit(limit))
	if err != nil {
		return 0, err
	}
	t.setLocked(n, fd, cloexec)
	return int32(n), nil
}

// InstallAt puts fd at exactly n, closing what was there (used to set up
// fds 0-2 of the first process).
func (t *FDTable) InstallAt(n int32, fd *FileDescription, cloexec bool) error {
	if n < 0 || n >= MaxFDLimit {
		return unix.EBADF
	}
	t.mu.Lock()
	old := t.setLocked(int(n), fd, cloexec)
	t.mu.Unlock()
	if old != nil {
		old.DecRef()
	}
	return nil
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
	e, ok := t.entryLocked(old)
	if !ok {
		return 0, unix.EBADF
	}
	n, err := t.lowestFreeLocked(int(min), clampLimit(limit))
	if err != nil {
		return 0, err
	}
	t.setLocked(n, e.fd, cloexec)
	return int32(n), nil
}

// Dup2 is dup2(2): old == new returns new if old is open.
func (t *FDTable) Dup2(old, new int32, limit uint64) (int32, error) {
	if old == new {
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, ok := t.entryLocked(old); !ok {
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
	e, ok := t.entryLocked(old)
	if !ok {
		t.mu.Unlock()
		return 0, unix.EBADF
	}
	replaced := t.setLocked(int(new), e.fd, flags&unix.O_CLOEXEC != 0)
	t.mu.Unlock()
	if replaced != nil {
		replaced.DecRef()
	}
	return new, nil
}

// Remove takes n out of the table and returns its description with the
// table's reference, for close(2) (which then calls DecRef, after doing
// anything per-close such as releasing POSIX locks).
func (t *FDTable) Remove(n int32) (*FileDescription, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entryLocked(n)
	if !ok {
		return nil, unix.EBADF
	}
	t.files[n] = fdEntry{}
	t.used--
	return e.fd, nil
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
	if _, ok := t.entryLocked(n); !ok {
		return unix.EBADF
	}
	t.files[n].cloexec = cloexec
	return nil
}

// Cloexec reports FD_CLOEXEC of n (F_GETFD).
func (t *FDTable) Cloexec(n int32) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entryLocked(n)
	if !ok {
		return false, unix.EBADF
	}
	return e.cloexec, nil
}

// Fork returns a copy sharing the same descriptions (fork, or clone
// without CLONE_FILES, or unshare(CLONE_FILES)).
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &FDTable{files: make([]fdEntry, len(t.files)), used: t.used}
	copy(c.files, t.files)
	for _, e := range c.files {
		if e.fd != nil {
			e.fd.IncRef()
		}
	}
	return c
}

// CloseOnExec closes every FD_CLOEXEC descriptor (execve).
func (t *FDTable) CloseOnExec() {
	var dead []*FileDescription
	t.mu.Lock()
	for i, e := range t.files {
		if e.fd != nil && e.cloexec {
			dead = append(dead, e.fd)
			t.files[i] = fdEntry{}
			t.used--
		}
	}
	t.mu.Unlock()
	for _, fd := range dead {
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
	for n := uint64(first); n <= uint64(last) && n < uint64(len(t.files)); n++ {
		e := t.files[n]
		if e.fd == nil {
			continue
		}
		if flags&unix.CLOSE_RANGE_CLOEXEC != 0 {
			t.files[n].cloexec = true
			continue
		}
		dead = append(dead, e.fd)
		t.files[n] = fdEntry{}
		t.used--
	}
	t.mu.Unlock()
	for _, fd := range dead {
		fd.DecRef()
	}
	return nil
}

// CloseAll empties the table (process exit).
func (t *FDTable) CloseAll() { _ = t.CloseRange(0, ^uint32(0), 0) }

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
		n int32
		fdEntry
	}
	t.mu.Lock()
	snap := make([]ent, 0, t.used)
	for i, e := range t.files {
		if e.fd != nil {
			e.fd.IncRef()
			snap = append(snap, ent{int32(i), e})
		}
	}
	t.mu.Unlock()
	for _, e := range snap {
		f(e.n, e.fd, e.cloexec)
		e.fd.DecRef()
	}
}
