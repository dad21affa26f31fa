package vfs

import "sync"

// Signal-driven I/O: a description's owner (F_SETOWN, F_SETOWN_EX), the
// signal it sends (F_SETSIG) and, while O_ASYNC is set, a readiness waiter
// that sends it. The VFS keeps the state; the kernel decides who the owner
// is and sends the signals (the waiter's callback is the kernel's).

// Owner kinds (F_OWNER_*).
const (
	OwnerTID  = 0 // one thread
	OwnerPID  = 1 // a process
	OwnerPGRP = 2 // every process of a group
)

// FileOwner is who a description's SIGIO goes to. ID 0 is no one. UID and
// EUID are the setter's, which the send checks against the target's
// credentials (Linux's sigio_perm).
type FileOwner struct {
	Type      int32
	ID        int32
	UID, EUID uint32
}

// asyncState is a description's SIGIO state.
type asyncState struct {
	mu     sync.Mutex
	owner  FileOwner
	sig    int     // 0: SIGIO without details
	waiter *Waiter // registered while O_ASYNC is set
	// dirWatch is the directory watch F_NOTIFY (dnotify) added on the
	// description's directory, in dirVFS; nil: none.
	dirWatch Watch
	dirVFS   *VFS
}

// SetDirWatch replaces the description's directory watch (F_NOTIFY) with
// w, added in v on the description's own directory; nil removes it.
func (fd *FileDescription) SetDirWatch(v *VFS, w Watch) {
	a := fd.asyncOf()
	a.mu.Lock()
	old, oldV := a.dirWatch, a.dirVFS
	a.dirWatch, a.dirVFS = w, v
	a.mu.Unlock()
	if old != nil {
		oldV.RemoveWatch(fd.path.Dentry.inode, old)
	}
	if w != nil {
		v.AddWatch(fd.path, w)
	}
}

// DirWatch returns the description's directory watch (nil: none).
func (fd *FileDescription) DirWatch() Watch {
	a := fd.async.Load()
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dirWatch
}

func (fd *FileDescription) asyncOf() *asyncState {
	if a := fd.async.Load(); a != nil {
		return a
	}
	fd.async.CompareAndSwap(nil, &asyncState{})
	return fd.async.Load()
}

// Owner returns the description's SIGIO owner (F_GETOWN).
func (fd *FileDescription) Owner() FileOwner {
	a := fd.async.Load()
	if a == nil {
		return FileOwner{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.owner
}

// SetOwner sets the SIGIO owner (F_SETOWN); the caller has checked it.
func (fd *FileDescription) SetOwner(o FileOwner) {
	a := fd.asyncOf()
	a.mu.Lock()
	a.owner = o
	a.mu.Unlock()
}

// AsyncSignal returns the signal SIGIO delivery sends (F_GETSIG); 0 is
// plain SIGIO.
func (fd *FileDescription) AsyncSignal() int {
	a := fd.async.Load()
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sig
}

// SetAsyncSignal sets the signal (F_SETSIG); the caller has checked it.
func (fd *FileDescription) SetAsyncSignal(sig int) {
	a := fd.asyncOf()
	a.mu.Lock()
	a.sig = sig
	a.mu.Unlock()
}

// SetAsyncWaiter registers w, the waiter that sends the description's
// signal, while O_ASYNC is set; nil unregisters the one there is.
func (fd *FileDescription) SetAsyncWaiter(w *Waiter) {
	a := fd.asyncOf()
	a.mu.Lock()
	old := a.waiter
	a.waiter = w
	a.mu.Unlock()
	if old != nil {
		fd.EventUnregister(old)
	}
	if w != nil {
		fd.EventRegister(w)
	}
}

// stopAsync unregisters the SIGIO waiter of a description being released.
func (fd *FileDescription) stopAsync() {
	if a := fd.async.Load(); a != nil {
		a.mu.Lock()
		w := a.waiter
		a.waiter = nil
		dw, dv := a.dirWatch, a.dirVFS
		a.dirWatch = nil
		a.mu.Unlock()
		if w != nil {
			fd.EventUnregister(w)
		}
		if dw != nil {
			dv.RemoveWatch(fd.path.Dentry.inode, dw)
		}
	}
}
