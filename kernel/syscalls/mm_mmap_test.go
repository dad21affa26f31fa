package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"
)

// ld.so's private MAP_DENYWRITE mappings are ELF segments (copied whole
// when writable); other file mappings are not.
func TestELFSegmentFlags(t *testing.T) {
	for _, c := range []struct {
		flags uint64
		want  bool
	}{
		{unix.MAP_PRIVATE | unix.MAP_FIXED | unix.MAP_DENYWRITE, true},
		{unix.MAP_PRIVATE | unix.MAP_DENYWRITE, true},
		{unix.MAP_PRIVATE | unix.MAP_FIXED, false},
		{unix.MAP_SHARED | unix.MAP_DENYWRITE, false},
	} {
		if got := elfSegment(c.flags); got != c.want {
			t.Errorf("elfSegment(%#x) = %v, want %v", c.flags, got, c.want)
		}
	}
}
