package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/platform"
	"uk/platform/ptrace"
)

// kvmUnavailable says why the KVM platform cannot be used here.
func kvmUnavailable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%w: /dev/kvm: %v", platform.ErrUnavailable, err)
	}
	f.Close()
	return fmt.Errorf("%w: uk has no KVM platform yet (issue: the KVM platform)", platform.ErrUnavailable)
}

// choosePlatform returns the platform named by --platform; auto picks the
// best one that works.
func choosePlatform(name string, mf *memfile.File, debug bool) (platform.Platform, error) {
	switch name {
	case "ptrace":
		return ptrace.New(mf.FD())
	case "kvm":
		return nil, fmt.Errorf("--platform=kvm: %v", kvmUnavailable())
	case "auto":
		if err := kvmUnavailable(); err != nil && debug {
			fmt.Fprintf(os.Stderr, "uk: platform auto: kvm: %v; using ptrace\n", err)
		}
		return ptrace.New(mf.FD())
	}
	return nil, usageError{fmt.Sprintf("--platform=%s: want auto, ptrace or kvm", name)}
}

// maxUserAddress is the top of the user address range on the platform
// that --platform=name will give, known before it is started.
func maxUserAddress(name string) uint64 {
	// auto and ptrace both give ptrace until there is a KVM platform;
	// kvm fails before anything is loaded.
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
		rt, perr := measureRoundTrip(p, mf, 200)
		if perr != nil {
			fmt.Printf("ptrace: unavailable: probe failed: %v\n", perr)
		} else {
			fmt.Printf("ptrace: ok, %.1f µs per syscall round trip (probe took %v)\n", float64(rt.Nanoseconds())/1e3, time.Since(start).Round(time.Millisecond))
		}
		p.Close()
	}
	fmt.Printf("kvm: %v\n", kvmUnavailable())
	return nil
}

// probeCode is a guest that loops on getpid: mov eax, 39; syscall; jmp back.
var probeCode = []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7}

// probeAddr is where the probe guest's code page is mapped.
const probeAddr = 0x400000

// measureRoundTrip runs a guest that only makes syscalls and returns the
// median time of one trap-and-resume on p.
func measureRoundTrip(p platform.Platform, mf *memfile.File, n int) (time.Duration, error) {
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
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}
