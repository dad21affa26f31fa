// Command clockcheck checks that the time the Go runtime reads (through the
// vDSO when the kernel provides one, else syscall 228) agrees with what a
// raw clock_gettime system call returns, and that neither goes backwards.
//
// It alternates time.Now() with a raw clock_gettime system call 100,000
// times, the raw calls alternating between CLOCK_REALTIME and
// CLOCK_MONOTONIC, and requires:
//   - time.Now()'s monotonic reading never decreases,
//   - raw CLOCK_MONOTONIC never decreases,
//   - wall clocks agree: each raw CLOCK_REALTIME reading lies within 1 ms of
//     the interval between the time.Now() readings just before and after it,
//   - monotonic clocks agree: elapsed time since the start by raw
//     CLOCK_MONOTONIC lies within 1 ms of the elapsed times by time.Since
//     just before and after it.
//
// The checks bracket each raw reading between two Go readings, so a thread
// descheduled by a busy host makes the bracket wider, never a false failure.
// It prints "clockcheck: ok" and exits 0, or prints FAIL lines (at most ten)
// and exits 1.
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

const (
	rounds = 100000
	slack  = time.Millisecond
)

func raw(clock int32) time.Duration {
	var ts unix.Timespec
	// unix.ClockGettime is a plain system call, never the vDSO.
	if err := unix.ClockGettime(clock, &ts); err != nil {
		fmt.Printf("FAIL: clock_gettime(%d): %v\n", clock, err)
		os.Exit(1)
	}
	return time.Duration(ts.Nano())
}

func main() {
	fails := 0
	fail := func(format string, args ...any) {
		fails++
		if fails <= 10 {
			fmt.Printf("FAIL: "+format+"\n", args...)
		}
	}

	// The raw start is bracketed by two Go readings too: a thread delayed
	// between them (a loaded host) widens the bracket instead of failing.
	startLo := time.Now()
	rawStart := raw(unix.CLOCK_MONOTONIC)
	start := time.Now()
	prevMono := rawStart
	before := start
	for i := 0; i < rounds; i++ {
		clock := int32(unix.CLOCK_REALTIME)
		if i%2 == 1 {
			clock = unix.CLOCK_MONOTONIC
		}
		r := raw(clock)
		after := time.Now()

		if after.Before(before) {
			fail("round %d: time.Now went backwards: %v then %v", i, before, after)
		}
		switch clock {
		case unix.CLOCK_REALTIME:
			lo := time.Duration(before.UnixNano()) - slack
			hi := time.Duration(after.UnixNano()) + slack
			if r < lo || r > hi {
				fail("round %d: CLOCK_REALTIME %d is not within %v of time.Now (%d .. %d)",
					i, r, slack, before.UnixNano(), after.UnixNano())
			}
		case unix.CLOCK_MONOTONIC:
			if r < prevMono {
				fail("round %d: CLOCK_MONOTONIC went backwards: %d then %d", i, prevMono, r)
			}
			prevMono = r
			// rawStart lies between startLo and start, r between before
			// and after: the raw elapsed time lies between the shortest
			// and the longest Go interval those allow.
			elapsed := r - rawStart
			lo := before.Sub(start) - slack
			hi := after.Sub(startLo) + slack
			if elapsed < lo || elapsed > hi {
				fail("round %d: elapsed %v by CLOCK_MONOTONIC but %v .. %v by time.Since",
					i, elapsed, before.Sub(start), after.Sub(start))
			}
		}
		before = after
	}
	if fails > 0 {
		fmt.Printf("clockcheck: %d failures in %d rounds\n", fails, rounds)
		os.Exit(1)
	}
	fmt.Println("clockcheck: ok")
}
