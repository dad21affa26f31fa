package inotify

import (
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

func TestEventSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int
	}{
		{"", 16}, {"a", 32}, {"0123456789abcde", 32}, {"0123456789abcdef", 48}, {string(make([]byte, 255)), 16 + 256},
	} {
		e := event{name: tc.name}
		if got := e.size(); got != tc.want {
			t.Errorf("size with a %d-byte name = %d, want %d", len(tc.name), got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		mask uint32
		want error
	}{
		{0, unix.EINVAL},
		{unix.IN_MODIFY, nil},
		{unix.IN_ONLYDIR, nil}, // flags alone are accepted, as Linux does
		{0x1000, unix.EINVAL},  // no inotify bit at all
		{unix.IN_MODIFY | unix.IN_MASK_ADD | inMaskCreate, unix.EINVAL},
		{unix.IN_MODIFY | inMaskCreate, nil},
	} {
		if got := Check(tc.mask); got != tc.want {
			t.Errorf("Check(%#x) = %v, want %v", tc.mask, got, tc.want)
		}
	}
}

// newTestInstance returns an instance charging budget and one watch of it
// (not registered with any VFS: events are given to it directly).
func newTestInstance(t *testing.T, budget vfs.Charger) (*vfs.FileDescription, *Instance, *watch) {
	fd, err := New(nil, NewLimits(), 0, budget, unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	in := Of(fd)
	w := &watch{in: in, wd: 1, mask: allEvents}
	in.byWD[1] = w
	return fd, in, w
}

// readAll reads every queued event: (wd, mask, name) strings.
func readAll(t *testing.T, fd *vfs.FileDescription) []string {
	var out []string
	buf := make([]byte, 1<<16)
	for {
		n, err := fd.Read(vfstest.Root(), buf)
		if err == unix.EAGAIN {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for b := buf[:n]; len(b) > 0; {
			l := int(binary.LittleEndian.Uint32(b[12:]))
			name := string(b[16 : 16+l])
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			out = append(out, fmt.Sprintf("%d %#x %s", int32(binary.LittleEndian.Uint32(b)), binary.LittleEndian.Uint32(b[4:]), name))
			b = b[16+l:]
		}
	}
}

// A budget that cannot hold another event makes the queue overflow
// instead of growing, and reading or closing gives every charge back.
func TestQueueChargedAndBounded(t *testing.T) {
	b := &vfstest.Budget{Limit: watchCharge + 10*(eventCharge+8)}
	fd, in, w := newTestInstance(t, b)
	b.Charged = watchCharge // the watch, as AddWatch charges it
	for i := 0; i < 50; i++ {
		w.Event(vfs.InCreate, 0, fmt.Sprintf("name%04d", i), false)
	}
	if b.Used() > b.Limit {
		t.Fatalf("charged %d beyond the limit %d", b.Used(), b.Limit)
	}
	got := readAll(t, fd)
	if len(got) != 11 || got[10] != "-1 0x4000 " {
		t.Fatalf("events: %d, last %q; want 10 and the overflow event", len(got), got[len(got)-1])
	}
	if b.Used() != watchCharge {
		t.Errorf("after reading, %d charged; want only the watch's %d", b.Used(), watchCharge)
	}
	w.Event(vfs.InCreate, 0, "again", false)
	delete(in.byWD, 1) // Release would ask the (absent) VFS to drop it
	b.Charged -= watchCharge
	fd.DecRef()
	if b.Used() != 0 {
		t.Errorf("after close, %d charged", b.Used())
	}
}

// Consecutive identical events are merged; any difference keeps both.
func TestMerge(t *testing.T) {
	fd, _, w := newTestInstance(t, vfs.Unlimited{})
	w.Event(vfs.InModify, 0, "a", false)
	w.Event(vfs.InModify, 0, "a", false)
	w.Event(vfs.InModify, 0, "b", false)
	w.Event(vfs.InModify, 0, "a", false)
	w.Event(vfs.InModify, 0, "a", false)
	w.Event(vfs.InAccess, 0, "a", false)
	got := fmt.Sprint(readAll(t, fd))
	want := "[1 0x2 a 1 0x2 b 1 0x2 a 1 0x1 a]"
	if got != want {
		t.Errorf("events %s, want %s", got, want)
	}
}
