package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/epoll"
	"uk/kernel"
)

func installNew(t *kernel.Task, d interface{ DecRef() }, install func() (int32, error)) (uint64, error) {
	defer d.DecRef()
	n, err := install()
	return uint64(n), err
}

func sysEpollCreate1(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(a[0])
	if flags&^unix.EPOLL_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	d, err := epoll.New(0)
	if err != nil {
		return 0, err
	}
	return installNew(t, d, func() (int32, error) {
		return t.Files.Install(d, 0, flags&unix.EPOLL_CLOEXEC != 0, t.NoFileLimit())
	})
}

func sysEpollCreate(t *kernel.Task, a [6]uint64) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return sysEpollCreate1(t, [6]uint64{})
}

func sysEpollCtl(t *kernel.Task, a [6]uint64) (uint64, error) {
	epfd, op, fd, evAddr := int32(a[0]), int(a[1]), int32(a[2]), a[3]
	ed, err := t.FD(epfd)
	if err != nil {
		return 0, err
	}
	defer ed.DecRef()
	ep := epoll.Of(ed)
	if ep == nil {
		return 0, unix.EINVAL
	}
	fd2, err := t.FD(fd)
	if err != nil {
		return 0, err
	}
	defer fd2.DecRef()
	var events uint32
	var data uint64
	if op != unix.EPOLL_CTL_DEL {
		var b [12]byte
		if err := t.CopyIn(evAddr, b[:]); err != nil {
			return 0, err
		}
		events = binary.LittleEndian.Uint32(b[0:])
		data = binary.LittleEndian.Uint64(b[4:])
	}
	return 0, ep.Ctl(t, op, fd, fd2, events, data)
}

// epollWait is the common part of epoll_wait, epoll_pwait and
// epoll_pwait2: timeout < 0 waits forever.
func epollWait(t *kernel.Task, epfd int32, evAddr uint64, max int, timeout time.Duration) (uint64, error) {
	if max <= 0 || max > (1<<31-1)/12 {
		return 0, unix.EINVAL
	}
	ed, err := t.FD(epfd)
	if err != nil {
		return 0, err
	}
	defer ed.DecRef()
	ep := epoll.Of(ed)
	if ep == nil {
		return 0, unix.EINVAL
	}
	evs, err := ep.Wait(t, max, timeout)
	if err != nil {
		if err == arch.ERESTARTSYS {
			return 0, unix.EINTR // epoll_wait is never restarted
		}
		return 0, err
	}
	b := make([]byte, 12*len(evs))
	for i, e := range evs {
		binary.LittleEndian.PutUint32(b[12*i:], e.Events)
		binary.LittleEndian.PutUint64(b[12*i+4:], e.Data)
	}
	if err := t.CopyOut(evAddr, b); err != nil {
		return 0, err
	}
	return uint64(len(evs)), nil
}

func msTimeout(ms int32) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

func sysEpollWait(t *kernel.Task, a [6]uint64) (uint64, error) {
	return epollWait(t, int32(a[0]), a[1], int(int32(a[2])), msTimeout(int32(a[3])))
}

// withSigmask runs f with the thread's signal mask temporarily replaced
// by the one at maskAddr (pselect, ppoll, epoll_pwait semantics).
func withSigmask(t *kernel.Task, maskAddr, size uint64, f func() (uint64, error)) (uint64, error) {
	if maskAddr == 0 {
		return f()
	}
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	v, err := getUint64(t, maskAddr)
	if err != nil {
		return 0, err
	}
	old := t.SigMask()
	t.SetSigMask(arch.SigSet(v))
	r, err := f()
	if err == unix.EINTR || err == arch.ERESTARTNOHAND || err == arch.ERESTARTSYS {
		// The handler must run with the temporary mask; sigreturn then
		// restores the old one.
		t.SetSavedSigMask(old)
		return r, err
	}
	t.SetSigMask(old)
	return r, err
}

func sysEpollPwait(t *kernel.Task, a [6]uint64) (uint64, error) {
	return withSigmask(t, a[4], a[5], func() (uint64, error) {
		return epollWait(t, int32(a[0]), a[1], int(int32(a[2])), msTimeout(int32(a[3])))
	})
}

func sysEpollPwait2(t *kernel.Task, a [6]uint64) (uint64, error) {
	timeout := time.Duration(-1)
	if a[3] != 0 {
		ns, err := getTimespec(t, a[3])
		if err != nil {
			return 0, err
		}
		timeout = time.Duration(ns)
	}
	return withSigmask(t, a[4], a[5], func() (uint64, error) {
		return epollWait(t, int32(a[0]), a[1], int(int32(a[2])), timeout)
	})
}
