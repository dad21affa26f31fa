package futex

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// liveThreads is a PIOwners of a fixed set of thread ids.
type liveThreads struct {
	mu   sync.Mutex
	live map[uint32]bool
}

func (l *liveThreads) ThreadExists(tid uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[tid]
}

func (l *liveThreads) kill(tid uint32) {
	l.mu.Lock()
	delete(l.live, tid)
	l.mu.Unlock()
}

func TestLockPIErrors(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	owners := &liveThreads{live: map[uint32]bool{10: true, 11: true}}
	if err := m.LockPI(mem, owners, a1, true, 10, time.Time{}, nil, false); err != nil {
		t.Fatalf("lock of a free word: %v", err)
	}
	if v := s.load(t, a1); v != 10 {
		t.Fatalf("word after lock %#x; want the owner's id", v)
	}
	for _, tc := range []struct {
		name    string
		tid     uint32
		trylock bool
		want    error
	}{
		{"relock by the owner", 10, false, unix.EDEADLK},
		{"trylock of a held lock", 11, true, unix.EAGAIN},
	} {
		if err := m.LockPI(mem, owners, a1, true, tc.tid, time.Time{}, nil, tc.trylock); err != tc.want {
			t.Errorf("%s: %v; want %v", tc.name, err, tc.want)
		}
	}
	if err := m.LockPI(mem, owners, a1, true, 11, time.Now().Add(10*time.Millisecond), nil, false); err != unix.ETIMEDOUT {
		t.Errorf("timed lock of a held lock: %v; want ETIMEDOUT", err)
	}
	if v := s.load(t, a1); v != 10|FutexWaiters {
		t.Errorf("word after a waiter timed out %#x; want the owner with FUTEX_WAITERS", v)
	}
	if err := m.UnlockPI(mem, a1, true, 11); err != unix.EPERM {
		t.Errorf("unlock by another thread: %v; want EPERM", err)
	}
	if err := m.UnlockPI(mem, a1, true, 10); err != nil || s.load(t, a1) != 0 {
		t.Errorf("unlock: %v, word %#x; want nil, 0", err, s.load(t, a1))
	}
	s.store(t, a1, 77) // held by a thread that does not exist
	if err := m.LockPI(mem, owners, a1, true, 11, time.Time{}, nil, false); err != unix.ESRCH {
		t.Errorf("lock held by no thread: %v; want ESRCH", err)
	}
}

// TestLockPIHandOver checks that an unlock hands the lock to the first
// waiter, and an owner's death to the next with FUTEX_OWNER_DIED.
func TestLockPIHandOver(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	owners := &liveThreads{live: map[uint32]bool{10: true, 11: true, 12: true}}
	if err := m.LockPI(mem, owners, a1, true, 10, time.Time{}, nil, false); err != nil {
		t.Fatal(err)
	}
	got := make(chan uint32, 2)
	for _, tid := range []uint32{11, 12} {
		go func() {
			if err := m.LockPI(mem, owners, a1, true, tid, time.Now().Add(5*time.Second), nil, false); err != nil {
				t.Errorf("waiter %d: %v", tid, err)
			}
			got <- tid
		}()
		for deadline := time.Now().Add(time.Second); s.load(t, a1)&FutexWaiters == 0 || piWaiters.Load() < int64(tid-10); {
			if time.Now().After(deadline) {
				t.Fatal("waiter never queued")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := m.UnlockPI(mem, a1, true, 10); err != nil {
		t.Fatal(err)
	}
	if first := <-got; first != 11 || s.load(t, a1) != 11|FutexWaiters {
		t.Fatalf("after unlock: %d owns, word %#x; want 11, 11|FUTEX_WAITERS", first, s.load(t, a1))
	}
	owners.kill(11) // dies holding it
	m.ThreadExited(11)
	if next := <-got; next != 12 || s.load(t, a1) != 12|FutexOwnerDied {
		t.Fatalf("after the owner's death: %d owns, word %#x; want 12, 12|FUTEX_OWNER_DIED", next, s.load(t, a1))
	}
}
