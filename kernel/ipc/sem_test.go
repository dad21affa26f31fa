package ipc

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

var errTestInterrupt = errors.New("interrupted")

// caller is a task of uid with a sleep that intr interrupts.
func caller(uid uint32, intr <-chan struct{}) Caller {
	creds := &vfs.Credentials{UID: uid, EUID: uid, FSUID: uid, GID: uid, EGID: uid, FSGID: uid, Privileged: uid == 0}
	if uid == 0 {
		creds.Effective = vfs.AllCaps
	}
	return Caller{Creds: creds, PID: int32(100 + uid), Block: func(ch <-chan struct{}, d time.Time) error {
		var tc <-chan time.Time
		if !d.IsZero() {
			t := time.NewTimer(time.Until(d))
			defer t.Stop()
			tc = t.C
		}
		select {
		case <-ch:
			return nil
		case <-tc:
			return unix.ETIMEDOUT
		case <-intr:
			return errTestInterrupt
		}
	}}
}

func newSemNS(t *testing.T, limit int64) (*Namespace, *vfstest.Budget) {
	t.Helper()
	ns := NewNamespace(nil)
	b := &vfstest.Budget{Limit: limit}
	ns.budget = b
	return ns, b
}

func TestSemGet(t *testing.T) {
	ns, _ := newSemNS(t, 1<<30)
	root, user := caller(0, nil), caller(1000, nil)
	for _, tc := range []struct {
		name  string
		c     Caller
		key   int32
		nsems int32
		flags int32
		want  error
	}{
		{"no key", root, 5, 1, 0, unix.ENOENT},
		{"create", root, 5, 3, IPCCreat | 0o600, nil},
		{"exclusive", root, 5, 3, IPCCreat | IPCExcl | 0o600, unix.EEXIST},
		{"larger", root, 5, 4, 0, unix.EINVAL},
		{"smaller", root, 5, 2, 0, nil},
		{"another's, asking nothing", user, 5, 0, 0, nil},
		{"another's, asking read", user, 5, 0, 0o400, unix.EACCES},
		{"zero private", root, IPCPrivate, 0, 0o600, unix.EINVAL},
		{"negative", root, IPCPrivate, -1, 0o600, unix.EINVAL},
		{"above SEMMSL", root, IPCPrivate, SEMMSL + 1, 0o600, unix.EINVAL},
		{"zero new key", root, 6, 0, IPCCreat, unix.EINVAL},
	} {
		if _, err := ns.SemGet(tc.c, tc.key, tc.nsems, tc.flags); err != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestSemOp runs operations on a set of three and checks the result and
// the values after: all or none.
func TestSemOp(t *testing.T) {
	for _, tc := range []struct {
		name string
		init []int32
		sops []Sembuf
		want error
		vals []int32
		// after is the values once the undo list goes: init, but for
		// the adjustments SemUndo recorded.
		after []int32
	}{
		{"up", []int32{0, 0, 0}, []Sembuf{{0, 2, 0}, {2, 1, 0}}, nil, []int32{2, 0, 1}, nil},
		{"down blocks", []int32{1, 0, 0}, []Sembuf{{0, -1, 0}, {1, -1, IPCNoWait}}, unix.EAGAIN, []int32{1, 0, 0}, nil},
		{"zero blocks", []int32{0, 1, 0}, []Sembuf{{0, 1, 0}, {1, 0, IPCNoWait}}, unix.EAGAIN, []int32{0, 1, 0}, nil},
		{"same twice", []int32{0, 0, 0}, []Sembuf{{0, 2, 0}, {0, -2, 0}, {0, 0, 0}}, nil, []int32{0, 0, 0}, nil},
		{"ERANGE after a change", []int32{0, 0, SEMVMX}, []Sembuf{{0, 1, 0}, {2, 1, 0}}, unix.ERANGE, []int32{0, 0, SEMVMX}, nil},
		{"block before ERANGE", []int32{0, 0, SEMVMX}, []Sembuf{{0, -1, IPCNoWait}, {2, 1, 0}}, unix.EAGAIN, []int32{0, 0, SEMVMX}, nil},
		{"EFBIG", []int32{0, 0, 0}, []Sembuf{{3, 1, 0}}, unix.EFBIG, []int32{0, 0, 0}, nil},
		{"undo", []int32{5, 0, 0}, []Sembuf{{0, -5, SemUndo}, {1, 3, SemUndo}}, nil, []int32{0, 3, 0}, []int32{5, 0, 0}},
		{"undo of some", []int32{5, 0, 0}, []Sembuf{{0, -5, 0}, {1, 3, SemUndo}}, nil, []int32{0, 3, 0}, []int32{0, 0, 0}},
		{"undo of none", []int32{5, 0, 0}, []Sembuf{{0, -5, SemUndo}, {1, -1, SemUndo | IPCNoWait}}, unix.EAGAIN, []int32{5, 0, 0}, []int32{5, 0, 0}},
	} {
		ns, _ := newSemNS(t, 1<<30)
		c := caller(0, nil)
		id, err := ns.SemGet(c, IPCPrivate, 3, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range tc.init {
			if err := ns.SemSetVal(c, id, int32(i), v); err != nil {
				t.Fatal(err)
			}
		}
		undo := NewUndoList(ns)
		if err := ns.SemOp(c, undo, id, tc.sops, time.Time{}); err != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		for i, want := range tc.vals {
			if got, _ := ns.SemGetValue(c, id, int32(i), GetVal); got != want {
				t.Errorf("%s: semaphore %d is %d, want %d", tc.name, i, got, want)
			}
		}
		undo.Release(c.PID)
		after := tc.after
		if after == nil {
			after = tc.vals
		}
		for i, want := range after {
			if got, _ := ns.SemGetValue(c, id, int32(i), GetVal); got != want {
				t.Errorf("%s: after the undo, semaphore %d is %d, want %d", tc.name, i, got, want)
			}
		}
	}
}

func TestSemPermissions(t *testing.T) {
	ns, _ := newSemNS(t, 1<<30)
	root, user := caller(0, nil), caller(1000, nil)
	id, _ := ns.SemGet(root, IPCPrivate, 1, 0o604)
	if _, err := ns.SemGetValue(user, id, 0, GetVal); err != nil {
		t.Errorf("GETVAL with read permission: %v", err)
	}
	if err := ns.SemOp(user, nil, id, []Sembuf{{0, 0, IPCNoWait}}, time.Time{}); err != nil {
		t.Errorf("wait for zero with read permission: %v", err)
	}
	for name, err := range map[string]error{
		"semop alter": ns.SemOp(user, nil, id, []Sembuf{{0, 1, 0}}, time.Time{}),
		"SETVAL":      ns.SemSetVal(user, id, 0, 1),
		"IPC_RMID":    ns.SemRemove(user, id),
		"IPC_SET":     ns.SemSet(user, id, SetRequest{}),
	} {
		want := unix.EACCES
		if name == "IPC_RMID" || name == "IPC_SET" {
			want = unix.EPERM
		}
		if err != want {
			t.Errorf("%s by another user: got %v, want %v", name, err, want)
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 10000; i++ {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s: not after 10 s", what)
}

func TestSemSleepers(t *testing.T) {
	ns, b := newSemNS(t, 1<<30)
	intr := make(chan struct{})
	c, sleeper := caller(0, nil), caller(0, intr)
	id, _ := ns.SemGet(c, IPCPrivate, 2, 0o600)
	ncnt := func(n int32) int32 { v, _ := ns.SemGetValue(c, id, 0, GetNCnt); return v }
	done := make(chan error, 1)
	sleep := func(sops []Sembuf, deadline time.Time) {
		go func() { done <- ns.SemOp(sleeper, nil, id, sops, deadline) }()
	}

	sleep([]Sembuf{{0, -1, 0}}, time.Time{})
	waitFor(t, "sleeper", func() bool { return ncnt(0) == 1 })
	if err := ns.SemOp(c, nil, id, []Sembuf{{0, 1, 0}}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("woken sleeper: %v", err)
	}

	sleep([]Sembuf{{0, -1, 0}}, time.Time{})
	waitFor(t, "sleeper to interrupt", func() bool { return ncnt(0) == 1 })
	intr <- struct{}{}
	if err := <-done; err != unix.EINTR {
		t.Errorf("interrupted sleeper: got %v, want EINTR", err)
	}

	sleep([]Sembuf{{0, -1, 0}}, time.Now().Add(20*time.Millisecond))
	if err := <-done; err != unix.EAGAIN {
		t.Errorf("timed out sleeper: got %v, want EAGAIN", err)
	}
	if n := ncnt(0); n != 0 {
		t.Errorf("GETNCNT after: %d", n)
	}

	sleep([]Sembuf{{1, 0, 0}, {0, -1, 0}}, time.Time{})
	waitFor(t, "sleeper at IPC_RMID", func() bool { return ncnt(0) == 1 })
	if err := ns.SemRemove(c, id); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != unix.EIDRM {
		t.Errorf("sleeper at IPC_RMID: got %v, want EIDRM", err)
	}
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged after IPC_RMID", u)
	}
}

func TestSemUndoLists(t *testing.T) {
	ns, b := newSemNS(t, 1<<30)
	c := caller(0, nil)
	id, _ := ns.SemGet(c, IPCPrivate, 2, 0o600)
	val := func() int32 { v, _ := ns.SemGetValue(c, id, 0, GetVal); return v }

	// Shared by two tasks: the first to go changes nothing.
	l := NewUndoList(ns)
	l.Get()
	if err := ns.SemOp(c, l, id, []Sembuf{{0, 4, SemUndo}}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	l.Release(1)
	if v := val(); v != 4 {
		t.Errorf("after one of two users: %d, want 4", v)
	}
	// Clamped at 0 by the last.
	ns.SemOp(c, nil, id, []Sembuf{{0, -3, 0}}, time.Time{})
	l.Release(7)
	if v := val(); v != 0 {
		t.Errorf("after the last user: %d, want 0 (clamped)", v)
	}
	if pid, _ := ns.SemGetValue(c, id, 0, GetPID); pid != 7 {
		t.Errorf("GETPID after the undo: %d, want 7", pid)
	}

	// The adjustment's range.
	l = NewUndoList(ns)
	ns.SemOp(c, l, id, []Sembuf{{1, SEMVMX, SemUndo}}, time.Time{})
	ns.SemOp(c, nil, id, []Sembuf{{1, -SEMVMX, 0}}, time.Time{})
	if err := ns.SemOp(c, l, id, []Sembuf{{1, 1, SemUndo}}, time.Time{}); err != nil {
		t.Errorf("adjustment -32768: %v", err)
	}
	ns.SemOp(c, nil, id, []Sembuf{{1, -1, 0}}, time.Time{})
	if err := ns.SemOp(c, l, id, []Sembuf{{1, 1, SemUndo}}, time.Time{}); err != unix.ERANGE {
		t.Errorf("adjustment -32769: got %v, want ERANGE", err)
	}
	// IPC_RMID drops the records; the list's release then does nothing.
	if err := ns.SemRemove(c, id); err != nil {
		t.Fatal(err)
	}
	l.Release(1)
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged at the end", u)
	}
}

func TestSemBudget(t *testing.T) {
	ns, b := newSemNS(t, 10000)
	c := caller(0, nil)
	id, err := ns.SemGet(c, IPCPrivate, 100, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.SemGet(c, IPCPrivate, 200, 0o600); err != unix.ENOMEM {
		t.Errorf("a set beyond the budget: got %v, want ENOMEM", err)
	}
	ns.SemRemove(c, id)
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged after IPC_RMID", u)
	}
}

func TestSemABI(t *testing.T) {
	ds := SemidDS{Perm: Perm{Key: 1, UID: 2, Mode: 0o600, Seq: 3}, Otime: 4, Ctime: 5, Nsems: 6}
	b := ds.Marshal()
	if len(b) != SemidDSSize || b[48] != 4 || b[64] != 5 || b[80] != 6 || b[24] != 3 {
		t.Errorf("semid64_ds: % x", b)
	}
	info := Seminfo{Semmap: 1, Semaem: 10}
	if b := info.Marshal(); len(b) != SeminfoSize || b[0] != 1 || b[36] != 10 {
		t.Errorf("seminfo: % x", b)
	}
	sops := UnmarshalSembufs([]byte{1, 0, 0xff, 0xff, 0, 0x10})
	if len(sops) != 1 || sops[0] != (Sembuf{1, -1, SemUndo}) {
		t.Errorf("sembuf: %+v", sops)
	}
}
