package mqueue

import (
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// msgCost is what a queued message costs the memory budget besides its
// bytes (its header and its place in the lists).
const msgCost = 64

// Queue is one message queue: a file of the mqueue filesystem (it
// implements vfs.Inode) holding messages by priority.
//
// It lives while it has a name or an open description: the last of
// those to go frees its messages and gives back their charges.
type Queue struct {
	fs   *FS
	name string
	ino  uint64
	seq  int64 // directory offset
	attr Attr  // fixed at creation

	creator   uint32      // real uid charged rlimBytes of RLIMIT_MSGQUEUE
	rlimBytes uint64      // see rlimitBytes
	budget    vfs.Charger // charged queueCost

	// linked and opens say whether the queue is still reachable;
	// protected by fs.mu.
	linked bool
	opens  int

	mu                  sync.Mutex
	mode, uid, gid      uint32        // protected by mu
	atime, mtime, ctime unix.Timespec // protected by mu
	levels              []*level      // by descending priority; protected by mu
	curmsgs             int64         // protected by mu
	qsize               uint64        // bytes of the queued messages; protected by mu
	senders, receivers  []*waiter     // FIFO; protected by mu
	notify              *Notification // protected by mu
	// poll hears EventIn when a message is queued and EventOut when one
	// is taken (Linux's info->wait_q).
	poll vfs.Queue
}

var _ vfs.Inode = (*Queue)(nil)

// message is one queued message, charged to the budget of its sender.
type message struct {
	prio   uint32
	data   []byte
	budget vfs.Charger
}

// free gives the message's charge back.
func (m *message) free() { m.budget.Uncharge(int64(len(m.data)) + msgCost) }

// level holds the messages of one priority, oldest first from head.
type level struct {
	prio uint32
	msgs []*message
	head int
}

// waiter is a sender waiting for room or a receiver waiting for a
// message. A partner hands over directly (Linux's pipelined_send and
// pipelined_receive): it sets ready, with msg the receiver's message, and
// calls wake, all under the queue's lock.
type waiter struct {
	msg   *message
	ready bool
	wake  func()
}

// Attr returns the queue's attributes.
func (q *Queue) Attr() Attr { return q.attr }

// Stat implements vfs.Inode: a regular file of size 80, as Linux's.
func (q *Queue) Stat(vfs.Context) (vfs.Stat, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return vfs.Stat{Mask: unix.STATX_BASIC_STATS, Ino: q.ino, Mode: q.mode, Nlink: 1, UID: q.uid, GID: q.gid,
		Size: filentSize, Blksize: 4096, Atime: q.atime, Mtime: q.mtime, Ctime: q.ctime}, nil
}

// SetStat implements vfs.Inode (chmod, chown, utimes through a mount).
func (q *Queue) SetStat(_ vfs.Context, req vfs.SetStat) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	setStat(req, &q.mode, &q.uid, &q.gid, &q.atime, &q.mtime, &q.ctime)
	return nil
}

// Open implements vfs.Inode: open(2) of a queue in a mounted mqueue
// filesystem gives the same kind of description mq_open does.
func (q *Queue) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	q.fs.mu.Lock()
	q.opened()
	q.fs.mu.Unlock()
	return &File{q: q}, FileOptions, nil
}

// opened counts a new description. Preconditions: fs.mu held.
func (q *Queue) opened() { q.opens++ }

// unlinked records the loss of the queue's name. Preconditions: fs.mu
// held.
func (q *Queue) unlinked() {
	q.linked = false
	q.freeIfGoneLocked()
}

// closed records the release of a description.
func (q *Queue) closed() {
	q.fs.mu.Lock()
	q.opens--
	q.freeIfGoneLocked()
	q.fs.mu.Unlock()
}

// freeIfGoneLocked frees the queue once it has neither a name nor an
// open description (Linux's mqueue_evict_inode): its messages and their
// charges, its registration, its place in the namespace. Preconditions:
// fs.mu held.
func (q *Queue) freeIfGoneLocked() {
	if q.linked || q.opens > 0 {
		return
	}
	q.fs.freeLocked(q)
	q.mu.Lock()
	for _, l := range q.levels {
		for _, m := range l.msgs[l.head:] {
			m.free()
		}
	}
	q.levels, q.curmsgs, q.qsize = nil, 0, 0
	q.notify = nil
	q.mu.Unlock()
	q.budget.Uncharge(queueCost)
}

// touchLocked records an access and a change now (Linux's
// simple_inode_init_ts after a send or receive). Preconditions: q.mu held.
func (q *Queue) touchLocked() {
	now := nowTS()
	q.atime, q.mtime, q.ctime = now, now, now
}

// insertLocked queues m behind the messages of its priority.
// Preconditions: q.mu held.
func (q *Queue) insertLocked(m *message) {
	i := sort.Search(len(q.levels), func(i int) bool { return q.levels[i].prio <= m.prio })
	if i == len(q.levels) || q.levels[i].prio != m.prio {
		q.levels = append(q.levels, nil)
		copy(q.levels[i+1:], q.levels[i:])
		q.levels[i] = &level{prio: m.prio}
	}
	l := q.levels[i]
	l.msgs = append(l.msgs, m)
	q.curmsgs++
	q.qsize += uint64(len(m.data))
}

// takeLocked removes the oldest message of the highest priority.
// Preconditions: q.mu held, the queue is not empty.
func (q *Queue) takeLocked() *message {
	l := q.levels[0]
	m := l.msgs[l.head]
	l.msgs[l.head] = nil
	l.head++
	switch {
	case l.head == len(l.msgs):
		q.levels = q.levels[1:]
	case l.head > 32 && l.head*2 > len(l.msgs):
		l.msgs = append([]*message(nil), l.msgs[l.head:]...)
		l.head = 0
	}
	q.curmsgs--
	q.qsize -= uint64(len(m.data))
	return m
}

// waitLocked sleeps until a partner hands over to w (nil), the deadline
// passes (ETIMEDOUT; the zero time: none) or a signal comes (ctx.Block's
// error), as Linux's wq_sleep: a handover that came first wins. w joins
// list while it waits. Preconditions: q.mu held (released while asleep).
func (q *Queue) waitLocked(ctx vfs.Context, list *[]*waiter, w *waiter, deadline time.Time) error {
	b := vfs.NewBlocker(0)
	defer b.Done()
	vw := b.NewWaiter(0)
	w.wake = func() { vw.Callback(0) }
	b.SetDeadline(deadline)
	*list = append(*list, w)
	for {
		err := b.Sleep(ctx, &q.mu)
		if w.ready {
			return nil
		}
		if err != nil {
			for i, o := range *list {
				if o == w {
					*list = append((*list)[:i], (*list)[i+1:]...)
					break
				}
			}
			return err
		}
	}
}

// firstLocked takes the longest waiting waiter off list (nil: none).
// Preconditions: q.mu held.
func firstLocked(list *[]*waiter) *waiter {
	if len(*list) == 0 {
		return nil
	}
	w := (*list)[0]
	(*list)[0] = nil
	*list = (*list)[1:]
	return w
}

// Send is mq_timedsend(2) after its argument checks (priority below
// PrioMax, a valid timeout): EBADF unless fd is open for writing,
// EMSGSIZE for a message longer than mq_msgsize, ENOMEM when the memory
// budget cannot hold it, EFAULT; then, on a full queue, EAGAIN with
// O_NONBLOCK, else a wait for room until deadline (see waitLocked). A
// receiver already waiting takes the message directly; otherwise it is
// queued and, if the queue was empty, the registered notification fires
// and is removed.
func (q *Queue) Send(ctx vfs.Context, fd *vfs.FileDescription, addr, n uint64, prio uint32, deadline time.Time, from Sender) error {
	if !fd.Writable() {
		return unix.EBADF
	}
	if n > uint64(q.attr.MsgSize) {
		return unix.EMSGSIZE
	}
	budget := vfs.ChargerOf(ctx)
	if !budget.Charge(int64(n) + msgCost) {
		return unix.ENOMEM
	}
	m := &message{prio: prio, data: make([]byte, n), budget: budget}
	if err := ctx.CopyIn(addr, m.data); err != nil {
		m.free()
		return unix.EFAULT
	}
	q.mu.Lock()
	if q.curmsgs >= q.attr.MaxMsg {
		if fd.NonBlocking() {
			q.mu.Unlock()
			m.free()
			return unix.EAGAIN
		}
		err := q.waitLocked(ctx, &q.senders, &waiter{msg: m}, deadline)
		q.mu.Unlock()
		if err != nil {
			m.free()
		}
		return err
	}
	var fire *Notification
	if r := firstLocked(&q.receivers); r != nil {
		r.msg, r.ready = m, true
		r.wake()
	} else {
		q.insertLocked(m)
		if q.curmsgs == 1 {
			fire = q.takeNotificationLocked()
		}
	}
	q.touchLocked()
	q.mu.Unlock()
	q.poll.Notify(vfs.EventIn | vfs.EventRdNorm)
	if fire != nil && fire.Fire != nil {
		fire.Fire(from)
	}
	return nil
}

// Receive is mq_timedreceive(2) after its timeout check: EBADF unless fd
// is open for reading, EMSGSIZE for a buffer shorter than mq_msgsize;
// then, on an empty queue, EAGAIN with O_NONBLOCK, else a wait for a
// message until deadline (see waitLocked). Taking a message from a full
// queue lets the longest waiting sender's message in. The message is
// copied to addr and its priority to prioAddr (if not 0); a fault there
// is EFAULT and the message is lost, as on Linux. It returns the
// message's length.
func (q *Queue) Receive(ctx vfs.Context, fd *vfs.FileDescription, addr, n, prioAddr uint64, deadline time.Time) (int, error) {
	if !fd.Readable() {
		return 0, unix.EBADF
	}
	if n < uint64(q.attr.MsgSize) {
		return 0, unix.EMSGSIZE
	}
	q.mu.Lock()
	var m *message
	if q.curmsgs == 0 {
		if fd.NonBlocking() {
			q.mu.Unlock()
			return 0, unix.EAGAIN
		}
		w := &waiter{}
		if err := q.waitLocked(ctx, &q.receivers, w, deadline); err != nil {
			q.mu.Unlock()
			return 0, err
		}
		m = w.msg
		q.mu.Unlock()
	} else {
		m = q.takeLocked()
		q.touchLocked()
		if s := firstLocked(&q.senders); s != nil {
			q.insertLocked(s.msg)
			s.ready = true
			s.wake()
		}
		q.mu.Unlock()
		q.poll.Notify(vfs.EventOut | vfs.EventWrNorm)
	}
	defer m.free()
	if prioAddr != 0 {
		var b [4]byte
		b[0], b[1], b[2], b[3] = byte(m.prio), byte(m.prio>>8), byte(m.prio>>16), byte(m.prio>>24)
		if err := ctx.CopyOut(prioAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	if err := ctx.CopyOut(addr, m.data); err != nil {
		return 0, unix.EFAULT
	}
	return len(m.data), nil
}

// Status returns mq_getsetattr's view: mq_maxmsg, mq_msgsize and
// mq_curmsgs.
func (q *Queue) Status() (maxmsg, msgsize, curmsgs int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.attr.MaxMsg, q.attr.MsgSize, q.curmsgs
}

// SetFlags is mq_getsetattr's change: O_NONBLOCK of fd set or cleared
// (the only flag it changes), and the queue's access and change times.
func (q *Queue) SetFlags(fd *vfs.FileDescription, nonblock bool) {
	f := fd.StatusFlags() &^ unix.O_NONBLOCK
	if nonblock {
		f |= unix.O_NONBLOCK
	}
	fd.SetStatusFlags(f)
	q.mu.Lock()
	now := nowTS()
	q.atime, q.ctime = now, now
	q.mu.Unlock()
}

// readiness is Linux's mqueue_poll_file: IN while it holds a message, OUT
// while it has room, whatever the description's access mode.
func (q *Queue) readiness() vfs.EventMask {
	q.mu.Lock()
	defer q.mu.Unlock()
	var m vfs.EventMask
	if q.curmsgs > 0 {
		m |= vfs.EventIn | vfs.EventRdNorm
	}
	if q.curmsgs < q.attr.MaxMsg {
		m |= vfs.EventOut | vfs.EventWrNorm
	}
	return m
}
