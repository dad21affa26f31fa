package kernel

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/fs/mqueue"
	"uk/fs/vfs"
	"uk/kernel/ipc"
)

// IPCNamespace is an IPC namespace: the System V objects that processes
// in it share by key or id, and its POSIX message queues. unshare and
// clone with CLONE_NEWIPC make an empty one. It implements
// nsfs.Namespace.
type IPCNamespace struct {
	inum uint64
	sysv *ipc.Namespace
	// mq are the namespace's message queues, made on first use (most
	// programs never touch them).
	mqOnce sync.Once
	mq     atomic.Pointer[mqueue.FS]
	// users counts the tasks in the namespace and the bind mounts of its
	// file; the last one out of a namespace made at run time removes its
	// System V objects (Linux's free_ipcs), whose pages and messages are
	// the sandbox's memory.
	users   atomic.Int64
	initial bool
}

// rootIPCInum is the inode number of the initial IPC namespace, as Linux's
// PROC_IPC_INIT_INO.
const rootIPCInum = 0xEFFFFFFF

func newIPCNamespace(k *Kernel, inum uint64) *IPCNamespace {
	return &IPCNamespace{inum: inum, sysv: ipc.NewNamespace(k.MemFile)}
}

// Kind implements nsfs.Namespace.
func (ns *IPCNamespace) Kind() string { return "ipc" }

// Inum implements nsfs.Namespace.
func (ns *IPCNamespace) Inum() uint64 { return ns.inum }

// CloneFlag implements nsfs.Namespace.
func (ns *IPCNamespace) CloneFlag() uint64 { return unix.CLONE_NEWIPC }

// SysV returns the namespace's System V objects.
func (ns *IPCNamespace) SysV() *ipc.Namespace { return ns.sysv }

// Mqueue returns the namespace's POSIX message queues: the queues mq_open
// reaches and every mount of the mqueue filesystem made in the namespace
// shows, and /proc/sys/fs/mqueue's limits.
func (ns *IPCNamespace) Mqueue() *mqueue.FS {
	ns.mqOnce.Do(func() { ns.mq.Store(mqueue.New()) })
	return ns.mq.Load()
}

// IPCNamespace returns the IPC namespace t is in.
func (t *Task) IPCNamespace() *IPCNamespace {
	if ns := t.ipcNS.Load(); ns != nil {
		return ns
	}
	return t.k.ipcRoot
}

// IPC returns the System V objects t reaches.
func (t *Task) IPC() *ipc.Namespace { return t.IPCNamespace().sysv }

// setIPCNamespace moves t into ns (nil: the sandbox's first), counting it
// there and out of the one it was in.
func (t *Task) setIPCNamespace(ns *IPCNamespace) {
	if ns == t.k.ipcRoot {
		ns = nil
	}
	if ns != nil {
		ns.Hold()
	}
	if old := t.ipcNS.Swap(ns); old != nil {
		old.Unhold()
	}
}

// Hold implements nsfs.Holder: a task in the namespace, or a bind mount
// of its file, keeps it.
func (ns *IPCNamespace) Hold() { ns.users.Add(1) }

// Unhold implements nsfs.Holder: the last user out of a namespace made
// at run time removes its objects and its queues' names (an mqueue mount
// or an open queue keeps a queue until it goes).
func (ns *IPCNamespace) Unhold() {
	if ns.users.Add(-1) != 0 || ns.initial {
		return
	}
	ns.sysv.RemoveAll()
	if mq := ns.mq.Load(); mq != nil {
		mq.UnlinkAll()
	}
}

// unshareIPC gives t an empty IPC namespace of its own.
func (t *Task) unshareIPC() {
	ns := newIPCNamespace(t.k, nsInumBase+nextNSInum.Add(1))
	t.setIPCNamespace(ns)
}

// mqueueOf is the message queue filesystem a mount of type mqueue shows:
// the mounting task's namespace's.
func (k *Kernel) mqueueOf(ctx vfs.Context) *mqueue.FS {
	if t, ok := ctx.(*Task); ok {
		return t.IPCNamespace().Mqueue()
	}
	return k.ipcRoot.Mqueue()
}

// MqueueType is the mqueue filesystem type to register: each mount shows
// the queues of the mounter's IPC namespace.
func (k *Kernel) MqueueType() vfs.FilesystemType { return mqueue.Type{Of: k.mqueueOf} }
