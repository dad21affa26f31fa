// Package hrtimer fires timers at sub-millisecond deadlines on time.
//
// Go's own timers are late by up to a millisecond when every thread of the
// process is idle: the thread that waits for the next timer waits in
// epoll_wait, whose timeout is whole milliseconds, so a 20 µs timer fires
// after 1 ms (golang.org/issue/53824). A program under uk that sleeps for
// microseconds (the Go runtime's usleep in its scheduler, a poll with a
// short timeout, a futex wait with one) would sleep ten to a hundred times
// longer than on Linux. This package keeps the deadlines shorter than
// goTimersFrom in a heap and arms one host timerfd for the earliest: its
// expiry makes the fd readable, which wakes Go's poller at once, whatever
// its epoll_wait timeout, and a goroutine fires what is due.
//
// Start must be called before uk confines itself (it creates the timerfd
// and registers it with Go's poller); until then, or if it failed, timers
// fall back to Go's. Longer deadlines always use Go's timers, for which a
// millisecond is little.
package hrtimer

import (
	"container/heap"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// goTimersFrom is the shortest wait left to Go's timers: their lateness
// (up to a millisecond) is then at most a tenth.
const goTimersFrom = 10 * time.Millisecond

// Timer is one pending deadline: a function to call, or a channel to
// poke, at it. The zero Timer is not usable; make one with AfterFunc or
// NewTimer.
type Timer struct {
	// C receives a value at the deadline (NewTimer's timers only). It
	// holds at most one: a fire while one is pending is dropped.
	C <-chan struct{}

	f     func()
	when  time.Time   // the deadline, while queued in the heap
	index int         // in the heap; -1 when not queued
	gt    *time.Timer // the Go timer for a long wait, while it runs
}

// AfterFunc calls f after d, in the timer goroutine (for a short wait) or
// a goroutine of its own (a long one): f must not block.
func AfterFunc(d time.Duration, f func()) *Timer {
	t := &Timer{f: f, index: -1}
	t.start(d)
	return t
}

// NewTimer returns a timer whose channel C receives a value after d.
func NewTimer(d time.Duration) *Timer {
	ch := make(chan struct{}, 1)
	t := &Timer{C: ch, index: -1, f: func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}}
	t.start(d)
	return t
}

// Stop cancels the timer; false if it had already fired (or was stopped).
// A NewTimer's channel may still hold the value of a fire before Stop.
func (t *Timer) Stop() bool {
	if t.gt != nil {
		stopped := t.gt.Stop()
		t.gt = nil
		return stopped
	}
	return svc.remove(t)
}

// Reset stops the timer and starts it again for d; false if it had
// already fired or been stopped.
func (t *Timer) Reset(d time.Duration) bool {
	was := t.Stop()
	t.start(d)
	return was
}

func (t *Timer) start(d time.Duration) {
	if d >= goTimersFrom || !svc.add(t, d) {
		t.gt = time.AfterFunc(d, t.f)
	}
}

// service is the timerfd and the heap of short deadlines.
type service struct {
	mu      sync.Mutex
	started bool      // Start succeeded
	fd      int       // the timerfd
	file    *os.File  // fd, as Go's poller sees it
	timers  timerHeap // queued timers, earliest first
	armed   time.Time // the deadline the timerfd is set for; zero if disarmed
}

var svc service

// Start creates the timerfd and the goroutine that fires timers. It is
// called once, before uk's seccomp filter forbids making the fd.
func Start() error {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.started {
		return nil
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("hrtimer: timerfd_create: %w", err)
	}
	// A non-blocking fd becomes a pollable os.File: reads wait in Go's
	// poller, which the fd's expiry wakes.
	svc.fd, svc.file, svc.started = fd, os.NewFile(uintptr(fd), "hrtimer"), true
	go svc.run()
	return nil
}

// add queues t to fire after d; false if the service is not running.
func (s *service) add(t *Timer, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return false
	}
	t.when = time.Now().Add(d)
	heap.Push(&s.timers, t)
	if t.index == 0 {
		s.armLocked()
	}
	return true
}

// remove takes t off the heap; false if it was not on it.
func (s *service) remove(t *Timer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.index < 0 {
		return false
	}
	first := t.index == 0
	heap.Remove(&s.timers, t.index)
	if first {
		s.armLocked()
	}
	return true
}

// armLocked sets the timerfd for the earliest deadline, or disarms it.
// A timerfd set for a time already past expires at once.
func (s *service) armLocked() {
	var when time.Time
	if len(s.timers) > 0 {
		when = s.timers[0].when
	}
	if when.Equal(s.armed) {
		return
	}
	var spec unix.ItimerSpec
	if !when.IsZero() {
		spec.Value = unix.NsecToTimespec(max(int64(time.Until(when)), 1))
	}
	if err := unix.TimerfdSettime(s.fd, 0, &spec, nil); err != nil {
		// Cannot happen with a valid fd and value; should it, the
		// next add or fire tries again.
		s.armed = time.Time{}
		return
	}
	s.armed = when
}

// run fires the due timers each time the timerfd expires.
func (s *service) run() {
	var buf [8]byte
	for {
		if _, err := s.file.Read(buf[:]); err != nil && !errors.Is(err, syscall.EAGAIN) {
			// The fd is uk's own and never closed: this is a bug.
			panic(fmt.Sprintf("hrtimer: read timerfd: %v", err))
		}
		s.fireDue()
	}
}

// fireDue calls every timer whose deadline has passed and arms the fd for
// the next.
func (s *service) fireDue() {
	var due []*Timer
	now := time.Now()
	s.mu.Lock()
	s.armed = time.Time{} // it expired: a set for the same time must rearm
	for len(s.timers) > 0 && !s.timers[0].when.After(now) {
		due = append(due, heap.Pop(&s.timers).(*Timer))
	}
	s.armLocked()
	s.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// timerHeap orders timers by deadline (container/heap).
type timerHeap []*Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
