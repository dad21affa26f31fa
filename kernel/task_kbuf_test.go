package kernel

import (
	"testing"

	"uk/kernel/memfile"
)

// TestCopyBuffer checks CopyBuffer's sizes and charges: a small copy
// costs the budget nothing, a big one is charged a whole pooled buffer
// while held and nothing after, one the budget cannot cover gets a SmallIO
// buffer, and a released buffer is reused.
func TestCopyBuffer(t *testing.T) {
	mf, err := memfile.New(4 << 20)
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
		{n: SmallIO + 1, max: ioMax, wantLen: SmallIO + 1, wantCharg: bigBuf},
		{n: bigBuf, max: ioMax, wantLen: bigBuf, wantCharg: bigBuf},
		{n: bigBuf, max: 10, wantLen: 10},
		{n: 4 * bigBuf, max: ioMax, wantLen: 4 * bigBuf, wantCharg: hugeBuf},
		{n: hugeBuf, max: ioMax, wantLen: hugeBuf, wantCharg: hugeBuf},
		{n: hugeBuf + 1, max: 2 * hugeBuf, wantLen: hugeBuf + 1, wantCharg: hugeBuf + 1},
	}
	for _, tc := range tests {
		buf, release := task.CopyBuffer(tc.n, tc.max)
		if len(buf) != tc.wantLen || mf.Charged() != tc.wantCharg {
			t.Errorf("CopyBuffer(%d, %d): len %d, charged %d; want %d, %d", tc.n, tc.max, len(buf), mf.Charged(), tc.wantLen, tc.wantCharg)
		}
		buf[0] = 0xa5
		release()
		if c := mf.Charged(); c != 0 {
			t.Errorf("CopyBuffer(%d, %d): %d bytes still charged after release", tc.n, tc.max, c)
		}
	}

	// A released buffer is the next call's (no new allocation).
	for _, n := range []uint64{4096, 256 << 10} {
		b1, r1 := task.CopyBuffer(2*n, ioMax)
		r1()
		b2, r2 := task.CopyBuffer(n, ioMax)
		if &b1[0] != &b2[0] {
			t.Errorf("a released buffer of %d bytes was not reused", 2*n)
		}
		r2()
	}

	// With the budget spent, a big read copies through SmallIO bytes.
	for mf.Charge(4096) {
	}
	buf, release := task.CopyBuffer(bigBuf, ioMax)
	if len(buf) != SmallIO {
		t.Errorf("with the budget spent: len %d, want %d", len(buf), SmallIO)
	}
	release()
}

const ioMax = 1 << 20
