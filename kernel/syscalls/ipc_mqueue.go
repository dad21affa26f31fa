package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/mqueue"
	"uk/fs/vfs"
	"uk/kernel"
)

// registerMqueue adds POSIX message queues: mq_open, mq_unlink,
// mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr. The queues
// and their filesystem are fs/mqueue; this file reads the arguments and
// checks them in Linux's order (ipc/mqueue.c).
func registerMqueue(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	r(arch.SysMqOpen, "mq_open", sysMqOpen, path, x, oct, x)
	r(arch.SysMqUnlink, "mq_unlink", sysMqUnlink, path)
	r(arch.SysMqTimedsend, "mq_timedsend", sysMqTimedsend, fd, in, i, i, x)
	r(arch.SysMqTimedreceive, "mq_timedreceive", sysMqTimedreceive, fd, out, i, x, x)
	r(arch.SysMqNotify, "mq_notify", sysMqNotify, fd, x)
	r(arch.SysMqGetsetattr, "mq_getsetattr", sysMqGetsetattr, fd, x, x)
}

// mqAttrSize is sizeof(struct mq_attr): mq_flags, mq_maxmsg, mq_msgsize,
// mq_curmsgs and four reserved longs.
const mqAttrSize = 64

// copyMqName reads a queue name as Linux's getname: EFAULT, ENAMETOOLONG
// at PATH_MAX, ENOENT for an empty one.
func copyMqName(t *kernel.Task, addr uint64) (string, error) {
	name, err := copyPath(t, addr)
	if err == nil && name == "" {
		err = unix.ENOENT
	}
	return name, err
}

func sysMqOpen(t *kernel.Task, a [6]uint64) (uint64, error) {
	oflag, mode := uint32(a[1]), uint32(uint16(a[2]))
	var attr *mqueue.Attr
	if a[3] != 0 {
		var b [mqAttrSize]byte
		if err := t.CopyIn(a[3], b[:]); err != nil {
			return 0, err
		}
		attr = &mqueue.Attr{MaxMsg: int64(le64(b[8:])), MsgSize: int64(le64(b[16:]))}
	}
	name, err := copyMqName(t, a[0])
	if err != nil {
		return 0, err
	}
	// Linux reserves the descriptor first: EMFILE before anything else.
	if uint64(t.Files.Count()) >= t.NoFileLimit() {
		return 0, unix.EMFILE
	}
	d, err := t.IPCNamespace().Mqueue().Open(t, name, oflag, mode, attr)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	// Linux's do_mq_open gets its descriptor with O_CLOEXEC, whatever
	// oflag says: message queue descriptors never survive an exec.
	n, err := t.Files.Install(d, 0, true, t.NoFileLimit())
	return uint64(n), err
}

func sysMqUnlink(t *kernel.Task, a [6]uint64) (uint64, error) {
	name, err := copyMqName(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.IPCNamespace().Mqueue().Unlink(t, name)
}

// mqDeadline reads mq_timedsend's and mq_timedreceive's absolute
// CLOCK_REALTIME timeout (0: none): EFAULT, EINVAL for a bad timespec
// (Linux's prepare_timeout checks it before anything else, whether the
// call would block or not). The zero time means no timeout.
func mqDeadline(t *kernel.Task, addr uint64) (time.Time, error) {
	if addr == 0 {
		return time.Time{}, nil
	}
	abs, err := getTimespec(t, addr)
	if err != nil {
		return time.Time{}, err
	}
	now, _ := t.Kernel().ClockNow(unix.CLOCK_REALTIME, t)
	// A deadline as a host time: the wait follows the host's clock
	// from now on, as futex waits on CLOCK_REALTIME do in uk.
	const far = 100 * 365 * 24 * time.Hour
	d := time.Duration(min(max(abs-now, -1), int64(far)))
	return time.Now().Add(d), nil
}

// mqFile returns the queue at descriptor n with a reference on its
// description: EBADF when n is not open or not a queue.
func mqFile(t *kernel.Task, n int32) (*vfs.FileDescription, *mqueue.Queue, error) {
	d, _, err := t.Files.Get(n)
	if err != nil {
		return nil, nil, err
	}
	q := mqueue.Of(d)
	if q == nil {
		d.DecRef()
		return nil, nil, unix.EBADF
	}
	return d, q, nil
}

func sysMqTimedsend(t *kernel.Task, a [6]uint64) (uint64, error) {
	deadline, err := mqDeadline(t, a[4])
	if err != nil {
		return 0, err
	}
	prio := uint32(a[3])
	if prio >= mqueue.PrioMax {
		return 0, unix.EINVAL
	}
	d, q, err := mqFile(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	from := mqueue.Sender{PID: t.PID(), UID: t.Credentials().UID}
	return 0, q.Send(t, d, a[1], a[2], prio, deadline, from)
}

func sysMqTimedreceive(t *kernel.Task, a [6]uint64) (uint64, error) {
	deadline, err := mqDeadline(t, a[4])
	if err != nil {
		return 0, err
	}
	d, q, err := mqFile(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := q.Receive(t, d, a[1], a[2], a[3], deadline)
	return uint64(n), err
}

func sysMqGetsetattr(t *kernel.Task, a [6]uint64) (uint64, error) {
	var nw *[mqAttrSize]byte
	if a[1] != 0 {
		nw = new([mqAttrSize]byte)
		if err := t.CopyIn(a[1], nw[:]); err != nil {
			return 0, err
		}
		if le64(nw[0:])&^unix.O_NONBLOCK != 0 {
			return 0, unix.EINVAL
		}
	}
	d, q, err := mqFile(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	maxmsg, msgsize, cur := q.Status()
	old := words(uint64(d.StatusFlags()&unix.O_NONBLOCK), uint64(maxmsg), uint64(msgsize), uint64(cur), 0, 0, 0, 0)
	if nw != nil {
		q.SetFlags(d, le64(nw[0:])&unix.O_NONBLOCK != 0)
	}
	if a[2] != 0 {
		return 0, t.CopyOut(a[2], old)
	}
	return 0, nil
}

func sysMqNotify(t *kernel.Task, a [6]uint64) (uint64, error) {
	var n *mqueue.Notification
	if a[1] != 0 {
		// struct sigevent: sigev_value (8), sigev_signo (4),
		// sigev_notify (4), then the union up to 64 bytes.
		var b [64]byte
		if err := t.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		value := binary.LittleEndian.Uint64(b[0:])
		signo := int32(binary.LittleEndian.Uint32(b[8:]))
		kind := int32(binary.LittleEndian.Uint32(b[12:]))
		var err error
		if n, err = mqNotification(t, kind, signo, value); err != nil {
			return 0, err
		}
	}
	// A registration that fails sends nothing to a SIGEV_THREAD socket:
	// glibc frees the cookie's thread attributes itself then.
	d, q, err := mqFile(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if n == nil {
		q.Unnotify(t.ThreadGroup())
		return 0, nil
	}
	return 0, q.Notify(n)
}

// mqNotification checks a sigevent as Linux's do_mq_notify and makes the
// registration of the calling process: EINVAL for an unknown
// sigev_notify or an invalid signal (0 is valid: it registers and sends
// nothing), SIGEV_THREAD's errors (mqThreadNotification).
func mqNotification(t *kernel.Task, kind, signo int32, value uint64) (*mqueue.Notification, error) {
	tg := t.ThreadGroup()
	n := &mqueue.Notification{Owner: tg, PID: tg.PID(), Kind: kind, Signo: signo,
		Alive: func() bool { return !tg.Exited() }}
	switch kind {
	case mqueue.SigevNone:
	case mqueue.SigevSignal:
		if signo < 0 || signo > arch.NSIG {
			return nil, unix.EINVAL
		}
		if signo == 0 {
			break
		}
		n.Fire = func(from mqueue.Sender) {
			tg.SendSignal(&arch.SignalInfo{Signo: signo, Code: arch.SI_MESGQ, Pid: from.PID, Uid: from.UID, Value: value}, nil)
		}
	case mqueue.SigevThread:
		return mqThreadNotification(t, n, signo, value)
	default:
		return nil, unix.EINVAL
	}
	return n, nil
}

// mqFlush is what close(2) of a queue's descriptor does besides dropping
// it (Linux's mqueue_flush_file, run at every close): the closing
// process's notification registration on the queue goes. (uk runs it for
// close(2) alone; a process's exit drops its registrations too, as its
// registration checks that it is alive.)
func mqFlush(t *kernel.Task, d *vfs.FileDescription) {
	if q := mqueue.Of(d); q != nil {
		q.Unnotify(t.ThreadGroup())
	}
}
