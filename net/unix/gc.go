package unix

import "uk/fs/vfs"

// The collector of descriptions in flight, as Linux's unix_gc. A socket
// passed (SCM_RIGHTS) in a message queued on itself, or on a socket that
// is in turn passed in a message queued on the first, is referenced only
// by those messages once the program closes its descriptors: no one can
// ever read them, and without a collector the sockets, their queues and
// what they are charged would stay until the sandbox ends (a loop making
// such cycles ran a 64 MiB sandbox out of memory in half a second).
//
// A collection finds the candidates: sockets of this namespace whose
// description's references are all in queued messages. It marks those
// reachable from the queues of the other sockets (a listening socket's
// queue includes its connections not yet accepted), and drops the
// descriptions queued on the rest, which breaks their cycles: the
// references go after the namespace lock, and each socket is released
// as its last one goes.
//
// Under the namespace lock the references of a candidate cannot change:
// no descriptor table holds it, and every message queue is changed only
// under the lock. A receiver that has taken descriptions from a queue and
// not yet installed them holds references outside any queue, so what it
// holds is no candidate.

// gcMinSent is how many socket descriptions are sent between collections
// at least; past it, a collection waits for as many as the last one left
// alive, so that its cost (every socket and queued message) is amortized.
const gcMinSent = 1024

// noteSentLocked counts the socket descriptions of rights, about to be
// sent, and collects when enough were.
//
// Preconditions: ns.mu is held.
func (ns *Namespace) noteSentLocked(rights []*vfs.FileDescription) {
	for _, d := range rights {
		if _, ok := d.Impl().(*Socket); ok {
			ns.sentSockets++
		}
	}
	if ns.sentSockets >= max(gcMinSent, ns.keptSockets) {
		ns.sentSockets = 0
		ns.keptSockets = ns.collectLocked()
	}
}

// queuedRights calls f for each description queued on s: in its receive
// queue and, for a listening socket, in its connections' not yet
// accepted.
func (s *Socket) queuedRights(f func(d *vfs.FileDescription)) {
	for _, m := range s.rq {
		for _, d := range m.ctl.Rights {
			f(d)
		}
	}
	for _, e := range s.pending {
		for _, m := range e.rq {
			for _, d := range m.ctl.Rights {
				f(d)
			}
		}
	}
}

// collectLocked drops the descriptions queued on sockets that only
// unreachable messages reference. It returns how many sockets it left.
//
// Preconditions: ns.mu is held.
func (ns *Namespace) collectLocked() int {
	ns.liveMu.Lock()
	live := make([]*Socket, 0, len(ns.live))
	for s := range ns.live {
		live = append(live, s)
	}
	ns.liveMu.Unlock()
	// How many references each socket description has in queues (each
	// queue once: an embryo's is counted as its own).
	inflight := map[*vfs.FileDescription]int64{}
	for _, s := range live {
		for _, m := range s.rq {
			for _, d := range m.ctl.Rights {
				if x, ok := d.Impl().(*Socket); ok && x.ns == ns {
					inflight[d]++
				}
			}
		}
	}
	candidates := map[*Socket]*vfs.FileDescription{}
	for d, n := range inflight {
		if d.Refs() == n {
			candidates[d.Impl().(*Socket)] = d
		}
	}
	if len(candidates) == 0 {
		return len(live)
	}
	// Mark what the other sockets' queues reach.
	var stack []*Socket
	for _, s := range live {
		if _, c := candidates[s]; !c && !s.embryo {
			stack = append(stack, s)
		}
	}
	reached := map[*Socket]bool{}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		s.queuedRights(func(d *vfs.FileDescription) {
			x, ok := d.Impl().(*Socket)
			if _, c := candidates[x]; ok && c && !reached[x] {
				reached[x] = true
				stack = append(stack, x)
			}
		})
	}
	freed := 0
	for s := range candidates {
		if reached[s] {
			continue
		}
		freed++
		for _, m := range s.rq {
			ns.dropLocked(&m.ctl)
		}
		for _, e := range s.pending {
			for _, m := range e.rq {
				ns.dropLocked(&m.ctl)
			}
		}
	}
	return len(live) - freed
}
