package epoll

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Wait is epoll_wait(2) (and epoll_pwait/epoll_pwait2 once the kernel has
// set the signal mask): it returns up to max ready events. timeout 0 only
// checks; a negative timeout waits until something is ready; a positive
// one waits at most that long and then returns no events and no error.
// EINVAL if max <= 0. A wait ended by ctx.Block's error returns that error
// unchanged (Linux never restarts epoll_wait: the kernel makes it EINTR).
func (ep *Epoll) Wait(ctx vfs.Context, max int, timeout time.Duration) ([]Event, error) {
	if max <= 0 {
		return nil, unix.EINVAL
	}
	// The common case needs no waiter: something is ready, or it is a check.
	if evs := ep.collect(max); len(evs) > 0 || timeout == 0 {
		return evs, nil
	}
	b := vfs.NewBlocker(vfs.EventIn | vfs.EventRdNorm)
	defer b.Done()
	if timeout > 0 {
		b.SetDeadline(time.Now().Add(timeout))
	}
	for {
		// The first Wait registers on ep's queue: check again after it.
		switch err := b.Wait(ctx, &ep.q); err {
		case nil:
		case unix.ETIMEDOUT:
			return ep.collect(max), nil // a last look, as ep_poll
		default:
			return nil, err
		}
		if evs := ep.collect(max); len(evs) > 0 {
			return evs, nil
		}
	}
}

// collect takes the ready list, rechecks each entry's readiness and
// returns up to max events (ep_send_events).
func (ep *Epoll) collect(max int) []Event {
	ep.mu.Lock()
	batch := ep.ready
	ep.ready = nil
	for _, e := range batch {
		e.inReady = false
	}
	ep.mu.Unlock()

	var out []Event
	requeued := false
	i := 0
	for ; i < len(batch) && len(out) < max; i++ {
		e := batch[i]
		ep.mu.Lock()
		if e.dead || e.disabled {
			ep.mu.Unlock()
			continue
		}
		mask, gen := vfs.EventMask(e.events&^flagBits), e.gen
		ep.mu.Unlock()
		if !e.file.TryIncRef() {
			ep.drop(e)
			continue
		}
		r := e.file.Readiness(mask) & mask
		e.file.DecRef()
		if r == 0 {
			continue // not ready (any more): off the list until notified
		}
		ep.mu.Lock()
		// A MOD meanwhile (gen changed) rechecks and queues by itself.
		if !e.dead && !e.disabled && e.gen == gen {
			out = append(out, Event{Events: uint32(r), Data: e.data})
			switch {
			case e.events&flagOneShot != 0:
				e.disabled = true
			case e.events&flagET == 0:
				requeued = ep.queueLocked(e) || requeued
			}
		}
		ep.mu.Unlock()
	}
	if i < len(batch) {
		// Entries not looked at go back to the front, in order.
		ep.mu.Lock()
		var front []*entry
		for _, e := range batch[i:] {
			if !e.dead && !e.inReady {
				e.inReady = true
				front = append(front, e)
			}
		}
		ep.ready = append(front, ep.ready...)
		requeued = requeued || len(front) > 0
		ep.mu.Unlock()
	}
	if requeued {
		// Other waiters may take what is still ready (as Linux wakes them).
		ep.q.Notify(vfs.EventIn | vfs.EventRdNorm)
	}
	return out
}
