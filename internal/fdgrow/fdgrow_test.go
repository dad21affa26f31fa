package fdgrow

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestGrowsOnceAhead checks that an fd below three quarters of the table
// leaves it alone, and that one past it grows the table in one step to
// Target (or the fd limit), in the background.
func TestGrowsOnceAhead(t *testing.T) {
	Init()
	n := size.Load()
	if n == 0 {
		t.Fatal("Init read no FDSize from /proc/self/status")
	}
	// The table may start as large as Target (the parent's size): aim
	// the growth past whatever it is, as Init aims it past 64.
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if uint64(4*n) > lim.Cur {
		t.Fatalf("the fd table has %d entries and the fd limit is %d: no room to grow it fourfold", n, lim.Cur)
	}
	target.Store(4 * n)
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(null)
	at := func(fd int64) int {
		t.Helper()
		if err := unix.Dup3(null, int(fd), unix.O_CLOEXEC); err != nil {
			t.Fatalf("dup3 to %d: %v", fd, err)
		}
		return int(fd)
	}
	low := at(n*3/4 - 1)
	defer unix.Close(low)
	Note(low)
	time.Sleep(50 * time.Millisecond)
	if got := tableSize(); got != n || done.Load() != 0 {
		t.Fatalf("fd %d of a %d-entry table: table now %d entries, %d growths; want no growth", low, n, got, done.Load())
	}
	high := at(n * 3 / 4)
	defer unix.Close(high)
	Note(high)
	Note(high) // a second Note while growing starts nothing more
	deadline := time.Now().Add(5 * time.Second)
	for done.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got, want := tableSize(), target.Load(); got != want || done.Load() != 1 {
		t.Fatalf("after fd %d of a %d-entry table: %d entries, %d growths; want %d entries in one growth", high, n, got, done.Load(), want)
	}
	Note(high)
	if done.Load() != 1 || growing.Load() {
		t.Fatalf("a Note after the growth started another")
	}
}
