// Package mqueue implements POSIX message queues for uk, as Linux's
// ipc/mqueue.c: the queues of one IPC namespace (FS), each a file of the
// mqueue filesystem that mq_open(2) reaches by name and mount(2) shows
// (mount -t mqueue none /dev/mqueue); their messages, ordered by
// priority and FIFO within one; blocking sends and receives handed
// directly between waiting partners; mq_notify's registrations; and
// /proc/sys/fs/mqueue's limits.
//
// Invariants: a queue's state (messages, waiters, notification) is
// guarded by its own lock, the namespace's names and counts by FS.mu,
// never both in the other order (FS.mu may be held while a queue's lock
// is taken, not the reverse). Every queued byte is charged to the
// sandbox's memory budget of the sender and given back when the message
// is received or the queue goes; a queue's fixed cost is charged to its
// creator's until then.
package mqueue

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Magic is the mqueue filesystem's statfs type (MQUEUE_MAGIC).
const Magic = 0x19800202

// Linux's directory sizes in the mqueue filesystem: the root reports
// 2*direntSize plus direntSize per queue, a queue reports filentSize.
const (
	direntSize = 20
	filentSize = 80
)

// queueCost is what a queue itself is charged to the memory budget (its
// inode, lists and bookkeeping), whatever it holds.
const queueCost = 1024

// FS is the mqueue filesystem of one IPC namespace: its queues by name and
// its limits. It implements vfs.Filesystem; every mount of the type shows
// this one instance, as Linux keys the superblock by the namespace.
type FS struct {
	// Limits are /proc/sys/fs/mqueue.
	Limits *Limits

	root *dir

	mu     sync.Mutex
	queues map[string]*Queue // linked queues by name; protected by mu
	// count is the number of queues alive (linked or still open), what
	// queues_max bounds (Linux's mq_queues_count); protected by mu.
	count uint64
	// userBytes is what each creator's real uid has reserved of its
	// RLIMIT_MSGQUEUE (Linux's UCOUNT_RLIMIT_MSGQUEUE); protected by mu.
	userBytes map[uint32]uint64
	// nextSeq orders directory entries: each queue takes the next value
	// as its directory offset; protected by mu.
	nextSeq int64

	nextIno atomic.Uint64
}

// New returns an empty namespace with Linux's default limits.
func New() *FS {
	now := nowTS()
	f := &FS{Limits: NewLimits(), queues: make(map[string]*Queue), userBytes: make(map[uint32]uint64),
		nextSeq: vfs.FirstDirentOffset}
	f.root = &dir{fs: f, ino: f.nextIno.Add(1), mode: unix.S_IFDIR | 0o1777, atime: now, mtime: now, ctime: now}
	return f
}

// Type is the "mqueue" filesystem type: mounting it shows the queues Of
// gives for the mounting task (its IPC namespace's).
type Type struct{ Of func(ctx vfs.Context) *FS }

// NewFilesystem implements vfs.FilesystemType: the namespace's one
// instance, whatever the source and options.
func (t Type) NewFilesystem(ctx vfs.Context, _ *vfs.VFS, _ string, _ uint64, _ string) (vfs.Filesystem, error) {
	return t.Of(ctx), nil
}

// Root implements vfs.Filesystem.
func (f *FS) Root() vfs.DirInode { return f.root }

// Statfs implements vfs.Filesystem as Linux's simple_statfs.
func (f *FS) Statfs(vfs.Context) (vfs.Statfs, error) {
	return vfs.Statfs{Type: Magic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}, nil
}

// nowTS is the current time as a timestamp.
func nowTS() unix.Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }

// checkName applies Linux's lookup_one_len and simple_lookup to a name
// given to mq_open or mq_unlink (glibc has already taken the leading '/'
// away): EACCES for an empty name, "." or "..", or one holding '/';
// ENAMETOOLONG past NAME_MAX.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." {
		return unix.EACCES
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return unix.EACCES
		}
	}
	if len(name) > NameMax {
		return unix.ENAMETOOLONG
	}
	return nil
}

// Attr is a queue's creation attributes (mq_attr's mq_maxmsg and
// mq_msgsize).
type Attr struct {
	MaxMsg, MsgSize int64
}

// msgTreeCost is what Linux's mqueue_get_inode reserves of
// RLIMIT_MSGQUEUE per possible message besides its bytes:
// sizeof(struct msg_msg) per message and a struct posix_msg_tree_node per
// possible priority level, 48 bytes each on x86-64.
const msgTreeCost = 48

// rlimitBytes is what a queue of a reserves of its creator's
// RLIMIT_MSGQUEUE; false on overflow.
func rlimitBytes(a Attr) (uint64, bool) {
	m, s := uint64(a.MaxMsg), uint64(a.MsgSize)
	if s > ^uint64(0)/m {
		return 0, false
	}
	tree := m*msgTreeCost + min(m, PrioMax)*msgTreeCost
	b := m * s
	if b+tree < b {
		return 0, false
	}
	return b + tree, true
}

// privileged reports whether ctx's caller has CAP_SYS_RESOURCE (uk's
// Privileged stands for root's capabilities).
func privileged(ctx vfs.Context) bool { return ctx.Credentials().Privileged }

// msgQueueLimit is the caller's RLIMIT_MSGQUEUE soft limit; contexts that
// have none (the kernel's own) are not limited.
func msgQueueLimit(ctx vfs.Context) uint64 {
	if l, ok := ctx.(interface{ MsgQueueLimit() uint64 }); ok {
		return l.MsgQueueLimit()
	}
	return ^uint64(0)
}

// createLocked makes the queue name (which does not exist) in the order
// of Linux's mqueue_create_attr and mqueue_get_inode: ENOSPC past
// queues_max (unless privileged), EINVAL for attributes out of range
// (nil: the defaults), EOVERFLOW, EMFILE past the creator's
// RLIMIT_MSGQUEUE, ENOMEM when the memory budget is spent. mode is the
// permission bits (umask applied).
func (f *FS) createLocked(ctx vfs.Context, name string, mode uint32, attr *Attr) (*Queue, error) {
	lim := f.Limits
	if f.count >= lim.queuesMaxCount() && !privileged(ctx) {
		return nil, unix.ENOSPC
	}
	a := Attr{MaxMsg: int64(lim.msgDefault.Load()), MsgSize: int64(lim.msgsizeDefault.Load())}
	if attr != nil {
		a = *attr
	}
	if a.MaxMsg <= 0 || a.MsgSize <= 0 {
		return nil, unix.EINVAL
	}
	if privileged(ctx) {
		if a.MaxMsg > HardMsgMax || a.MsgSize > HardMsgsizeMax {
			return nil, unix.EINVAL
		}
	} else if a.MaxMsg > int64(lim.msgMax.Load()) || a.MsgSize > int64(lim.msgsizeMax.Load()) {
		return nil, unix.EINVAL
	}
	bytes, ok := rlimitBytes(a)
	if !ok {
		return nil, unix.EOVERFLOW
	}
	c := ctx.Credentials()
	if used := f.userBytes[c.UID]; used+bytes < used || used+bytes > msgQueueLimit(ctx) {
		return nil, unix.EMFILE
	}
	budget := vfs.ChargerOf(ctx)
	if !budget.Charge(queueCost) {
		return nil, unix.ENOMEM
	}
	f.userBytes[c.UID] += bytes
	f.count++
	now := nowTS()
	q := &Queue{fs: f, name: name, ino: f.nextIno.Add(1), seq: f.nextSeq, attr: a,
		creator: c.UID, rlimBytes: bytes, budget: budget, linked: true,
		mode: unix.S_IFREG | mode&0o7777, uid: c.FSUID, gid: c.FSGID, atime: now, mtime: now, ctime: now}
	f.nextSeq++
	f.queues[name] = q
	f.root.changed(now)
	return q, nil
}

// freeLocked gives back what a queue that is gone for good held of the
// namespace: its place under queues_max and its RLIMIT_MSGQUEUE bytes.
func (f *FS) freeLocked(q *Queue) {
	f.count--
	if f.userBytes[q.creator] -= q.rlimBytes; f.userBytes[q.creator] == 0 {
		delete(f.userBytes, q.creator)
	}
}

// Open is mq_open(2) on the name glibc passes (without the leading '/'):
// it finds or creates the queue and opens it, with Linux's checks in
// Linux's order (see checkName, createLocked; then ENOENT without
// O_CREAT, EEXIST with O_CREAT|O_EXCL, EINVAL for the access mode
// O_WRONLY|O_RDWR of an existing queue, EACCES). The description's flags
// are oflag without the creation flags; mode is the creation mode
// (umask applied here), attr the attributes of a new queue (nil: the
// defaults). It returns a description with one reference.
func (f *FS) Open(ctx vfs.Context, name string, oflag, mode uint32, attr *Attr) (*vfs.FileDescription, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	q := f.queues[name]
	if q == nil {
		if oflag&unix.O_CREAT == 0 {
			f.mu.Unlock()
			return nil, unix.ENOENT
		}
		// vfs_mkobj's may_create: the root directory may have been
		// chmod'ed through a mount.
		if err := f.root.mayCreate(ctx); err != nil {
			f.mu.Unlock()
			return nil, err
		}
		var err error
		if q, err = f.createLocked(ctx, name, mode&^ctx.Umask(), attr); err != nil {
			f.mu.Unlock()
			return nil, err
		}
	} else {
		if oflag&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
			f.mu.Unlock()
			return nil, unix.EEXIST
		}
		acc := oflag & unix.O_ACCMODE
		if acc == unix.O_ACCMODE {
			f.mu.Unlock()
			return nil, unix.EINVAL
		}
		want := [...]uint32{unix.O_RDONLY: vfs.MayRead, unix.O_WRONLY: vfs.MayWrite, unix.O_RDWR: vfs.MayRead | vfs.MayWrite}[acc]
		st, _ := q.Stat(ctx)
		if err := vfs.MayAccess(ctx.Credentials(), &st, want); err != nil {
			f.mu.Unlock()
			return nil, err
		}
	}
	q.opened()
	f.mu.Unlock()
	flags := oflag &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC)
	return vfs.NewFileDescription(&File{q: q}, flags, vfs.Path{}, FileOptions), nil
}

// FileOptions are the options of a queue's descriptions: seekable, for
// read(2) of the status line at an offset.
var FileOptions = vfs.FileOptions{Seekable: true}

// Unlink is mq_unlink(2): checkName's errors, ENOENT, then Linux's
// may_delete in the sticky root directory (EACCES without write and
// search permission on it, EPERM for a queue neither the caller nor the
// directory's owner owns, unless privileged). The queue lives on while
// it is open.
func (f *FS) Unlink(ctx vfs.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[name]
	if q == nil {
		return unix.ENOENT
	}
	if err := f.root.mayDelete(ctx, q); err != nil {
		return err
	}
	f.unlinkLocked(q)
	return nil
}

// UnlinkAll takes every queue's name away (the IPC namespace holding them
// is gone); each lives on while it is open.
func (f *FS) UnlinkAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, q := range f.queues {
		f.unlinkLocked(q)
	}
}

// unlinkLocked takes q's name away.
func (f *FS) unlinkLocked(q *Queue) {
	delete(f.queues, q.name)
	f.root.changed(nowTS())
	q.unlinked()
}

// entries returns the linked queues in directory order.
func (f *FS) entries() []*Queue {
	f.mu.Lock()
	qs := make([]*Queue, 0, len(f.queues))
	for _, q := range f.queues {
		qs = append(qs, q)
	}
	f.mu.Unlock()
	sort.Slice(qs, func(i, j int) bool { return qs[i].seq < qs[j].seq })
	return qs
}
