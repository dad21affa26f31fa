package inet

import (
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs/vfstest"
)

// BenchmarkConnectAcceptClose is one TCP connection on loopback through
// uk's socket layer: socket, a blocking connect, accept, and both ends
// closed, the client first (netperf connrate's pattern), without any
// platform: what the stack itself costs per connection.
func BenchmarkConnectAcceptClose(b *testing.B) {
	st, err := NewStack()
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := testCtx{vfstest.Root()}
	p := st.Provider(linux.AF_INET)
	ld, err := p.Socket(ctx, linux.SOCK_STREAM, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer ld.DecRef()
	l := ld.Impl().(*Socket)
	if err := l.Bind(ctx, sockaddrIn(0)); err != nil {
		b.Fatal(err)
	}
	if err := l.Listen(ctx, 128); err != nil {
		b.Fatal(err)
	}
	addr, err := l.SockName(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cd, err := p.Socket(ctx, linux.SOCK_STREAM, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := cd.Impl().(*Socket).Connect(ctx, addr, false); err != nil {
			b.Fatal(err)
		}
		ad, _, err := l.Accept(ctx, false, 0)
		if err != nil {
			b.Fatal(err)
		}
		cd.DecRef()
		ad.DecRef()
	}
}
