// Package poll implements the waiting of poll(2), ppoll(2), select(2) and
// pselect6(2) for uk over files' Readiness and waiter queues. The kernel
// copies the arrays or bitmaps in, looks the fds up, sets any temporary
// signal mask, and calls Poll or Select with the descriptions; it then
// copies the results out. Both check every file first; if nothing is
// ready and the timeout is not 0 they register a waiter on every file and
// recheck after each notification until something is ready, the timeout
// passes, or ctx.Block returns an error (a signal), which they return
// unchanged (the kernel decides between restart and EINTR).
package poll

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Poll event bits x/sys/unix names only with the EPOLL prefix.
const (
	POLLNVAL   = 0x20
	POLLRDNORM = 0x40
	POLLRDBAND = 0x80
	POLLWRNORM = 0x100
	POLLWRBAND = 0x200
)

// The events select's three sets stand for, as Linux's fs/select.c.
const (
	SelectIn  = vfs.EventIn | POLLRDNORM | POLLRDBAND | vfs.EventHUp | vfs.EventErr
	SelectOut = vfs.EventOut | POLLWRNORM | POLLWRBAND | vfs.EventErr
	SelectEx  = vfs.EventPri
)

// PollFD is one struct pollfd, with the fd already looked up.
type PollFD struct {
	// File is the open description, or nil for an fd that is not open
	// (or is an O_PATH description): its revents is POLLNVAL.
	File *vfs.FileDescription
	// Events are the requested events; POLLERR and POLLHUP are always
	// reported.
	Events uint16
	// Ignore is set for a negative fd: revents 0, not counted.
	Ignore bool
}

// Poll is poll(2)/ppoll(2): it returns how many entries have non-zero
// revents and the revents of each entry (parallel to fds). timeout 0 only
// checks; negative waits until something is ready; positive waits at most
// that long (then n is 0). On an error from ctx.Block, n is 0 and revents
// nil.
func Poll(ctx vfs.Context, fds []PollFD, timeout time.Duration) (int, []uint16, error) {
	revents := make([]uint16, len(fds))
	scan := func() int {
		n := 0
		for i, p := range fds {
			var m vfs.EventMask
			switch {
			case p.Ignore:
			case p.File == nil || p.File.IsPath():
				m = POLLNVAL
			default:
				filter := vfs.EventMask(p.Events) | vfs.EventErr | vfs.EventHUp
				m = p.File.Readiness(filter) & filter
			}
			revents[i] = uint16(m)
			if m != 0 {
				n++
			}
		}
		return n
	}
	var regs []registration
	for _, p := range fds {
		if !p.Ignore && p.File != nil && !p.File.IsPath() {
			regs = append(regs, registration{p.File, vfs.EventMask(p.Events) | vfs.EventErr | vfs.EventHUp})
		}
	}
	n, err := wait(ctx, regs, timeout, scan)
	if err != nil {
		return 0, nil, err
	}
	return n, revents, nil
}

// SelectFD is one fd of select(2)'s sets: which sets it is in.
type SelectFD struct {
	File                *vfs.FileDescription
	Read, Write, Except bool
}

// SelectResult says which sets an fd stays in.
type SelectResult struct {
	Read, Write, Except bool
}

// Select is select(2)/pselect6(2): n counts the bits left set over the
// three sets; res is parallel to fds. An fd in any set whose File is nil
// or an O_PATH description makes the whole call fail with EBADF (before
// waiting, as Linux). Entries in no set are skipped. timeout as Poll's.
func Select(ctx vfs.Context, fds []SelectFD, timeout time.Duration) (int, []SelectResult, error) {
	var regs []registration
	for _, s := range fds {
		if !s.Read && !s.Write && !s.Except {
			continue
		}
		if s.File == nil || s.File.IsPath() {
			return 0, nil, unix.EBADF
		}
		var m vfs.EventMask
		if s.Read {
			m |= SelectIn
		}
		if s.Write {
			m |= SelectOut
		}
		if s.Except {
			m |= SelectEx
		}
		regs = append(regs, registration{s.File, m})
	}
	res := make([]SelectResult, len(fds))
	scan := func() int {
		n := 0
		for i, s := range fds {
			if !s.Read && !s.Write && !s.Except {
				continue
			}
			m := s.File.Readiness(SelectIn | SelectOut | SelectEx)
			r := SelectResult{
				Read:   s.Read && m&SelectIn != 0,
				Write:  s.Write && m&SelectOut != 0,
				Except: s.Except && m&SelectEx != 0,
			}
			res[i] = r
			for _, b := range []bool{r.Read, r.Write, r.Except} {
				if b {
					n++
				}
			}
		}
		return n
	}
	n, err := wait(ctx, regs, timeout, scan)
	if err != nil {
		return 0, nil, err
	}
	return n, res, nil
}

// registration is a file to hear from and the events of interest.
type registration struct {
	file *vfs.FileDescription
	mask vfs.EventMask
}

// wait runs scan until it finds something (returns > 0), the timeout
// passes or ctx.Block fails, with waiters registered on the files between
// scans so that no change goes unnoticed.
func wait(ctx vfs.Context, regs []registration, timeout time.Duration, scan func() int) (int, error) {
	if n := scan(); n > 0 || timeout == 0 {
		return n, nil
	}
	b := vfs.NewBlocker(0) // no waiter of its own: one per file, below
	defer b.Done()
	if timeout > 0 {
		b.SetDeadline(time.Now().Add(timeout))
	}
	ws := make([]vfs.Waiter, len(regs))
	for i, r := range regs {
		ws[i] = b.NewWaiter(r.mask)
		r.file.EventRegister(&ws[i])
	}
	defer func() {
		for i, r := range regs {
			r.file.EventUnregister(&ws[i])
		}
	}()
	for {
		// Recheck after registering: a change between the first scan and
		// the registration has no notification of its own.
		if n := scan(); n > 0 {
			return n, nil
		}
		switch err := b.Sleep(ctx, nil); err {
		case nil:
		case unix.ETIMEDOUT:
			return scan(), nil // a last look, as Linux's do_poll
		default:
			return 0, err
		}
	}
}
