package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// Signal-driven I/O (fcntl's F_SETOWN, F_SETOWN_EX, F_SETSIG and O_ASYNC):
// while O_ASYNC is set, every readiness change of the description sends
// its owner SIGIO, or the F_SETSIG signal with the descriptor, the reason
// (POLL_IN, POLL_OUT...) and the poll band in its siginfo, as Linux's
// send_sigio. The sends run on a goroutine of their own, never inside the
// file's notification (which holds the file's locks): changes that come
// while one is pending join it, so a burst of writes to a pipe sends one
// signal rather than one each.

// SetFileOwner implements F_SETOWN (typ vfs.OwnerPID, or vfs.OwnerPGRP
// for a negative pid) and F_SETOWN_EX: id 0 clears the owner, one that
// names no thread, process or group is ESRCH.
func (t *Task) SetFileOwner(d *vfs.FileDescription, typ, id int32) error {
	if typ < vfs.OwnerTID || typ > vfs.OwnerPGRP {
		return unix.EINVAL
	}
	if id != 0 && !t.k.ownerExists(typ, id) {
		return unix.ESRCH
	}
	c := t.Credentials()
	d.SetOwner(vfs.FileOwner{Type: typ, ID: id, UID: c.UID, EUID: c.EUID})
	return nil
}

// ownerExists reports whether a SIGIO owner of kind typ and id exists.
func (k *Kernel) ownerExists(typ, id int32) bool {
	switch typ {
	case vfs.OwnerTID:
		return k.TaskByTID(id) != nil
	case vfs.OwnerPID:
		return k.ProcessByPID(id) != nil
	}
	for _, tg := range k.processes() {
		if tg.ProcessGroup() == id {
			return true
		}
	}
	return false
}

// SetFileAsync turns d's SIGIO delivery on or off (O_ASYNC set or cleared
// by F_SETFL); fd is the descriptor the signal names (si_fd).
func (t *Task) SetFileAsync(d *vfs.FileDescription, fd int32, on bool) {
	if !on {
		d.SetAsyncWaiter(nil)
		return
	}
	k := t.k
	var pending atomic.Uint32 // readiness bits not yet signalled
	w := &vfs.Waiter{
		Mask: vfs.EventIn | vfs.EventOut | vfs.EventPri | vfs.EventErr | vfs.EventHUp,
		Callback: func(ready vfs.EventMask) {
			if pending.Or(uint32(ready)) == 0 {
				go func() { k.sendSigio(d, fd, vfs.EventMask(pending.Swap(0))) }()
			}
		},
	}
	d.SetAsyncWaiter(w)
}

// sigioBand is the si_band of each POLL_* reason (Linux's band_table):
// POLL_IN, POLL_OUT, POLL_MSG, POLL_ERR, POLL_PRI, POLL_HUP.
var sigioBand = [...]int64{0x41, 0x304, 0x441, 0x8, 0x82, 0x18}

// sendSigio sends d's owner a signal for each reason in ready.
func (k *Kernel) sendSigio(d *vfs.FileDescription, fd int32, ready vfs.EventMask) {
	var reasons []int32
	if ready&vfs.EventIn != 0 {
		reasons = append(reasons, arch.POLL_IN)
	}
	if ready&vfs.EventOut != 0 {
		reasons = append(reasons, arch.POLL_OUT)
	}
	if ready&vfs.EventPri != 0 {
		reasons = append(reasons, arch.POLL_PRI)
	}
	if ready&vfs.EventErr != 0 {
		reasons = append(reasons, arch.POLL_ERR)
	}
	if ready&vfs.EventHUp != 0 {
		reasons = append(reasons, arch.POLL_HUP)
	}
	for _, reason := range reasons {
		k.sendSigioReason(d, fd, reason)
	}
}

// sendSigioReason sends d's owner SIGIO, or its F_SETSIG signal with fd,
// reason (a POLL_* code) and its band (Linux's send_sigio).
func (k *Kernel) sendSigioReason(d *vfs.FileDescription, fd, reason int32) {
	owner, sig := d.Owner(), d.AsyncSignal()
	if owner.ID == 0 {
		return
	}
	info := arch.SignalInfo{Signo: int32(unix.SIGIO), Code: arch.SI_KERNEL}
	if sig != 0 {
		info = arch.SignalInfo{Signo: int32(sig), Code: reason, Band: sigioBand[reason-arch.POLL_IN], FD: fd}
		if sig != int(unix.SIGIO) && sigSpecificCodes(sig) {
			info.Code = arch.SI_SIGIO // a POLL_* code would read as the signal's own
		}
	}
	k.sendToOwner(owner, &info)
}

// sigSpecificCodes reports whether sig has si_codes of its own that the
// POLL_* values would be taken for (Linux's sig_specific_sicodes).
func sigSpecificCodes(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGILL, unix.SIGFPE, unix.SIGSEGV, unix.SIGBUS, unix.SIGTRAP, unix.SIGCHLD, unix.SIGSYS:
		return true
	}
	return false
}

// sendToOwner sends info to the thread, process or every process of the
// group owner names that the owner's setter may signal (Linux's
// sigio_perm: root, or a real or effective uid matching the target's real
// or saved one).
func (k *Kernel) sendToOwner(owner vfs.FileOwner, info *arch.SignalInfo) {
	may := func(c *vfs.Credentials) bool {
		return owner.EUID == 0 || owner.EUID == c.SUID || owner.EUID == c.UID || owner.UID == c.SUID || owner.UID == c.UID
	}
	switch owner.Type {
	case vfs.OwnerTID:
		if t := k.TaskByTID(owner.ID); t != nil && may(t.Credentials()) {
			t.tg.SendSignal(info, t)
		}
	case vfs.OwnerPID:
		if tg := k.ProcessByPID(owner.ID); tg != nil {
			if t := anyTask(tg); t != nil && may(t.Credentials()) {
				tg.SendSignal(info, nil)
			}
		}
	case vfs.OwnerPGRP:
		for _, tg := range k.processes() {
			if tg.ProcessGroup() != owner.ID {
				continue
			}
			if t := anyTask(tg); t != nil && may(t.Credentials()) {
				tg.SendSignal(info, nil)
			}
		}
	}
}
