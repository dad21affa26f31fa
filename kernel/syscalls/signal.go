package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// sigsetSize is the only sigset_t size the x86-64 rt_* calls accept.
const sigsetSize = 8

func sysRtSigaction(t *kernel.Task, a [6]uint64) (uint64, error) {
	sig, newAddr, oldAddr := int(a[0]), a[1], a[2]
	if a[3] != sigsetSize {
		return 0, unix.EINVAL
	}
	// Linux reads the new action before it looks at the signal: a bad
	// pointer is EFAULT even for SIGKILL.
	var na arch.SigAction
	if newAddr != 0 {
		var b [arch.SigActionSize]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, err
		}
		na.Decode(b[:])
	}
	if !arch.ValidSignal(sig) || newAddr != 0 && (sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP)) {
		return 0, unix.EINVAL
	}
	tg := t.ThreadGroup()
	old := tg.SigAction(sig)
	if newAddr != 0 {
		na.Mask = na.Mask.Blockable()
		// Unknown flags are dropped, so a program can tell which ones
		// this kernel has by reading them back (SA_UNSUPPORTED).
		na.Flags &= arch.SigActionFlags
		tg.SetSigAction(sig, na)
	}
	if oldAddr != 0 {
		var b [arch.SigActionSize]byte
		old.Encode(b[:])
		if err := t.CopyOut(oldAddr, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigprocmask(t *kernel.Task, a [6]uint64) (uint64, error) {
	how, setAddr, oldAddr := a[0], a[1], a[2]
	if a[3] != sigsetSize {
		return 0, unix.EINVAL
	}
	old := t.SigMask()
	if setAddr != 0 {
		v, err := getUint64(t, setAddr)
		if err != nil {
			return 0, err
		}
		set := arch.SigSet(v)
		switch how {
		case unix.SIG_BLOCK:
			t.SetSigMask(old | set)
		case unix.SIG_UNBLOCK:
			t.SetSigMask(old &^ set)
		case unix.SIG_SETMASK:
			t.SetSigMask(set)
		default:
			return 0, unix.EINVAL
		}
	}
	if oldAddr != 0 {
		if err := putUint64(t, oldAddr, uint64(old)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysSigaltstack(t *kernel.Task, a [6]uint64) (uint64, error) {
	newAddr, oldAddr := a[0], a[1]
	old := t.AltStack()
	if newAddr != 0 {
		var b [arch.StackTSize]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, err
		}
		var ss arch.StackT
		ss.Decode(b[:])
		if old.Flags&arch.SS_ONSTACK != 0 {
			return 0, unix.EPERM
		}
		switch ss.Flags &^ arch.SS_AUTODISARM {
		case 0, arch.SS_ONSTACK:
			if ss.Size < arch.MINSIGSTKSZ {
				return 0, unix.ENOMEM
			}
			ss.Flags &^= arch.SS_ONSTACK
		case arch.SS_DISABLE:
			ss = arch.StackT{Flags: arch.SS_DISABLE}
		default:
			return 0, unix.EINVAL
		}
		if err := t.SetSigAltStack(ss); err != nil {
			return 0, err
		}
	}
	if oldAddr != 0 {
		var b [arch.StackTSize]byte
		old.Encode(b[:])
		if err := t.CopyOut(oldAddr, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigreturn(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, t.Sigreturn() }

func sysRtSigpending(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[1] > sigsetSize {
		return 0, unix.EINVAL
	}
	return 0, putUint64(t, a[0], uint64(t.PendingSignals()&t.SigMask()))
}

func sysRtSigsuspend(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[1] != sigsetSize {
		return 0, unix.EINVAL
	}
	v, err := getUint64(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.SigSuspend(arch.SigSet(v))
}

func sysPause(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.SigSuspend(t.SigMask())
}

func sysRtSigtimedwait(t *kernel.Task, a [6]uint64) (uint64, error) {
	setAddr, infoAddr, tsAddr := a[0], a[1], a[2]
	if a[3] != sigsetSize {
		return 0, unix.EINVAL
	}
	v, err := getUint64(t, setAddr)
	if err != nil {
		return 0, err
	}
	set := arch.SigSet(v).Blockable()
	timeout := time.Duration(-1)
	if tsAddr != 0 {
		ns, err := getTimespec(t, tsAddr)
		if err != nil {
			return 0, err
		}
		timeout = time.Duration(ns)
	}
	info, err := t.WaitSignal(set, timeout)
	if err != nil {
		return 0, err
	}
	if infoAddr != 0 {
		var b [arch.SignalInfoSize]byte
		info.Encode(b[:])
		if err := t.CopyOut(infoAddr, b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(info.Signo), nil
}

func sysKill(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, sig := int32(a[0]), int(a[1])
	if sig != 0 && !arch.ValidSignal(sig) {
		return 0, unix.EINVAL
	}
	info := arch.SignalInfo{Signo: int32(sig), Code: arch.SI_USER, Pid: t.PID(), Uid: t.Credentials().UID}
	return 0, t.Kernel().Kill(t, pid, &info)
}

func sysTgkill(t *kernel.Task, a [6]uint64) (uint64, error) {
	tgid, tid := int32(a[0]), int32(a[1])
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	return tkill(t, tgid, tid, int(a[2]))
}

func sysTkill(t *kernel.Task, a [6]uint64) (uint64, error) {
	tid := int32(a[0])
	if tid <= 0 {
		return 0, unix.EINVAL
	}
	return tkill(t, 0, tid, int(a[1]))
}

// tkill sends sig to thread tid (of process tgid, or of any with tgid 0).
// As Linux's do_send_specific, the target is looked up before the signal
// is checked: a bad signal to a thread that does not exist is ESRCH.
func tkill(t *kernel.Task, tgid, tid int32, sig int) (uint64, error) {
	info := arch.SignalInfo{Signo: int32(sig), Code: arch.SI_TKILL, Pid: t.PID(), Uid: t.Credentials().UID}
	return 0, t.Kernel().Tkill(t, tgid, tid, &info)
}

func sysRtSigqueueinfo(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sigqueue(t, 0, int32(a[0]), int(a[1]), a[2])
}

func sysRtTgsigqueueinfo(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sigqueue(t, int32(a[0]), int32(a[1]), int(a[2]), a[3])
}

// sigqueue is rt_sigqueueinfo (tgid 0: id is a process) and
// rt_tgsigqueueinfo (id is a thread of process tgid), with Linux's checks
// in Linux's order: the siginfo is copied in first, then the ids, the
// claim to be the kernel, the target's existence and only then the signal.
func sigqueue(t *kernel.Task, tgid, id int32, sig int, infoAddr uint64) (uint64, error) {
	var b [arch.SignalInfoSize]byte
	if err := t.CopyIn(infoAddr, b[:]); err != nil {
		return 0, err
	}
	var info arch.SignalInfo
	info.Decode(b[:])
	info.Signo = int32(sig)
	if tgid != 0 && (tgid <= 0 || id <= 0) {
		return 0, unix.EINVAL
	}
	// Only the kernel may claim to be the kernel (si_code >= 0), or
	// tkill, when signalling someone else: Linux compares with the
	// calling thread's id.
	if (info.Code >= 0 || info.Code == arch.SI_TKILL) && id != t.TID() {
		return 0, unix.EPERM
	}
	if tgid == 0 {
		// One process: not kill's process groups or "everyone".
		if id <= 0 {
			return 0, unix.ESRCH
		}
		if !arch.ValidSignal(sig) && t.Kernel().ProcessByPID(id) != nil {
			return 0, unix.EINVAL
		}
		return 0, t.Kernel().Kill(t, id, &info)
	}
	return 0, t.Kernel().Tkill(t, tgid, id, &info)
}

func sysSignalfd4(t *kernel.Task, a [6]uint64) (uint64, error) {
	fd, maskAddr, size, flags := int32(a[0]), a[1], a[2], int(a[3])
	if size != sigsetSize || flags&^(unix.SFD_CLOEXEC|unix.SFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	v, err := getUint64(t, maskAddr)
	if err != nil {
		return 0, err
	}
	if fd != -1 {
		d, err := t.FD(fd)
		if err != nil {
			return 0, err
		}
		defer d.DecRef()
		return uint64(fd), kernel.SetSignalFDMask(d, arch.SigSet(v))
	}
	d := t.NewSignalFD(arch.SigSet(v), flags)
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, flags&unix.SFD_CLOEXEC != 0, t.NoFileLimit())
	return uint64(n), err
}

func sysSignalfd(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sysSignalfd4(t, [6]uint64{a[0], a[1], a[2], 0})
}
