package vdso

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/testenv"
)

func newTK(t *testing.T) *Timekeeper {
	t.Helper()
	tk, err := NewTimekeeper(make([]byte, ParamPageSize), Options{})
	if err != nil {
		t.Fatal(err)
	}
	needTSC(t, tk.Params().Flags&FlagTSC != 0)
	return tk
}

// needTSC decides what a test that needs the TSC does when uk found it
// unusable (ukUsable false): the host kernel, which read the same CPUID,
// is the reference. If it found an invariant TSC (constant_tsc and
// nonstop_tsc in /proc/cpuinfo, both from CPUID 0x80000007 EDX bit 8), uk
// is wrong and the test fails; if it did not, the machine lacks one
// (testenv.Need).
func needTSC(t testing.TB, ukUsable bool) {
	t.Helper()
	if ukUsable {
		return
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		testenv.Need(t, "the host's /proc/cpuinfo", "it says whether the TSC is invariant: "+err.Error())
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags := strings.Fields(v)
			if slices.Contains(flags, "constant_tsc") && slices.Contains(flags, "nonstop_tsc") {
				t.Fatal("uk finds the TSC unusable, but the host kernel reports an invariant TSC (constant_tsc nonstop_tsc)")
			}
			break
		}
	}
	testenv.Need(t, "an invariant TSC", "the host kernel reports none (no constant_tsc and nonstop_tsc in /proc/cpuinfo)")
}

// edit changes the current snapshot as a test scenario needs.
func edit(tk *Timekeeper, f func(*Params)) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	p := *tk.cur.Load()
	f(&p)
	tk.publish(&p)
}

// nearHost checks Now(id) against a host reading bracket.
func nearHost(t *testing.T, tk *Timekeeper, id int32, tol time.Duration) {
	t.Helper()
	a := clockNS(id)
	v, ok := tk.Now(id)
	b := clockNS(id)
	if !ok {
		t.Fatalf("clock %d not served", id)
	}
	if v < a-int64(tol) || v > b+int64(tol) {
		t.Errorf("clock %d: %d not within %v of host [%d, %d]", id, v, tol, a, b)
	}
}

func TestTimekeeperNow(t *testing.T) {
	tk := newTK(t)
	for _, id := range []int32{ClockRealtime, ClockMonotonic, ClockBoottime, ClockTAI} {
		nearHost(t, tk, id, time.Millisecond)
	}
	for _, id := range []int32{unix.CLOCK_PROCESS_CPUTIME_ID, unix.CLOCK_THREAD_CPUTIME_ID, unix.CLOCK_MONOTONIC_RAW, 99} {
		if _, ok := tk.Now(id); ok {
			t.Errorf("clock %d served", id)
		}
	}
	// What Now says is what the page says.
	got, want := ReadParams(tk.page), tk.Params()
	got.Seq = 0
	if got != want {
		t.Errorf("page %+v, snapshot %+v", got, want)
	}
	if f, src := tk.Frequency(); f < 1e8 || src == "" {
		t.Errorf("frequency %d from %q", f, src)
	}
}

func TestTimekeeperNoTSCFallsBackToHost(t *testing.T) {
	tk := newTK(t)
	edit(tk, func(p *Params) { p.Flags &^= FlagTSC })
	nearHost(t, tk, ClockMonotonic, 0)
	tk.Resync() // no-op without TSC
	if tk.Params().Flags&FlagTSC != 0 {
		t.Error("resync turned the TSC on")
	}
}

// TestTimekeeperLeadSlews: if uk's clock runs ahead of the host, a resync
// must not step CLOCK_MONOTONIC back but slew.
func TestTimekeeperLeadSlews(t *testing.T) {
	tk := newTK(t)
	const lead = 5 * time.Millisecond
	edit(tk, func(p *Params) { p.MonoBase += int64(lead) })
	before, _ := tk.Now(ClockMonotonic)
	tk.Resync()
	after, _ := tk.Now(ClockMonotonic)
	if after < before {
		t.Fatalf("monotonic went back by %d ns across a resync", before-after)
	}
	p := tk.Params()
	if p.SlewTicks == 0 || p.SlewMult != p.Mult/slewDivisor {
		t.Fatalf("no slew: %+v", p)
	}
	// The slew removes ~lead over lead*2000 of TSC time.
	f, _ := tk.Frequency()
	wantTicks := float64(lead) * slewDivisor * float64(f) / 1e9
	if r := float64(p.SlewTicks) / wantTicks; r < 0.9 || r > 1.1 {
		t.Errorf("slew over %d ticks, want about %.0f", p.SlewTicks, wantTicks)
	}
	removed := int64(scale(p.SlewTicks, p.SlewMult, p.Shift))
	if removed < int64(lead)*9/10 || removed > int64(lead)*11/10 {
		t.Errorf("slew removes %d ns, want about %d", removed, lead)
	}
	// Realtime moved along with monotonic (no separate step).
	if r, _ := tk.Now(ClockRealtime); r < time.Now().UnixNano()+int64(lead)/2 {
		t.Errorf("realtime lost the lead: stepped instead of slewing")
	}
}

// TestTimekeeperLagSteps: if uk's clock is behind, a resync steps forward.
func TestTimekeeperLagSteps(t *testing.T) {
	tk := newTK(t)
	edit(tk, func(p *Params) { p.MonoBase -= int64(50 * time.Millisecond) })
	tk.Resync()
	if p := tk.Params(); p.SlewTicks != 0 {
		t.Errorf("slewing on a lag: %+v", p)
	}
	nearHost(t, tk, ClockMonotonic, 100*time.Microsecond)
}

// TestTimekeeperRealtimeStep: a host realtime step (simulated by a wrong
// offset) is picked up; sampling noise is not.
func TestTimekeeperRealtimeStep(t *testing.T) {
	tk := newTK(t)
	mono0, _ := tk.Now(ClockMonotonic)
	edit(tk, func(p *Params) { p.RealOffset -= int64(time.Hour) })
	tk.Resync()
	nearHost(t, tk, ClockRealtime, time.Millisecond)
	mono1, _ := tk.Now(ClockMonotonic)
	if mono1 < mono0 {
		t.Error("monotonic went back")
	}
	off := tk.Params().RealOffset
	edit(tk, func(p *Params) { p.RealOffset += 20_000 })
	tk.Resync()
	if got := tk.Params().RealOffset; got != off+20_000 {
		t.Errorf("a 20 µs offset difference was copied (%d -> %d): realtime would jitter", off+20_000, got)
	}
}

// TestTimekeeperTSCBackwards: after a TSC jump back (VM restore) the
// clocks restart from the host without going back.
func TestTimekeeperTSCBackwards(t *testing.T) {
	tk := newTK(t)
	before, _ := tk.Now(ClockMonotonic)
	edit(tk, func(p *Params) { p.TSCBase += 1 << 50 })
	tk.Resync()
	after, _ := tk.Now(ClockMonotonic)
	if after < before {
		t.Fatalf("monotonic went back by %d", before-after)
	}
	nearHost(t, tk, ClockMonotonic, time.Millisecond)
}

func TestTimekeeperRefreshRateLimited(t *testing.T) {
	tk := newTK(t)
	seq := ReadParams(tk.page).Seq
	for range 1000 {
		tk.Refresh()
	}
	if s := ReadParams(tk.page).Seq; s != seq {
		t.Fatalf("Refresh wrote the page right after a snapshot (seq %d -> %d)", seq, s)
	}
	tk.nextRefresh.Store(1) // as if a second had passed
	tk.Refresh()
	if s := ReadParams(tk.page).Seq; s != seq+2 {
		t.Fatalf("Refresh after the deadline: seq %d -> %d", seq, s)
	}
	if tk.nextRefresh.Load() <= 1 {
		t.Error("deadline not moved")
	}
}

// TestTimekeeperRefine: after a baseline of over a second, the frequency is
// re-estimated and stays close to the startup value, and the clock stays
// within a few µs of the host.
func TestTimekeeperRefine(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	tk := newTK(t)
	f0, _ := tk.Frequency()
	time.Sleep(1100 * time.Millisecond)
	nearHost(t, tk, ClockMonotonic, time.Millisecond)
	tk.Resync()
	f1, _ := tk.Frequency()
	ppm := (float64(f1) - float64(f0)) / float64(f0) * 1e6
	t.Logf("TSC %d Hz at start, %d Hz after 1.1 s (%+.1f ppm)", f0, f1, ppm)
	if ppm > maxFreqChangePPM || ppm < -maxFreqChangePPM {
		t.Errorf("frequency moved %.1f ppm", ppm)
	}
	nearHost(t, tk, ClockMonotonic, 100*time.Microsecond)
}

func TestTimekeeperStartStop(t *testing.T) {
	tk := newTK(t)
	tk.Start()
	tk.Start() // idempotent
	time.Sleep(150 * time.Millisecond)
	tk.Stop()
	tk.mu.Lock()
	step := tk.step
	tk.mu.Unlock()
	if step != 1 {
		t.Errorf("step %d after the first scheduled resync", step)
	}
}

func TestNewTimekeeperBadPage(t *testing.T) {
	if _, err := NewTimekeeper(make([]byte, 10), Options{}); err == nil {
		t.Error("short page accepted")
	}
}

func TestCalibrateTSC(t *testing.T) {
	f, src, err := CalibrateTSC(20 * time.Millisecond)
	needTSC(t, err != ErrTSCUnusable)
	if err != nil {
		t.Fatal(err)
	}
	// Compare with a longer measurement.
	ref := time.Now()
	t0, n0 := monoSample(ref)
	time.Sleep(200 * time.Millisecond)
	t1, n1 := monoSample(ref)
	long := ticksPerSecond(t1-t0, uint64(n1-n0))
	ppm := (float64(f) - float64(long)) / float64(long) * 1e6
	t.Logf("CalibrateTSC: %d Hz (%s); 200 ms measurement %d Hz; %+.1f ppm", f, src, long, ppm)
	if ppm > 200 || ppm < -200 {
		t.Errorf("calibration off by %.1f ppm", ppm)
	}
}

func BenchmarkTimekeeperNow(b *testing.B) {
	tk, err := NewTimekeeper(make([]byte, ParamPageSize), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		tk.Now(ClockMonotonic)
	}
}

func BenchmarkTimekeeperRefresh(b *testing.B) {
	tk, err := NewTimekeeper(make([]byte, ParamPageSize), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		tk.Refresh()
	}
}
