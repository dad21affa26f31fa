package epoll

import (
	"encoding/binary"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/pipe"
	"uk/fs/timerfd"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

const (
	in  = unix.EPOLLIN
	out = unix.EPOLLOUT
)

func newEpoll(t *testing.T) (*vfs.FileDescription, *Epoll) {
	t.Helper()
	fd, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fd.DecRef)
	return fd, Of(fd)
}

func newPipe(t *testing.T) (r, w *vfs.FileDescription) {
	t.Helper()
	r, w, err := pipe.New(vfstest.Root(), unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

func ctl(t *testing.T, ep *Epoll, op int, fd int32, f *vfs.FileDescription, ev uint32, data uint64) {
	t.Helper()
	if err := ep.Ctl(vfstest.Root(), op, fd, f, ev, data); err != nil {
		t.Fatalf("ctl(%d, fd %d, %#x): %v", op, fd, ev, err)
	}
}

// poll0 is a non-blocking Wait.
func poll0(t *testing.T, ep *Epoll) []Event {
	t.Helper()
	evs, err := ep.Wait(vfstest.Root(), 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Data < evs[j].Data })
	return evs
}

func expect(t *testing.T, what string, got []Event, want ...Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %+v, want %+v", what, got, want)
		}
	}
}

// fakeFile is a file of a type that does not send EventFree; its Stat
// mode is settable (regular files cannot be watched).
type fakeFile struct {
	vfs.FileBase
	mode     uint32
	pollable *bool
	q        vfs.Queue
	mu       sync.Mutex
	ready    vfs.EventMask
	regs     int
}

func (f *fakeFile) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return vfs.Stat{Mode: f.mode}, nil
}
func (f *fakeFile) Readiness(m vfs.EventMask) vfs.EventMask {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready & m
}
func (f *fakeFile) EventRegister(w *vfs.Waiter) {
	f.mu.Lock()
	f.regs++
	f.mu.Unlock()
	f.q.Register(w)
}
func (f *fakeFile) EventUnregister(w *vfs.Waiter) {
	f.mu.Lock()
	f.regs--
	f.mu.Unlock()
	f.q.Unregister(w)
}
func (f *fakeFile) set(m vfs.EventMask) {
	f.mu.Lock()
	f.ready = m
	f.mu.Unlock()
	f.q.Notify(m)
}

type pollableFile struct {
	fakeFile
	ok bool
}

func (p *pollableFile) Pollable() bool { return p.ok }

func fakeFD(f vfs.FileImpl) *vfs.FileDescription {
	return vfs.NewFileDescription(f, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{})
}

func TestNew(t *testing.T) {
	if _, err := New(unix.EPOLL_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if _, err := New(1); err != unix.EINVAL {
		t.Fatalf("bad flags: %v", err)
	}
	fd, ep := newEpoll(t)
	if st, _ := fd.Stat(vfstest.Root()); st.Mode != 0o600 || st.Dev != eventfd.AnonDev {
		t.Fatalf("stat %+v", st)
	}
	if ep.Name() != "anon_inode:[eventpoll]" {
		t.Fatal(ep.Name())
	}
	if _, err := fd.Read(vfstest.Root(), make([]byte, 8)); err != unix.EINVAL {
		t.Fatalf("read of an epoll: %v", err)
	}
	if _, err := ep.Wait(vfstest.Root(), 0, 0); err != unix.EINVAL {
		t.Fatalf("maxevents 0: %v", err)
	}
}

func TestCtlErrors(t *testing.T) {
	epfd, ep := newEpoll(t)
	other, _ := newEpoll(t)
	r, w := newPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	reg := fakeFD(&fakeFile{mode: unix.S_IFREG | 0o644})
	dir := fakeFD(&fakeFile{mode: unix.S_IFDIR | 0o755})
	no := fakeFD(&pollableFile{fakeFile: fakeFile{mode: unix.S_IFCHR}, ok: false})
	yes := fakeFD(&pollableFile{fakeFile: fakeFile{mode: unix.S_IFREG}, ok: true})
	ctl(t, ep, unix.EPOLL_CTL_ADD, 5, r, in, 0)
	ctl(t, ep, unix.EPOLL_CTL_ADD, 9, w, out|unix.EPOLLEXCLUSIVE, 0)
	for _, tc := range []struct {
		name string
		op   int
		fd   int32
		file *vfs.FileDescription
		ev   uint32
		err  error
	}{
		{"nil file", unix.EPOLL_CTL_ADD, 1, nil, in, unix.EBADF},
		{"add twice", unix.EPOLL_CTL_ADD, 5, r, in, unix.EEXIST},
		{"same file, other fd", unix.EPOLL_CTL_ADD, 6, r, in, nil},
		{"mod missing", unix.EPOLL_CTL_MOD, 7, r, in, unix.ENOENT},
		{"del missing", unix.EPOLL_CTL_DEL, 7, r, 0, unix.ENOENT},
		{"add itself", unix.EPOLL_CTL_ADD, 3, epfd, in, unix.EINVAL},
		{"bad op", 4, 5, r, in, unix.EINVAL},
		{"exclusive mod", unix.EPOLL_CTL_MOD, 5, r, in | unix.EPOLLEXCLUSIVE, unix.EINVAL},
		{"exclusive with rdhup", unix.EPOLL_CTL_ADD, 8, r, in | unix.EPOLLRDHUP | unix.EPOLLEXCLUSIVE, unix.EINVAL},
		{"exclusive on epoll", unix.EPOLL_CTL_ADD, 8, other, in | unix.EPOLLEXCLUSIVE, unix.EINVAL},
		{"mod of exclusive entry", unix.EPOLL_CTL_MOD, 9, w, out, unix.EINVAL},
		{"regular file", unix.EPOLL_CTL_ADD, 10, reg, in, unix.EPERM},
		{"directory", unix.EPOLL_CTL_ADD, 11, dir, in, unix.EPERM},
		{"not Pollable", unix.EPOLL_CTL_ADD, 12, no, in, unix.EPERM},
		{"Pollable regular", unix.EPOLL_CTL_ADD, 13, yes, in, nil},
		{"mod", unix.EPOLL_CTL_MOD, 5, r, in | unix.EPOLLET, nil},
		{"del", unix.EPOLL_CTL_DEL, 5, r, 0, nil},
		{"del again", unix.EPOLL_CTL_DEL, 5, r, 0, unix.ENOENT},
		{"exclusive ok", unix.EPOLL_CTL_ADD, 5, r, in | unix.EPOLLET | unix.EPOLLWAKEUP | unix.EPOLLEXCLUSIVE, nil},
	} {
		if err := ep.Ctl(vfstest.Root(), tc.op, tc.fd, tc.file, tc.ev, 0); err != tc.err {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
}

func TestLevelTriggered(t *testing.T) {
	_, ep := newEpoll(t)
	r, w := newPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, r, in, 33)
	ctl(t, ep, unix.EPOLL_CTL_ADD, 4, w, out, 44)
	expect(t, "fresh pipe", poll0(t, ep), Event{out, 44})
	w.Write(vfstest.Root(), []byte("abc"))
	expect(t, "after write", poll0(t, ep), Event{in, 33}, Event{out, 44})
	expect(t, "level: again", poll0(t, ep), Event{in, 33}, Event{out, 44})
	r.Read(vfstest.Root(), make([]byte, 10))
	expect(t, "drained", poll0(t, ep), Event{out, 44})
	ctl(t, ep, unix.EPOLL_CTL_DEL, 4, w, 0, 0)
	expect(t, "after del", poll0(t, ep))
}

func TestEdgeTriggered(t *testing.T) {
	_, ep := newEpoll(t)
	r, w := newPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, r, in|unix.EPOLLET, 3)
	expect(t, "empty", poll0(t, ep))
	w.Write(vfstest.Root(), []byte("a"))
	expect(t, "first write", poll0(t, ep), Event{in, 3})
	expect(t, "no new edge", poll0(t, ep))
	w.Write(vfstest.Root(), []byte("b")) // still readable: every write is an edge
	expect(t, "second write", poll0(t, ep), Event{in, 3})
	expect(t, "no new edge again", poll0(t, ep))
	r.Read(vfstest.Root(), make([]byte, 1)) // a read is not an IN edge
	expect(t, "after partial read", poll0(t, ep))
}

func TestOneShot(t *testing.T) {
	_, ep := newEpoll(t)
	r, w := newPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, r, in|unix.EPOLLONESHOT, 3)
	w.Write(vfstest.Root(), []byte("a"))
	expect(t, "first", poll0(t, ep), Event{in, 3})
	w.Write(vfstest.Root(), []byte("b"))
	expect(t, "disabled", poll0(t, ep))
	ctl(t, ep, unix.EPOLL_CTL_MOD, 3, r, in|unix.EPOLLONESHOT, 4)
	expect(t, "re-armed by MOD", poll0(t, ep), Event{in, 4})
	expect(t, "disabled again", poll0(t, ep))
}

func TestHangupAndError(t *testing.T) {
	_, ep := newEpoll(t)
	r, w := newPipe(t)
	r2, w2 := newPipe(t)
	defer r.DecRef()
	defer w2.DecRef()
	// HUP and ERR are reported even when not asked for.
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, r, in, 3)
	ctl(t, ep, unix.EPOLL_CTL_ADD, 6, w2, 0, 6)
	w.DecRef()
	r2.DecRef()
	expect(t, "peers closed", poll0(t, ep), Event{unix.EPOLLHUP, 3}, Event{unix.EPOLLERR, 6})
}

func TestEventfdInOut(t *testing.T) {
	_, ep := newEpoll(t)
	efd, _ := eventfd.New(0, unix.EFD_NONBLOCK)
	defer efd.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, efd, in|out|unix.EPOLLET, 3)
	expect(t, "writable", poll0(t, ep), Event{out, 3})
	efd.Write(vfstest.Root(), binary.LittleEndian.AppendUint64(nil, 1))
	expect(t, "after write", poll0(t, ep), Event{in | out, 3})
	expect(t, "edge consumed", poll0(t, ep))
	efd.Read(vfstest.Root(), make([]byte, 8))
	expect(t, "after read", poll0(t, ep), Event{out, 3})
}

func TestMaxEventsRotates(t *testing.T) {
	_, ep := newEpoll(t)
	var fds []*vfs.FileDescription
	for i := range 3 {
		e, _ := eventfd.New(1, 0)
		defer e.DecRef()
		fds = append(fds, e)
		ctl(t, ep, unix.EPOLL_CTL_ADD, int32(i), e, in, uint64(i))
	}
	seen := map[uint64]int{}
	for range 3 {
		evs, err := ep.Wait(vfstest.Root(), 2, 0)
		if err != nil || len(evs) != 2 {
			t.Fatalf("wait: %+v, %v", evs, err)
		}
		for _, e := range evs {
			seen[e.Data]++
		}
	}
	for i := range 3 {
		if seen[uint64(i)] != 2 {
			t.Fatalf("entries not served fairly: %v", seen)
		}
	}
}

func TestBlockingWait(t *testing.T) {
	_, ep := newEpoll(t)
	r, w := newPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, r, in, 3)
	go func() {
		time.Sleep(10 * time.Millisecond)
		w.Write(vfstest.Root(), []byte("x"))
	}()
	evs, err := ep.Wait(vfstest.Root(), 8, -1)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "woken", evs, Event{in, 3})

	r.Read(vfstest.Root(), make([]byte, 8))
	start := time.Now()
	evs, err = ep.Wait(vfstest.Root(), 8, 20*time.Millisecond)
	if err != nil || len(evs) != 0 {
		t.Fatalf("timed wait: %+v, %v", evs, err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("timed wait returned after %v", d)
	}

	ctx := vfstest.Root()
	close(ctx.Interrupt)
	if _, err := ep.Wait(ctx, 8, -1); err != unix.EINTR {
		t.Fatalf("interrupted wait: %v", err)
	}
	if _, err := ep.Wait(ctx, 8, time.Hour); err != unix.EINTR {
		t.Fatalf("interrupted timed wait: %v", err)
	}
}

func TestTimerfd(t *testing.T) {
	_, ep := newEpoll(t)
	tfd, err := timerfd.New(vfstest.Root(), nil, unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer tfd.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, tfd, in, 3)
	timerfd.Of(tfd).SetTime(0, timerfd.Spec{Value: 2 * time.Millisecond})
	evs, err := ep.Wait(vfstest.Root(), 8, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "timer expired", evs, Event{in, 3})
}

func TestNested(t *testing.T) {
	outerFD, outer := newEpoll(t)
	innerFD, inner := newEpoll(t)
	r, w := newPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	ctl(t, inner, unix.EPOLL_CTL_ADD, 3, r, in, 3)
	ctl(t, outer, unix.EPOLL_CTL_ADD, 4, innerFD, in, 4)
	expect(t, "nothing yet", poll0(t, outer))
	if innerFD.Readiness(0xffff) != 0 {
		t.Fatal("inner readable without events")
	}
	done := make(chan []Event)
	go func() {
		evs, _ := outer.Wait(vfstest.Root(), 8, -1)
		done <- evs
	}()
	time.Sleep(5 * time.Millisecond)
	w.Write(vfstest.Root(), []byte("x"))
	expect(t, "outer sees inner", <-done, Event{in, 4})
	if got := innerFD.Readiness(0xffff); got != unix.EPOLLIN|vfs.EventRdNorm {
		t.Fatalf("inner readiness %#x", got)
	}
	expect(t, "inner", poll0(t, inner), Event{in, 3})
	if outerFD.Readiness(vfs.EventIn) != vfs.EventIn {
		t.Fatal("outer not readable")
	}
}

func TestLoops(t *testing.T) {
	var fds []*vfs.FileDescription
	var eps []*Epoll
	for range 7 {
		fd, ep := newEpoll(t)
		fds = append(fds, fd)
		eps = append(eps, ep)
	}
	ctx := vfstest.Root()
	// Cycle: 0 watches 1, then 1 may not watch 0.
	ctl(t, eps[0], unix.EPOLL_CTL_ADD, 1, fds[1], in, 0)
	if err := eps[1].Ctl(ctx, unix.EPOLL_CTL_ADD, 0, fds[0], in, 0); err != unix.ELOOP {
		t.Fatalf("direct cycle: %v", err)
	}
	// A longer cycle 0 → 1 → 2 → 0.
	ctl(t, eps[1], unix.EPOLL_CTL_ADD, 2, fds[2], in, 0)
	if err := eps[2].Ctl(ctx, unix.EPOLL_CTL_ADD, 0, fds[0], in, 0); err != unix.ELOOP {
		t.Fatalf("long cycle: %v", err)
	}
	// A chain of 5 instances is fine (0→1→2→3→4), a sixth is too deep,
	// whichever end it is added at.
	ctl(t, eps[2], unix.EPOLL_CTL_ADD, 3, fds[3], in, 0)
	ctl(t, eps[3], unix.EPOLL_CTL_ADD, 4, fds[4], in, 0)
	if err := eps[4].Ctl(ctx, unix.EPOLL_CTL_ADD, 5, fds[5], in, 0); err != unix.ELOOP {
		t.Fatalf("sixth below: %v", err)
	}
	if err := eps[5].Ctl(ctx, unix.EPOLL_CTL_ADD, 0, fds[0], in, 0); err != unix.ELOOP {
		t.Fatalf("sixth above: %v", err)
	}
	// Removing a link shortens the chain again.
	ctl(t, eps[3], unix.EPOLL_CTL_DEL, 4, fds[4], 0, 0)
	ctl(t, eps[5], unix.EPOLL_CTL_ADD, 0, fds[0], in, 0)
}

func TestReleasedFileDropsEntry(t *testing.T) {
	_, ep := newEpoll(t)
	r, w := newPipe(t)
	defer w.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, r, in, 3)
	w.Write(vfstest.Root(), []byte("x")) // queued as ready
	r.DecRef()
	if ep.Len() != 0 {
		t.Fatalf("pipe entry survived release: %d", ep.Len())
	}
	expect(t, "nothing from a closed file", poll0(t, ep))

	// A file type without EventFree: dropped when next seen.
	f := &fakeFile{mode: unix.S_IFCHR}
	fd := fakeFD(f)
	ctl(t, ep, unix.EPOLL_CTL_ADD, 4, fd, in, 4)
	fd.DecRef()
	if ep.Len() != 1 {
		t.Fatalf("entry gone early?")
	}
	f.set(vfs.EventIn)
	expect(t, "released fake", poll0(t, ep))
	if ep.Len() != 0 || f.regs != 0 {
		t.Fatalf("fake entry kept: len %d, regs %d", ep.Len(), f.regs)
	}
}

func TestSweep(t *testing.T) {
	_, ep := newEpoll(t)
	var fakes []*fakeFile
	for i := range 100 {
		f := &fakeFile{mode: unix.S_IFCHR}
		fakes = append(fakes, f)
		fd := fakeFD(f)
		ctl(t, ep, unix.EPOLL_CTL_ADD, int32(i), fd, in, 0)
		fd.DecRef() // released at once; never notified
	}
	// The sweep at 64 entries dropped the first 64.
	if ep.Len() >= 64 {
		t.Fatalf("no sweep: %d entries", ep.Len())
	}
}

func TestReleaseUnregisters(t *testing.T) {
	fd, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFile{mode: unix.S_IFCHR}
	ffd := fakeFD(f)
	defer ffd.DecRef()
	if err := Of(fd).Ctl(vfstest.Root(), unix.EPOLL_CTL_ADD, 3, ffd, in, 0); err != nil {
		t.Fatal(err)
	}
	outerFD, outer := newEpoll(t)
	_ = outerFD
	ctl(t, outer, unix.EPOLL_CTL_ADD, 9, fd, in, 0)
	if f.regs != 1 {
		t.Fatalf("regs %d", f.regs)
	}
	fd.DecRef()
	if f.regs != 0 {
		t.Fatalf("epoll release left %d registrations", f.regs)
	}
	if outer.Len() != 0 {
		t.Fatalf("outer kept the released inner epoll")
	}
}

// TestConcurrent hammers one epoll with writers, readers and Ctl calls;
// it is a race-detector and deadlock test.
func TestConcurrent(t *testing.T) {
	_, ep := newEpoll(t)
	const n = 8
	var rs, ws []*vfs.FileDescription
	for i := range n {
		r, w := newPipe(t)
		rs, ws = append(rs, r), append(ws, w)
		ctl(t, ep, unix.EPOLL_CTL_ADD, int32(i), r, in|unix.EPOLLET, uint64(i))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ws[i].Write(vfstest.Root(), []byte("x"))
				ep.Ctl(vfstest.Root(), unix.EPOLL_CTL_MOD, int32(i), rs[i], in|unix.EPOLLET, uint64(i))
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	got := 0
	buf := make([]byte, 4096)
	deadline := time.Now().Add(150 * time.Millisecond)
	for time.Now().Before(deadline) {
		evs, err := ep.Wait(vfstest.Root(), 4, 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			rs[e.Data].Read(vfstest.Root(), buf)
			got++
		}
	}
	close(stop)
	wg.Wait()
	for i := range n {
		rs[i].DecRef()
		ws[i].DecRef()
	}
	if got == 0 {
		t.Fatal("no events")
	}
	if ep.Len() != 0 {
		t.Fatalf("%d entries left after closing everything", ep.Len())
	}
}

// TestSpuriousFree: a file that notifies every bit (including EventFree's)
// while alive does not lose its entry.
func TestSpuriousFree(t *testing.T) {
	_, ep := newEpoll(t)
	f := &fakeFile{mode: unix.S_IFCHR}
	fd := fakeFD(f)
	defer fd.DecRef()
	ctl(t, ep, unix.EPOLL_CTL_ADD, 3, fd, in, 3)
	f.set(^vfs.EventMask(0))
	if ep.Len() != 1 {
		t.Fatal("entry dropped on a spurious EventFree")
	}
	expect(t, "all bits", poll0(t, ep), Event{in | unix.EPOLLERR | unix.EPOLLHUP, 3})
}
