// Package ipc is System V IPC: an IPC namespace and the shared-memory
// segments (shmget, shmat, shmdt, shmctl), semaphore sets (semget, semop,
// semctl; sem.go) and message queues (msgget, msgsnd, msgrcv, msgctl;
// msg.go) in it, with Linux's keys, ids, permissions, limits and
// lifetimes.
//
// A segment's memory is an mm.AnonObject, the same object that backs a
// MAP_SHARED|MAP_ANONYMOUS mapping, so a segment is paged, forked and
// unmapped exactly as shared anonymous memory is. Two things keep its
// pages alive, as on Linux (ipc/shm.c):
//
//   - its id: from shmget until IPC_RMID the namespace holds the object
//     (AnonObject.Hold), so an unattached segment keeps its contents;
//   - its attachments: every mapping of it (shmat, inherited by fork,
//     split by mprotect) is a mapping of the object.
//
// IPC_RMID drops the id's hold at once. When nothing is attached the
// segment goes then; otherwise it is marked SHM_DEST, its key becomes
// IPC_PRIVATE (no shmget finds it), its id keeps working for shmat and
// shmctl, and its pages go back to the memory file with the last
// mapping, whether that is a shmdt, a munmap or an exit. The namespace
// forgets such a segment's id lazily, the next time it looks at it with
// nothing attached: an id is only ever looked at under the namespace's
// lock, so nobody can tell the difference.
//
// Semaphore sets, undo records and queued messages live in uk's heap:
// each is charged to the sandbox's memory budget while the namespace
// holds it, on top of Linux's per-namespace limits.
//
// A request that blocks (semop, msgsnd, msgrcv) sleeps through its
// Caller's Block, without the namespace's lock; whoever completes it
// (another semop, a msgsnd) does its work for it under the lock and
// closes its channel, as Linux's wake queues do.
//
// Lock order: the namespace's lock is taken with no address-space (MM)
// lock held, and an object's locks may be taken under it. A segment's
// mapping hooks (AddMapping, RemoveMapping), which the MM calls under its
// own lock, never take the namespace's lock.
package ipc

import (
	"sync"
	"time"

	"uk/fs/vfs"
	"uk/kernel/memfile"
)

// charger is what the namespace charges its heap objects to: the memory
// file's budget, or the test's. It needs no lock: both are fixed.
func (ns *Namespace) charger() vfs.Charger {
	if ns.budget != nil {
		return ns.budget
	}
	if ns.mf != nil {
		return ns.mf
	}
	return vfs.Unlimited{}
}

// Namespace is an IPC namespace: the System V objects that processes in
// it share by key or id. uk has one per sandbox.
type Namespace struct {
	mf *memfile.File // where segments' pages come from; nil in tests of the registry alone

	// budget, when set, is charged instead of mf (tests).
	budget vfs.Charger

	mu  sync.Mutex
	shm shmRegistry // protected by mu
	sem semRegistry // protected by mu
	msg msgRegistry // protected by mu
}

// NewNamespace returns an empty namespace whose segments take their pages
// from mf.
func NewNamespace(mf *memfile.File) *Namespace {
	ns := &Namespace{mf: mf}
	ns.shm.init()
	ns.sem.init()
	ns.msg.init()
	return ns
}

// Caller is the task making a request, as the IPC checks see it.
type Caller struct {
	// Creds are its credentials: the effective uid and the groups decide
	// access; Privileged stands for CAP_IPC_OWNER, CAP_SYS_ADMIN and
	// CAP_IPC_LOCK.
	Creds *vfs.Credentials
	// PID is its process (thread group) id, what shm_cpid and shm_lpid
	// record.
	PID int32
	// MemlockLimit is its RLIMIT_MEMLOCK soft limit in bytes (SHM_LOCK).
	MemlockLimit uint64
	// Block puts the task to sleep for semop, msgsnd and msgrcv. It
	// returns nil once ch is closed or ready, unix.ETIMEDOUT once the
	// deadline passes (a zero deadline never does), and any other error
	// when the task has a signal to handle or must exit. It may also
	// return nil early: callers look again at why they slept.
	Block func(ch <-chan struct{}, deadline time.Time) error
}

// Access bits requested of an object, as in its mode (S_IROTH, S_IWOTH,
// S_IXOTH); ipcperms spreads them to the owner and group classes.
const (
	MayRead  = 4
	MayWrite = 2
	MayExec  = 1
)

// allows is Linux's ipcperms: the caller gets the owner's bits when its
// effective uid is the owner or the creator, else the group's when it is
// in the owner's or the creator's group, else the others'. flag holds
// permission bits of any class (shmget passes its mode, shmat S_IRUGO and
// so on); every class asked for is checked against the one granted.
func (p *Perm) allows(c *vfs.Credentials, flag uint32) bool {
	requested := (flag>>6 | flag>>3 | flag) & 7
	granted := p.Mode
	switch {
	case c.EUID == p.CUID || c.EUID == p.UID:
		granted >>= 6
	case c.InGroup(p.CGID) || c.InGroup(p.GID):
		granted >>= 3
	}
	return requested&^granted&7 == 0 || c.Privileged
}

// mayChange is the check of IPC_SET and IPC_RMID (ipcctl_obtain_check):
// the owner, the creator, or CAP_SYS_ADMIN.
func (p *Perm) mayChange(c *vfs.Credentials) bool {
	return c.EUID == p.CUID || c.EUID == p.UID || c.Privileged
}

// now is the time the IPC timestamps record, in seconds.
func now() int64 { return time.Now().Unix() }

// RemoveAll removes every object of the namespace, as IPC_RMID by root
// would (Linux's free_ipcs when the namespace's last task is gone): a
// segment still attached goes with its last mapping, sleepers in semop,
// msgsnd and msgrcv wake with EIDRM.
func (ns *Namespace) RemoveAll() {
	c := Caller{Creds: vfs.RootCredentials()}
	for _, s := range ns.ShmSegments() {
		ns.ShmRemove(c, s.ID)
	}
	for _, s := range ns.SemSets() {
		ns.SemRemove(c, s.ID)
	}
	for _, q := range ns.MsgQueues() {
		ns.MsgRemove(c, q.ID)
	}
}
