package ptrace

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/hostfilter"
	"uk/platform"
)

// roundTripChildEnv makes TestRoundTripChild measure (in a child process
// BenchmarkRoundTripHostFilter starts): "off" unconfined, "on" after
// installing uk's own seccomp allowlist as uk run does.
const roundTripChildEnv = "UK_PTRACE_ROUNDTRIP_CHILD"

// BenchmarkRoundTripHostFilter is the cost of uk's own seccomp filter
// (internal/hostfilter) on the syscall round trip: getpid trapped and
// resumed on the ptrace platform, in child processes alternately without
// and with the filter (a filter cannot be removed once installed), each
// reporting the median of 30 blocks of 2000 round trips, 11 of each; the metrics are
// the medians over the children. Each child also times a host gettid,
// which the filter admits by number as it does ptrace and wait4: the
// filter's cost per host call, which the round trip (a handful of host
// calls) pays a few times over. Run it with -benchtime=1x.
func BenchmarkRoundTripHostFilter(b *testing.B) {
	const rounds = 11
	var off, on, gtOff, gtOn []float64
	for i := 0; i < rounds; i++ {
		order := []string{"off", "on"}
		if i%2 == 1 {
			order = []string{"on", "off"}
		}
		for _, mode := range order {
			ns, gt := roundTripChild(b, mode)
			if mode == "off" {
				off, gtOff = append(off, ns), append(gtOff, gt)
			} else {
				on, gtOn = append(on, ns), append(gtOn, gt)
			}
		}
	}
	mOff, mOn := median(off), median(on)
	b.ReportMetric(mOff, "ns/call-unfiltered")
	b.ReportMetric(mOn, "ns/call-filtered")
	b.ReportMetric((mOn/mOff-1)*100, "%slower")
	b.ReportMetric(median(gtOff), "ns/gettid-unfiltered")
	b.ReportMetric(median(gtOn), "ns/gettid-filtered")
	b.Logf("round trip unfiltered %v\nround trip filtered   %v\ngettid unfiltered %v\ngettid filtered   %v", off, on, gtOff, gtOn)
}

// roundTripChild runs TestRoundTripChild in a new process and returns the
// medians it printed: a round trip, and a gettid.
func roundTripChild(b *testing.B, mode string) (float64, float64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRoundTripChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), roundTripChildEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	i := strings.Index(string(out), "roundtrip_ns ")
	if i < 0 {
		b.Fatalf("child (%s): %v\n%s", mode, err, out)
	}
	var ns, gt float64
	if _, err := fmt.Sscanf(string(out[i:]), "roundtrip_ns %g gettid_ns %g", &ns, &gt); err != nil {
		b.Fatalf("child (%s) printed %q: %v", mode, out[i:], err)
	}
	return ns, gt
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestRoundTripChild is BenchmarkRoundTripHostFilter's child; without its
// variable it returns at once.
func TestRoundTripChild(t *testing.T) {
	mode := os.Getenv(roundTripChildEnv)
	if mode == "" {
		return
	}
	as, c, st := newEnv(t, Options{}).Loop(t)
	if mode == "on" {
		if err := hostfilter.Confine(hostfilter.Options{Platform: "ptrace"}, nil); err != nil {
			t.Fatalf("confining: %v", err)
		}
	}
	const blocks, per = 30, 2000
	var ns []float64
	for k := 0; k < blocks; k++ {
		start := time.Now()
		for i := 0; i < per; i++ {
			trap, err := c.Switch(as, st)
			if err != nil || trap.Kind != platform.TrapSyscall {
				t.Fatalf("trap %+v err %v", trap, err)
			}
		}
		ns = append(ns, float64(time.Since(start).Nanoseconds())/per)
	}
	// One host syscall the filter admits by its number alone, as it
	// does ptrace and wait4: the filter's own cost per call, without the
	// scheduling noise of a round trip.
	var gt []float64
	for k := 0; k < blocks; k++ {
		start := time.Now()
		for i := 0; i < 20*per; i++ {
			unix.RawSyscall(unix.SYS_GETTID, 0, 0, 0)
		}
		gt = append(gt, float64(time.Since(start).Nanoseconds())/(20*per))
	}
	fmt.Printf("roundtrip_ns %.1f gettid_ns %.1f\n", median(ns), median(gt))
}
