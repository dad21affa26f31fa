package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/poll"
	"uk/fs/vfs"
	"uk/kernel"
)

// maxPollFDs bounds nfds as RLIMIT_NOFILE would.
const maxPollFDs = 1 << 20

// doPoll reads the pollfd array, waits and writes revents back.
func doPoll(t *kernel.Task, addr uint64, nfds uint64, timeout time.Duration) (uint64, error) {
	if nfds > maxPollFDs || nfds > t.NoFileLimit() && nfds > 1024 {
		return 0, unix.EINVAL
	}
	raw := make([]byte, 8*nfds)
	if err := t.CopyIn(addr, raw); err != nil {
		return 0, err
	}
	fds := make([]poll.PollFD, nfds)
	var held []*vfs.FileDescription
	defer func() {
		for _, d := range held {
			d.DecRef()
		}
	}()
	for i := range fds {
		fd := int32(binary.LittleEndian.Uint32(raw[8*i:]))
		fds[i].Events = binary.LittleEndian.Uint16(raw[8*i+4:])
		if fd < 0 {
			fds[i].Ignore = true
			continue
		}
		if d, err := t.FD(fd); err == nil {
			fds[i].File = d
			held = append(held, d)
		}
	}
	n, revents, err := poll.Poll(t, fds, timeout)
	if err != nil {
		return 0, err
	}
	for i, r := range revents {
		binary.LittleEndian.PutUint16(raw[8*i+6:], r)
	}
	if err := t.CopyOut(addr, raw); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

func sysPoll(t *kernel.Task, a [6]uint64) (uint64, error) {
	n, err := doPoll(t, a[0], a[1], msTimeout(int32(a[2])))
	if err == arch.ERESTARTSYS {
		err = arch.ERESTARTNOHAND
	}
	return n, err
}

// tsTimeout reads an optional timespec timeout (NULL: wait forever).
func tsTimeout(t *kernel.Task, addr uint64) (time.Duration, error) {
	if addr == 0 {
		return -1, nil
	}
	ns, err := getTimespec(t, addr)
	return time.Duration(ns), err
}

func sysPpoll(t *kernel.Task, a [6]uint64) (uint64, error) {
	timeout, err := tsTimeout(t, a[2])
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(timeout)
	return withSigmask(t, a[3], a[4], func() (uint64, error) {
		n, err := doPoll(t, a[0], a[1], timeout)
		if err == arch.ERESTARTSYS {
			err = unix.EINTR
		}
		return n, timeLeft(t, a[2], timeout, deadline, false, err)
	})
}

// stickyTimeouts is the personality flag that keeps select, pselect6 and
// ppoll from writing back the time left (STICKY_TIMEOUTS).
const stickyTimeouts = 0x4000000

// timeLeft writes back, at addr, the time left of a select, pselect6 or
// ppoll whose timeout was timeout (as a struct timeval for select, a
// timespec otherwise), as Linux's poll_select_finish does: none for no
// timeout or a zero one, nor with STICKY_TIMEOUTS; zero once it has run
// out. A write that faults is ignored (the call has done its work), but
// the call then cannot restart with the time left: a restart becomes
// EINTR, as on Linux. It returns err, so changed.
func timeLeft(t *kernel.Task, addr uint64, timeout time.Duration, deadline time.Time, timeval bool, err error) error {
	if addr == 0 || timeout <= 0 {
		return err
	}
	if t.Personality()&stickyTimeouts == 0 {
		left := max(time.Until(deadline), 0)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(left/time.Second))
		frac := uint64(left % time.Second)
		if timeval {
			frac /= 1000
		}
		binary.LittleEndian.PutUint64(b[8:], frac)
		if t.CopyOut(addr, b[:]) == nil {
			return err
		}
	}
	if err == arch.ERESTARTNOHAND {
		return unix.EINTR
	}
	return err
}

// doSelect implements select over the three fd_set bitmaps.
func doSelect(t *kernel.Task, nfds int, rAddr, wAddr, eAddr uint64, timeout time.Duration) (uint64, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	// Numbers past the descriptor table's size are not looked at (nor
	// copied), as Linux's core_sys_select: a closed one there is no
	// EBADF.
	nfds = min(nfds, t.Files.Size())
	nbytes := (nfds + 63) / 64 * 8
	sets := [3][]byte{}
	for i, addr := range []uint64{rAddr, wAddr, eAddr} {
		if addr == 0 {
			continue
		}
		sets[i] = make([]byte, nbytes)
		if err := t.CopyIn(addr, sets[i]); err != nil {
			return 0, err
		}
	}
	bit := func(set []byte, fd int) bool { return set != nil && set[fd/8]&(1<<(fd%8)) != 0 }
	var fds []poll.SelectFD
	var nums []int
	var held []*vfs.FileDescription
	defer func() {
		for _, d := range held {
			d.DecRef()
		}
	}()
	for fd := 0; fd < nfds; fd++ {
		s := poll.SelectFD{Read: bit(sets[0], fd), Write: bit(sets[1], fd), Except: bit(sets[2], fd)}
		if !s.Read && !s.Write && !s.Except {
			continue
		}
		if d, err := t.FD(int32(fd)); err == nil {
			s.File = d
			held = append(held, d)
		}
		fds = append(fds, s)
		nums = append(nums, fd)
	}
	n, res, err := poll.Select(t, fds, timeout)
	if err != nil {
		return 0, err
	}
	for i := range sets {
		clear(sets[i])
	}
	for i, r := range res {
		fd := nums[i]
		for j, on := range []bool{r.Read, r.Write, r.Except} {
			if on && sets[j] != nil {
				sets[j][fd/8] |= 1 << (fd % 8)
			}
		}
	}
	for i, addr := range []uint64{rAddr, wAddr, eAddr} {
		if addr != 0 {
			if err := t.CopyOut(addr, sets[i]); err != nil {
				return 0, err
			}
		}
	}
	return uint64(n), nil
}

func sysSelect(t *kernel.Task, a [6]uint64) (uint64, error) {
	timeout := time.Duration(-1)
	if a[4] != 0 {
		var b [16]byte
		if err := t.CopyIn(a[4], b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(le64(b[0:])), int64(le64(b[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 {
			return 0, unix.EINVAL
		}
		timeout = time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
	}
	deadline := time.Now().Add(timeout)
	n, err := doSelect(t, int(int32(a[0])), a[1], a[2], a[3], timeout)
	if err == arch.ERESTARTSYS {
		err = arch.ERESTARTNOHAND
	}
	return n, timeLeft(t, a[4], timeout, deadline, true, err)
}

func sysPselect6(t *kernel.Task, a [6]uint64) (uint64, error) {
	timeout, err := tsTimeout(t, a[4])
	if err != nil {
		return 0, err
	}
	// The sixth argument points at {const sigset_t *ss; size_t ss_len}.
	var maskAddr, maskSize uint64
	if a[5] != 0 {
		var b [16]byte
		if err := t.CopyIn(a[5], b[:]); err != nil {
			return 0, err
		}
		maskAddr, maskSize = le64(b[0:]), le64(b[8:])
	}
	deadline := time.Now().Add(timeout)
	return withSigmask(t, maskAddr, maskSize, func() (uint64, error) {
		n, err := doSelect(t, int(int32(a[0])), a[1], a[2], a[3], timeout)
		if err == arch.ERESTARTSYS {
			err = unix.EINTR
		}
		return n, timeLeft(t, a[4], timeout, deadline, false, err)
	})
}
