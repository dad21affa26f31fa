package e2e

import (
	"regexp"
	"strings"
	"testing"

	"uk/internal/testenv"
)

func init() { otherCPrograms = append(otherCPrograms, "hostile_sigsys") }

// TestHostileSigsys: attacks on the sigsys platform's trap path
// (testdata/c/hostile_sigsys.c says what a safe kernel does): syscalls at
// the handler's own syscall instructions are trapped like any other, a
// jump into the handler with forged registers touches only the program's
// memory (so does a jump into the trampoline of patched syscall sites
// with a slot of its own), a frame with ring-0 selectors ends in a SIGSEGV, and a thread
// that scribbles over another's slot while it makes syscalls gets its
// process killed at worst, never uk, and a thread that disabled its
// signal stack is killed once it leaves an interrupt unanswered (the
// race also scribbles over what a patched syscall site's trampoline
// uses, alone in race-fast), a program that keeps waking the stub's serving thread gets no mapping
// change reported before it is made, and a process never finds a page of
// one that ended mapped in the stub it gets (renew). They run on sigsys whenever `uk
// platforms` says it works, in the matrix or held back from it.
func TestHostileSigsys(t *testing.T) {
	needUK(t)
	if reason, ok := platformsNotRun["sigsys"]; ok {
		testenv.Need(t, "the sigsys platform", reason)
	}
	prog := cProgram(t, "hostile_sigsys")
	t.Run("sites", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"sites"})
		want := "getpid at the exit site: is the sandbox's pid\n" +
			"mmap of fd 3 at the rt_sigreturn site: -9 (EBADF)\n"
		if r.Code != 42 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q; want 42 and %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	t.Run("handler", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"handler"})
		want := regexp.MustCompile(`^jump into the handler: left by signal 14; it wrote signo 0x1234 info 0x5678 uctx 0x9abc to the program's own buffer, state [14]\n$`)
		if r.Code != 0 || !want.MatchString(r.Stdout) {
			t.Errorf("exit %d, stdout %q; want 0 and %v\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	t.Run("trampoline", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"trampoline"})
		want := "jump into the trampoline: left by signal 14; it wrote rax 0x1234 rcx 0x5678 to the program's own buffer, state 6\n"
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q; want 0 and %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	t.Run("ring0", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"ring0"})
		want := "ring-0 frame: signal 11 (want SIGSEGV 11)\n"
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q; want 0 and %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	t.Run("stuck", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"stuck"})
		if r.Code != 137 || r.Stdout != "" || !strings.Contains(r.Stderr, "did not answer an interrupt") {
			t.Errorf("exit %d, stdout %q; want 137, nothing, and uk giving up on the thread\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
	})
	t.Run("renew", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"renew"})
		want := "reads of a dead process's page: 40 faulted, 0 did not (0 saw its secret)\n"
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q; want 0 and %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	t.Run("servewake", func(t *testing.T) {
		r := runUK(t, "sigsys", prog, []string{"servewake"})
		want := "serving thread woken by the program: yes; reads after munmap that did not fault: 0; wrong values: 0\n"
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q; want 0 and %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	for _, args := range [][]string{{"race"}, {"race", "fast"}} {
		t.Run(strings.Join(args, "-"), func(t *testing.T) { hostileRace(t, prog, args) })
	}
}

// hostileRace runs hostile_sigsys race (args) three times: each run ends
// with the program done or killed, never with uk hurt.
func hostileRace(t *testing.T, prog string, args []string) {
	for i := 0; i < 3; i++ {
		r := runUKSpec(t, "sigsys", prog, runSpec{Args: args, Flags: []string{"--patch-syscalls"}})
		switch {
		case r.TimedOut || r.Signaled || hasGoPanic(r.Stderr):
			t.Fatalf("uk did not contain the race: timed out %v, signaled %v\nstderr:\n%s", r.TimedOut, r.Signaled, clip(r.Stderr))
		case r.Code == 0 && strings.HasPrefix(r.Stdout, "race done: "):
		case r.Code > 128 && r.Code < 128+65:
			// Killed: by uk, which found its frame overwritten
			// (137) or gave up on a thread whose signal stack or
			// mask the scribbler changed; or by the signal for
			// the garbage registers it restored (a crash).
		default:
			t.Errorf("exit %d, stdout %q\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
	}
}
