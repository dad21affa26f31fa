package kernel

import (
	"testing"

	"uk/kernel/memfile"
)

// TestReadBuffer checks ReadBuffer's sizes and charges: a small read costs
// the budget nothing, a big one is charged a whole pooled buffer while
// held and nothing after, a read the budget cannot cover gets a SmallIO
// buffer, and a released buffer is reused.
func TestReadBuffer(t *testing.T) {
	mf, err := memfile.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	task := &Task{k: &Kernel{Config: Config{MemFile: mf}}}

	tests := []struct {
		n, max    uint64
		wantLen   int
		wantCharg int64
	}{
		{n: 100, max: ioMax, wantLen: 100},
		{n: SmallIO, max: ioMax, wantLen: SmallIO},
		{n: SmallIO + 1, max: ioMax, wantLen: SmallIO + 1, wantCharg: bigRead},
		{n: bigRead, max: ioMax, wantLen: bigRead, wantCharg: bigRead},
		{n: bigRead, max: 10, wantLen: 10},
		{n: 4 * bigRead, max: ioMax, wantLen: 4 * bigRead, wantCharg: 4 * bigRead},
	}
	for _, tc := range tests {
		buf, release := task.ReadBuffer(tc.n, tc.max)
		if len(buf) != tc.wantLen || mf.Charged() != tc.wantCharg {
			t.Errorf("ReadBuffer(%d, %d): len %d, charged %d; want %d, %d", tc.n, tc.max, len(buf), mf.Charged(), tc.wantLen, tc.wantCharg)
		}
		buf[0] = 0xa5
		release()
		if c := mf.Charged(); c != 0 {
			t.Errorf("ReadBuffer(%d, %d): %d bytes still charged after release", tc.n, tc.max, c)
		}
	}

	// A released buffer is the next call's (no new allocation).
	b1, r1 := task.ReadBuffer(8192, ioMax)
	r1()
	b2, r2 := task.ReadBuffer(4096, ioMax)
	if &b1[0] != &b2[0] {
		t.Errorf("a released small buffer was not reused")
	}
	r2()

	// With the budget spent, a big read copies through SmallIO bytes.
	for mf.Charge(4096) {
	}
	buf, release := task.ReadBuffer(bigRead, ioMax)
	if len(buf) != SmallIO {
		t.Errorf("with the budget spent: len %d, want %d", len(buf), SmallIO)
	}
	release()
}

const ioMax = 1 << 20
