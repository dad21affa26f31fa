package vdso

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/testenv"
)

// harness builds testdata/harness.c (a static C program that maps a
// parameter page file and vdso.so as uk does and calls the vDSO natively).
func harness(t testing.TB) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Need(t, "gcc", "it builds the vDSO test harness; Debian: gcc libc6-dev")
	}
	out := filepath.Join(t.TempDir(), "harness")
	if b, err := exec.Command(gcc, "-O2", "-static", "-Wall", "-Werror", "-o", out, "testdata/harness.c").CombinedOutput(); err != nil {
		t.Fatalf("building the harness: %v\n%s", err, b)
	}
	return out
}

// paramFile creates a page-sized file mapped shared into the test, so that
// a Timekeeper writing the mapping updates what the harness reads.
func paramFile(t testing.TB) (path string, page []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "params")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(ParamPageSize); err != nil {
		t.Fatal(err)
	}
	page, err = unix.Mmap(int(f.Fd()), 0, ParamPageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(page) })
	return path, page
}

func runHarness(t testing.TB, bin, mode, params string) string {
	t.Helper()
	out, err := exec.Command(bin, mode, params, "vdso.so").CombinedOutput()
	t.Logf("harness %s:\n%s", mode, out)
	if err != nil {
		t.Fatalf("harness %s: %v", mode, err)
	}
	return string(out)
}

func TestExecVDSO(t *testing.T) {
	bin := harness(t)
	for _, mode := range []GetCPUMode{GetCPUSyscall, GetCPULSL} {
		path, page := paramFile(t)
		tk, err := NewTimekeeper(page, Options{GetCPU: mode})
		if err != nil {
			t.Fatal(err)
		}
		if tk.Params().Flags&FlagTSC == 0 {
			t.Log("TSC unusable here: checking the syscall fallback only")
		}
		runHarness(t, bin, "check", path)
	}
}

// TestExecVDSONoTSC: with FlagTSC clear every call must be the syscall.
func TestExecVDSONoTSC(t *testing.T) {
	bin := harness(t)
	path, page := paramFile(t)
	(&Params{}).Update(page)
	runHarness(t, bin, "nosvc", path)
}

// TestExecVDSOUpdates reads CLOCK_MONOTONIC in the harness while the test
// re-snapshots the page as fast as it can, including with a perturbed
// frequency so that each snapshot must slew or step.
func TestExecVDSOUpdates(t *testing.T) {
	bin := harness(t)
	path, page := paramFile(t)
	tk, err := NewTimekeeper(page, Options{})
	if err != nil {
		t.Fatal(err)
	}
	needTSC(t, tk.Params().Flags&FlagTSC != 0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	n := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			tk.mu.Lock()
			// Alternate 200 ppm fast and slow so resyncs see leads and lags.
			f := tk.freq
			if n%2 == 0 {
				tk.freq = f + f/5000
			} else {
				tk.freq = f - f/5000
			}
			tk.resyncLocked()
			tk.freq = f
			tk.mu.Unlock()
			n++
			time.Sleep(50 * time.Microsecond)
		}
	}()
	stop := sync.OnceFunc(func() { close(done); wg.Wait() })
	// The writer must stop before the page is unmapped, also when
	// runHarness fails the test.
	defer stop()
	out := runHarness(t, bin, "stress", path)
	stop()
	t.Logf("%d snapshots written during the run", n)
	if !strings.Contains(out, "stress:") {
		t.Fatal("no result")
	}
}

var benchRE = regexp.MustCompile(`uk-vdso-monotonic ([0-9.]+) ns.*host-vdso ([0-9.]+) ns`)

// TestExecVDSOBench prints ns per call of uk's __vdso_clock_gettime next to
// the host's vDSO and the raw syscall, measured in the same process.
func TestExecVDSOBench(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	bin := harness(t)
	path, page := paramFile(t)
	if _, err := NewTimekeeper(page, Options{}); err != nil {
		t.Fatal(err)
	}
	out := runHarness(t, bin, "bench", path)
	if !benchRE.MatchString(out) {
		t.Fatalf("unexpected output")
	}
}
