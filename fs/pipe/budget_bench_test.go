package pipe

import (
	"testing"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

// BenchmarkWriteReadCharged is BenchmarkWriteRead with every page charged
// to a memory file's budget, as in a sandbox.
func BenchmarkWriteReadCharged(b *testing.B) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer mf.Close()
	for _, size := range []int{1, PipeBuf, DefaultSize} {
		b.Run(itoa(uint64(size)), func(b *testing.B) {
			ctx := chargedCtx{vfstest.Root(), mf}
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

// chargedCtx is a task whose sandbox's budget is a memory file.
type chargedCtx struct {
	*vfstest.Ctx
	mf *memfile.File
}

func (c chargedCtx) MemoryBudget() vfs.Charger { return c.mf }
