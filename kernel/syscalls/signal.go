package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

// sigsetSize is the only sigset_t size the x86-64 rt_* calls accept.
const sigsetSize = 8

const (
	sigKill = 9
	sigStop = 19
)

func sysRtSigaction(t *kernel.Task, a [6]uint64) (uint64, error) {
	sig, newAddr, oldAddr := int(a[0]), a[1], a[2]
	if a[3] != sigsetSize || sig < 1 || sig > 64 {
		return 0, unix.EINVAL
	}
	tg := t.ThreadGroup()
	old := tg.SigAction(sig)
	if newAddr != 0 {
		if sig == sigKill || sig == sigStop {
			return 0, unix.EINVAL
		}
		var b [32]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, err
		}
		na := kernel.SigAction{
			Handler:  binary.LittleEndian.Uint64(b[0:]),
			Flags:    binary.LittleEndian.Uint64(b[8:]),
			Restorer: binary.LittleEndian.Uint64(b[16:]),
			Mask:     binary.LittleEndian.Uint64(b[24:]) &^ (1<<(sigKill-1) | 1<<(sigStop-1)),
		}
		tg.SetSigAction(sig, na)
	}
	if oldAddr != 0 {
		if err := t.CopyOut(oldAddr, words(old.Handler, old.Flags, old.Restorer, old.Mask)); err != nil {
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
		set, err := getUint64(t, setAddr)
		if err != nil {
			return 0, err
		}
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
		if err := putUint64(t, oldAddr, old); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysSigaltstack(t *kernel.Task, a [6]uint64) (uint64, error) {
	newAddr, oldAddr := a[0], a[1]
	old := t.AltStack()
	if oldAddr != 0 {
		if err := t.CopyOut(oldAddr, words(old.Sp, uint64(old.Flags), old.Size)); err != nil {
			return 0, err
		}
	}
	if newAddr != 0 {
		var b [24]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, err
		}
		ss := kernel.AltStack{Sp: binary.LittleEndian.Uint64(b[0:]), Flags: int32(binary.LittleEndian.Uint32(b[8:])), Size: binary.LittleEndian.Uint64(b[16:])}
		if t.OnAltStack() {
			return 0, unix.EPERM
		}
		switch uint32(ss.Flags) &^ (1 << 31) { // SS_AUTODISARM
		case 0:
			if ss.Size < 2048 { // MINSIGSTKSZ
				return 0, unix.ENOMEM
			}
		case 2: // SS_DISABLE
			ss = kernel.AltStack{Flags: 2}
		default:
			return 0, unix.EINVAL
		}
		t.SetAltStack(ss)
	}
	return 0, nil
}
