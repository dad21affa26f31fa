package e2e

import "testing"

// TestHostilePipes: Linux's per-user pipe limits. hostile_pipes, as
// nobody, makes 1300 default pipes (past pipe-user-pages-soft after 1024),
// grows and shrinks pipes past the soft limit, past pipe-max-size and
// below their unread data; uk must answer as the host's Linux does (new
// pipes of 2 pages, EPERM, EBUSY, the count given back on close). Before
// the limits uk gave every pipe 16 pages and let any pipe grow to 1 MiB.
func TestHostilePipes(t *testing.T) {
	prog := cProgram(t, "hostile_pipes")
	native := runNative(t, prog)
	checkNative(t, native, 0)
	forEveryPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, prog, runSpec{Flags: []string{"--mem", "256M"}})
		sameAsNative(t, native, r)
	})
}
