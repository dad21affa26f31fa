package poll

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/epoll"
	"uk/fs/eventfd"
	"uk/fs/pipe"
	"uk/fs/timerfd"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

const (
	in  = unix.POLLIN
	out = unix.POLLOUT
)

type files struct {
	r, w, efd, ep, tfd, opath *vfs.FileDescription
}

func newFiles(t *testing.T) *files {
	t.Helper()
	ctx := vfstest.Root()
	f := &files{}
	var err error
	if f.r, f.w, err = pipe.New(ctx, unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	if f.efd, err = eventfd.New(0, 0); err != nil {
		t.Fatal(err)
	}
	if f.ep, err = epoll.New(0); err != nil {
		t.Fatal(err)
	}
	if f.tfd, err = timerfd.New(ctx, nil, unix.CLOCK_MONOTONIC, 0); err != nil {
		t.Fatal(err)
	}
	f.opath = vfs.NewFileDescription(vfs.FileBase{}, unix.O_PATH, vfs.Path{}, vfs.FileOptions{})
	if err := epoll.Of(f.ep).Ctl(ctx, unix.EPOLL_CTL_ADD, 3, f.efd, unix.EPOLLIN, 7); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, fd := range []*vfs.FileDescription{f.r, f.w, f.efd, f.ep, f.tfd, f.opath} {
			if fd != nil {
				fd.DecRef()
			}
		}
	})
	return f
}

func TestPollMixed(t *testing.T) {
	f := newFiles(t)
	ctx := vfstest.Root()
	fds := []PollFD{
		{File: f.r, Events: in},
		{File: f.w, Events: in | out},
		{File: f.efd, Events: in | out},
		{File: f.ep, Events: in},
		{File: f.tfd, Events: in},
		{File: nil, Events: in},
		{File: f.opath, Events: in},
		{Ignore: true, Events: in},
	}
	n, rev, err := Poll(ctx, fds, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{0, out, out, 0, 0, POLLNVAL, POLLNVAL, 0}
	check := func(what string, n, wantN int, rev, want []uint16) {
		t.Helper()
		if n != wantN {
			t.Errorf("%s: n = %d, want %d", what, n, wantN)
		}
		for i := range want {
			if rev[i] != want[i] {
				t.Errorf("%s: entry %d revents %#x, want %#x", what, i, rev[i], want[i])
			}
		}
	}
	check("idle", n, 4, rev, want)

	f.w.Write(ctx, []byte("x"))
	f.efd.Write(ctx, binary.LittleEndian.AppendUint64(nil, 1))
	timerfd.Of(f.tfd).SetTime(timerfd.TimerAbstime, timerfd.Spec{Value: 1})
	// Wait for the already-due timer to fire.
	if n, _, err := Poll(ctx, []PollFD{{File: f.tfd, Events: in}}, 5*time.Second); n != 1 || err != nil {
		t.Fatalf("timerfd did not fire: %d, %v", n, err)
	}
	n, rev, _ = Poll(ctx, fds, 0)
	want = []uint16{in, out, in | out, in, in, POLLNVAL, POLLNVAL, 0}
	check("ready", n, 7, rev, want)

	// HUP and ERR are reported whatever was asked.
	f.w.DecRef()
	f.w = nil
	fds[0].Events = 0
	n, rev, _ = Poll(ctx, fds[:1], 0)
	check("hangup", n, 1, rev, []uint16{unix.POLLHUP})
}

func TestPollBlocks(t *testing.T) {
	f := newFiles(t)
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.w.Write(vfstest.Root(), []byte("x"))
	}()
	n, rev, err := Poll(vfstest.Root(), []PollFD{{File: f.r, Events: in}, {File: f.efd, Events: in}}, -1)
	if err != nil || n != 1 || rev[0] != in || rev[1] != 0 {
		t.Fatalf("woken poll: %d %v %v", n, rev, err)
	}
}

func TestPollThroughEpoll(t *testing.T) {
	f := newFiles(t)
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.efd.Write(vfstest.Root(), binary.LittleEndian.AppendUint64(nil, 1))
	}()
	n, rev, err := Poll(vfstest.Root(), []PollFD{{File: f.ep, Events: in}}, 5*time.Second)
	if err != nil || n != 1 || rev[0] != in {
		t.Fatalf("poll of an epoll: %d %v %v", n, rev, err)
	}
}

func TestPollTimeout(t *testing.T) {
	f := newFiles(t)
	start := time.Now()
	n, rev, err := Poll(vfstest.Root(), []PollFD{{File: f.r, Events: in}}, 15*time.Millisecond)
	if err != nil || n != 0 || rev[0] != 0 {
		t.Fatalf("timed out poll: %d %v %v", n, rev, err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("returned after %v", d)
	}
	// No files and a timeout: a sleep.
	start = time.Now()
	if n, _, err := Poll(vfstest.Root(), nil, 5*time.Millisecond); n != 0 || err != nil || time.Since(start) < 5*time.Millisecond {
		t.Fatalf("empty poll: %d %v", n, err)
	}
}

func TestPollInterrupted(t *testing.T) {
	f := newFiles(t)
	ctx := vfstest.Root()
	close(ctx.Interrupt)
	if _, _, err := Poll(ctx, []PollFD{{File: f.r, Events: in}}, -1); err != unix.EINTR {
		t.Fatalf("poll: %v", err)
	}
	if _, _, err := Select(ctx, []SelectFD{{File: f.r, Read: true}}, time.Hour); err != unix.EINTR {
		t.Fatalf("select: %v", err)
	}
	// A check with timeout 0 never blocks, so it is not interrupted.
	if _, _, err := Poll(ctx, []PollFD{{File: f.r, Events: in}}, 0); err != nil {
		t.Fatalf("poll 0: %v", err)
	}
}

func TestSelect(t *testing.T) {
	f := newFiles(t)
	ctx := vfstest.Root()
	fds := []SelectFD{
		{File: f.r, Read: true, Except: true},
		{File: f.w, Read: true, Write: true},
		{File: f.efd, Read: true, Write: true},
		{File: nil},
	}
	n, res, err := Select(ctx, fds, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []SelectResult{{}, {Write: true}, {Write: true}, {}}
	if n != 2 || len(res) != 4 {
		t.Fatalf("idle: %d %v", n, res)
	}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("idle: fd %d %+v, want %+v", i, res[i], want[i])
		}
	}
	f.efd.Write(ctx, binary.LittleEndian.AppendUint64(nil, 1))
	f.r.DecRef() // the write end now has an error: "readable" and writable
	f.r = nil
	n, res, _ = Select(ctx, fds[1:3], 0)
	if n != 4 || res[0] != (SelectResult{Read: true, Write: true}) || res[1] != (SelectResult{Read: true, Write: true}) {
		t.Fatalf("after changes: %d %+v", n, res)
	}
	if _, _, err := Select(ctx, []SelectFD{{File: nil, Read: true}}, 0); err != unix.EBADF {
		t.Fatalf("closed fd in a set: %v", err)
	}
	if _, _, err := Select(ctx, []SelectFD{{File: f.opath, Write: true}}, 0); err != unix.EBADF {
		t.Fatalf("O_PATH fd in a set: %v", err)
	}
}

func TestSelectBlocks(t *testing.T) {
	f := newFiles(t)
	f.w.Write(vfstest.Root(), make([]byte, pipe.DefaultSize)) // full: not writable
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.r.Read(vfstest.Root(), make([]byte, pipe.PageSize))
	}()
	n, res, err := Select(vfstest.Root(), []SelectFD{{File: f.w, Write: true}}, time.Second)
	if err != nil || n != 1 || !res[0].Write {
		t.Fatalf("select woken by room: %d %+v %v", n, res, err)
	}
}
