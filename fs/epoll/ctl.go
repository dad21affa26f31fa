package epoll

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Ctl is epoll_ctl(2) for op EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL
// on the target description file, installed at fd number fd in the
// caller's table (the kernel looks it up and holds a reference for the
// call; Ctl keeps none). events and data are the epoll_event (ignored for
// DEL). Errors as Linux:
//   - EBADF: file is nil or an O_PATH description;
//   - EPERM: the target cannot be polled (regular file, directory; see
//     Pollable);
//   - EINVAL: unknown op, file is this instance, EPOLLEXCLUSIVE with MOD or
//     with bits other than IN, OUT, ERR, HUP, WAKEUP, ET, or on an epoll
//     target, or MOD of an entry added with EPOLLEXCLUSIVE;
//   - EEXIST: ADD of an existing (fd, file); ENOENT: MOD or DEL of a
//     missing one;
//   - ELOOP: ADD of an epoll would make a cycle or a chain of more than
//     MaxNests+1 instances.
//
// EPOLLERR and EPOLLHUP are always watched. EPOLLWAKEUP is accepted and
// dropped (uk has no suspend). EPOLLEXCLUSIVE is accepted and otherwise
// ignored: each instance waiting is woken, which Linux allows (it only
// promises that at least one is). EPOLLRDHUP is passed to files, which
// report it if they know it (sockets).
func (ep *Epoll) Ctl(ctx vfs.Context, op int, fd int32, file *vfs.FileDescription, events uint32, data uint64) error {
	if file == nil || file.IsPath() {
		return unix.EBADF
	}
	if !pollable(ctx, file) {
		return unix.EPERM
	}
	target, isEpoll := file.Impl().(*Epoll)
	if target == ep {
		return unix.EINVAL
	}
	switch op {
	case unix.EPOLL_CTL_ADD, unix.EPOLL_CTL_MOD, unix.EPOLL_CTL_DEL:
	default:
		return unix.EINVAL
	}
	if op != unix.EPOLL_CTL_DEL {
		if events&flagExclusive != 0 {
			if op == unix.EPOLL_CTL_MOD || events&^exclusiveOK != 0 || isEpoll {
				return unix.EINVAL
			}
		}
		events &^= flagWakeUp
		events |= unix.EPOLLERR | unix.EPOLLHUP
	}
	k := key{fd, file}

	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	switch op {
	case unix.EPOLL_CTL_ADD:
		if isEpoll {
			nestMu.Lock()
			defer nestMu.Unlock()
			if loops(ep, target) {
				return unix.ELOOP
			}
		}
		ep.mu.Lock()
		if ep.closed {
			ep.mu.Unlock()
			return unix.EBADF
		}
		if _, ok := ep.entries[k]; ok {
			ep.mu.Unlock()
			return unix.EEXIST
		}
		budget := vfs.ChargerOf(ctx)
		if !budget.Charge(entryCost) {
			ep.mu.Unlock()
			return unix.ENOMEM
		}
		sweep := ep.sweepCandidatesLocked()
		e := &entry{ep: ep, key: k, events: events, data: data, budget: budget}
		e.waiter = vfs.Waiter{Mask: ^vfs.EventMask(0), Callback: e.callback}
		ep.entries[k] = e
		ep.mu.Unlock()
		ep.sweep(sweep)
		file.EventRegister(&e.waiter)
		ep.checkReady(e)
	case unix.EPOLL_CTL_MOD:
		ep.mu.Lock()
		e := ep.entries[k]
		if e == nil {
			ep.mu.Unlock()
			return unix.ENOENT
		}
		if e.events&flagExclusive != 0 {
			ep.mu.Unlock()
			return unix.EINVAL
		}
		e.events, e.data, e.disabled = events, data, false
		e.gen++
		ep.mu.Unlock()
		ep.checkReady(e)
	case unix.EPOLL_CTL_DEL:
		ep.mu.Lock()
		e := ep.entries[k]
		if e == nil {
			ep.mu.Unlock()
			return unix.ENOENT
		}
		ep.removeLocked(e)
		ep.mu.Unlock()
		file.EventUnregister(&e.waiter)
	}
	return nil
}

// pollable reports whether epoll may watch fd.
func pollable(ctx vfs.Context, fd *vfs.FileDescription) bool {
	if p, ok := fd.Impl().(Pollable); ok {
		return p.Pollable()
	}
	st, err := fd.Stat(ctx)
	if err != nil {
		return true
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return false
	}
	return true
}

// sweepCandidatesLocked returns all entries when the interest set has
// doubled since the last sweep, so that entries of released descriptions
// of types that do not send EventFree are found in amortized O(1) per ADD.
func (ep *Epoll) sweepCandidatesLocked() []*entry {
	if len(ep.entries) < ep.sweepAt {
		return nil
	}
	ep.sweepAt = 2 * len(ep.entries)
	es := make([]*entry, 0, len(ep.entries))
	for _, e := range ep.entries {
		es = append(es, e)
	}
	return es
}

func (ep *Epoll) sweep(es []*entry) {
	for _, e := range es {
		if !e.file.TryIncRef() {
			ep.drop(e)
			continue
		}
		e.file.DecRef()
	}
}

// children returns the epoll instances ep watches.
func (ep *Epoll) children() []*Epoll {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var cs []*Epoll
	for k, e := range ep.entries {
		if c, ok := k.file.Impl().(*Epoll); ok && !e.dead {
			cs = append(cs, c)
		}
	}
	return cs
}

// loops reports whether adding target to ep makes a cycle or too deep a
// nest (ep_loop_check): the depth of instances below target, plus one,
// plus the depth of instances above ep, may be at most MaxNests. Called
// with nestMu held, so the graph of instances does not change.
func loops(ep, target *Epoll) bool {
	down := map[*Epoll]int{}
	var depth func(e *Epoll, level int) int
	depth = func(e *Epoll, level int) int {
		if d, ok := down[e]; ok {
			return d
		}
		d := 0
		for _, c := range e.children() {
			if c == ep || level > MaxNests {
				d = MaxNests + 1
			} else {
				d = max(d, depth(c, level+1)+1)
			}
			if d > MaxNests {
				break
			}
		}
		down[e] = d
		return d
	}
	d := depth(target, 0)
	if d > MaxNests {
		return true
	}
	// Upward: who watches whom, from all live instances.
	registryMu.Lock()
	all := make([]*Epoll, 0, len(registry))
	for e := range registry {
		all = append(all, e)
	}
	registryMu.Unlock()
	parents := map[*Epoll][]*Epoll{}
	for _, p := range all {
		for _, c := range p.children() {
			parents[c] = append(parents[c], p)
		}
	}
	up := map[*Epoll]int{}
	var updepth func(e *Epoll, level int) int
	updepth = func(e *Epoll, level int) int {
		if u, ok := up[e]; ok {
			return u
		}
		u := 0
		for _, p := range parents[e] {
			if level > MaxNests {
				u = MaxNests + 1
				break
			}
			u = max(u, updepth(p, level+1)+1)
		}
		up[e] = u
		return u
	}
	return d+1+updepth(ep, 0) > MaxNests
}
