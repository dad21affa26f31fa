package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// Directory notification (fcntl's F_NOTIFY, Linux's dnotify): a
// descriptor of a directory asks for a signal when entries in it are
// accessed, modified, created, removed, renamed or have their attributes
// changed. The signal goes to the descriptor's owner, which F_NOTIFY makes
// the calling process, as SIGIO or the F_SETSIG signal with si_fd and
// POLL_MSG; without DN_MULTISHOT the request ends with its first signal.

// DN_* bits.
const (
	dnAccess    = 0x1
	dnModify    = 0x2
	dnCreate    = 0x4
	dnDelete    = 0x8
	dnRename    = 0x10
	dnAttrib    = 0x20
	dnMultishot = 0x80000000
	dnAll       = dnAccess | dnModify | dnCreate | dnDelete | dnRename | dnAttrib
)

// dnotifyWatch is one descriptor's F_NOTIFY request: a vfs.Watch on its
// directory.
type dnotifyWatch struct {
	k    *Kernel
	d    *vfs.FileDescription
	fd   int32
	mask atomic.Uint32
}

// dnOf maps an inotify event of a directory's entry to its DN_* bit.
func dnOf(mask uint32) uint32 {
	switch mask &^ vfs.InIsDir {
	case vfs.InAccess:
		return dnAccess
	case vfs.InModify:
		return dnModify
	case vfs.InCreate:
		return dnCreate
	case vfs.InDelete:
		return dnDelete
	case vfs.InMovedFrom, vfs.InMovedTo:
		return dnRename
	case vfs.InAttrib:
		return dnAttrib
	}
	return 0
}

// Event implements vfs.Watch: the signal is sent from a goroutine of its
// own (the VFS calls with its locks held).
func (w *dnotifyWatch) Event(mask, _ uint32, name string, _ bool) bool {
	m := w.mask.Load()
	if name == "" || dnOf(mask)&m == 0 {
		return true
	}
	go w.k.sendSigioReason(w.d, w.fd, arch.POLL_MSG)
	if m&dnMultishot == 0 {
		w.mask.Store(0)
		return false
	}
	return true
}

// SetDirNotify implements F_NOTIFY on d, descriptor fd: mask 0 ends the
// request; a descriptor of anything but a directory is ENOTDIR.
func (t *Task) SetDirNotify(d *vfs.FileDescription, fd int32, mask uint32) error {
	st, err := d.Stat(t)
	if err != nil {
		return err
	}
	if st.Type() != unix.S_IFDIR || d.Path().Dentry == nil {
		return unix.ENOTDIR
	}
	v, _, err := t.VFS()
	if err != nil {
		return err
	}
	if mask&dnAll == 0 {
		d.SetDirWatch(v, nil)
		return nil
	}
	// The caller becomes the owner the signal goes to.
	c := t.Credentials()
	d.SetOwner(vfs.FileOwner{Type: vfs.OwnerPID, ID: t.tg.pid, UID: c.UID, EUID: c.EUID})
	if w, ok := d.DirWatch().(*dnotifyWatch); ok && w.mask.Load() != 0 {
		// A request of this descriptor still there takes the new bits
		// too (Linux's attach_dn ORs them: DN_MULTISHOT stays).
		w.fd = fd
		w.mask.Or(mask)
		return nil
	}
	w := &dnotifyWatch{k: t.k, d: d, fd: fd}
	w.mask.Store(mask)
	d.SetDirWatch(v, w)
	return nil
}
