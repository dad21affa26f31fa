package vfs_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

type countFile struct {
	vfs.FileBase
	released *int
}

func (c countFile) Release() { *c.released++ }

func newCounted() (*vfs.FileDescription, *int) {
	n := new(int)
	return vfs.NewFileDescription(countFile{released: n}, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{}), n
}

func TestFDTableSemantics(t *testing.T) {
	tab := vfs.NewFDTable()
	a, relA := newCounted()
	b, relB := newCounted()
	const lim = 16
	mustInstall := func(fd *vfs.FileDescription, min int32, want int32) {
		t.Helper()
		n, err := tab.Install(fd, min, false, lim)
		if err != nil || n != want {
			t.Fatalf("Install(min %d) = %d, %v; want %d", min, n, err, want)
		}
	}
	mustInstall(a, 0, 0)
	mustInstall(b, 0, 1)
	mustInstall(a, 5, 5)
	// Lowest free.
	if err := tab.Close(1); err != nil {
		t.Fatal(err)
	}
	mustInstall(b, 0, 1)
	// Closing a free number.
	if err := tab.Close(7); err != unix.EBADF {
		t.Fatalf("close free = %v", err)
	}
	// Dup, Dup2 to itself, Dup3 errors.
	if n, err := tab.Dup(0, lim); err != nil || n != 2 {
		t.Fatalf("Dup = %d %v", n, err)
	}
	if n, err := tab.Dup2(3, 3, lim); err != unix.EBADF {
		t.Fatalf("Dup2 closed self = %d %v", n, err)
	}
	if n, err := tab.Dup2(1, 1, lim); err != nil || n != 1 {
		t.Fatalf("Dup2 self = %d %v", n, err)
	}
	if _, err := tab.Dup3(1, 1, 0, lim); err != unix.EINVAL {
		t.Fatalf("Dup3 self = %v", err)
	}
	if _, err := tab.Dup3(1, 4, unix.O_NONBLOCK, lim); err != unix.EINVAL {
		t.Fatalf("Dup3 bad flags = %v", err)
	}
	if _, err := tab.Dup3(1, lim, 0, lim); err != unix.EBADF {
		t.Fatalf("Dup3 beyond limit = %v", err)
	}
	// Dup3 over an open fd closes it; cloexec set.
	if n, err := tab.Dup3(1, 5, unix.O_CLOEXEC, lim); err != nil || n != 5 {
		t.Fatalf("Dup3 = %d %v", n, err)
	}
	if ce, _ := tab.Cloexec(5); !ce {
		t.Fatal("Dup3 O_CLOEXEC not set")
	}
	if ce, _ := tab.Cloexec(2); ce {
		t.Fatal("Dup set cloexec")
	}
	// F_DUPFD: min beyond limit EINVAL; lowest >= min.
	if _, err := tab.DupFD(0, lim, false, lim); err != unix.EINVAL {
		t.Fatalf("DupFD min=limit = %v", err)
	}
	if n, err := tab.DupFD(0, 3, true, lim); err != nil || n != 3 {
		t.Fatalf("DupFD = %d %v", n, err)
	}
	// CloseOnExec closes 3 and 5.
	tab.CloseOnExec()
	if _, _, err := tab.Get(3); err != unix.EBADF {
		t.Fatal("cloexec fd 3 survived exec")
	}
	if _, _, err := tab.Get(5); err != unix.EBADF {
		t.Fatal("cloexec fd 5 survived exec")
	}
	if tab.Count() != 3 {
		t.Fatalf("Count = %d", tab.Count())
	}
	// Fork shares descriptions; closing in the child does not release.
	child, _ := tab.Fork()
	child.CloseAll()
	if *relA != 0 || *relB != 0 {
		t.Fatal("released while the parent still holds them")
	}
	// CloseRange with CLOEXEC flag marks; then real close.
	if err := tab.CloseRange(0, 1, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if ce, _ := tab.Cloexec(0); !ce {
		t.Fatal("CLOSE_RANGE_CLOEXEC did not mark")
	}
	if err := tab.CloseRange(2, 1, 0); err != unix.EINVAL {
		t.Fatal("CloseRange first>last accepted")
	}
	a.DecRef()
	b.DecRef()
	tab.CloseAll()
	if *relA != 1 || *relB != 1 {
		t.Fatalf("released a=%d b=%d, want 1 each", *relA, *relB)
	}
}

func TestFDTableLimit(t *testing.T) {
	tab := vfs.NewFDTable()
	fd, _ := newCounted()
	for i := 0; i < 3; i++ {
		if _, err := tab.Install(fd, 0, false, 3); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tab.Install(fd, 0, false, 3); err != unix.EMFILE {
		t.Fatalf("over limit = %v, want EMFILE", err)
	}
	if _, err := tab.Dup(0, 3); err != unix.EMFILE {
		t.Fatalf("dup over limit = %v", err)
	}
}

func TestFDTableConcurrent(t *testing.T) {
	tab := vfs.NewFDTable()
	fd, rel := newCounted()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				n, err := tab.Install(fd, 0, false, 1024)
				if err != nil {
					t.Error(err)
					return
				}
				if f, _, err := tab.Get(n); err == nil {
					f.DecRef()
				}
				if err := tab.Close(n); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if tab.Count() != 0 || *rel != 0 {
		t.Fatalf("count %d released %d", tab.Count(), *rel)
	}
	fd.DecRef()
	if *rel != 1 {
		t.Fatal("not released")
	}
}

// TestFDTableLowestFreeModel checks the bitmap search against a plain
// model: random installs at a minimum, dup3 to chosen numbers, closes,
// close_range (with and without CLOEXEC) and forks, across word and
// summary-word boundaries.
func TestFDTableLowestFreeModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fd, _ := newCounted()
	tab := vfs.NewFDTable()
	model := map[int32]bool{} // open numbers -> cloexec
	const lim = 9000          // beyond one summary word (4096 numbers)
	lowest := func(min int32) int32 {
		for n := min; ; n++ {
			if _, ok := model[n]; !ok {
				return n
			}
		}
	}
	for i := 0; i < 30000; i++ {
		switch op := rng.IntN(10); {
		case op < 5:
			min := int32(0)
			if rng.IntN(4) == 0 {
				min = int32(rng.IntN(lim))
			}
			want := lowest(min)
			n, err := tab.Install(fd, min, op == 0, lim)
			if want >= lim {
				if err != unix.EMFILE {
					t.Fatalf("Install(min %d) = %d, %v; want EMFILE", min, n, err)
				}
				continue
			}
			if err != nil || n != want {
				t.Fatalf("step %d: Install(min %d) = %d, %v; want %d", i, min, n, err, want)
			}
			model[n] = op == 0
		case op < 6:
			n := int32(rng.IntN(lim))
			if _, err := tab.Dup3(0, n, unix.O_CLOEXEC, lim); err == nil {
				model[n] = true
			} else if _, ok := model[0]; ok && n != 0 {
				t.Fatalf("Dup3(0, %d) = %v", n, err)
			}
		case op < 9:
			n := int32(rng.IntN(lim))
			_, ok := model[n]
			if err := tab.Close(n); (err == nil) != ok {
				t.Fatalf("Close(%d) = %v, open %v", n, err, ok)
			}
			delete(model, n)
		default:
			first := uint32(rng.IntN(lim))
			last := first + uint32(rng.IntN(200))
			if rng.IntN(2) == 0 {
				tab.CloseRange(first, last, unix.CLOSE_RANGE_CLOEXEC)
				for n := range model {
					if uint32(n) >= first && uint32(n) <= last {
						model[n] = true
					}
				}
			} else {
				tab.CloseRange(first, last, 0)
				for n := range model {
					if uint32(n) >= first && uint32(n) <= last {
						delete(model, n)
					}
				}
			}
			if rng.IntN(8) == 0 {
				old := tab
				tab, _ = tab.Fork()
				old.CloseAll()
			}
		}
		if tab.Count() != len(model) {
			t.Fatalf("step %d: Count %d, model %d", i, tab.Count(), len(model))
		}
	}
	seen := 0
	tab.ForEach(func(n int32, _ *vfs.FileDescription, cloexec bool) {
		seen++
		if c, ok := model[n]; !ok || c != cloexec {
			t.Errorf("ForEach: %d cloexec %v; model has %v, %v", n, cloexec, ok, c)
		}
	})
	if seen != len(model) {
		t.Errorf("ForEach saw %d, model %d", seen, len(model))
	}
}

// TestFDTableMillion fills the largest table Linux allows (nr_open) with
// dup: each lowest-free search must cost about the same however full the
// table is (the old linear search took minutes for this).
func TestFDTableMillion(t *testing.T) {
	fd, _ := newCounted()
	tab := vfs.NewFDTable()
	if _, err := tab.Install(fd, 0, false, vfs.MaxFDLimit); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 1; i < vfs.MaxFDLimit; i++ {
		if n, err := tab.Dup(0, vfs.MaxFDLimit); err != nil || n != int32(i) {
			t.Fatalf("dup %d = %d, %v", i, n, err)
		}
	}
	if _, err := tab.Dup(0, vfs.MaxFDLimit); err != unix.EMFILE {
		t.Fatalf("dup past nr_open = %v, want EMFILE", err)
	}
	// A hole at the very top, then one at the bottom: both found.
	tab.Close(vfs.MaxFDLimit - 1)
	if n, err := tab.Dup(0, vfs.MaxFDLimit); n != vfs.MaxFDLimit-1 || err != nil {
		t.Fatalf("dup into the top hole = %d, %v", n, err)
	}
	tab.Close(5)
	if n, err := tab.Dup(0, vfs.MaxFDLimit); n != 5 || err != nil {
		t.Fatalf("dup into the bottom hole = %d, %v", n, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("1M dups took %v", d)
	}
	t.Logf("%d dups in %v", vfs.MaxFDLimit, time.Since(start))
	tab.CloseAll()
}

// TestFDTableBudget: a table with a budget charges its arrays and each
// description once; a dup2 to a high number that the budget cannot cover
// is ENOMEM and changes nothing; Fork charges the copy; everything comes
// back when the tables and descriptions go.
func TestFDTableBudget(t *testing.T) {
	b := &vfstest.Budget{Limit: 1 << 20}
	tab := vfs.NewFDTable()
	if err := tab.SetBudget(b); err != nil {
		t.Fatal(err)
	}
	fd, rel := newCounted()
	if _, err := tab.Install(fd, 0, false, vfs.MaxFDLimit); err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	base := b.Charged
	if base < vfs.DescriptionCost+64*8 {
		t.Errorf("charged %d for one description in a 64-entry table", base)
	}
	if _, err := tab.Dup(0, vfs.MaxFDLimit); err != nil || b.Charged != base {
		t.Errorf("dup: %v, charged %d, want %d (a description is charged once)", err, b.Charged, base)
	}
	// 1M entries need 8 MiB: more than the budget.
	if _, err := tab.Dup2(0, vfs.MaxFDLimit-1, vfs.MaxFDLimit); err != unix.ENOMEM {
		t.Errorf("dup2 to the top with a small budget = %v, want ENOMEM", err)
	}
	if tab.Count() != 2 || b.Charged != base {
		t.Errorf("after the refused dup2: %d open, charged %d; want 2 and %d", tab.Count(), b.Charged, base)
	}
	b.Limit = 1 << 30
	if _, err := tab.Dup2(0, vfs.MaxFDLimit-1, vfs.MaxFDLimit); err != nil {
		t.Fatal(err)
	}
	big := b.Charged
	if big < 8<<20 {
		t.Errorf("charged %d for a table of 1M entries", big)
	}
	child, err := tab.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if b.Charged != 2*big-vfs.DescriptionCost {
		t.Errorf("after fork charged %d, want %d", b.Charged, 2*big-vfs.DescriptionCost)
	}
	child.CloseAll()
	tab.CloseAll()
	if b.Charged != 0 || *rel != 1 {
		t.Errorf("after both tables closed: charged %d, released %d; want 0 and 1", b.Charged, *rel)
	}
}
