package memmap

import "testing"

func TestCountIn(t *testing.T) {
	pages := map[uint64]int64{0: 0, 5: 4096, 6: 8192, 1 << 40: 12288}
	for _, c := range []struct {
		first, end uint64
		want       int
	}{
		{0, 0, 0},
		{0, 1, 1},
		{1, 5, 0},
		{5, 7, 2},
		{0, 7, 3},
		{7, 5, 0},               // an empty range
		{0, 1 << 62, 4},         // a range far larger than the map
		{1 << 40, 1<<40 + 1, 1}, // the page alone
		{1<<40 + 1, 1 << 41, 0}, // past every page
		{6, 1 << 40, 1},         // the boundary is exclusive
		{2, 3, 0},               // a small range inside a hole
	} {
		if got := CountIn(pages, c.first, c.end); got != c.want {
			t.Errorf("CountIn(%d, %d) = %d, want %d", c.first, c.end, got, c.want)
		}
	}
	if got := CountIn(nil, 0, 10); got != 0 {
		t.Errorf("CountIn(nil) = %d", got)
	}
}
