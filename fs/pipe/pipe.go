package pipe

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Sizes, as Linux on x86-64.
const (
	// PageSize is the size of one slot.
	PageSize = 4096
	// PipeBuf is PIPE_BUF: writes of at most this many bytes are atomic.
	PipeBuf = 4096
	// DefaultSize is the capacity of a new pipe (16 pages).
	DefaultSize = 16 * PageSize
	// MaxSize is /proc/sys/fs/pipe-max-size: the largest capacity an
	// unprivileged task may set with F_SETPIPE_SZ.
	MaxSize = 1 << 20
	// maxSlots bounds what a privileged task may ask for (Linux refuses
	// sizes above 2 GiB; this keeps a runaway request from allocating a
	// huge slot ring).
	maxSlots = 1 << 19
)

// Dev is the device number anonymous pipes report in fstat (Linux's pipefs
// is an anonymous superblock; uk's mounted filesystems start at 0:17).
var Dev = unix.Mkdev(0, 15)

// nextIno numbers anonymous pipes (pipefs inode numbers).
var nextIno atomic.Uint64

func init() { nextIno.Store(4096) }

// Events used internally: eventFree is Linux's POLLFREE, sent to a waiter
// whose file description is going away (epoll drops its entry).
const (
	eventFree   = vfs.EventMask(0x4000)
	readEvents  = vfs.EventIn | vfs.EventRdNorm
	writeEvents = vfs.EventOut | vfs.EventWrNorm
	allEvents   = vfs.EventMask(0xffffffff)
)

// slot is one page of a pipe's ring. Packet slots (written through an
// O_DIRECT description) are read whole: a read takes one packet and drops
// what does not fit. Mergeable slots take small later writes.
type slot struct {
	page   *[PageSize]byte
	off    int
	len    int
	packet bool
	merge  bool
}

var pages = sync.Pool{New: func() any { return new([PageSize]byte) }}

// slotBytes is what one slot of a ring costs in uk's heap (a page pointer
// and three words); rings beyond the default size are charged for it.
const slotBytes = 32

// Pipe is the buffer and state both ends of one pipe (or all opens of one
// FIFO) share. All fields are protected by mu. Waiters of read ends are on
// rq, those of write ends on wq; notifications are sent after mu is
// released so that a waiter callback may look at the pipe.
type Pipe struct {
	mu    sync.Mutex
	slots []slot // ring, len is a power of two (the capacity in pages)
	head  uint64 // next slot to fill
	tail  uint64 // next slot to read
	// readers and writers count the open descriptions of each end;
	// rCounter and wCounter count opens ever (FIFO open waits and POLLHUP).
	readers, writers   int
	rCounter, wCounter uint64

	rq, wq vfs.Queue
	openQ  vfs.Queue // FIFO opens waiting for a partner

	ino                 uint64
	uid, gid            uint32
	atime, mtime, ctime time.Time

	// onIdle, if set, is called (without mu) when the last reader and
	// writer have gone (FIFORegistry forgets the FIFO then).
	onIdle func()

	// budget is the sandbox's memory budget: every page in the ring, and
	// every slot beyond the default ring, is charged to it, as Linux
	// charges pipe pages to the memory cgroup. A write that finds the
	// budget spent fails as pipe_write's failed alloc_page does (ENOMEM).
	// nil until the pipe's first opener gives it (FIFOs are made first).
	budget vfs.Charger

	// user is who the ring's slots are counted against, and accounted
	// how many are (0 while the pipe is idle): Linux's per-user pipe
	// limits (user.go).
	user      pipeUser
	accounted int64
}

func newPipe() *Pipe {
	now := time.Now()
	return &Pipe{
		slots: make([]slot, DefaultSize/PageSize),
		ino:   nextIno.Add(1),
		atime: now, mtime: now, ctime: now,
	}
}

// setBudgetLocked gives the pipe the memory budget of ctx's sandbox, once.
func (p *Pipe) setBudgetLocked(ctx vfs.Context) {
	if p.budget == nil {
		p.budget = vfs.ChargerOf(ctx)
	}
}

// newPageLocked returns a page for a slot, charged to the budget; nil when
// the budget cannot cover it.
func (p *Pipe) newPageLocked() *[PageSize]byte {
	if p.budget != nil && !p.budget.Charge(PageSize) {
		return nil
	}
	return pages.Get().(*[PageSize]byte)
}

// freePageLocked gives back a page newPageLocked returned.
func (p *Pipe) freePageLocked(pg *[PageSize]byte) {
	pages.Put(pg)
	if p.budget != nil {
		p.budget.Uncharge(PageSize)
	}
}

// ringCharge is what a ring of n slots is charged beyond the default.
func ringCharge(n uint64) int64 {
	return max(0, int64(n)-DefaultSize/PageSize) * slotBytes
}

func (p *Pipe) occupancy() uint64 { return p.head - p.tail }
func (p *Pipe) empty() bool       { return p.head == p.tail }
func (p *Pipe) full() bool        { return p.occupancy() >= uint64(len(p.slots)) }
func (p *Pipe) at(i uint64) *slot { return &p.slots[i&uint64(len(p.slots)-1)] }

// bufferedLocked is the number of unread bytes.
func (p *Pipe) bufferedLocked() int {
	n := 0
	for i := p.tail; i != p.head; i++ {
		n += p.at(i).len
	}
	return n
}

// Buffered returns the number of unread bytes (FIONREAD).
func (p *Pipe) Buffered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bufferedLocked()
}

// GetSize returns the capacity in bytes (F_GETPIPE_SZ).
func (p *Pipe) GetSize() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(len(p.slots)) * PageSize
}

// SetSize is F_SETPIPE_SZ: size (fcntl's argument, which Linux truncates
// to an unsigned int) is rounded up to a power-of-two number of pages, at
// least one. EINVAL above 2 GiB; EPERM above MaxSize unless ctx is
// privileged (CAP_SYS_RESOURCE); EBUSY if the unread data needs more slots
// than the new size has. Returns the new capacity in bytes.
func (p *Pipe) SetSize(ctx vfs.Context, size uint64) (int64, error) {
	privileged := false
	if c := ctx.Credentials(); c != nil {
		privileged = c.Privileged
	}
	sz := uint64(uint32(size))
	if sz > 1<<31 {
		return 0, unix.EINVAL
	}
	n := uint64(1)
	for n*PageSize < sz {
		n <<= 1
	}
	if n > maxSlots {
		return 0, unix.ENOMEM
	}
	p.mu.Lock()
	// pipe_set_size's order: past pipe-max-size, then past the user's
	// limits (growing only, for both), then the unread data.
	if n > uint64(len(p.slots)) && n*PageSize > MaxSize && !privileged {
		p.mu.Unlock()
		return 0, unix.EPERM
	}
	if p.accounted != 0 {
		total := addUserSlots(p.user, int64(n)-p.accounted)
		if int64(n) > p.accounted && overUserLimit(total) && !privileged {
			addUserSlots(p.user, p.accounted-int64(n))
			p.mu.Unlock()
			return 0, unix.EPERM
		}
		p.accounted = int64(n)
	}
	if n < p.occupancy() {
		if p.accounted != 0 {
			addUserSlots(p.user, int64(len(p.slots))-int64(n))
			p.accounted = int64(len(p.slots))
		}
		p.mu.Unlock()
		return 0, unix.EBUSY
	}
	p.setBudgetLocked(ctx)
	grew := n > uint64(len(p.slots))
	if n != uint64(len(p.slots)) {
		// A privileged task may ask for half a million slots: the ring
		// is charged, and the pages only as they fill.
		if d := ringCharge(n) - ringCharge(uint64(len(p.slots))); d > 0 && !p.budget.Charge(d) {
			if p.accounted != 0 {
				addUserSlots(p.user, int64(len(p.slots))-int64(n))
				p.accounted = int64(len(p.slots))
			}
			p.mu.Unlock()
			return 0, unix.ENOMEM
		} else if d < 0 {
			p.budget.Uncharge(-d)
		}
		ring := make([]slot, n)
		k := uint64(0)
		for i := p.tail; i != p.head; i++ {
			ring[k] = *p.at(i)
			k++
		}
		p.slots, p.tail, p.head = ring, 0, k
	}
	p.mu.Unlock()
	if grew {
		p.wq.Notify(writeEvents)
	}
	return int64(n) * PageSize, nil
}

// notify tells both ends' waiters about ev (used when an end closes, when
// any state may have changed).
func (p *Pipe) notifyAll() {
	p.rq.Notify(allEvents &^ eventFree)
	p.wq.Notify(allEvents &^ eventFree)
}

// read is pipe_read: it takes what is there (up to len(dst)), waits only
// while nothing is buffered and a writer exists, returns 0 at EOF.
func (p *Pipe) read(ctx vfs.Context, dst []byte, nonblock bool) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	b := vfs.NewBlocker(readEvents | vfs.EventHUp | vfs.EventErr)
	defer b.Done()
	ret := 0
	p.mu.Lock()
	for {
		if !p.empty() {
			s := p.at(p.tail)
			n := copy(dst[ret:], s.page[s.off:s.off+s.len])
			ret += n
			s.off += n
			s.len -= n
			packet := s.packet
			if packet {
				s.len = 0 // the rest of a packet that does not fit is dropped
			}
			if s.len == 0 {
				p.freePageLocked(s.page)
				*s = slot{}
				p.tail++
			}
			if packet || ret == len(dst) {
				break
			}
			if !p.empty() {
				continue
			}
		}
		if p.writers == 0 || ret > 0 {
			break
		}
		if nonblock {
			p.mu.Unlock()
			return 0, unix.EAGAIN
		}
		if err := b.WaitReleasing(ctx, &p.mu, &p.rq); err != nil {
			p.mu.Unlock()
			return 0, err
		}
	}
	if ret > 0 {
		p.atime = time.Now()
	}
	p.mu.Unlock()
	if ret > 0 {
		p.wq.Notify(writeEvents)
	}
	return ret, nil
}

// write is pipe_write. See File.Write for the contract.
func (p *Pipe) write(ctx vfs.Context, src []byte, nonblock, packet bool) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	b := vfs.NewBlocker(writeEvents | vfs.EventErr | vfs.EventHUp)
	defer b.Done()
	ret := 0
	var err error
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		return 0, unix.EPIPE
	}
	// A write's sub-page part (its first len%PageSize bytes) may go into
	// the last slot if it fits whole, as Linux does; the rest goes in
	// fresh pages. So a write of at most PipeBuf bytes is never split.
	if chars := len(src) & (PageSize - 1); chars != 0 && !p.empty() {
		s := p.at(p.head - 1)
		if s.merge && s.off+s.len+chars <= PageSize {
			copy(s.page[s.off+s.len:], src[:chars])
			s.len += chars
			ret = chars
		}
	}
	for ret < len(src) {
		if p.readers == 0 {
			err = unix.EPIPE
			break
		}
		if !p.full() {
			pg := p.newPageLocked()
			if pg == nil {
				if ret == 0 {
					err = unix.ENOMEM
				}
				break
			}
			s := p.at(p.head)
			n := copy(pg[:], src[ret:])
			*s = slot{page: pg, len: n, packet: packet, merge: !packet}
			p.head++
			ret += n
			continue
		}
		if nonblock {
			if ret == 0 {
				err = unix.EAGAIN
			}
			break
		}
		p.mu.Unlock()
		if ret > 0 {
			p.rq.Notify(readEvents) // let readers make room
		}
		if berr := b.Wait(ctx, &p.wq); berr != nil {
			if ret == 0 {
				return 0, berr
			}
			p.rq.Notify(readEvents)
			return ret, nil
		}
		p.mu.Lock()
	}
	if ret > 0 {
		now := time.Now()
		p.mtime, p.ctime = now, now
	}
	p.mu.Unlock()
	if ret > 0 {
		// Every write wakes readers (not only on empty → non-empty), as
		// Linux since 5.14, so edge-triggered epoll sees each write.
		p.rq.Notify(readEvents)
	}
	return ret, err
}

// readiness is pipe_poll for a description opened for reading and/or
// writing; wSeen is the writer counter when the reader was opened (POLLHUP
// only after some writer has come and gone since).
func (p *Pipe) readiness(read, write bool, wSeen uint64) vfs.EventMask {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m vfs.EventMask
	if read {
		if !p.empty() {
			m |= readEvents
		}
		if p.writers == 0 && p.wCounter != wSeen {
			m |= vfs.EventHUp
		}
	}
	if write {
		if !p.full() {
			m |= writeEvents
		}
		if p.readers == 0 {
			m |= vfs.EventErr
		}
	}
	return m
}

// release drops one reader and/or writer. When the last of both is gone
// the contents are discarded (a FIFO starts afresh at its next open, with
// the default size, as Linux frees its pipe_inode_info).
func (p *Pipe) release(read, write bool) {
	p.mu.Lock()
	if read {
		p.readers--
	}
	if write {
		p.writers--
	}
	changed := (read && p.readers == 0) || (write && p.writers == 0)
	idle := p.readers == 0 && p.writers == 0
	if idle {
		for i := p.tail; i != p.head; i++ {
			p.freePageLocked(p.at(i).page)
		}
		if p.budget != nil {
			p.budget.Uncharge(ringCharge(uint64(len(p.slots))))
		}
		p.unaccountUserLocked()
		p.slots = make([]slot, DefaultSize/PageSize)
		p.head, p.tail = 0, 0
	}
	onIdle := p.onIdle
	p.mu.Unlock()
	if changed {
		p.notifyAll()
		p.openQ.Notify(allEvents &^ eventFree)
	}
	if idle && onIdle != nil {
		onIdle()
	}
}

// ioBlksize is a pipe's st_blksize: the capacity, not Linux's page. glibc's
// stdio sizes its buffer from it (up to 8 KiB), and each write is a trap
// round trip under uk, several microseconds where Linux spends a fraction
// of one: GNU sort writing 10 MB into a pipe made 2,251 writes of 4 KiB.
// Any size is a valid st_blksize; a write of a whole buffer to a pipe
// behaves the same either way (atomic up to PIPE_BUF, blocking otherwise).
const ioBlksize = 64 << 10

func (p *Pipe) stat() vfs.Stat {
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := func(t time.Time) unix.Timespec { return unix.NsecToTimespec(t.UnixNano()) }
	return vfs.Stat{
		Mask: unix.STATX_BASIC_STATS,
		Dev:  Dev, Ino: p.ino, Mode: unix.S_IFIFO | 0o600, Nlink: 1,
		UID: p.uid, GID: p.gid, Blksize: ioBlksize,
		Atime: ts(p.atime), Mtime: ts(p.mtime), Ctime: ts(p.ctime),
	}
}
