package lock

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

type owner struct{ name string }

// TestSetMergesAndSplits checks an owner's records after each change.
func TestSetMergesAndSplits(t *testing.T) {
	a := &owner{"a"}
	steps := []struct {
		kind       Kind
		start, end uint64
		want       []Record
	}{
		{Write, 0, 10, []Record{{Kind: Write, Start: 0, End: 10}}},
		{Write, 10, 20, []Record{{Kind: Write, Start: 0, End: 20}}},                       // touching: merged
		{Unlock, 5, 8, []Record{{Kind: Write, End: 5}, {Kind: Write, Start: 8, End: 20}}}, // split
		{Read, 0, 30, []Record{{Kind: Read, Start: 0, End: 30}}},                          // replaced
		{Write, 10, 12, []Record{{Kind: Read, End: 10}, {Kind: Read, Start: 12, End: 30}, {Kind: Write, Start: 10, End: 12}}},
		{Unlock, 0, ToEnd, nil},
	}
	var m Manager
	for i, s := range steps {
		if err := m.Set("f", a, 1, s.kind, s.start, s.end, nil, true); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var got []Record
		if f := m.files["f"]; f != nil {
			got = f.ranges
		}
		if len(got) != len(s.want) {
			t.Fatalf("step %d: records %+v, want %+v", i, got, s.want)
		}
		for j := range got {
			w := s.want[j]
			if got[j].Kind != w.Kind || got[j].Start != w.Start || got[j].End != w.End {
				t.Fatalf("step %d: records %+v, want %+v", i, got, s.want)
			}
		}
	}
	if m.records != 0 || len(m.files) != 0 || m.inUse.Load() != 0 {
		t.Errorf("after unlocking everything: %d records, %d files, %d in use", m.records, len(m.files), m.inUse.Load())
	}
}

// TestConflicts checks who may lock what beside another owner's locks.
func TestConflicts(t *testing.T) {
	a, b := &owner{"a"}, &owner{"b"}
	var m Manager
	m.Set("f", a, 1, Read, 0, 10, nil, true)
	m.Set("f", a, 1, Write, 20, 30, nil, true)
	cases := []struct {
		kind       Kind
		start, end uint64
		want       error
	}{
		{Read, 0, 10, nil},
		{Write, 9, 11, unix.EAGAIN},
		{Read, 25, 26, unix.EAGAIN},
		{Write, 10, 20, nil},
	}
	for _, c := range cases {
		r, found := m.Test("f", b, c.kind, c.start, c.end)
		if found != (c.want != nil) {
			t.Errorf("Test(%v, [%d,%d)) = %+v, %v", c.kind, c.start, c.end, r, found)
		}
		if err := m.Set("f", b, 2, c.kind, c.start, c.end, nil, true); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("Set(%v, [%d,%d)) = %v, want %v", c.kind, c.start, c.end, err, c.want)
		}
	}
	m.Release("f", a)
	m.Release("f", b)
	if len(m.files) != 0 || m.records != 0 || m.inUse.Load() != 0 {
		t.Errorf("after release: %d files, %d records, %d in use", len(m.files), m.records, m.inUse.Load())
	}
}

// TestDeadlockDetected checks EDEADLK for a wait that closes a cycle.
func TestDeadlockDetected(t *testing.T) {
	a, b := &owner{"a"}, &owner{"b"}
	var m Manager
	m.Set("f", a, 1, Write, 0, 1, nil, true)
	m.Set("f", b, 2, Write, 1, 2, nil, true)
	m.waitsFor = map[Owner]Owner{b: a} // b waits for a's [0,1)
	if err := m.Set("f", a, 1, Write, 1, 2, blockForever{}, true); err != unix.EDEADLK {
		t.Errorf("a waiting for b while b waits for a: %v, want EDEADLK", err)
	}
}

type blockForever struct{}

func (blockForever) Block(<-chan struct{}) error { return unix.EINTR }

// TestRecordsBounded checks that a program cannot grow the lock list
// without bound: alternate kinds make a record each.
func TestRecordsBounded(t *testing.T) {
	defer func(n int) { maxRecords = n }(maxRecords)
	maxRecords = 1000
	a := &owner{"a"}
	var m Manager
	var err error
	for i := uint64(0); i < uint64(maxRecords)+10 && err == nil; i++ {
		k := Read
		if i%2 == 1 {
			k = Write
		}
		err = m.Set("f", a, 1, k, i, i+1, nil, true)
	}
	if err != unix.ENOLCK || m.records > maxRecords {
		t.Errorf("after %d records: %v, want ENOLCK", m.records, err)
	}
}
