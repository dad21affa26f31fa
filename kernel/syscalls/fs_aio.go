package syscalls

import (
	"encoding/binary"
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/eventfd"
	"uk/kernel"
)

// Opcodes and flags of struct iocb.
const (
	iocbCmdPread   = 0
	iocbCmdPwrite  = 1
	iocbCmdFsync   = 2
	iocbCmdFdsync  = 3
	iocbCmdPreadv  = 7
	iocbCmdPwritev = 8

	iocbFlagResfd = 1

	iocbSize = 64
)

// iocb is struct iocb.
type iocb struct {
	data      uint64
	rwFlags   uint32
	opcode    uint16
	fildes    int32
	buf       uint64
	nbytes    uint64
	offset    int64
	reserved2 uint64
	flags     uint32
	resfd     int32
}

func parseIocb(b []byte) iocb {
	le := binary.LittleEndian
	return iocb{data: le.Uint64(b[0:]), rwFlags: le.Uint32(b[12:]), opcode: le.Uint16(b[16:]),
		fildes: int32(le.Uint32(b[20:])), buf: le.Uint64(b[24:]), nbytes: le.Uint64(b[32:]),
		offset: int64(le.Uint64(b[40:])), reserved2: le.Uint64(b[48:]), flags: le.Uint32(b[56:]),
		resfd: int32(le.Uint32(b[60:]))}
}

// sysIoSetup is io_setup(2): *ctxp must be 0 and nr_events not (EINVAL).
func sysIoSetup(t *kernel.Task, a [6]uint64) (uint64, error) {
	cur, err := getUint64(t, a[1])
	if err != nil {
		return 0, unix.EFAULT
	}
	if cur != 0 || uint32(a[0]) == 0 {
		return 0, unix.EINVAL
	}
	id, err := t.AIOSetup(uint32(a[0]))
	if err != nil {
		return 0, err
	}
	if err := putUint64(t, a[1], id); err != nil {
		t.AIODestroy(id)
		return 0, unix.EFAULT
	}
	return 0, nil
}

func sysIoDestroy(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.AIODestroy(a[0])
}

// sysIoSubmit is io_submit(2): requests are taken in order until one
// fails; the number taken, or the first one's error.
func sysIoSubmit(t *kernel.Task, a [6]uint64) (uint64, error) {
	nr := int64(a[1])
	if nr < 0 {
		return 0, unix.EINVAL
	}
	c, err := t.AIOLookup(a[0])
	if err != nil {
		return 0, err
	}
	nr = min(nr, int64(c.Slots()))
	var i int64
	for ; i < nr; i++ {
		p, gerr := getUint64(t, a[2]+uint64(i)*8)
		if gerr != nil {
			err = unix.EFAULT
			break
		}
		if err = submitIocb(t, c, p); err != nil {
			break
		}
	}
	if i > 0 {
		return uint64(i), nil
	}
	return 0, err
}

// submitIocb checks and runs the request at addr, in Linux's order: the
// iocb itself (EFAULT, EINVAL), room in the ring (EAGAIN), the file
// (EBADF), the eventfd, the opcode and the file's mode. What the
// operation itself returns (a byte count or an error) goes in its event.
func submitIocb(t *kernel.Task, c *kernel.AIOContext, addr uint64) error {
	var b [iocbSize]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return unix.EFAULT
	}
	cb := parseIocb(b[:])
	if cb.reserved2 != 0 || int64(cb.nbytes) < 0 {
		return unix.EINVAL
	}
	if err := c.Reserve(); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			c.Unreserve()
		}
	}()
	d, err := t.FD(cb.fildes)
	if err != nil {
		return unix.EBADF
	}
	defer d.DecRef()
	var efd *eventfd.File
	if cb.flags&iocbFlagResfd != 0 {
		ed, err := t.FD(cb.resfd)
		if err != nil {
			return unix.EBADF
		}
		defer ed.DecRef()
		if efd = eventfd.Of(ed); efd == nil {
			return unix.EINVAL
		}
	}
	if err := t.CopyOut(addr+8, make([]byte, 4)); err != nil { // aio_key: KIOCB_KEY
		return unix.EFAULT
	}
	var run func() (uint64, error)
	switch cb.opcode {
	case iocbCmdPread, iocbCmdPreadv, iocbCmdPwrite, iocbCmdPwritev:
		write := cb.opcode == iocbCmdPwrite || cb.opcode == iocbCmdPwritev
		if cb.rwFlags&^uint32(rwfSupported) != 0 {
			return unix.EOPNOTSUPP
		}
		if (write && !d.Writable()) || (!write && !d.Readable()) {
			return unix.EBADF
		}
		if cb.offset < 0 {
			return unix.EINVAL
		}
		if (cb.opcode == iocbCmdPread || cb.opcode == iocbCmdPwrite) && !accessOK(cb.buf, cb.nbytes) {
			return unix.EFAULT
		}
		// The description looked up above, at the iocb's offset.
		flags := uint64(cb.rwFlags)
		switch cb.opcode {
		case iocbCmdPread:
			run = func() (uint64, error) { return readInto(t, cb.buf, cb.nbytes, nil, preadAt(t, d, cb.offset)) }
		case iocbCmdPwrite:
			run = func() (uint64, error) { return writeFrom(t, cb.buf, cb.nbytes, nil, pwriteAt(t, d, cb.offset, flags)) }
		case iocbCmdPreadv:
			run = func() (uint64, error) { return readVector(t, d, cb.buf, cb.nbytes, flags, preadAt(t, d, cb.offset)) }
		default:
			run = func() (uint64, error) {
				return writeVector(t, d, cb.buf, cb.nbytes, flags, pwriteAt(t, d, cb.offset, flags))
			}
		}
	case iocbCmdFsync, iocbCmdFdsync:
		if cb.buf != 0 || cb.offset != 0 || cb.nbytes != 0 || cb.rwFlags != 0 {
			return unix.EINVAL
		}
		run = func() (uint64, error) { return 0, d.Fsync(t) }
	default:
		return unix.EINVAL
	}
	n, err := run()
	ev := kernel.AIOEvent{Data: cb.data, Obj: addr, Res: int64(n)}
	if err != nil {
		ev.Res = -int64(aioErrno(err))
	}
	done = true
	c.Complete(ev)
	if efd != nil {
		efd.Signal(1)
	}
	return nil
}

// rwfSupported are the RWF_* flags an iocb may carry (aio_rw_flags).
const rwfSupported = unix.RWF_HIPRI | unix.RWF_DSYNC | unix.RWF_SYNC | unix.RWF_NOWAIT | unix.RWF_APPEND

// aioErrno is the errno an operation's error puts in its event; an
// interrupted one reports EINTR (there is no call to restart).
func aioErrno(err error) unix.Errno {
	var e unix.Errno
	switch {
	case err == arch.ERESTARTSYS || err == arch.ERESTARTNOHAND || err == arch.ERESTARTNOINTR:
		return unix.EINTR
	case errors.As(err, &e):
		return e
	}
	return unix.EIO
}

// sysIoGetevents is io_getevents(2).
func sysIoGetevents(t *kernel.Task, a [6]uint64) (uint64, error) {
	return ioGetevents(t, a)
}

// sysIoPgetevents is io_pgetevents(2): io_getevents with the signal mask
// of its sixth argument ({mask pointer, size}) while it waits.
func sysIoPgetevents(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[5] == 0 {
		return ioGetevents(t, a)
	}
	var b [16]byte
	if err := t.CopyIn(a[5], b[:]); err != nil {
		return 0, unix.EFAULT
	}
	mask, size := binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:])
	return withSigmask(t, mask, size, func() (uint64, error) { return ioGetevents(t, a) })
}

// ioGetevents waits for events of context a[0]: at least a[1], at most
// a[2], into a[3], until the relative timeout at a[4] (none: forever).
// The timeout is read first (EFAULT), then the context and the counts
// (EINVAL).
func ioGetevents(t *kernel.Task, a [6]uint64) (uint64, error) {
	var deadline time.Time
	if a[4] != 0 {
		var b [16]byte
		if err := t.CopyIn(a[4], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
		d := time.Duration(max(0, min(sec, 1<<32)))*time.Second + time.Duration(nsec)
		deadline = time.Now().Add(max(d, 0))
	}
	c, err := t.AIOLookup(a[0])
	if err != nil {
		return 0, err
	}
	minNr, nr := int64(a[1]), int64(a[2])
	if minNr < 0 || minNr > nr {
		return 0, unix.EINVAL
	}
	n, err := t.AIOGetEvents(c, int(min(minNr, 1<<20)), int(min(nr, 1<<20)), a[3], deadline, a[4] != 0)
	return uint64(n), err
}

// sysIoCancel is io_cancel(2). Every request has completed by the time
// io_submit returns, so there is never one to cancel: EINVAL, after the
// iocb's key is read (EFAULT) and checked and the context looked up.
func sysIoCancel(t *kernel.Task, a [6]uint64) (uint64, error) {
	var key [4]byte
	if err := t.CopyIn(a[1]+8, key[:]); err != nil {
		return 0, unix.EFAULT
	}
	if binary.LittleEndian.Uint32(key[:]) != 0 {
		return 0, unix.EINVAL
	}
	if _, err := t.AIOLookup(a[0]); err != nil {
		return 0, err
	}
	return 0, unix.EINVAL
}
