package e2e

// Integration tests of AF_UNIX sockets (net/unix and the socket syscalls):
// C programs that exercise stream, datagram and seqpacket sockets, fd and
// credential passing and blocking across processes, run natively (in a
// temporary directory) and under `uk run` (in the sandbox's /tmp), and
// must print the same.

import (
	"testing"
)

func init() {
	otherCPrograms = append(otherCPrograms, "unix_stream", "unix_dgram", "unix_rights")
}

// socketCases are the socket programs; each makes its socket files in a
// fresh directory under its first argument (the native run's temporary
// directory; /tmp inside the sandbox).
var socketCases = []struct {
	name string
	prog string
	args []string // after the directory
}{
	{name: "stream", prog: "unix_stream"},
	{name: "dgram", prog: "unix_dgram"},
	{name: "rights", prog: "unix_rights"},
	{name: "seqpacket-write-no-sigpipe", prog: "unix_dgram", args: []string{"write-sigpipe"}},
}

// TestUnixSockets runs each socket program natively, checks that it does
// what it promises there, and requires the same output under uk.
func TestUnixSockets(t *testing.T) {
	for _, tc := range socketCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prog := cProgram(t, tc.prog)
			native := runNativeSpec(t, prog, runSpec{Args: append([]string{t.TempDir()}, tc.args...)})
			checkNative(t, native, 0)
			forEachPlatform(t, func(t *testing.T, platform string) {
				uk := runUKSpec(t, platform, prog, runSpec{Args: append([]string{"/tmp"}, tc.args...)})
				sameAsNative(t, native, uk)
			})
		})
	}
}

// TestUnixHTTPGo runs testdata/go/unixhttp (net/http client and server over
// a unix socket, on Go's netpoller) natively and under uk.
func TestUnixHTTPGo(t *testing.T) {
	prog := goProgram(t, "unixhttp")
	native := runNativeSpec(t, prog, runSpec{Args: []string{t.TempDir()}})
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		uk := runUKSpec(t, platform, prog, runSpec{Args: []string{"/tmp"}})
		sameAsNative(t, native, uk)
	})
}
