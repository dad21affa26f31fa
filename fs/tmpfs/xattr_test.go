package tmpfs

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

type budgetCtx struct {
	vfs.Context
	b *vfstest.Budget
}

func (c budgetCtx) MemoryBudget() vfs.Charger { return c.b }

// TestXattrCharged checks that attributes are charged while kept, given
// back when removed or replaced by smaller ones, bounded per inode, and
// refused (ENOSPC) when the budget is spent.
func TestXattrCharged(t *testing.T) {
	b := &vfstest.Budget{Limit: 4 << 20}
	ctx := budgetCtx{b: b}
	var a attrs
	val := make([]byte, 60000)
	if err := a.SetXattr(ctx, "user.a", val, 0); err != nil {
		t.Fatal(err)
	}
	if want := xattrCost("user.a", val); b.Charged != want {
		t.Fatalf("charged %d, want %d", b.Charged, want)
	}
	if err := a.SetXattr(ctx, "user.a", val[:10], vfs.XattrReplace); err != nil || b.Charged != xattrCost("user.a", val[:10]) {
		t.Fatalf("replace by a smaller value: %v, charged %d", err, b.Charged)
	}
	if err := a.RemoveXattr("user.a"); err != nil || b.Charged != 0 {
		t.Fatalf("remove: %v, charged %d", err, b.Charged)
	}
	var err error
	n := 0
	for ; err == nil && n < 100; n++ {
		err = a.SetXattr(ctx, "user."+string(rune('a'+n%26))+string(rune('a'+n/26)), val, 0)
	}
	if err != unix.ENOSPC || a.xattrs.charged.n > xattrInodeMax {
		t.Fatalf("after %d attributes: %v, %d bytes kept; want ENOSPC within %d", n, err, a.xattrs.charged.n, xattrInodeMax)
	}
	var c attrs
	b.Limit = b.Charged + 100
	if err := c.SetXattr(ctx, "user.x", val, 0); err != unix.ENOSPC {
		t.Fatalf("with the budget spent: %v, want ENOSPC", err)
	}
}
