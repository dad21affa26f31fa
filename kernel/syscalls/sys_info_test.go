package syscalls

import "testing"

// TestRelease26: UNAME26's release, as Linux's override_release.
func TestRelease26(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"6.12.0-uk", "2.6.72-uk"},
		{"6.18.44-fc-v1272", "2.6.78-fc-v1272"},
		{"5.4.0", "2.6.64"},
		{"3.10.1.2", "2.6.70.2"},
	} {
		if got := release26(tc.in); got != tc.want {
			t.Errorf("release26(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
