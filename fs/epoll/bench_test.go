package epoll

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// BenchmarkWaitReady is epoll_wait on 100 eventfds of which one is ready
// (level-triggered), the common event-loop case.
func BenchmarkWaitReady(b *testing.B) {
	ctx := vfstest.Root()
	epfd, _ := New(0)
	defer epfd.DecRef()
	ep := Of(epfd)
	var fds []*vfs.FileDescription
	for i := range 100 {
		init := uint32(0)
		if i == 50 {
			init = 1
		}
		f, _ := eventfd.New(init, 0)
		fds = append(fds, f)
		ep.Ctl(ctx, unix.EPOLL_CTL_ADD, int32(i), f, unix.EPOLLIN, uint64(i))
	}
	for b.Loop() {
		if evs, _ := ep.Wait(ctx, 16, 0); len(evs) != 1 {
			b.Fatal(len(evs))
		}
	}
	for _, f := range fds {
		f.DecRef()
	}
}
