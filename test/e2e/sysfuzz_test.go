package e2e

// The syscall fuzzer (testdata/c/sysfuzz.c) run under uk: no argument of any
// system call may crash or hang uk, since uk runs hostile code. The fuzzer
// itself never runs natively (it refuses to: it would change the machine).
//
// Flags:
//   -uk.fuzztime=D  how long to fuzz on each platform (30s); the time is
//                   split into runs of a fresh uk, each with its own seed
//   -uk.fuzzseed=N  the seed of the first run (default: from the clock)
//   -uk.fuzzv       the fuzzer prints every call on stderr before making it
//
// Also here: programs that compare uk's signal behavior with Linux where LTP
// found differences.

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"uk/kernel"
	"uk/kernel/syscalls"
)

var (
	fuzzTime    = flag.Duration("uk.fuzztime", 30*time.Second, "how long TestSysFuzz fuzzes uk's system calls on each platform")
	fuzzSeed    = flag.Uint64("uk.fuzzseed", 0, "the seed of TestSysFuzz's first run (0: one from the clock)")
	fuzzVerbose = flag.Bool("uk.fuzzv", false, "TestSysFuzz's fuzzer prints each call on stderr before making it")
)

func init() {
	// Programs run by the tests of this file, for TestCProgramsAllUsed.
	otherCPrograms = append(otherCPrograms, "sysfuzz", "sigltp")
}

// argKindLetters are the letters sysfuzz.c's -n list uses for the
// argument kinds of uk's syscall table.
var argKindLetters = map[kernel.ArgKind]byte{
	kernel.ArgInt:        'i',
	kernel.ArgHex:        'x',
	kernel.ArgFD:         'f',
	kernel.ArgPath:       'p',
	kernel.ArgInBuf:      'b',
	kernel.ArgOutBuf:     'o',
	kernel.ArgOct:        'm',
	kernel.ArgOpenFlags:  'O',
	kernel.ArgProt:       'P',
	kernel.ArgMapFlags:   'M',
	kernel.ArgSignal:     's',
	kernel.ArgCloneFlags: 'c',
	kernel.ArgAtFlags:    'a',
}

// sysfuzzSpec lists every syscall uk implements with the kinds of its
// arguments, so that the fuzzer spends its calls there (unimplemented
// numbers just return ENOSYS) and gives an fd argument mostly fds, a path
// argument mostly paths.
func sysfuzzSpec() string {
	var b strings.Builder
	for nr, e := range syscalls.Table().Entries {
		if e.Fn == nil {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", nr)
		if len(e.Args) > 0 {
			b.WriteByte(':')
			for _, k := range e.Args {
				l, ok := argKindLetters[k]
				if !ok {
					l = '?'
				}
				b.WriteByte(l)
			}
		}
	}
	return b.String()
}

// TestSysFuzz runs the syscall fuzzer under uk for -uk.fuzztime on each
// platform, in runs short enough for -uk.timeout, and fails if uk panics,
// dies, hangs or exits other than with the fuzzer's own success.
func TestSysFuzz(t *testing.T) {
	prog := cProgram(t, "sysfuzz")
	spec := sysfuzzSpec()
	seed := *fuzzSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) % 1000000
	}
	// A run may overrun its budget by a stuck batch (the fuzzer's
	// watchdog takes a second, its hang report 10 s more), and must still
	// end well within -uk.timeout.
	chunk := min(15*time.Second, *runTimeout/2)
	forEachPlatform(t, func(t *testing.T, platform string) {
		left := *fuzzTime
		for run := uint64(0); left > 0; run++ {
			budget := min(left, chunk)
			left -= budget
			s := seed + run
			args := []string{"fuzz", "-s", fmt.Sprint(s), "-t", fmt.Sprintf("%.1f", budget.Seconds()), "-n", spec}
			if *fuzzVerbose {
				args = append(args, "-v")
			}
			repro := fmt.Sprintf("reproduce: go test -count=1 -run 'TestSysFuzz/%s' ./test/e2e -uk.fuzzseed=%d -uk.fuzztime=%v -uk.fuzzv",
				platform, s, budget)
			t.Logf("fuzzing with seed %d for %v (%s)", s, budget, repro)
			// A small sandbox: the fuzzer's calls may ask for all the
			// memory uk allows, and the machine is shared.
			r := runUKSpec(t, platform, prog, runSpec{Args: args, Flags: []string{"--mem=512M"}})
			// The fuzzer's own lines. A batch may write to the sandbox's
			// console despite the fuzzer's care (a device it reopens for
			// writing), so they are looked for inside lines too.
			var report []string
			for _, l := range strings.Split(r.Stdout, "\n") {
				if i := strings.Index(l, "sysfuzz: "); i >= 0 {
					report = append(report, l[i:])
				}
			}
			ok := slices.ContainsFunc(report, func(l string) bool { return strings.HasPrefix(l, "sysfuzz: ok:") })
			out := clip(strings.Join(report, "\n"))
			switch {
			case hasGoPanic(r.Stderr):
				t.Fatalf("uk panicked while fuzzing with seed %d; %s\nfuzzer output:\n%s\nstderr (last part):\n%s",
					s, repro, out, tail(r.Stderr, 6000))
			case r.Code != 0 || !ok:
				t.Fatalf("the fuzzer did not finish (exit %d) with seed %d; %s\nfuzzer output:\n%s\nstderr (last part):\n%s",
					r.Code, s, repro, out, tail(r.Stderr, 6000))
			}
			for _, l := range report {
				if strings.HasPrefix(l, "sysfuzz: ok:") || strings.HasPrefix(l, "sysfuzz: watchdog:") {
					t.Log(l)
				}
			}
		}
	})
}

// tail returns the last n bytes of s: the end of uk's stderr holds the
// panic, after the fuzzer's many crash reports.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("... (%d bytes before)\n%s", len(s)-n, s[len(s)-n:])
}

// TestSignalsLikeLTP runs testdata/c/sigltp.c natively and under uk: the
// checks of LTP's tgkill03 (tgkill's argument checks and their order) and
// sigaction01 (SA_RESETHAND resets only the handler), and the same for
// tkill and rt_[tg]sigqueueinfo.
func TestSignalsLikeLTP(t *testing.T) {
	prog := cProgram(t, "sigltp")
	native := runNative(t, prog)
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		sameAsNative(t, native, runUK(t, platform, prog, nil))
	})
}
