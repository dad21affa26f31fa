package e2e

// O_TMPFILE and linkat naming the unnamed file (LTP's openat03), and
// rename(2) onto an ancestor directory, compared with native Linux.

import (
	"os"
	"path/filepath"
	"testing"
)

func init() { otherCPrograms = append(otherCPrograms, "tmpfile") }

// TestTmpfile runs testdata/c/tmpfile.c natively in a fresh directory of
// /dev/shm (a tmpfs, as the sandbox's /tmp is: /tmp on the host may be a
// disk filesystem with other block counts) and under uk in /tmp.
func TestTmpfile(t *testing.T) {
	prog := cProgram(t, "tmpfile")
	dir, err := os.MkdirTemp("/dev/shm", "uk-tmpfile-")
	if err != nil {
		t.Fatalf("a tmpfs directory for the native run: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	native := runNative(t, prog, filepath.Join(dir, "w"))
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		needFS(t)
		uk := runUK(t, platform, prog, []string{"/tmp/w"})
		sameAsNative(t, native, uk)
	})
}
