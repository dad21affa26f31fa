package hrtimer

import (
	"sync"
	"testing"
	"time"
)

func start(t testing.TB) {
	t.Helper()
	if err := Start(); err != nil {
		t.Fatal(err)
	}
}

// TestOrder: timers fire in deadline order, none before its deadline. A
// deadline is when AfterFunc was called plus its delay: the calls
// themselves may take longer than the delays differ by (the first arms
// the host timer), so the order of the delays alone is not the order to
// expect. Deadlines closer than orderSlack may fire either way round
// (the timer reads its own clock a moment after the test's).
func TestOrder(t *testing.T) {
	start(t)
	const orderSlack = 20 * time.Microsecond
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	delays := []time.Duration{900, 100, 500, 300, 700, 200, 800, 400, 600, 50}
	deadlines := make([]time.Time, len(delays))
	for i, us := range delays {
		wg.Add(1)
		d := us * time.Microsecond
		at := time.Now()
		deadlines[i] = at.Add(d)
		AfterFunc(d, func() {
			if late := time.Since(at); late < d {
				t.Errorf("timer of %v fired after %v", d, late)
			}
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	for k := 1; k < len(got); k++ {
		if deadlines[got[k-1]].Sub(deadlines[got[k]]) > orderSlack {
			t.Fatalf("fired out of deadline order: %v (delays in µs %v)", got, delays)
		}
	}
}

// TestStopReset: a stopped timer does not fire, a reset one fires once at
// its new deadline, Stop reports whether it stopped anything.
func TestStopReset(t *testing.T) {
	start(t)
	for _, d := range []time.Duration{200 * time.Microsecond, 2 * goTimersFrom} {
		stopped := NewTimer(d)
		if !stopped.Stop() {
			t.Errorf("%v: Stop of a pending timer returned false", d)
		}
		if stopped.Stop() {
			t.Errorf("%v: second Stop returned true", d)
		}
		reset := NewTimer(time.Hour)
		at := time.Now()
		if !reset.Reset(d) {
			t.Errorf("%v: Reset of a pending timer returned false", d)
		}
		<-reset.C
		if e := time.Since(at); e < d {
			t.Errorf("reset to %v fired after %v", d, e)
		}
		if reset.Stop() {
			t.Errorf("%v: Stop after the fire returned true", d)
		}
		select {
		case <-stopped.C:
			t.Errorf("%v: a stopped timer fired", d)
		case <-time.After(2 * d):
		}
	}
}

// TestFallback: before Start (another service), timers are Go's.
func TestFallback(t *testing.T) {
	var s service
	if s.add(&Timer{index: -1}, time.Millisecond) {
		t.Fatal("a service not started took a timer")
	}
}

// BenchmarkLateness reports how late a 50 µs wait ends, with this package
// and with Go's timers, on an otherwise idle process.
func BenchmarkLateness(b *testing.B) {
	start(b)
	const d = 50 * time.Microsecond
	for _, c := range []struct {
		name string
		wait func()
	}{
		{"hrtimer", func() { <-NewTimer(d).C }},
		{"go", func() { <-time.NewTimer(d).C }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var late time.Duration
			for i := 0; i < b.N; i++ {
				at := time.Now()
				c.wait()
				late += time.Since(at) - d
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-late/op")
		})
	}
}
