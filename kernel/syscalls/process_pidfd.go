package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// pidfd_open, pidfd_send_signal and pidfd_getfd (kernel/pidfd.go keeps
// the file); waitid's P_PIDFD is in process_wait.go.

// pidfdNonblock is PIDFD_NONBLOCK: the pidfd's description is O_NONBLOCK
// (waitid through it does not wait).
const pidfdNonblock = unix.O_NONBLOCK

// sysPidfdOpen opens a pidfd for process pid, always close-on-exec: EINVAL
// for flags other than PIDFD_NONBLOCK or a pid <= 0, ENOENT for a thread
// that is not a process's leader, ESRCH for no such process (a zombie is
// one until it is reaped).
func sysPidfdOpen(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, flags := int32(a[0]), uint32(a[1])
	if flags&^pidfdNonblock != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	tg, err := t.Kernel().ProcessForPidFD(pid)
	if err != nil {
		return 0, err
	}
	d := kernel.OpenPidFD(tg, flags&pidfdNonblock != 0)
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, true, t.NoFileLimit())
	return uint64(n), err
}

// sysPidfdSendSignal sends sig to the pidfd's process, with Linux's checks
// in its order: flags (none known: EINVAL), the descriptor (EBADF, also
// for one that is not a pidfd), the siginfo if given (its signal must be
// sig; claiming to be the kernel or tkill only towards the caller itself:
// EPERM), then the signal (EINVAL) and the process (ESRCH once exited).
func sysPidfdSendSignal(t *kernel.Task, a [6]uint64) (uint64, error) {
	sig, infoAddr, flags := int32(a[1]), a[2], uint32(a[3])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, _, err := pidfdProcess(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	info := arch.SignalInfo{Signo: sig, Code: arch.SI_USER, Pid: t.PID(), Uid: t.Credentials().UID}
	if infoAddr != 0 {
		var b [arch.SignalInfoSize]byte
		if err := t.CopyIn(infoAddr, b[:]); err != nil {
			return 0, err
		}
		info = arch.SignalInfo{}
		info.Decode(b[:])
		if info.Signo != sig {
			return 0, unix.EINVAL
		}
		if (info.Code >= 0 || info.Code == arch.SI_TKILL) && tg.PID() != t.TID() {
			return 0, unix.EPERM
		}
	}
	return 0, t.Kernel().SignalProcess(t, tg, &info)
}

// sysPidfdGetfd installs in the caller's table, close-on-exec as Linux's
// receive_fd, a duplicate of descriptor targetfd of the pidfd's process:
// EINVAL for any flags, EBADF for a descriptor that is no pidfd, then
// ESRCH, EPERM and EBADF as kernel.PidFDGetFD says.
func sysPidfdGetfd(t *kernel.Task, a [6]uint64) (uint64, error) {
	targetfd, flags := int32(a[1]), uint32(a[2])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, _, err := pidfdProcess(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	d, err := t.PidFDGetFD(tg, targetfd)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, true, t.NoFileLimit())
	return uint64(n), err
}

// pidfdProcess returns the process pidfd n refers to, and whether its
// description is O_NONBLOCK; EBADF for an fd that is not a pidfd.
func pidfdProcess(t *kernel.Task, n int32) (*kernel.ThreadGroup, bool, error) {
	d, err := t.FD(n)
	if err != nil {
		return nil, false, err
	}
	defer d.DecRef()
	tg := kernel.PidFDProcess(d)
	if tg == nil {
		return nil, false, unix.EBADF
	}
	return tg, d.NonBlocking(), nil
}
