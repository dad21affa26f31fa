package timerfd

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now(int32) int64         { return c.ns.Load() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTFD(t *testing.T, clock Clock, flags int) (*vfs.FileDescription, *File) {
	t.Helper()
	fd, err := New(vfstest.Root(), clock, unix.CLOCK_MONOTONIC, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fd.DecRef)
	return fd, Of(fd)
}

func TestCreate(t *testing.T) {
	root, user := vfstest.Root(), vfstest.User(1000, 1000)
	for _, tc := range []struct {
		ctx   vfs.Context
		clock int32
		flags int
		err   error
	}{
		{user, unix.CLOCK_REALTIME, 0, nil},
		{user, unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK | unix.TFD_CLOEXEC, nil},
		{user, unix.CLOCK_BOOTTIME, 0, nil},
		{user, unix.CLOCK_REALTIME_ALARM, 0, unix.EPERM},
		{root, unix.CLOCK_BOOTTIME_ALARM, 0, nil},
		{user, unix.CLOCK_PROCESS_CPUTIME_ID, 0, unix.EINVAL},
		{user, unix.CLOCK_MONOTONIC_RAW, 0, unix.EINVAL},
		{user, 99, 0, unix.EINVAL},
		{user, unix.CLOCK_MONOTONIC, unix.O_APPEND, unix.EINVAL},
	} {
		fd, err := New(tc.ctx, nil, tc.clock, tc.flags)
		if err != tc.err {
			t.Errorf("clock %d flags %#x: %v, want %v", tc.clock, tc.flags, err, tc.err)
			continue
		}
		if err == nil {
			if fd.NonBlocking() != (tc.flags&unix.TFD_NONBLOCK != 0) || !fd.Readable() {
				t.Errorf("clock %d flags %#x: status %#x", tc.clock, tc.flags, fd.StatusFlags())
			}
			if s := Of(fd).GetTime(); s != (Spec{}) {
				t.Errorf("new timer armed: %+v", s)
			}
			fd.DecRef()
		}
	}
}

func TestSetTimeValidation(t *testing.T) {
	_, f := newTFD(t, nil, 0)
	for _, tc := range []struct {
		flags int
		spec  Spec
		err   error
	}{
		{0, Spec{Value: -1}, unix.EINVAL},
		{0, Spec{Interval: -1, Value: 1}, unix.EINVAL},
		{4, Spec{Value: time.Hour}, unix.EINVAL},
		{TimerAbstime | TimerCancelOnSet, Spec{Value: time.Hour}, nil},
		{0, Spec{}, nil},
	} {
		if _, err := f.SetTime(tc.flags, tc.spec); err != tc.err {
			t.Errorf("SetTime(%#x, %+v): %v, want %v", tc.flags, tc.spec, err, tc.err)
		}
	}
}

func TestGetSetOldValues(t *testing.T) {
	c := &fakeClock{}
	c.ns.Store(int64(1000 * time.Second))
	_, f := newTFD(t, c.now, 0)
	old, err := f.SetTime(0, Spec{Value: 10 * time.Second, Interval: 2 * time.Second})
	if err != nil || old != (Spec{}) {
		t.Fatalf("first SetTime: %+v, %v", old, err)
	}
	c.advance(3 * time.Second)
	if got := f.GetTime(); got != (Spec{Interval: 2 * time.Second, Value: 7 * time.Second}) {
		t.Fatalf("GetTime after 3s: %+v", got)
	}
	old, _ = f.SetTime(TimerAbstime, Spec{Value: 1010 * time.Second})
	if old != (Spec{Interval: 2 * time.Second, Value: 7 * time.Second}) {
		t.Fatalf("old value: %+v", old)
	}
	if got := f.GetTime(); got != (Spec{Value: 7 * time.Second}) {
		t.Fatalf("absolute timer reads relative: %+v", got)
	}
	old, _ = f.SetTime(0, Spec{})
	if old.Value != 7*time.Second {
		t.Fatalf("old on disarm: %+v", old)
	}
	if got := f.GetTime(); got != (Spec{}) {
		t.Fatalf("disarmed: %+v", got)
	}
}

// TestOverrunsCountedFromClock fires a timer set in the past of a fake
// clock, then moves the clock: a read counts every period exactly.
func TestOverrunsCountedFromClock(t *testing.T) {
	c := &fakeClock{}
	c.ns.Store(int64(time.Hour))
	fd, f := newTFD(t, c.now, 0)
	var notified atomic.Int32
	fd.EventRegister(&vfs.Waiter{Mask: vfs.EventIn, Callback: func(vfs.EventMask) { notified.Add(1) }})
	if _, err := f.SetTime(TimerAbstime, Spec{Value: time.Hour - time.Second, Interval: time.Second}); err != nil {
		t.Fatal(err)
	}
	// The expiration is due: the Go timer fires at once (one tick), and
	// the second already passed since counts too.
	c.advance(10*time.Second + time.Second/2)
	n, err := vfstest.ReadCount(t, vfstest.Root(), fd)
	if err != nil || n != 12 {
		t.Fatalf("ticks %d, %v; want 12", n, err)
	}
	if notified.Load() != 1 {
		t.Fatalf("notified %d times", notified.Load())
	}
	if got := f.GetTime(); got != (Spec{Interval: time.Second, Value: time.Second / 2}) {
		t.Fatalf("after catching up: %+v", got)
	}
	if fd.Readiness(vfs.EventIn) != 0 {
		t.Fatalf("readable after read")
	}
}

func TestOneShotRealClock(t *testing.T) {
	fd, f := newTFD(t, nil, unix.TFD_NONBLOCK)
	if _, err := vfstest.ReadCount(t, vfstest.Root(), fd); err != unix.EAGAIN {
		t.Fatalf("disarmed read: %v", err)
	}
	f.SetTime(0, Spec{Value: 2 * time.Millisecond})
	if _, err := vfstest.ReadCount(t, vfstest.Root(), fd); err != unix.EAGAIN {
		t.Fatalf("read before expiry: %v", err)
	}
	fd.SetStatusFlags(0)
	if n, err := vfstest.ReadCount(t, vfstest.Root(), fd); n != 1 || err != nil {
		t.Fatalf("blocking read: %d, %v", n, err)
	}
	if got := f.GetTime(); got != (Spec{}) {
		t.Fatalf("expired one-shot: %+v", got)
	}
}

// TestIntervalRealClock checks an interval timer on the real clock: the
// count is exact given when the setting and the read happened, so the
// bounds below leave no room for flakiness.
func TestIntervalRealClock(t *testing.T) {
	const v, iv = 3 * time.Millisecond, 2 * time.Millisecond
	fd, f := newTFD(t, nil, 0)
	clock := func() time.Duration { return time.Duration(HostClock(unix.CLOCK_MONOTONIC)) }
	t0 := clock()
	f.SetTime(0, Spec{Value: v, Interval: iv})
	t1 := clock()
	time.Sleep(25 * time.Millisecond)
	t2 := clock()
	n, err := vfstest.ReadCount(t, vfstest.Root(), fd)
	t3 := clock()
	if err != nil {
		t.Fatal(err)
	}
	lo := uint64((t2-t1-v)/iv) + 1
	hi := uint64((t3-t0-v)/iv) + 1
	if n < lo || n > hi {
		t.Fatalf("ticks %d not in [%d, %d]", n, lo, hi)
	}
	// Next read waits for one more period; it may wake late (a loaded
	// machine), so the upper bound is what expired since the first read
	// began.
	n, _ = vfstest.ReadCount(t, vfstest.Root(), fd)
	t4 := clock()
	if hi := uint64((t4-t2)/iv) + 1; n < 1 || n > hi {
		t.Fatalf("second read %d ticks, not in [1, %d]", n, hi)
	}
	if s := f.GetTime(); s.Interval != iv || s.Value <= 0 || s.Value > iv {
		t.Fatalf("GetTime %+v", s)
	}
}

func TestSetTimeDropsTicks(t *testing.T) {
	c := &fakeClock{}
	fd, f := newTFD(t, c.now, unix.TFD_NONBLOCK)
	var mu sync.Mutex
	fired := make(chan struct{}, 1)
	fd.EventRegister(&vfs.Waiter{Mask: vfs.EventIn, Callback: func(vfs.EventMask) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case fired <- struct{}{}:
		default:
		}
	}})
	f.SetTime(TimerAbstime, Spec{Value: 1}) // clock is at 0: due in 1ns
	c.advance(time.Second)
	<-fired
	if fd.Readiness(0xffff) != vfs.EventIn {
		t.Fatalf("not readable after expiry")
	}
	f.SetTime(0, Spec{Value: time.Hour})
	if _, err := vfstest.ReadCount(t, vfstest.Root(), fd); err != unix.EAGAIN {
		t.Fatalf("ticks survived SetTime: %v", err)
	}
}

func TestShortBufferAndInterrupt(t *testing.T) {
	fd, f := newTFD(t, nil, 0)
	if _, err := fd.Read(vfstest.Root(), make([]byte, 4)); err != unix.EINVAL {
		t.Fatalf("short read: %v", err)
	}
	if _, err := fd.Write(vfstest.Root(), make([]byte, 8)); err != unix.EINVAL {
		t.Fatalf("write: %v", err)
	}
	f.SetTime(0, Spec{Value: time.Hour})
	ctx := vfstest.Root()
	close(ctx.Interrupt)
	if _, err := vfstest.ReadCount(t, ctx, fd); err != unix.EINTR {
		t.Fatalf("interrupted read: %v", err)
	}
}

func TestReleaseStopsTimer(t *testing.T) {
	fd, err := New(vfstest.Root(), nil, unix.CLOCK_MONOTONIC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := Of(fd)
	f.SetTime(0, Spec{Value: time.Millisecond, Interval: time.Millisecond})
	var freed atomic.Bool
	fd.EventRegister(&vfs.Waiter{Mask: eventFree, Callback: func(vfs.EventMask) { freed.Store(true) }})
	fd.DecRef()
	if !freed.Load() {
		t.Fatal("no POLLFREE on release")
	}
	f.mu.Lock()
	stopped := f.timer == nil
	f.mu.Unlock()
	if !stopped {
		t.Fatal("timer still running after release")
	}
	if st, _ := fd.Stat(vfstest.Root()); st.Mode != 0o600 {
		t.Fatalf("stat mode %o", st.Mode)
	}
}
