package pipe

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// TestUserPipeLimits: Linux's pipe-user-pages-soft for an unprivileged
// user: 1024 default pipes reach it; later pipes get 2 pages and cannot
// grow (EPERM), shrinking still works; closing gives the pages back; root
// is not limited, and another user has a count of its own.
func TestUserPipeLimits(t *testing.T) {
	user := vfstest.User(4242, 4242)
	var fds []*vfs.FileDescription
	defer func() {
		for _, fd := range fds {
			fd.DecRef()
		}
	}()
	newPipe := func(ctx vfs.Context) *Pipe {
		t.Helper()
		r, w, err := New(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, r, w)
		return Of(r)
	}
	for i := 0; i < UserPagesSoft/(DefaultSize/PageSize); i++ {
		if sz := newPipe(user).GetSize(); sz != DefaultSize {
			t.Fatalf("pipe %d: %d bytes, want %d", i, sz, DefaultSize)
		}
	}
	p := newPipe(user)
	if sz := p.GetSize(); sz != minSlots*PageSize {
		t.Errorf("a pipe past the soft limit: %d bytes, want %d", sz, minSlots*PageSize)
	}
	if _, err := p.SetSize(user, DefaultSize); !errors.Is(err, unix.EPERM) {
		t.Errorf("growing past the soft limit: %v, want EPERM", err)
	}
	if sz, err := p.SetSize(user, PageSize); err != nil || sz != PageSize {
		t.Errorf("shrinking past the soft limit: %d, %v", sz, err)
	}
	if sz := newPipe(vfstest.Root()).GetSize(); sz != DefaultSize {
		t.Errorf("root's pipe: %d bytes, want %d", sz, DefaultSize)
	}
	if sz := newPipe(vfstest.User(4243, 4243)).GetSize(); sz != DefaultSize {
		t.Errorf("another user's pipe: %d bytes, want %d", sz, DefaultSize)
	}
	for _, fd := range fds {
		fd.DecRef()
	}
	fds = nil
	if sz := newPipe(user).GetSize(); sz != DefaultSize {
		t.Errorf("after closing every pipe: %d bytes, want %d", sz, DefaultSize)
	}
	if _, err := newPipe(user).SetSize(user, 2*MaxSize); !errors.Is(err, unix.EPERM) {
		t.Errorf("past pipe-max-size: %v, want EPERM", err)
	}
}
