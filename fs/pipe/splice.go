package pipe

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Helpers for splice(2), tee(2) and vmsplice-like callers. Between two
// pipes Splice and Tee work under both pipes' locks, as Linux's
// splice_pipe_to_pipe and link_pipe. For splice between a pipe and another
// file the kernel goes through a buffer: file → pipe reads at most Room()
// bytes from the file and writes them; pipe → file uses Peek, writes to
// the file, then Discard of what the file took, so nothing is lost when
// the file takes less (exact with one reader, as splice callers are).
//
// nonblock is SPLICE_F_NONBLOCK (Linux ignores the pipes' O_NONBLOCK
// here). EPIPE from these helpers calls for SIGPIPE like a write does.

// Room returns how many bytes a write could put in now without waiting
// (the free slots' pages; a write of at most that many bytes does not
// block unless another writer comes first).
func (p *Pipe) Room() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (len(p.slots) - int(p.occupancy())) * PageSize
}

// Peek copies up to len(dst) buffered bytes without consuming them,
// waiting for data as read does (0 at end of file; EAGAIN if nonblock).
func (p *Pipe) Peek(ctx vfs.Context, dst []byte, nonblock bool) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	err := vfs.WaitUntil(ctx, &p.rq, readEvents|vfs.EventHUp, &p.mu, nonblock, func() bool { return !p.empty() || p.writers == 0 })
	if err != nil || p.empty() { // an error, or end of file
		p.mu.Unlock()
		return 0, err
	}
	n := 0
	for i := p.tail; i != p.head && n < len(dst); i++ {
		s := p.at(i)
		n += copy(dst[n:], s.page[s.off:s.off+s.len])
	}
	p.mu.Unlock()
	return n, nil
}

// Discard consumes up to n buffered bytes (after a Peek whose bytes went
// elsewhere) and returns how many it dropped.
func (p *Pipe) Discard(n int) int {
	p.mu.Lock()
	done := 0
	for !p.empty() && done < n {
		s := p.at(p.tail)
		k := min(s.len, n-done)
		s.off += k
		s.len -= k
		done += k
		if s.len == 0 {
			p.freePageLocked(s.page)
			*s = slot{}
			p.tail++
		}
	}
	p.mu.Unlock()
	if done > 0 {
		p.wq.Notify(writeEvents)
	}
	return done
}

// Splice moves up to n bytes from src to dst (splice(2) with two pipes).
// It waits for data in src and for room in dst unless nonblock (EAGAIN),
// returns 0 when src is empty with no writer, and EPIPE when dst has no
// reader. Packets stay packets. src == dst is EINVAL.
func Splice(ctx vfs.Context, src, dst *Pipe, n int, nonblock bool) (int, error) {
	return transfer(ctx, src, dst, n, nonblock, true)
}

// Tee copies up to n bytes from src to dst without consuming them (tee(2));
// otherwise as Splice.
func Tee(ctx vfs.Context, src, dst *Pipe, n int, nonblock bool) (int, error) {
	return transfer(ctx, src, dst, n, nonblock, false)
}

// lock2 locks two pipes in a fixed order (by inode number) so that
// concurrent transfers in opposite directions cannot deadlock.
func lock2(a, b *Pipe) {
	if a.ino < b.ino {
		a.mu.Lock()
		b.mu.Lock()
	} else {
		b.mu.Lock()
		a.mu.Lock()
	}
}

func transfer(ctx vfs.Context, src, dst *Pipe, n int, nonblock, consume bool) (int, error) {
	if src == dst {
		return 0, unix.EINVAL
	}
	if n <= 0 {
		return 0, nil
	}
	b := vfs.NewBlocker(allEvents &^ eventFree)
	defer b.Done()
	for {
		lock2(src, dst)
		wait := false
		switch {
		case dst.readers == 0:
			src.mu.Unlock()
			dst.mu.Unlock()
			return 0, unix.EPIPE
		case src.empty():
			if src.writers == 0 {
				src.mu.Unlock()
				dst.mu.Unlock()
				return 0, nil
			}
			wait = true
		case dst.full():
			wait = true
		}
		if !wait {
			dst.setBudgetLocked(ctx)
			moved := src.moveLocked(dst, n, consume)
			src.mu.Unlock()
			dst.mu.Unlock()
			if moved == 0 {
				return 0, unix.ENOMEM // the sandbox's memory is spent
			}
			dst.rq.Notify(readEvents)
			if consume {
				src.wq.Notify(writeEvents)
			}
			return moved, nil
		}
		src.mu.Unlock()
		dst.mu.Unlock()
		if nonblock {
			return 0, unix.EAGAIN
		}
		if err := b.Wait(ctx, &src.rq, &dst.wq); err != nil {
			return 0, err
		}
	}
}

// moveLocked copies up to n bytes, slot by slot, from p's unread data into
// fresh slots of dst while dst has free slots, consuming them from p if
// consume. Both pipes are locked; p is not empty and dst not full.
func (p *Pipe) moveLocked(dst *Pipe, n int, consume bool) int {
	moved := 0
	for i := p.tail; i != p.head && moved < n && !dst.full(); i++ {
		s := p.at(i)
		k := min(s.len, n-moved)
		pg := dst.newPageLocked()
		if pg == nil {
			break // the budget is spent: the caller reports what moved
		}
		copy(pg[:], s.page[s.off:s.off+k])
		*dst.at(dst.head) = slot{page: pg, len: k, packet: s.packet, merge: !s.packet}
		dst.head++
		moved += k
		if consume {
			s.off += k
			s.len -= k
			if s.len == 0 {
				p.freePageLocked(s.page)
				*s = slot{}
				p.tail++ // == i+1, where the loop goes next
			}
		}
	}
	return moved
}
