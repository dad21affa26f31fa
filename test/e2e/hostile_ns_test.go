package e2e

import "testing"

// TestHostileNamespaces: namespaces made and dropped in a loop give back
// what they held. hostile_ns leaves 200 mount and IPC namespaces full (a
// filled tmpfs, a segment, a message queue) behind exiting children, then
// swaps 300 mount namespaces in one process, each replacing the tmpfs it
// copied; in a 32 MiB sandbox that fits only if the dropped namespaces,
// the unmounted filesystems and the orphaned IPC objects let their memory
// go, as Linux's do.
func TestHostileNamespaces(t *testing.T) {
	prog := cProgram(t, "hostile_ns")
	native := runNative(t, prog)
	checkNative(t, native, 0)
	forEveryPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, prog, runSpec{Flags: []string{"--mem", "32M"}})
		sameAsNative(t, native, r)
	})
}
