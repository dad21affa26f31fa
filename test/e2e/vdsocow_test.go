package e2e

import (
	"strings"
	"testing"
)

// vdsoCOWWant is what Linux without sealed system mappings prints for
// `sharedmap vdso`: vvar can never be written; the vDSO can be made
// writable, and a write there is the writer's alone (a copy-on-write page),
// so neither a new program nor the writer's parent sees it.
const vdsoCOWWant = `mprotect vvar write: EACCES
vvar write: SIGSEGV/SEGV_ACCERR
mprotect vdso rwx: ok
patched here: yes
a new program's vdso is the original: yes
a forked child's write stays in the child: yes
`

// TestVDSOPrivate is the hostile-program test of the vDSO: a process that
// patches its vDSO changes no other process's. Linux 6.15+ may seal system
// mappings (the vDSO's mprotect then fails); a host that does cannot be
// the reference, so uk's output is compared with what an unsealed Linux
// prints, and with the host's own whenever the host does not seal.
func TestVDSOPrivate(t *testing.T) {
	prog := cProgram(t, "sharedmap")
	native := runNative(t, prog, "vdso")
	sealed := strings.Contains(native.Stdout, "mprotect vdso rwx: EINVAL") || strings.Contains(native.Stdout, "mprotect vdso rwx: EPERM")
	if !sealed && native.Stdout != vdsoCOWWant {
		t.Fatalf("the host's Linux disagrees with the expected transcript; fix the test:\n%s", native.Stdout)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		uk := runUK(t, platform, prog, []string{"vdso"})
		if uk.Stdout != vdsoCOWWant || uk.Code != 0 {
			t.Errorf("under uk (exit %d); %s\nuk stderr:\n%s", uk.Code, firstDiff(vdsoCOWWant, uk.Stdout), clip(uk.Stderr))
		}
	})
}
