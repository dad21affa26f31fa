package unix

import (
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/socket"
)

// pass sends d over s as sendmsg does (the message takes its own
// reference) and then drops the caller's, as a close of its last fd.
func pass(t *testing.T, c *ctx, s, d *vfs.FileDescription) {
	t.Helper()
	d.IncRef()
	send(t, c, sockOf(t, s), "x", socket.Control{Rights: []*vfs.FileDescription{d}})
	d.DecRef()
}

func closed(s *Socket) bool {
	s.ns.lock()
	defer s.ns.unlock()
	return s.closed
}

// TestCollectorFreesOnlyUnreachable: a pair each passed over the other
// and closed is freed by a collection; a socket in flight on a socket
// that is itself in flight on a queue the program can still read
// survives, and both arrive.
func TestCollectorFreesOnlyUnreachable(t *testing.T) {
	c := newCtx(10)
	ns := NewNamespace()
	a, b, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	sa, sb := sockOf(t, a), sockOf(t, b)
	pass(t, c, a, a) // queued on b
	pass(t, c, b, b) // queued on a: a cycle nothing else reaches

	open1, open2, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	g, h, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	e, f, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	pass(t, c, h, e)     // e queued on g
	pass(t, c, open1, g) // g queued on open2, which the program holds

	ns.lock()
	kept := ns.collectLocked()
	ns.unlock()
	if !closed(sa) || !closed(sb) {
		t.Fatalf("the unreachable cycle was not freed (a closed %v, b closed %v)", closed(sa), closed(sb))
	}
	if kept != 6 {
		t.Errorf("the collection left %d sockets, want 6", kept)
	}
	r := recv(t, c, sockOf(t, open2), 1, 0)
	if len(r.Control.Rights) != 1 || r.Control.Rights[0] != g {
		t.Fatalf("g did not arrive: %v", r.Control.Rights)
	}
	r2 := recv(t, c, sockOf(t, g), 1, 0)
	if len(r2.Control.Rights) != 1 || r2.Control.Rights[0] != e || closed(sockOf(t, e)) {
		t.Fatalf("e did not arrive alive: %v", r2.Control.Rights)
	}
	for _, d := range []*vfs.FileDescription{open1, open2, g, h, e, f} {
		d.DecRef()
	}
}
