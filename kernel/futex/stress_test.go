package futex

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// futexMutex is Drepper's three-state futex mutex ("Futexes Are Tricky",
// mutex 2): 0 unlocked, 1 locked, 2 locked with waiters. It deadlocks if a
// single wakeup is lost, which is what the stress tests look for.
type futexMutex struct {
	m       *Manager
	mem     Memory
	word    *uint32
	addr    uint64
	private bool
	waits   atomic.Int64
}

func (l *futexMutex) lock(t testing.TB) {
	if atomic.CompareAndSwapUint32(l.word, 0, 1) {
		return
	}
	for atomic.SwapUint32(l.word, 2) != 0 {
		l.waits.Add(1)
		err := l.m.Wait(l.mem, l.addr, l.private, 2, BitsetMatchAny, time.Time{}, nil)
		if err != nil && err != unix.EAGAIN {
			t.Errorf("Wait: %v", err)
			return
		}
	}
}

func (l *futexMutex) unlock(t testing.TB) {
	if atomic.AddUint32(l.word, math.MaxUint32) != 0 { // was 2
		atomic.StoreUint32(l.word, 0)
		if _, err := l.m.Wake(l.mem, l.addr, l.private, 1, BitsetMatchAny); err != nil {
			t.Errorf("Wake: %v", err)
		}
	}
}

// runWithin fails the test if f does not finish in d (a lost wakeup
// shows up as a hang).
func runWithin(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal("stress test hung: lost wakeup?")
	}
}

func TestStressMutex(t *testing.T) {
	for _, private := range []bool{true, false} {
		name := "shared"
		if private {
			name = "private"
		}
		t.Run(name, func(t *testing.T) {
			m := NewManager()
			region := newShared(0x9000)
			s := newSpace(region, testShared)
			mem := BytesMemory(s)
			addr := uint64(testShared + 0x40)
			l := &futexMutex{m: m, mem: mem, word: s.word(t, addr), addr: addr, private: private}
			const workers, iters = 8, 1500
			counter := 0 // protected by l
			runWithin(t, 10*time.Second, func() {
				var wg sync.WaitGroup
				for range workers {
					wg.Go(func() {
						for range iters {
							l.lock(t)
							counter++
							runtime.Gosched() // hold the lock a while: contention
							l.unlock(t)
						}
					})
				}
				wg.Wait()
			})
			t.Logf("%d futex waits", l.waits.Load())
			if counter != workers*iters {
				t.Fatalf("counter = %d, want %d", counter, workers*iters)
			}
		})
	}
}

// TestStressBarrier runs a generation-counting barrier: each round the
// last arrival bumps the generation and wakes everybody; the others wait
// while the generation is unchanged. Alternating the wake between plain
// FUTEX_WAKE and requeue-then-wake exercises requeue under load.
func TestStressBarrier(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	const parties, rounds = 6, 300
	genAddr, cntAddr, parkAddr := uint64(a1), uint64(a2), uint64(a3)
	gen, cnt := s.word(t, genAddr), s.word(t, cntAddr)
	runWithin(t, 10*time.Second, func() {
		var wg sync.WaitGroup
		for range parties {
			wg.Go(func() {
				for r := range rounds {
					g := atomic.LoadUint32(gen)
					if atomic.AddUint32(cnt, 1) == parties {
						atomic.StoreUint32(cnt, 0)
						atomic.AddUint32(gen, 1)
						if r%2 == 0 {
							m.Wake(mem, genAddr, true, math.MaxInt32, BitsetMatchAny)
						} else {
							// Move the sleepers to a parking futex,
							// then wake it: nobody may be left
							// behind on either.
							m.Requeue(mem, genAddr, parkAddr, true, 0, math.MaxInt32, nil)
							m.Wake(mem, parkAddr, true, math.MaxInt32, BitsetMatchAny)
						}
						continue
					}
					for atomic.LoadUint32(gen) == g {
						m.Wait(mem, genAddr, true, g, BitsetMatchAny, time.Time{}, nil)
					}
				}
			})
		}
		wg.Wait()
	})
	if q := queued(m, PrivateKey(s, genAddr)) + queued(m, PrivateKey(s, parkAddr)); q != 0 {
		t.Fatalf("%d waiters left", q)
	}
}

// TestStressTimeoutsAndInterrupts races wakes against timeouts and
// interrupts: every wait must end, each with one of the allowed results,
// and no waiter may stay queued.
func TestStressTimeoutsAndInterrupts(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	const workers, iters = 6, 200
	var woken, timedOut, interrupted, wakes atomic.Int64
	stop := make(chan struct{})
	var wakers sync.WaitGroup
	wakers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, _ := m.Wake(mem, a1, true, 2, BitsetMatchAny)
			wakes.Add(int64(n))
			time.Sleep(20 * time.Microsecond)
		}
	})
	runWithin(t, 10*time.Second, func() {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				intr := make(chan struct{}, 1)
				for i := range iters {
					var deadline time.Time
					if i%3 == 0 {
						deadline = time.Now().Add(time.Duration(i%7) * 10 * time.Microsecond)
					}
					if i%5 == w%5 {
						intr <- struct{}{}
					}
					switch err := m.Wait(mem, a1, true, 0, BitsetMatchAny, deadline, intr); err {
					case nil:
						woken.Add(1)
					case ErrInterrupted:
						interrupted.Add(1)
					default:
						if err != unix.ETIMEDOUT {
							t.Errorf("Wait: %v", err)
						}
						timedOut.Add(1)
					}
					select { // drop an unconsumed interrupt
					case <-intr:
					default:
					}
				}
			})
		}
		// Waiters blocked with neither deadline nor interrupt need the
		// waker until they are all done.
		wg.Wait()
	})
	close(stop)
	wakers.Wait()
	if q := queued(m, PrivateKey(s, a1)); q != 0 {
		t.Fatalf("%d waiters left queued", q)
	}
	if got := woken.Load(); got != wakes.Load() {
		t.Fatalf("%d waits returned woken but wakes counted %d", got, wakes.Load())
	}
	t.Logf("woken %d, timed out %d, interrupted %d", woken.Load(), timedOut.Load(), interrupted.Load())
}

// TestStressWaitv: a waiter waits on several flags at once while another
// goroutine raises one flag per round and wakes it; the waiter must always
// come back with the raised flag's index (or EAGAIN when it saw the flag
// already raised).
func TestStressWaitv(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	const flags, rounds = 4, 400
	es := make([]WaitvEntry, flags)
	for i := range es {
		es[i] = WaitvEntry{Addr: testPriv + 0x800 + uint64(i)*64, Private: true}
	}
	runWithin(t, 10*time.Second, func() {
		for r := range rounds {
			raised := r % flags
			done := make(chan result, 1)
			go func() {
				n, err := m.Waitv(mem, es, time.Time{}, nil)
				done <- result{n, err}
			}()
			s.store(t, es[raised].Addr, 1)
			m.Wake(mem, es[raised].Addr, true, 1, BitsetMatchAny)
			res := <-done
			if res.err == unix.EAGAIN {
				if q := queued(m, PrivateKey(s, es[0].Addr)); q != 0 {
					t.Fatalf("EAGAIN left %d queued", q)
				}
			} else if res.err != nil || res.n != raised {
				t.Fatalf("round %d: Waitv = %d, %v; want %d", r, res.n, res.err, raised)
			}
			s.store(t, es[raised].Addr, 0)
		}
	})
}
