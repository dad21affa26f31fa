package e2e

// Integration test of the socket system calls' error paths and edge cases
// that the Linux Test Project's socket tests check: testdata/c/ltp_socket.c
// runs natively (socket files in a temporary directory) and under `uk run`
// (in the sandbox's /tmp), and must print the same.

import (
	"os"
	"testing"

	"uk/internal/testenv"
)

func init() {
	otherCPrograms = append(otherCPrograms, "ltp_socket")
}

// TestLTPSocketCases compares every case of ltp_socket with native Linux.
// The program runs natively as root, as uk's programs do (raw sockets,
// ports below 1024, SO_SNDBUFFORCE, dropping to nobody), so that the two
// runs can print the same.
func TestLTPSocketCases(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Need(t, "root", "the native run of ltp_socket makes privileged socket calls, as programs under uk may")
	}
	prog := cProgram(t, "ltp_socket")
	native := runNativeSpec(t, prog, runSpec{Args: []string{t.TempDir()}})
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		uk := runUKSpec(t, platform, prog, runSpec{Args: []string{"/tmp"}})
		sameAsNative(t, native, uk)
	})
}
