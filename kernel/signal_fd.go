package kernel

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/eventfd"
	"uk/fs/vfs"
)

// signalFD is a signalfd(2) file: reading it takes pending signals of the
// reading thread that are in its mask, instead of their delivery.
type signalFD struct {
	vfs.AnonFileBase
	tg *ThreadGroup // the creator's process, for readiness

	mu   sync.Mutex
	mask arch.SigSet // protected by mu
}

// signalfdSiginfoSize is sizeof(struct signalfd_siginfo).
const signalfdSiginfoSize = 128

// NewSignalFD creates a signalfd description for mask.
func (t *Task) NewSignalFD(mask arch.SigSet, flags int) *vfs.FileDescription {
	f := &signalFD{tg: t.tg, mask: mask.Blockable()}
	return vfs.NewFileDescription(f, uint32(unix.O_RDWR|flags&unix.O_NONBLOCK), vfs.Path{}, vfs.FileOptions{})
}

// SetSignalFDMask changes the mask of an existing signalfd (signalfd4 on
// an fd); EINVAL if d is not a signalfd.
func SetSignalFDMask(d *vfs.FileDescription, mask arch.SigSet) error {
	f, ok := d.Impl().(*signalFD)
	if !ok {
		return unix.EINVAL
	}
	f.mu.Lock()
	f.mask = mask.Blockable()
	f.mu.Unlock()
	f.tg.sigNotify.Notify(vfs.EventIn)
	return nil
}

func (f *signalFD) getMask() arch.SigSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mask
}

// Read implements vfs.FileImpl.
func (f *signalFD) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	t, ok := ctx.(*Task)
	if !ok {
		return 0, unix.EINVAL
	}
	if len(dst) < signalfdSiginfoSize {
		return 0, unix.EINVAL
	}
	n := 0
	for n+signalfdSiginfoSize <= len(dst) {
		info, ok := t.DequeueSignalIn(f.getMask())
		if !ok {
			if n > 0 {
				return n, nil
			}
			if fd.NonBlocking() {
				return 0, unix.EAGAIN
			}
			w, ch := vfs.NewChannelWaiter(vfs.EventIn)
			f.tg.sigNotify.Register(w)
			if (t.PendingSignals() & f.getMask()) == 0 {
				err := t.Block(ch)
				f.tg.sigNotify.Unregister(w)
				if err != nil {
					return 0, err
				}
			} else {
				f.tg.sigNotify.Unregister(w)
			}
			continue
		}
		encodeSignalfdSiginfo(dst[n:], &info)
		n += signalfdSiginfoSize
	}
	return n, nil
}

func encodeSignalfdSiginfo(b []byte, in *arch.SignalInfo) {
	clear(b[:signalfdSiginfoSize])
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(in.Signo))
	le.PutUint32(b[4:], uint32(in.Errno))
	le.PutUint32(b[8:], uint32(in.Code))
	le.PutUint32(b[12:], uint32(in.Pid))
	le.PutUint32(b[16:], in.Uid)
	le.PutUint32(b[20:], uint32(in.FD))
	le.PutUint32(b[24:], uint32(in.TimerID))
	le.PutUint32(b[28:], uint32(in.Band))
	le.PutUint32(b[32:], uint32(in.Overrun))
	le.PutUint32(b[40:], uint32(in.Status))
	le.PutUint32(b[44:], uint32(in.Value))
	le.PutUint64(b[48:], in.Value)
	le.PutUint64(b[56:], uint64(in.Utime))
	le.PutUint64(b[64:], uint64(in.Stime))
	le.PutUint64(b[72:], in.Addr)
}

// Readiness implements vfs.FileImpl: readable while a signal in the mask
// is pending for the process.
func (f *signalFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	f.tg.mu.Lock()
	pending := f.tg.pending.set
	for _, t := range f.tg.tasks {
		pending |= t.pending.set
	}
	f.tg.mu.Unlock()
	if pending&f.getMask() != 0 {
		return mask & vfs.EventIn
	}
	return 0
}

// EventRegister implements vfs.FileImpl.
func (f *signalFD) EventRegister(w *vfs.Waiter) { f.tg.sigNotify.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (f *signalFD) EventUnregister(w *vfs.Waiter) { f.tg.sigNotify.Unregister(w) }

// Stat implements vfs.FileImpl.
func (f *signalFD) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}
