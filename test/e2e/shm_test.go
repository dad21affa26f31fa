package e2e

// System V shared memory (testdata/c/shm.c) compared with native Linux.

import (
	"os"
	"testing"
)

func init() { otherCPrograms = append(otherCPrograms, "shm") }

// TestShm runs testdata/c/shm.c natively and under uk: a segment shared
// across fork, IPC_STAT's fields, keys, attach addresses, read-only
// attachments, IPC_RMID while attached, and what another user may not do.
// That last part becomes another user with setuid, so it runs only when
// the native run is root (uk's sandbox starts as root either way).
func TestShm(t *testing.T) {
	prog := cProgram(t, "shm")
	var args []string
	if os.Geteuid() != 0 {
		args = []string{"nouser"}
	}
	native := runNative(t, prog, args...)
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		uk := runUK(t, platform, prog, args)
		sameAsNative(t, native, uk)
	})
}
