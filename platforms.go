package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/platform"
	"uk/platform/kvm"
	"uk/platform/ptrace"
	"uk/platform/sigsys"
)

// kvmReason turns kvm.New's error into the one-line reason uk prints.
func kvmReason(err error) string {
	return strings.TrimPrefix(err.Error(), platform.ErrUnavailable.Error()+": ")
}

// choosePlatform returns the platform named by --platform; auto picks the
// best one that works.
func choosePlatform(name string, mf *memfile.File, debug bool) (platform.Platform, error) {
	switch name {
	case "ptrace":
		return ptrace.New(mf.FD())
	case "sigsys":
		p, err := sigsys.New(mf.FD())
		if err != nil {
			return nil, fmt.Errorf("--platform=sigsys: %s", kvmReason(err))
		}
		return p, nil
	case "kvm":
		p, err := kvm.New(mf.FD())
		if err != nil {
			return nil, fmt.Errorf("--platform=kvm: %s", kvmReason(err))
		}
		return p, nil
	case "auto":
		return chooseAuto(mf, debug)
	}
	return nil, usageError{fmt.Sprintf("--platform=%s: want auto, ptrace, sigsys or kvm", name)}
}

// autoRounds is how many syscall round trips auto times on each platform.
const autoRounds = 50

// chooseAuto starts the platforms that may be the fastest here: sigsys
// (ptrace only where sigsys does not work) and KVM where its probe guest
// passes and it is not kvm_pvm; with more than one, it times a few
// syscall round trips on each and keeps the fastest.
func chooseAuto(mf *memfile.File, debug bool) (platform.Platform, error) {
	logf := func(format string, a ...any) {
		if debug {
			fmt.Fprintf(os.Stderr, "uk: platform auto: "+format+"\n", a...)
		}
	}
	type candidate struct {
		name string
		p    platform.Platform
		rt   time.Duration
	}
	var cands []candidate
	var firstErr error
	add := func(name string, p platform.Platform, err error) {
		if err != nil {
			logf("%s: %s", name, kvmReason(err))
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		cands = append(cands, candidate{name: name, p: p})
	}
	// A VM takes milliseconds to set up: do it meanwhile. Not under
	// kvm_pvm, whose traps (~70 µs here) never beat the stub platforms'
	// (3-13 µs): its set-up would only delay the start.
	type started struct {
		p   *kvm.Platform
		err error
	}
	kvmc := make(chan started, 1)
	if onlyPVM() {
		logf("kvm: kvm_pvm serves /dev/kvm; not considered (uk platforms times it)")
		close(kvmc)
	} else {
		go func() {
			p, err := kvm.New(mf.FD())
			kvmc <- started{p, err}
		}()
	}
	sp, err := sigsys.New(mf.FD())
	add("sigsys", sp, err)
	if err != nil {
		// sigsys does all ptrace does with fewer host transitions per
		// syscall (measured: 10.5 µs pinned against 12.6 µs): ptrace is
		// the fallback, not a rival.
		pp, err := ptrace.New(mf.FD())
		add("ptrace", pp, err)
	}
	if k, ok := <-kvmc; ok {
		add("kvm", k.p, k.err)
	}
	switch len(cands) {
	case 0:
		if firstErr == nil {
			firstErr = fmt.Errorf("no platform works here")
		}
		return nil, firstErr
	case 1:
		logf("using %s, the only one considered", cands[0].name)
		return cands[0].p, nil
	}
	// Time each, one after another so that no measurement shares the
	// CPUs with another; a platform already twice as slow as the best
	// after a few round trips will not catch up: stop timing it there.
	var best *candidate
	for i := range cands {
		c := &cands[i]
		var beat time.Duration
		if best != nil {
			beat = 2 * best.rt
		}
		rt, err := measureRoundTrip(c.p, mf, autoRounds, beat)
		if err != nil {
			logf("%s: timing failed: %v", c.name, err)
			continue
		}
		c.rt = rt
		logf("%s: %.1f µs per syscall", c.name, us(rt))
		if best == nil || rt < best.rt {
			best = c
		}
	}
	for _, c := range cands {
		if best == nil || c.p != best.p {
			// Tearing a VM down takes milliseconds; the program need
			// not wait.
			go c.p.Close()
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no platform could be timed here")
	}
	logf("using %s", best.name)
	return best.p, nil
}

// onlyPVM reports whether /dev/kvm is served by kvm_pvm alone (no
// hardware-assisted KVM module loaded).
func onlyPVM() bool {
	exists := func(m string) bool { _, err := os.Stat("/sys/module/" + m); return err == nil }
	return exists("kvm_pvm") && !exists("kvm_intel") && !exists("kvm_amd")
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// maxUserAddress is the top of the user address range on the platform
// that --platform=name will give, known before it is started: auto may
// give KVM wherever /dev/kvm opens and is not kvm_pvm alone, and a layout
// below KVM's top works on all.
func maxUserAddress(name string) uint64 {
	switch name {
	case "kvm":
		return kvm.MaxUserAddress
	case "sigsys":
		return sigsys.MaxUserAddress
	case "auto":
		// KVM may be chosen only where chooseAuto considers it.
		if onlyPVM() {
			return min(ptrace.MaxUserAddress, sigsys.MaxUserAddress)
		}
		if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
			f.Close()
			return min(kvm.MaxUserAddress, sigsys.MaxUserAddress)
		}
		return min(ptrace.MaxUserAddress, sigsys.MaxUserAddress)
	}
	return ptrace.MaxUserAddress
}

func cmdPlatforms(args []string) error {
	if len(args) > 0 {
		return usageError{"platforms takes no arguments"}
	}
	mf, err := memfile.New(64 << 20)
	if err != nil {
		return err
	}
	defer mf.Close()
	start := time.Now()
	p, err := ptrace.New(mf.FD())
	if err != nil {
		fmt.Printf("ptrace: unavailable: %v\n", err)
	} else {
		rt, perr := measureRoundTrip(p, mf, 200, 0)
		if perr != nil {
			fmt.Printf("ptrace: unavailable: probe failed: %v\n", perr)
		} else {
			fmt.Printf("ptrace: ok, %.1f µs per syscall round trip (probe took %v)\n", float64(rt.Nanoseconds())/1e3, time.Since(start).Round(time.Millisecond))
		}
		p.Close()
	}
	start = time.Now()
	sp, err := sigsys.New(mf.FD())
	if err != nil {
		fmt.Printf("sigsys: unavailable: %s\n", kvmReason(err))
	} else {
		rt, serr := measureRoundTrip(sp, mf, 200, 0)
		if serr != nil {
			fmt.Printf("sigsys: unavailable: probe failed: %v\n", serr)
		} else {
			fmt.Printf("sigsys: ok, %.1f µs per syscall round trip (probe took %v)\n", us(rt), time.Since(start).Round(time.Millisecond))
		}
		sp.Close()
	}
	start = time.Now()
	kp, err := kvm.New(mf.FD())
	if err != nil {
		fmt.Printf("kvm: unavailable: %s\n", kvmReason(err))
		return nil
	}
	defer kp.Close()
	rt, kerr := measureRoundTrip(kp, mf, 200, 0)
	if kerr != nil {
		fmt.Printf("kvm: unavailable: probe failed: %v\n", kerr)
		return nil
	}
	kind := "VMX/SVM"
	if kp.PVM() {
		kind = "kvm_pvm"
	}
	fmt.Printf("kvm: ok, %.1f µs per syscall round trip (%s; probe took %v)\n", us(rt), kind, time.Since(start).Round(time.Millisecond))
	return nil
}

// probeCode is a guest that loops on getpid: mov eax, 39; syscall; jmp back.
var probeCode = []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7}

// probeAddr is where the probe guest's code page is mapped.
const probeAddr = 0x400000

// measureRoundTrip runs a guest that only makes syscalls and returns the
// median time of one trap-and-resume on p, over n of them, or over the
// first 10 if their median is above stopAbove (when not 0).
func measureRoundTrip(p platform.Platform, mf *memfile.File, n int, stopAbove time.Duration) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	offs, err := mf.Allocate(1)
	if err != nil {
		return 0, err
	}
	defer mf.DecRef(offs...)
	copy(mf.Bytes(offs[0], len(probeCode)), probeCode)
	as, err := p.NewAddressSpace()
	if err != nil {
		return 0, err
	}
	defer as.Release()
	if err := as.MapFile(probeAddr, offs[0], 4096, platform.Read|platform.Exec); err != nil {
		return 0, err
	}
	ctx, err := p.NewContext()
	if err != nil {
		return 0, err
	}
	defer ctx.Release()
	st := arch.State{Regs: arch.Registers{Rip: probeAddr, Cs: arch.UserCS, Ss: arch.UserDS, Eflags: 0x202}, FP: arch.NewFPState(), FPDirty: true}
	times := make([]time.Duration, 0, n)
	for i := 0; i < n+10; i++ {
		start := time.Now()
		trap, err := ctx.Switch(as, &st)
		if err != nil {
			return 0, err
		}
		if trap.Kind != platform.TrapSyscall || st.Regs.OrigRax != 39 {
			return 0, fmt.Errorf("probe guest stopped with trap %d (syscall %d), want getpid", trap.Kind, st.Regs.OrigRax)
		}
		if i >= 10 { // the first switches map the code
			times = append(times, time.Since(start))
		}
		if len(times) == 10 && stopAbove > 0 && median(times) > stopAbove {
			break
		}
	}
	return median(times), nil
}

// median returns the median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
