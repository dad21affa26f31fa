package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseTimensOffsets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []timensOffset
		err  error
	}{
		{"monotonic 10 0\n", []timensOffset{{unix.CLOCK_MONOTONIC, 10, 0}}, nil},
		{"1 -10 5", []timensOffset{{unix.CLOCK_MONOTONIC, -10, 5}}, nil},
		{"boottime 3600 0\nmonotonic 1 999999999\n", []timensOffset{{unix.CLOCK_BOOTTIME, 3600, 0}, {unix.CLOCK_MONOTONIC, 1, 999999999}}, nil},
		{"7 1 0", []timensOffset{{unix.CLOCK_BOOTTIME, 1, 0}}, nil},
		{"realtime 1 0", nil, unix.EINVAL},
		{"3 1 0", nil, unix.EINVAL},
		{"monotonic 1", nil, unix.EINVAL},
		{"monotonic 1 0 0", nil, unix.EINVAL},
		{"monotonic 1 1000000000", nil, unix.EINVAL},
		{"monotonic 1 -1", nil, unix.EINVAL},
		{"monotonic x 0", nil, unix.EINVAL},
		{"monotonic 1 0\nboottime 1 0\nmonotonic 2 0", nil, unix.EINVAL},
		{"", nil, unix.EINVAL},
	} {
		got, err := parseTimensOffsets(tc.in)
		if err != tc.err || len(got) != len(tc.want) {
			t.Errorf("parseTimensOffsets(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("parseTimensOffsets(%q)[%d] = %v; want %v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	k := &Kernel{}
	ns := newTimeNamespace(0, 0)
	if err := ns.SetOffsets(k, "monotonic -1 500000000\nboottime 3600 0\n"); err != nil {
		t.Fatal(err)
	}
	const want = "monotonic          -1 500000000\nboottime         3600         0\n"
	if got := ns.OffsetsText(); got != want {
		t.Errorf("OffsetsText = %q; want %q", got, want)
	}
	if got := ns.clockOffset(unix.CLOCK_MONOTONIC_RAW); got != -500000000 {
		t.Errorf("monotonic offset %d; want -500000000", got)
	}
	if got := ns.clockOffset(unix.CLOCK_REALTIME); got != 0 {
		t.Errorf("realtime offset %d; want 0", got)
	}
	if err := ns.SetOffsets(k, "monotonic -100000000000 0"); err != unix.ERANGE {
		t.Errorf("an offset below the clock's zero: %v; want ERANGE", err)
	}
	if !ns.enter() {
		t.Error("a namespace with offsets does not shift the clocks")
	}
	if err := ns.SetOffsets(k, "monotonic 1 0"); err != unix.EACCES {
		t.Errorf("offsets after a task entered: %v; want EACCES", err)
	}
	if rootTimeNamespace.shifts() || rootTimeNamespace.SetOffsets(k, "monotonic 1 0") != unix.EACCES {
		t.Error("the root namespace moves the clocks or takes offsets")
	}
}
