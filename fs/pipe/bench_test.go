package pipe

import (
	"testing"

	"uk/fs/vfs/vfstest"
)

// BenchmarkWriteRead is one write and one read of size bytes on one pipe.
func BenchmarkWriteRead(b *testing.B) {
	for _, size := range []int{1, PipeBuf, DefaultSize} {
		b.Run(itoa(uint64(size)), func(b *testing.B) {
			ctx := vfstest.Root()
			r, w, _ := New(ctx, 0)
			defer r.DecRef()
			defer w.DecRef()
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				w.Write(ctx, buf)
				for got := 0; got < size; {
					n, _ := r.Read(ctx, buf[got:])
					got += n
				}
			}
		})
	}
}

// BenchmarkPingPong bounces one byte between two goroutines over two
// pipes (a blocking wake-up each way).
func BenchmarkPingPong(b *testing.B) {
	ctx := vfstest.Root()
	r1, w1, _ := New(ctx, 0)
	r2, w2, _ := New(ctx, 0)
	go func() {
		buf := make([]byte, 1)
		for {
			if n, _ := r1.Read(vfstest.Root(), buf); n == 0 {
				w2.DecRef()
				return
			}
			w2.Write(vfstest.Root(), buf)
		}
	}()
	buf := []byte{1}
	for b.Loop() {
		w1.Write(ctx, buf)
		r2.Read(ctx, buf)
	}
	w1.DecRef()
	r2.Read(ctx, buf)
	r1.DecRef()
	r2.DecRef()
}
