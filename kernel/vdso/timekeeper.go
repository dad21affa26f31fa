package vdso

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// GetCPUMode says how __vdso_getcpu finds the current CPU.
type GetCPUMode int

// Ways of answering getcpu in the vDSO.
const (
	// GetCPUSyscall: take the getcpu syscall (uk answers). Always correct.
	GetCPUSyscall GetCPUMode = iota
	// GetCPURDPID: RDPID, where the CPU has it; application code reads the
	// host's TSC_AUX, which Linux sets to node<<12 | cpu.
	GetCPURDPID
	// GetCPULSL: LSL on Linux's per-CPU GDT entry; only valid where
	// application code runs under the host's GDT (the ptrace platform).
	GetCPULSL
)

// Options configure a Timekeeper. The zero value is valid.
type Options struct {
	GetCPU GetCPUMode
	// Calibration is how long to measure the TSC at startup if CPUID does
	// not announce its frequency; 0 means 2 ms. Refreshes refine it.
	// (Programs start a few ms after uk, and until the first snapshot
	// every clock read is a syscall; 2 ms measured within 0.3 ppm of a
	// 1 s calibration on the development VM, 1 ms within 4.5 ppm.)
	Calibration time.Duration
}

const (
	multShift = 32
	// slewDivisor: a lead over the host clock is removed by running
	// 1/slewDivisor (500 ppm, as NTP's maximum slew) slow.
	slewDivisor = 2000
	// realStepNS: a change of the host's REALTIME-MONOTONIC offset larger
	// than this is a clock step and is copied; smaller ones are sampling
	// noise and ignored so realtime does not jitter backwards.
	realStepNS = 100_000
	// bootStepNS: the same for BOOTTIME (changes only across suspend).
	bootStepNS = 1_000_000
	// refreshEvery: Refresh does real work at most this often.
	refreshEvery = time.Second
	// refineAfter: the frequency is re-estimated once the baseline is at
	// least this long.
	refineAfter = time.Second
	// maxFreqChangePPM: a re-estimate further off than this means the TSC
	// jumped (VM snapshot restore); the baseline restarts instead.
	maxFreqChangePPM = 1000
)

// refineSchedule: after Start, resync at these delays (from the previous
// one) and then never again on its own, so an idle uk does not wake up.
var refineSchedule = []time.Duration{100 * time.Millisecond, time.Second, 10 * time.Second, time.Minute, 10 * time.Minute}

// Timekeeper owns a parameter page: it calibrates the TSC, writes the first
// snapshot, and re-snapshots on Refresh/Resync. Its Now computes exactly
// what the vDSO computes, so the kernel's clock syscalls and the vDSO agree.
// Methods are safe for concurrent use.
type Timekeeper struct {
	page []byte
	opts Options
	src  TSCSource

	cur         atomic.Pointer[Params] // last snapshot written, never mutated
	nextRefresh atomic.Uint64          // TSC value before which Refresh does nothing

	mu        sync.Mutex // serializes snapshots
	freq      uint64     // TSC Hz
	ref       time.Time  // Go monotonic reference
	monoAtRef int64      // host CLOCK_MONOTONIC at ref
	calTSC    uint64     // frequency baseline start
	calMono   int64
	timer     *time.Timer
	step      int
	stopped   bool

	// realAdjust is added to the host's realtime: the sandbox's own
	// setting of its wall clock (SetRealAdjust). Written under mu.
	realAdjust atomic.Int64
}

// hostSample is the host's clocks at one TSC value.
type hostSample struct {
	tsc     uint64
	mono    int64 // CLOCK_MONOTONIC
	real    int64 // CLOCK_REALTIME
	bootOff int64 // BOOTTIME - MONOTONIC
	taiOff  int64 // TAI - REALTIME, whole seconds
}

func clockNS(id int32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// NewTimekeeper calibrates the TSC and writes the first snapshot into page
// (the parameter page's bytes, at least ParamsSize, 8-byte aligned). If the
// TSC is unusable it still succeeds: the page then tells the vDSO to take
// the syscall for everything, and Now reads the host clocks.
func NewTimekeeper(page []byte, opts Options) (*Timekeeper, error) {
	if err := checkPage(page); err != nil {
		return nil, err
	}
	if opts.Calibration == 0 {
		opts.Calibration = 2 * time.Millisecond
	}
	if opts.GetCPU == GetCPURDPID {
		if _, _, ecx, _ := arch.CPUID(7, 0); ecx&(1<<22) == 0 {
			return nil, errors.New("vdso: getcpu via RDPID requested but the CPU has no RDPID")
		}
	}
	tk := &Timekeeper{page: page, opts: opts, ref: time.Now()}
	// Anchor Go's monotonic clock to absolute CLOCK_MONOTONIC.
	best := int64(1<<63 - 1)
	for range 5 {
		a := time.Since(tk.ref)
		m := clockNS(unix.CLOCK_MONOTONIC)
		b := time.Since(tk.ref)
		if int64(b-a) < best {
			best, tk.monoAtRef = int64(b-a), m-int64(a+b)/2
		}
	}
	freq, src, err := CalibrateTSC(opts.Calibration)
	p := &Params{Flags: tk.getcpuFlags()}
	if err == nil && freq > 0 {
		tk.freq, tk.src = freq, src
		s := tk.sample()
		tk.calTSC, tk.calMono = s.tsc, s.mono
		p.Flags |= FlagTSC
		p.TSCBase = s.tsc
		p.Mult, p.Shift = multFor(freq), multShift
		p.MonoBase = s.mono
		p.RealOffset = s.real - s.mono
		p.BootOffset = s.bootOff
		p.TAIOffset = s.taiOff
		tk.nextRefresh.Store(s.tsc + freq)
	}
	tk.publish(p)
	return tk, nil
}

func (tk *Timekeeper) getcpuFlags() uint32 {
	switch tk.opts.GetCPU {
	case GetCPURDPID:
		return FlagGetCPURDPID
	case GetCPULSL:
		return FlagGetCPULSL
	}
	return 0
}

// multFor returns the multiplier turning TSC ticks into ns with multShift.
func multFor(freq uint64) uint64 {
	return (uint64(1e9) << multShift) / freq
}

func (tk *Timekeeper) publish(p *Params) {
	p.Update(tk.page)
	tk.cur.Store(p)
}

// sample reads the host clocks paired with the TSC. REALTIME and MONOTONIC
// come from one time.Now (the host vDSO), bracketed tightly by RDTSC.
func (tk *Timekeeper) sample() hostSample {
	var s hostSample
	best := uint64(1<<64 - 1)
	for range 5 {
		t1 := rdtsc()
		now := time.Now()
		t2 := rdtsc()
		if t2-t1 < best {
			best = t2 - t1
			s.tsc = t1 + (t2-t1)/2
			s.mono = tk.monoAtRef + int64(now.Sub(tk.ref))
			s.real = now.UnixNano()
		}
	}
	m1 := clockNS(unix.CLOCK_MONOTONIC)
	b := clockNS(unix.CLOCK_BOOTTIME)
	m2 := clockNS(unix.CLOCK_MONOTONIC)
	// BOOTTIME is MONOTONIC plus the time spent suspended, never less:
	// when the host never slept, the bracket's noise must not make the
	// offset negative (BOOTTIME would then read below MONOTONIC).
	s.bootOff = max(0, b-m1/2-m2/2)
	tai := clockNS(unix.CLOCK_TAI) - clockNS(unix.CLOCK_REALTIME)
	s.taiOff = (tai + 5e8) / 1e9 * 1e9
	return s
}

// Params returns the snapshot currently in the page.
func (tk *Timekeeper) Params() Params { return *tk.cur.Load() }

// Frequency returns the TSC frequency in Hz in use (0 if the TSC is not
// used) and where it first came from.
func (tk *Timekeeper) Frequency() (uint64, TSCSource) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return tk.freq, tk.src
}

// Now returns clock id's current time in ns as the vDSO would compute it
// at this instant; ok is false for clocks the vDSO does not serve (the
// kernel computes those itself). Without a usable TSC it reads the host.
func (tk *Timekeeper) Now(id int32) (ns int64, ok bool) {
	p := tk.cur.Load()
	if p.Flags&FlagTSC != 0 {
		return p.Clock(id, rdtsc())
	}
	switch id {
	case ClockRealtime, ClockRealtimeCoarse, ClockTAI:
		return clockNS(id) + tk.realAdjust.Load(), true
	case ClockMonotonic, ClockMonotonicCoarse, ClockBoottime:
		return clockNS(id), true
	}
	return 0, false
}

// SetRealAdjust makes the realtime clocks (REALTIME, its coarse form and
// TAI) read adj ns more than the host's, in the vDSO's page and in Now
// alike: the sandbox set its wall clock. The monotonic clocks do not move.
func (tk *Timekeeper) SetRealAdjust(adj int64) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	old := tk.cur.Load()
	p := *old
	p.RealOffset += adj - tk.realAdjust.Load()
	tk.realAdjust.Store(adj)
	seq := beginParams(tk.page)
	finishParams(tk.page, seq, &p)
	tk.cur.Store(&p)
}

// Refresh re-snapshots if at least a second has passed since the last
// snapshot; otherwise it costs one RDTSC and an atomic load (20-30 ns on the
// development VM when it is quiet, up to ~150 ns when it is loaded). The kernel may call it on any syscall, e.g. the clock and timer
// ones and blocking waits: it keeps the clocks close to the host's (picking
// up host realtime steps) while uk is active, without any timer.
func (tk *Timekeeper) Refresh() {
	next := tk.nextRefresh.Load()
	if next == 0 || rdtsc() < next {
		return
	}
	if !tk.mu.TryLock() {
		return // someone else is refreshing
	}
	defer tk.mu.Unlock()
	tk.resyncLocked()
}

// Resync re-snapshots now.
func (tk *Timekeeper) Resync() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.resyncLocked()
}

func (tk *Timekeeper) resyncLocked() {
	old := tk.cur.Load()
	if old.Flags&FlagTSC == 0 {
		return
	}
	s := tk.sample()
	backwards := s.tsc < old.TSCBase
	if backwards {
		// The TSC went backwards (VM restore): recalibrate from here.
		tk.calTSC, tk.calMono = s.tsc, s.mono
	} else {
		tk.refine(s)
	}
	p := *old
	p.Mult = multFor(tk.freq)
	p.SlewTicks, p.SlewMult = 0, 0
	// Until the update begins, readers go on with old, past s.tsc and for
	// however long this goroutine takes to get here (it may be
	// preempted). So the new parameters start at a TSC read after the
	// update has begun, when no reader can use old any more, and continue
	// from what old gives there: whatever a reader saw before, it cannot
	// see less afterwards.
	seq := beginParams(tk.page)
	now := max(rdtsc(), s.tsc)
	p.TSCBase = now
	host := s.mono + int64(scale(now-s.tsc, p.Mult, p.Shift)) // the host clock at now
	switch {
	case backwards:
		// Never below what was handed out at the last snapshot.
		p.MonoBase = max(host, old.MonoBase)
	default:
		v := old.Mono(now) // what the vDSO would return now
		if lead := v - host; lead > 0 {
			// Keep monotonic: continue from v and run slow until the
			// lead is gone.
			p.MonoBase = v
			p.SlewMult = p.Mult / slewDivisor
			hi, lo := bits.Mul64(uint64(lead)*slewDivisor, tk.freq)
			if hi < 1e9 {
				p.SlewTicks, _ = bits.Div64(hi, lo, 1e9)
			} else {
				p.SlewTicks = 1<<64 - 1
			}
		} else {
			p.MonoBase = host // step forward to the host
		}
	}
	if off := s.real - s.mono + tk.realAdjust.Load(); abs(off-old.RealOffset) > realStepNS {
		p.RealOffset = off
	}
	if abs(s.bootOff-old.BootOffset) > bootStepNS {
		p.BootOffset = s.bootOff
	}
	p.TAIOffset = s.taiOff
	finishParams(tk.page, seq, &p)
	tk.cur.Store(&p)
	tk.nextRefresh.Store(now + tk.freq*uint64(refreshEvery/time.Second))
}

// refine re-estimates the TSC frequency over the baseline since calTSC.
func (tk *Timekeeper) refine(s hostSample) {
	dns := s.mono - tk.calMono
	if dns < int64(refineAfter) || s.tsc <= tk.calTSC {
		return
	}
	f := ticksPerSecond(s.tsc-tk.calTSC, uint64(dns))
	if abs(int64(f)-int64(tk.freq)) > int64(tk.freq/1e6*maxFreqChangePPM) {
		tk.calTSC, tk.calMono = s.tsc, s.mono
		return
	}
	tk.freq = f
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Start schedules a few resyncs in the first minutes (after 0.1 s, 1 s,
// 10 s, 1 min, 10 min) to refine the startup calibration against longer
// baselines, then none: timekeeping is tickless afterwards.
func (tk *Timekeeper) Start() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if tk.timer != nil || tk.stopped || tk.freq == 0 {
		return
	}
	tk.timer = time.AfterFunc(refineSchedule[0], tk.scheduled)
}

func (tk *Timekeeper) scheduled() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if tk.stopped {
		return
	}
	tk.resyncLocked()
	tk.step++
	if tk.step < len(refineSchedule) {
		tk.timer.Reset(refineSchedule[tk.step])
	}
}

// Stop cancels the resyncs scheduled by Start.
func (tk *Timekeeper) Stop() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.stopped = true
	if tk.timer != nil {
		tk.timer.Stop()
	}
}
