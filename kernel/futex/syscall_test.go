package futex

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFutexDispatch(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	s.store(t, a1, 3)
	for _, tc := range []struct {
		name string
		a    Args
		n    int
		err  error
	}{
		{"wait EAGAIN", Args{Addr: a1, Op: OpWait | FlagPrivate, Val: 2}, 0, unix.EAGAIN},
		{"wait timeout", Args{Addr: a1, Op: OpWait, Val: 3, Deadline: time.Now()}, 0, unix.ETIMEDOUT},
		{"wait realtime", Args{Addr: a1, Op: OpWait | FlagClockRealtime, Val: 3}, 0, unix.ENOSYS},
		{"wait_bitset realtime", Args{Addr: a1, Op: OpWaitBitset | FlagClockRealtime | FlagPrivate, Val: 3, Val3: 1, Deadline: time.Now()}, 0, unix.ETIMEDOUT},
		{"wait_bitset 0", Args{Addr: a1, Op: OpWaitBitset, Val: 3}, 0, unix.EINVAL},
		{"wake none", Args{Addr: a1, Op: OpWake | FlagPrivate, Val: 1}, 0, nil},
		{"wake realtime", Args{Addr: a1, Op: OpWake | FlagClockRealtime, Val: 1}, 0, unix.ENOSYS},
		{"wake_bitset 0", Args{Addr: a1, Op: OpWakeBitset, Val: 1}, 0, unix.EINVAL},
		{"requeue negative", Args{Addr: a1, Op: OpRequeue, Val: 1, Val2: 0x80000000, Addr2: a2}, 0, unix.EINVAL},
		{"cmp_requeue EAGAIN", Args{Addr: a1, Op: OpCmpRequeue, Val: 1, Val2: 1, Addr2: a2, Val3: 4}, 0, unix.EAGAIN},
		{"cmp_requeue ok", Args{Addr: a1, Op: OpCmpRequeue, Val: 1, Val2: 1, Addr2: a2, Val3: 3}, 0, nil},
		{"wake_op", Args{Addr: a1, Op: OpWakeOp | FlagPrivate, Val: 1, Val2: 1, Addr2: a2, Val3: WakeOpEncode(WakeOpSet, WakeOpCmpGt, 0, 1)}, 0, nil},
		{"fd", Args{Addr: a1, Op: OpFD}, 0, unix.ENOSYS},
		{"lock_pi", Args{Addr: a1, Op: OpLockPI}, 0, unix.ENOSYS},
		{"unlock_pi not owner", Args{Addr: a1, Op: OpUnlockPI, TID: 5}, 0, unix.EPERM},
		{"trylock_pi", Args{Addr: a1, Op: OpTrylockPI}, 0, unix.ENOSYS},
		{"wait_requeue_pi", Args{Addr: a1, Op: OpWaitRequeuePI}, 0, unix.ENOSYS},
		{"cmp_requeue_pi", Args{Addr: a1, Op: OpCmpRequeuePI}, 0, unix.ENOSYS},
		{"lock_pi2", Args{Addr: a1, Op: OpLockPI2 | FlagClockRealtime}, 0, unix.ENOSYS},
		{"unknown", Args{Addr: a1, Op: 14}, 0, unix.ENOSYS},
		{"high bits", Args{Addr: a1, Op: OpWake | 0x1000}, 0, unix.ENOSYS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := m.Futex(mem, tc.a, nil)
			if n != tc.n || err != tc.err {
				t.Fatalf("Futex = %d, %v; want %d, %v", n, err, tc.n, tc.err)
			}
		})
	}
	if s.load(t, a2) != 0 {
		t.Fatal("wake_op did not set the word")
	}
}

func TestFutexDispatchWakes(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	var chs []<-chan result
	for range 3 {
		chs = append(chs, goWait(m, mem, a1, true, 0, 2, time.Time{}, nil))
	}
	waitQueued(t, m, PrivateKey(s, a1), 3)
	// FUTEX_WAKE_BITSET with a disjoint bitset wakes nobody.
	if n, _ := m.Futex(mem, Args{Addr: a1, Op: OpWakeBitset | FlagPrivate, Val: 10, Val3: 1}, nil); n != 0 {
		t.Fatalf("woke %d", n)
	}
	// val = 0xffffffff is -1 as a C int: one waiter.
	if n, _ := m.Futex(mem, Args{Addr: a1, Op: OpWake | FlagPrivate, Val: 0xffffffff}, nil); n != 1 {
		t.Fatalf("woke %d", n)
	}
	if n, _ := m.Futex(mem, Args{Addr: a1, Op: OpRequeue | FlagPrivate, Val: 0, Val2: 5, Addr2: a2}, nil); n != 2 {
		t.Fatalf("requeued %d", n)
	}
	if n, _ := m.Futex(mem, Args{Addr: a2, Op: OpWake | FlagPrivate, Val: 0x7fffffff}, nil); n != 2 {
		t.Fatalf("woke %d", n)
	}
	for _, ch := range chs {
		get(t, ch)
	}
}

func TestTimeoutOf(t *testing.T) {
	for _, tc := range []struct {
		op   uint32
		want TimeoutKind
	}{
		{OpWait, RelativeTimeout},
		{OpWait | FlagPrivate, RelativeTimeout},
		{OpWaitBitset, AbsoluteMonotonic},
		{OpWaitBitset | FlagClockRealtime | FlagPrivate, AbsoluteRealtime},
		{OpWaitRequeuePI, AbsoluteMonotonic},
		{OpLockPI, AbsoluteRealtime},
		{OpLockPI2, AbsoluteMonotonic},
		{OpLockPI2 | FlagClockRealtime, AbsoluteRealtime},
		{OpWake, NoTimeout},
		{OpRequeue, NoTimeout},
		{OpCmpRequeue, NoTimeout},
		{OpWakeOp, NoTimeout},
		{OpTrylockPI, NoTimeout},
	} {
		if got := TimeoutOf(tc.op); got != tc.want {
			t.Errorf("TimeoutOf(%#x) = %v, want %v", tc.op, got, tc.want)
		}
	}
}

func TestTimespecDeadline(t *testing.T) {
	for _, tc := range []struct {
		sec, nsec int64
	}{{-1, 0}, {0, -1}, {0, 1e9}} {
		if _, err := TimespecDeadline(RelativeTimeout, tc.sec, tc.nsec, 0); err != unix.EINVAL {
			t.Errorf("TimespecDeadline(%d, %d) = %v, want EINVAL", tc.sec, tc.nsec, err)
		}
	}
	before := time.Now()
	d, err := TimespecDeadline(RelativeTimeout, 2, 5e8, 0)
	if err != nil || d.Before(before.Add(2500*time.Millisecond)) || d.After(time.Now().Add(2500*time.Millisecond)) {
		t.Fatalf("relative deadline %v (err %v)", d.Sub(before), err)
	}
	// Absolute: 3 s after a clock that reads 10 s is 3 s from now.
	d, err = TimespecDeadline(AbsoluteMonotonic, 13, 0, 10e9)
	if err != nil || d.Sub(before) < 3*time.Second || d.Sub(time.Now()) > 3*time.Second {
		t.Fatalf("absolute deadline %v (err %v)", d.Sub(before), err)
	}
	// In the past: a deadline that has passed.
	d, _ = TimespecDeadline(AbsoluteRealtime, 1, 0, 10e9)
	if !d.Before(time.Now()) || d.IsZero() {
		t.Fatalf("past deadline %v", d)
	}
	// Unrepresentably far: no deadline.
	if d, err := TimespecDeadline(AbsoluteMonotonic, 1<<62, 0, 10e9); !d.IsZero() || err != nil {
		t.Fatalf("far deadline %v, %v", d, err)
	}
}
