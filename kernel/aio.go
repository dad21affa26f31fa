package kernel

import (
	"encoding/binary"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/mm"
	"uk/platform"
)

// Linux AIO (io_setup and the rest). Every operation uk runs completes
// within io_submit, so a context is a completion ring: io_submit appends
// an event per request, io_getevents takes them in order. The ring also
// lives in the process's memory, as Linux's does (libaio peeks at its
// head and tail there): uk keeps the authoritative copy and mirrors each
// change into that mapping, so a program that unmaps or scribbles on it
// hurts only what it reads there.

// aioMaxEvents is fs.aio-max-nr: the most events a sandbox's contexts may
// hold between them (EAGAIN beyond), which also bounds what uk keeps.
const aioMaxEvents = 65536

// aioRingMagic, aioRingHeader and aioEventSize describe struct aio_ring
// and struct io_event.
const (
	aioRingMagic  = 0xa10a10a1
	aioRingHeader = 32
	aioEventSize  = 32
)

// AIOEvent is struct io_event: the request's aio_data, the iocb's
// address, and the result.
type AIOEvent struct {
	Data, Obj uint64
	Res, Res2 int64
}

// AIOContext is one io_setup context.
type AIOContext struct {
	id    uint64 // the ring's address, the context id programs pass
	index uint32 // its slot among the process's contexts (ring->id)
	size  uint64 // bytes of the ring mapping
	reqs  uint32 // events counted against aioMaxEvents
	m     *mm.MM // the memory the ring is in
	// budget is charged for ring (nil: nothing charged).
	budget vfs.Charger

	readMu   sync.Mutex // held by io_getevents
	mu       sync.Mutex
	ring     []AIOEvent // protected by mu
	head     uint32     // next event to take; protected by mu
	tail     uint32     // next slot to fill; protected by mu
	inFlight int        // requests reserved but not yet completed; protected by mu
	dead     bool       // io_destroy ran; protected by mu
	wake     chan struct{}
}

// aioState is the contexts of a process (Linux keeps them per mm; uk's
// processes do not share memory but with vfork, which ends at once).
type aioState struct {
	mu   sync.Mutex
	ctxs map[uint64]*AIOContext // protected by mu
	// used marks the context indexes (ring->id) taken; every index below
	// lowest is taken. Both protected by mu.
	used   []bool
	lowest int
}

// takeIndex returns the lowest free context index, as Linux's table.
// a.mu must be held.
func (a *aioState) takeIndex() uint32 {
	i := a.lowest
	for i < len(a.used) && a.used[i] {
		i++
	}
	if i == len(a.used) {
		a.used = append(a.used, false)
	}
	a.used[i] = true
	a.lowest = i + 1
	return uint32(i)
}

// freeIndex gives index i back. a.mu must be held.
func (a *aioState) freeIndex(i uint32) {
	a.used[i] = false
	a.lowest = min(a.lowest, int(i))
}

// aioEvents counts the events of a kernel's contexts (aio-nr).
type aioEvents struct {
	mu sync.Mutex
	nr uint32
}

// AIOSetup is io_setup(2) for nrEvents events (the caller has checked
// that it is not 0): a ring mapped in the caller's memory, sized as
// Linux sizes it (twice max(nrEvents, 4 per CPU), two spare, whole
// pages). EINVAL for a ring Linux would not make, EAGAIN past
// aio-max-nr.
func (t *Task) AIOSetup(nrEvents uint32) (uint64, error) {
	n := uint64(max(nrEvents, uint32(runtime.NumCPU())*4)) * 2
	if n > 0x10000000/aioEventSize {
		return 0, unix.EINVAL
	}
	// What counts against aio-max-nr is what was asked for.
	k := t.k
	k.aioNr.mu.Lock()
	if nrEvents > aioMaxEvents || k.aioNr.nr+nrEvents > aioMaxEvents {
		k.aioNr.mu.Unlock()
		return 0, unix.EAGAIN
	}
	k.aioNr.nr += nrEvents
	k.aioNr.mu.Unlock()
	size, _ := arch.PageRoundUp(aioRingHeader + uint64(n+2)*aioEventSize) // small: n is bounded above
	slots := uint32((size - aioRingHeader) / aioEventSize)
	// uk's copy of the ring counts against the sandbox's memory: many
	// small contexts hold far more than aio-max-nr says.
	budget, held := t.MemoryBudget(), int64(slots)*aioEventSize
	if budget != nil && !budget.Charge(held) {
		k.releaseAIOEvents(nrEvents)
		return 0, unix.ENOMEM
	}
	// A fork copies the mapping but not the context (Linux's child has
	// the ring's pages and an empty context table).
	addr, err := t.MM.Mmap(mm.MmapOpts{Length: size, Prot: platform.Read | platform.Write, Name: "/[aio] (deleted)"})
	if err != nil {
		k.releaseAIOEvents(nrEvents)
		if budget != nil {
			budget.Uncharge(held)
		}
		return 0, unix.ENOMEM
	}
	c := &AIOContext{id: addr, size: size, reqs: nrEvents, m: t.MM, ring: make([]AIOEvent, slots), wake: make(chan struct{}),
		budget: budget}
	tg := t.tg
	tg.aio.mu.Lock()
	defer tg.aio.mu.Unlock()
	c.index = tg.aio.takeIndex() // ring->id
	var hdr [aioRingHeader]byte
	le := binary.LittleEndian
	le.PutUint32(hdr[0:], c.index) // id
	le.PutUint32(hdr[4:], slots)   // nr
	le.PutUint32(hdr[16:], aioRingMagic)
	le.PutUint32(hdr[20:], 1) // compat_features
	le.PutUint32(hdr[28:], aioRingHeader)
	if err := t.MM.CopyOut(addr, hdr[:]); err != nil {
		// No memory left for the ring's page.
		tg.aio.freeIndex(c.index)
		c.kill(k)
		t.MM.Munmap(addr, size)
		return 0, unix.ENOMEM
	}
	if tg.aio.ctxs == nil {
		tg.aio.ctxs = map[uint64]*AIOContext{}
	}
	tg.aio.ctxs[addr] = c
	return addr, nil
}

func (k *Kernel) releaseAIOEvents(n uint32) {
	k.aioNr.mu.Lock()
	k.aioNr.nr -= n
	k.aioNr.mu.Unlock()
}

// AIOLookup returns the caller's context id, or EINVAL.
func (t *Task) AIOLookup(id uint64) (*AIOContext, error) {
	t.tg.aio.mu.Lock()
	defer t.tg.aio.mu.Unlock()
	if c := t.tg.aio.ctxs[id]; c != nil {
		return c, nil
	}
	return nil, unix.EINVAL
}

// AIODestroy is io_destroy(2): the context goes, its ring is unmapped
// (wherever it is now, as Linux's vm_munmap of the ring), and waiters in
// io_getevents return.
func (t *Task) AIODestroy(id uint64) error {
	t.tg.aio.mu.Lock()
	c := t.tg.aio.ctxs[id]
	if c != nil {
		delete(t.tg.aio.ctxs, id)
		t.tg.aio.freeIndex(c.index)
	}
	t.tg.aio.mu.Unlock()
	if c == nil {
		return unix.EINVAL
	}
	c.kill(t.k)
	t.MM.Munmap(c.id, c.size)
	return nil
}

// kill marks c dead, wakes its waiters and gives its events back.
func (c *AIOContext) kill(k *Kernel) {
	c.mu.Lock()
	c.dead = true
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
	k.releaseAIOEvents(c.reqs)
	if c.budget != nil {
		c.budget.Uncharge(int64(len(c.ring)) * aioEventSize)
	}
}

// dropAIO ends every context of the process: at execve and at exit, when
// the memory the rings are in goes.
func (tg *ThreadGroup) dropAIO() {
	tg.aio.mu.Lock()
	ctxs := tg.aio.ctxs
	tg.aio.ctxs, tg.aio.used, tg.aio.lowest = nil, nil, 0
	tg.aio.mu.Unlock()
	for _, c := range ctxs {
		c.kill(tg.k)
	}
}

// Slots is the number of events the ring holds.
func (c *AIOContext) Slots() int { return len(c.ring) }

// Reserve claims room for one request's event: EAGAIN when the ring's
// unread events and the requests under way fill all but one slot (Linux's
// reqs_available).
func (c *AIOContext) Reserve() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := uint32(len(c.ring))
	unread := (c.tail + n - c.head) % n
	if c.dead || int(unread)+c.inFlight >= len(c.ring)-1 {
		return unix.EAGAIN
	}
	c.inFlight++
	return nil
}

// Unreserve gives back a reservation whose request failed before it ran.
func (c *AIOContext) Unreserve() {
	c.mu.Lock()
	c.inFlight--
	c.mu.Unlock()
}

// Complete posts the event of a reserved request, in the ring and in its
// mirror, and wakes io_getevents.
func (c *AIOContext) Complete(ev AIOEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
	if c.dead {
		return
	}
	slot := c.tail
	c.ring[slot] = ev
	c.tail = (slot + 1) % uint32(len(c.ring))
	c.m.CopyOut(c.id+aioRingHeader+uint64(slot)*aioEventSize, ev.bytes())
	c.mirrorIndex(12, c.tail)
	close(c.wake)
	c.wake = make(chan struct{})
}

// mirrorIndex writes head (offset 8) or tail (offset 12) into the ring's
// mapping.
func (c *AIOContext) mirrorIndex(off uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	c.m.CopyOut(c.id+off, b[:])
}

func (ev AIOEvent) bytes() []byte {
	var b [aioEventSize]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], ev.Data)
	le.PutUint64(b[8:], ev.Obj)
	le.PutUint64(b[16:], uint64(ev.Res))
	le.PutUint64(b[24:], uint64(ev.Res2))
	return b[:]
}

// peek returns up to max events, oldest first, leaving them in the ring;
// wake is what to wait on for more.
func (c *AIOContext) peek(max int) (evs []AIOEvent, wake <-chan struct{}, dead bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := uint32(len(c.ring))
	for h := c.head; len(evs) < max && h != c.tail; h = (h + 1) % n {
		evs = append(evs, c.ring[h])
	}
	return evs, c.wake, c.dead
}

// consume removes the n oldest events (which peek returned).
func (c *AIOContext) consume(n int) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.head = (c.head + uint32(n)) % uint32(len(c.ring))
	c.mirrorIndex(8, c.head)
}

// copyEvents copies up to n events to addr, oldest first, and takes out
// of the ring those it copied: one that faults stays for the next call,
// as Linux's. One reader copies at a time (Linux's ring_lock).
func (c *AIOContext) copyEvents(t *Task, addr uint64, n int) (copied int, faulted bool, wake <-chan struct{}, dead bool) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	evs, wake, dead := c.peek(n)
	for _, ev := range evs {
		if t.CopyOut(addr+uint64(copied)*aioEventSize, ev.bytes()) != nil {
			faulted = true
			break
		}
		copied++
	}
	c.consume(copied)
	return copied, faulted, wake, dead
}

// AIOGetEvents is io_getevents(2) once its arguments are checked: events
// are copied to addr as they come until there are minNr of them, at most
// maxNr, or the deadline passes (with timeout); it returns how many. A fault with
// nothing copied is EFAULT; a signal before any event, EINTR.
func (t *Task) AIOGetEvents(c *AIOContext, minNr, maxNr int, addr uint64, deadline time.Time, timeout bool) (int, error) {
	got := 0
	for {
		copied, faulted, wake, dead := c.copyEvents(t, addr+uint64(got)*aioEventSize, maxNr-got)
		got += copied
		if faulted {
			if got == 0 {
				return 0, unix.EFAULT
			}
			return got, nil
		}
		if got >= minNr || got == maxNr || dead {
			return got, nil
		}
		var err error
		if timeout {
			err = t.BlockUntil(wake, deadline)
		} else {
			err = t.Block(wake)
		}
		switch err {
		case nil:
		case unix.ETIMEDOUT:
			return got, nil
		default:
			if got > 0 {
				return got, nil
			}
			return 0, unix.EINTR
		}
	}
}
