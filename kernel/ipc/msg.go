package ipc

import (
	"container/list"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// What a message queue and a message cost the sandbox's memory budget
// besides the message's bytes (Linux's struct msg_queue, msg_msg).
const (
	msgQueueCost = 256
	msgCost      = 48
)

// capSysResource is CAP_SYS_RESOURCE, which lets IPC_SET raise a queue's
// capacity above MSGMNB.
const capSysResource = 24

// Message is one message: its type (at least 1) and its bytes.
type Message struct {
	Type int64
	Text []byte
}

// cost is what m costs the budget while the namespace holds it.
func (m *Message) cost() int64 { return msgCost + int64(len(m.Text)) }

// msgQueue is a message queue (Linux's struct msg_queue). Every field is
// protected by Namespace.mu.
type msgQueue struct {
	object
	stime, rtime, ctime int64
	cbytes              uint64 // bytes of the queued messages
	qbytes              uint64 // capacity in bytes; also the most messages
	lspid, lrpid        int32
	messages            list.List // of *Message, oldest first
	receivers           []*msgReceiver
	senders             []*msgSender
}

// msgReceiver is a msgrcv sleeping for a message (struct msg_receiver).
type msgReceiver struct {
	typ     int64
	mode    int
	maxSize int64
	pid     int32
	// msg or err, with done, are set by whoever hands it a message or
	// fails it (E2BIG, EIDRM); wake is signalled then, and also to make
	// it look again (IPC_SET).
	msg  *Message
	err  error
	done bool
	wake chan struct{}
}

// msgSender is a msgsnd sleeping for room (struct msg_sender).
type msgSender struct {
	size uint64
	wake chan struct{}
}

// poke wakes a sleeper without blocking: a wake-up pending is as good as
// two.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// msgRegistry is a namespace's message queues (Linux's msg_ids). Every
// field is protected by Namespace.mu.
type msgRegistry struct {
	ids   idTable[*msgQueue]
	bytes uint64 // bytes queued in all queues (MSG_INFO's msgtql)
	hdrs  uint64 // messages queued in all queues (msgmap)
}

func (r *msgRegistry) init() { r.ids.init() }

// MsgGet is msgget(2): the id of key's queue, creating one as flags
// (IPCCreat, IPCExcl, permission bits) say. IPCPrivate always creates a
// queue.
func (ns *Namespace) MsgGet(c Caller, key int32, flags int32) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.msg
	if key != IPCPrivate {
		if id, found, err := r.ids.getKey(c, key, flags, nil); found {
			return id, err
		}
	}
	if !ns.charger().Charge(msgQueueCost) {
		return 0, unix.ENOMEM
	}
	if r.ids.inUse() >= MSGMNI {
		ns.charger().Uncharge(msgQueueCost)
		return 0, unix.ENOSPC
	}
	q := &msgQueue{object: object{perm: newPerm(c, key, flags)}, ctime: now(), qbytes: MSGMNB}
	r.ids.add(q)
	return q.id, nil
}

// ChargeMessage charges a message of n bytes to ns's budget before the
// caller reads it in (Linux allocates it in load_msg, before looking at
// the queue): false when the budget cannot hold it (ENOMEM). A message
// MsgSend does not take must be given back with UnchargeMessage.
func (ns *Namespace) ChargeMessage(n int) bool { return ns.charger().Charge(msgCost + int64(n)) }

// UnchargeMessage gives back what ChargeMessage took.
func (ns *Namespace) UnchargeMessage(n int) { ns.charger().Uncharge(msgCost + int64(n)) }

// zeroTime is the deadline of a sleep without one.
var zeroTime time.Time

// fits is msg_fits_inqueue: a message of size bytes fits in q's bytes,
// and one more message in its count (which qbytes also bounds).
func (q *msgQueue) fits(size uint64) bool {
	return size+q.cbytes <= q.qbytes && 1+uint64(q.messages.Len()) <= q.qbytes
}

// MsgSend is msgsnd(2) once the message is read and charged
// (ChargeMessage): the caller checked its size and type. It needs write
// permission; when the queue is full it fails with EAGAIN under
// IPCNoWait, else sleeps until there is room (the queue removed: EIDRM;
// a signal: ERESTARTNOHAND, which a handler turns into EINTR). On
// success the namespace owns m and its charge; on failure the caller
// uncharges it.
func (ns *Namespace) MsgSend(c Caller, id int32, m *Message, flags int32) error {
	if id < 0 {
		return unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.msg.ids.find(id)
	if !ok {
		return unix.EINVAL
	}
	size := uint64(len(m.Text))
	for {
		if !q.perm.allows(c.Creds, MayWrite) {
			return unix.EACCES
		}
		if q.gone {
			return unix.EIDRM
		}
		if q.fits(size) {
			break
		}
		if flags&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		s := &msgSender{size: size, wake: make(chan struct{}, 1)}
		q.senders = append(q.senders, s)
		ns.mu.Unlock()
		werr := c.Block(s.wake, zeroTime)
		ns.mu.Lock()
		if q.gone {
			return unix.EIDRM
		}
		q.dropSender(s)
		if werr != nil {
			return arch.ERESTARTNOHAND
		}
	}
	q.lspid = c.PID
	q.stime = now()
	if q.pipelinedSend(m) {
		// Handed straight to a sleeping receiver, which uncharges it.
		return nil
	}
	q.messages.PushBack(m)
	q.cbytes += size
	ns.msg.bytes += size
	ns.msg.hdrs++
	return nil
}

func (q *msgQueue) dropSender(s *msgSender) {
	for i, o := range q.senders {
		if o == s {
			q.senders = append(q.senders[:i], q.senders[i+1:]...)
			return
		}
	}
}

// pipelinedSend hands m to the first sleeping receiver that wants it
// (pipelined_send); receivers it suits whose buffers are too small fail
// with E2BIG on the way.
func (q *msgQueue) pipelinedSend(m *Message) bool {
	for i := 0; i < len(q.receivers); {
		r := q.receivers[i]
		if !matches(m, r.typ, r.mode) {
			i++
			continue
		}
		q.receivers = append(q.receivers[:i], q.receivers[i+1:]...)
		r.done = true
		if r.maxSize < int64(len(m.Text)) {
			r.err = unix.E2BIG
			poke(r.wake)
			continue
		}
		q.lrpid = r.pid
		q.rtime = now()
		r.msg = m
		poke(r.wake)
		return true
	}
	return false
}

// wakeSenders is ss_wakeup: every sleeping sender whose message fits now
// is woken to try again; the others go to the back of the line.
func (q *msgQueue) wakeSenders() {
	var woken, later []*msgSender
	for _, s := range q.senders {
		if q.fits(s.size) {
			poke(s.wake)
			woken = append(woken, s)
		} else {
			later = append(later, s)
		}
	}
	q.senders = append(woken, later...)
}

// Search modes of msgrcv (convert_mode).
const (
	searchAny = iota
	searchEqual
	searchNotEqual
	searchLessEqual
	searchNumber
)

// matches is testmsg: whether m is what a receiver of typ in mode wants.
func matches(m *Message, typ int64, mode int) bool {
	switch mode {
	case searchAny, searchNumber:
		return true
	case searchLessEqual:
		return m.Type <= typ
	case searchEqual:
		return m.Type == typ
	default: // searchNotEqual
		return m.Type != typ
	}
}

// searchMode is convert_mode: how msgrcv's msgtyp and flags choose a
// message, and the type to compare with.
func searchMode(typ int64, flags int32) (int, int64) {
	switch {
	case flags&MsgCopy != 0:
		return searchNumber, typ
	case typ == 0:
		return searchAny, typ
	case typ < 0:
		if typ == math.MinInt64 {
			return searchLessEqual, math.MaxInt64
		}
		return searchLessEqual, -typ
	case flags&MsgExcept != 0:
		return searchNotEqual, typ
	}
	return searchEqual, typ
}

// find is find_msg: the first message that matches, or with
// searchLessEqual the first of the lowest type, or with searchNumber the
// one at index typ.
func (q *msgQueue) find(typ int64, mode int) *list.Element {
	var found *list.Element
	var count int64
	for e := q.messages.Front(); e != nil; e = e.Next() {
		m := e.Value.(*Message)
		if !matches(m, typ, mode) {
			continue
		}
		switch {
		case mode == searchLessEqual && m.Type != 1:
			typ = m.Type - 1
			found = e
		case mode == searchNumber:
			if typ == count {
				return e
			}
		default:
			return e
		}
		count++
	}
	return found
}

// MsgReceive is msgrcv(2) after the caller's checks of the arguments
// (and, with MsgCopy, of IPCNoWait, MsgExcept and the buffer): it takes
// the message typ and flags choose (see searchMode), or with MsgCopy
// copies the one at index typ and leaves it. A message longer than
// bufSize is E2BIG unless MsgNoError, which cuts it (the caller copies
// out at most bufSize bytes). Without a message it fails with ENOMSG
// under IPCNoWait, else sleeps for one (the queue removed: EIDRM; a
// signal: ERESTARTNOHAND). It needs read permission.
func (ns *Namespace) MsgReceive(c Caller, id int32, bufSize int64, typ int64, flags int32) (*Message, error) {
	if id < 0 || bufSize < 0 {
		return nil, unix.EINVAL
	}
	mode, typ := searchMode(typ, flags)
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.msg.ids.find(id)
	if !ok {
		return nil, unix.EINVAL
	}
	for {
		if !q.perm.allows(c.Creds, MayRead) {
			return nil, unix.EACCES
		}
		if q.gone {
			return nil, unix.EIDRM
		}
		if e := q.find(typ, mode); e != nil {
			m := e.Value.(*Message)
			if bufSize < int64(len(m.Text)) && flags&MsgNoError == 0 {
				return nil, unix.E2BIG
			}
			if flags&MsgCopy != 0 {
				// copy_msg: the copy's room is the buffer, at most
				// MSGMAX.
				if int64(len(m.Text)) > min(bufSize, MSGMAX) {
					return nil, unix.EINVAL
				}
				return &Message{Type: m.Type, Text: append([]byte(nil), m.Text...)}, nil
			}
			q.messages.Remove(e)
			q.rtime = now()
			q.lrpid = c.PID
			q.cbytes -= uint64(len(m.Text))
			ns.msg.bytes -= uint64(len(m.Text))
			ns.msg.hdrs--
			q.wakeSenders()
			ns.charger().Uncharge(m.cost())
			return m, nil
		}
		if flags&IPCNoWait != 0 {
			return nil, unix.ENOMSG
		}
		r := &msgReceiver{typ: typ, mode: mode, maxSize: bufSize, pid: c.PID, wake: make(chan struct{}, 1)}
		if flags&MsgNoError != 0 {
			r.maxSize = math.MaxInt32
		}
		q.receivers = append(q.receivers, r)
		ns.mu.Unlock()
		werr := c.Block(r.wake, zeroTime)
		ns.mu.Lock()
		if r.done {
			if r.msg != nil {
				ns.charger().Uncharge(r.msg.cost())
				return r.msg, nil
			}
			return nil, r.err
		}
		q.dropReceiver(r)
		if werr != nil {
			return nil, arch.ERESTARTNOHAND
		}
	}
}

func (q *msgQueue) dropReceiver(r *msgReceiver) {
	for i, o := range q.receivers {
		if o == r {
			q.receivers = append(q.receivers[:i], q.receivers[i+1:]...)
			return
		}
	}
}

// MsgStat is msgctl's IPC_STAT, MSG_STAT and MSG_STAT_ANY. IPC_STAT takes
// an id and returns 0; the other two take an index and return the id.
// All but MSG_STAT_ANY need read permission.
func (ns *Namespace) MsgStat(c Caller, id int32, cmd int) (MsqidDS, int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var q *msgQueue
	var ok bool
	if cmd == IPCStat {
		q, ok = ns.msg.ids.find(id)
	} else {
		q, ok = ns.msg.ids.atIndex(id)
	}
	if !ok {
		return MsqidDS{}, 0, unix.EINVAL
	}
	if cmd != MsgStatAny && !q.perm.allows(c.Creds, MayRead) {
		return MsqidDS{}, 0, unix.EACCES
	}
	ds := q.statLocked()
	if cmd == IPCStat {
		return ds, 0, nil
	}
	return ds, q.id, nil
}

func (q *msgQueue) statLocked() MsqidDS {
	return MsqidDS{Perm: q.perm, Stime: q.stime, Rtime: q.rtime, Ctime: q.ctime,
		Cbytes: q.cbytes, Qnum: uint64(q.messages.Len()), Qbytes: q.qbytes, LSPID: q.lspid, LRPID: q.lrpid}
}

// MsgInfo is msgctl's IPC_INFO (usage false) and MSG_INFO (true): the
// limits, with MSG_INFO's counts of queues, messages and bytes in
// msgpool, msgmap and msgtql, and the highest index in use.
func (ns *Namespace) MsgInfo(usage bool) (Msginfo, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.msg
	i := Msginfo{Msgmni: MSGMNI, Msgmax: MSGMAX, Msgmnb: MSGMNB, Msgssz: MSGSSZ, Msgseg: MSGSEG,
		Msgmap: MSGMAP, Msgpool: MSGPOOL, Msgtql: MSGTQL}
	if usage {
		i.Msgpool = int32(r.ids.inUse())
		i.Msgmap = int32(min(r.hdrs, math.MaxInt32))
		i.Msgtql = int32(min(r.bytes, math.MaxInt32))
	}
	return i, r.ids.maxIdxOrZero()
}

// MsgSet is msgctl's IPC_SET: the owner, the creator or a privileged
// caller gives the queue a new owner, mode bits and capacity (above
// MSGMNB only with CAP_SYS_RESOURCE). Sleeping receivers look again
// (they may have lost the right to read), sleeping senders too (there
// may be room now).
func (ns *Namespace) MsgSet(c Caller, id int32, req MsgSetRequest) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.msg.ids.find(id)
	if !ok {
		return unix.EINVAL
	}
	if !q.perm.mayChange(c.Creds) {
		return unix.EPERM
	}
	if req.Qbytes > MSGMNB && !hasCap(c.Creds, capSysResource) {
		return unix.EPERM
	}
	if err := setPerm(&q.perm, req.SetRequest); err != nil {
		return err
	}
	q.qbytes = req.Qbytes
	q.ctime = now()
	for _, r := range q.receivers {
		poke(r.wake)
	}
	q.wakeSenders()
	return nil
}

func hasCap(c *vfs.Credentials, cp uint) bool { return c.Effective&(1<<cp) != 0 }

// MsgRemove is msgctl's IPC_RMID (freeque): the queue goes at once with
// its messages, and every task sleeping on it wakes with EIDRM.
func (ns *Namespace) MsgRemove(c Caller, id int32) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.msg
	q, ok := r.ids.find(id)
	if !ok {
		return unix.EINVAL
	}
	if !q.perm.mayChange(c.Creds) {
		return unix.EPERM
	}
	r.ids.remove(q) // marks it gone: woken senders see that
	for _, rc := range q.receivers {
		rc.done, rc.err = true, unix.EIDRM
		poke(rc.wake)
	}
	q.receivers = nil
	for _, s := range q.senders {
		poke(s.wake)
	}
	q.senders = nil
	budget := ns.charger()
	for e := q.messages.Front(); e != nil; e = e.Next() {
		m := e.Value.(*Message)
		r.bytes -= uint64(len(m.Text))
		r.hdrs--
		budget.Uncharge(m.cost())
	}
	q.messages.Init()
	q.cbytes = 0
	budget.Uncharge(msgQueueCost)
	return nil
}

// MsgQueueInfo is one line of /proc/sysvipc/msg.
type MsgQueueInfo struct {
	ID int32
	MsqidDS
}

// MsgQueues lists the namespace's queues by index, as /proc/sysvipc/msg
// does (without permission checks).
func (ns *Namespace) MsgQueues() []MsgQueueInfo {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var out []MsgQueueInfo
	for _, q := range ns.msg.ids.ordered() {
		out = append(out, MsgQueueInfo{ID: q.id, MsqidDS: q.statLocked()})
	}
	return out
}
