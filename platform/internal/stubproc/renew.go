package stubproc

import "golang.org/x/sys/unix"

// Renewing a stub for another program.
//
// Starting a stub costs the factory a fork of the master, the stub's own
// filter (a BPF JIT compile in the host) and its serving thread; killing
// one costs the host a teardown. A process that ends can hand its stub to
// the next instead, as an execve hands its own to the program it starts,
// but only once nothing of the old program can run there: its threads ran
// the old program's code with registers it chose, and a thread the program
// took over (by forging its state word and frame, which it can) would
// otherwise wait in the new program's stub. So the platform sends every
// thread it made there to its exit, empties the space (Renew), and hands
// the stub out only once all those threads are gone, leaving the two that
// never run application code: the main (edit) thread, traced and stopped,
// and the serving thread. A program's threads cannot clone, so the
// platform knows every thread there is. The next program's threads are
// made afresh. What else the stub keeps is uk's: the fds of installed host
// files, its request page, the signal dispositions the master set.

// Renew empties the space for another program and hands its stub to a
// new Space: it unmaps everything below Limit (the platform's and the
// stub's own pages above stay), then marks this space released without
// killing the stub, running locked (if set) under Mu for the platform's
// own state. When it returns no thread of the stub can reach the old
// program's pages. The caller must make sure nothing maps into the space
// meanwhile, and must not let the new one run anything until every
// thread that ran the old program is gone. On an error the stub is killed
// (a failed batch does that) or the space was released already; the
// caller then releases it as usual.
func (s *Space) Renew(locked func()) (*Space, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return nil, s.ErrReleased()
	}
	s.pending = append(s.pending, Request{Nr: unix.SYS_MUNMAP, Args: [6]uint64{0, s.Limit}})
	if err := s.flushAnywhereLocked(); err != nil {
		return nil, err
	}
	ns := &Space{h: s.h, Pid: s.Pid, Limit: s.Limit, slot: s.slot, req: s.req, server: s.server, cpu: s.cpu,
		FlushHere: s.FlushHere, hostSock: s.hostSock, hostFDs: s.hostFDs}
	ns.quiet.Store(true)
	s.released = true
	s.gone.Store(true)
	s.server, s.hostSock, s.hostFDs = nil, -1, nil
	s.noteLocked()
	if locked != nil {
		locked()
	}
	return ns, nil
}
