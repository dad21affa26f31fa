package unix

import (
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/net/socket"
)

// BenchmarkStreamPingPong measures one 64-byte round trip between two
// goroutines over a stream socketpair (the cost inside uk, without the
// platform's syscall round trips).
func BenchmarkStreamPingPong(b *testing.B) {
	c := newCtx(1)
	ns := NewNamespace()
	x, y, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	sx, sy := x.Impl().(*Socket), y.Impl().(*Socket)
	msg := make([]byte, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := sy.RecvMsg(c, &socket.RecvRequest{Len: 64})
			if err != nil || r.N == 0 {
				return
			}
			sy.SendMsg(c, &socket.SendRequest{Data: r.Data})
		}
	}()
	b.SetBytes(64)
	for i := 0; i < b.N; i++ {
		sx.SendMsg(c, &socket.SendRequest{Data: msg})
		sx.RecvMsg(c, &socket.RecvRequest{Len: 64, Flags: linux.MSG_WAITALL})
	}
	b.StopTimer()
	sx.Shutdown(c, linux.SHUT_WR)
	<-done
	x.DecRef()
	y.DecRef()
}

// BenchmarkStreamThroughput measures 64 KiB writes drained by a reader.
func BenchmarkStreamThroughput(b *testing.B) {
	c := newCtx(1)
	ns := NewNamespace()
	x, y, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	sx, sy := x.Impl().(*Socket), y.Impl().(*Socket)
	msg := make([]byte, 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := sy.RecvMsg(c, &socket.RecvRequest{Len: 64 << 10})
			if err != nil || r.N == 0 {
				return
			}
		}
	}()
	b.SetBytes(int64(len(msg)))
	for i := 0; i < b.N; i++ {
		sx.SendMsg(c, &socket.SendRequest{Data: msg})
	}
	sx.Shutdown(c, linux.SHUT_WR)
	<-done
	x.DecRef()
	y.DecRef()
}
