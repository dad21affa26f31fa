// Package fanotify implements fanotify(7) groups for uk: the file
// fanotify_init returns, its marks (on an inode, a mount or a whole
// filesystem, each with an event mask and an ignore mask), and the queue
// of events read(2) returns, each with a new descriptor of the file the
// event is about, as Linux's fs/notify/fanotify does for a group that
// reports descriptors (not file handles).
//
// The events come from the VFS (vfs.FanotifyGroup): opens (of programs
// run too), reads, writes and closes of files, made through uk, and in a
// group of a content class the permission events, asked before an open,
// a read or an exec, which waits until the listener writes its answer. A
// group hears only these file events: the directory-entry events need a
// group that reports file handles (FAN_REPORT_FID and the like), which uk
// does not make (EINVAL, as on a kernel built without them).
package fanotify

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
)

// fanotify_init flags.
const (
	FlagCloexec        = 0x1
	FlagNonblock       = 0x2
	classNotif         = 0x0
	classContent       = 0x4
	classPreContent    = 0x8
	classBits          = classNotif | classContent | classPreContent
	flagUnlimitedQueue = 0x10
	flagUnlimitedMarks = 0x20
	flagEnableAudit    = 0x40
	flagReportPidfd    = 0x80
	flagReportTID      = 0x100
	flagReportFID      = 0x200
	flagReportDirFID   = 0x400
	flagReportName     = 0x800
	flagReportTarget   = 0x1000
	flagReportFDError  = 0x2000
	// initKnown are the flags Linux knows; initHandled those uk
	// implements (the rest is EINVAL, as on a kernel without them).
	initKnown = FlagCloexec | FlagNonblock | classBits | flagUnlimitedQueue | flagUnlimitedMarks |
		flagEnableAudit | flagReportPidfd | flagReportTID | flagReportFID | flagReportDirFID |
		flagReportName | flagReportTarget | flagReportFDError
	initHandled = FlagCloexec | FlagNonblock | classBits | flagUnlimitedQueue | flagUnlimitedMarks | flagReportTID
)

// fanotify_mark flags.
const (
	markAdd               = 0x1
	markRemove            = 0x2
	markDontFollow        = 0x4
	markOnlyDir           = 0x8
	markMount             = 0x10
	markIgnoredMask       = 0x20
	markIgnoredSurvModify = 0x40
	markFlush             = 0x80
	markFilesystem        = 0x100
	markEvictable         = 0x200
	markIgnore            = 0x400
	markKnown             = markAdd | markRemove | markDontFollow | markOnlyDir | markMount |
		markIgnoredMask | markIgnoredSurvModify | markFlush | markFilesystem | markEvictable | markIgnore
)

// Event mask bits beyond the file events (vfs.Fan*).
const (
	fanAttrib      = 0x4
	fanDirEvents   = 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 // moved from/to, create, delete, delete/move self
	fanQOverflow   = 0x4000
	fanFSError     = 0x8000
	fanOpenPerm    = 0x10000
	fanAccessPerm  = 0x20000
	fanExecPerm    = 0x40000
	fanPreAccess   = 0x100000
	fanRename      = 0x10000000
	fanOnChild     = 0x08000000
	fanOnDir       = 0x40000000
	fileEvents     = vfs.FanAccess | vfs.FanModify | vfs.FanCloseWrite | vfs.FanCloseNowrite | vfs.FanOpen | vfs.FanOpenExec
	permEvents     = fanOpenPerm | fanAccessPerm | fanExecPerm | fanPreAccess
	markableEvents = fileEvents | fanAttrib | fanDirEvents | fanFSError | fanRename | permEvents | fanOnChild | fanOnDir
)

// eventSize is struct fanotify_event_metadata's size; metadataVersion its
// vers field.
const (
	eventSize       = 24
	metadataVersion = 3
	noFD            = -1 // FAN_NOFD
)

// Charges to the sandbox's memory budget.
const (
	eventCharge = 96
	markCharge  = 256
)

// Limits are a sandbox's fanotify limits (/proc/sys/fs/fanotify) and what
// each user holds against them.
type Limits struct {
	MaxQueuedEvents, MaxUserGroups, MaxUserMarks int

	groups, marks vfs.UserCounts
}

// NewLimits returns Linux's defaults.
func NewLimits() *Limits {
	return &Limits{MaxQueuedEvents: 16384, MaxUserGroups: 128, MaxUserMarks: 8192}
}

// mark is what a group watches on one object: events to report, events
// to ignore, and whether the ignore mask survives a modification.
type mark struct {
	mask, ignored uint32
	survModify    bool
}

// event is one queued event; a zero path is the overflow event. A
// permission event has perm, which its answer goes to.
type event struct {
	mask uint32
	path vfs.Path
	pid  int32
	perm *permEvent
}

// permEvent is a permission event's wait for its answer: done is closed
// when allowed is set.
type permEvent struct {
	done    chan struct{}
	allowed bool
	once    sync.Once
}

// answer gives the event its answer (the first one counts).
func (pe *permEvent) answer(allowed bool) {
	pe.once.Do(func() {
		pe.allowed = allowed
		close(pe.done)
	})
}

// Group is a fanotify group's open file description. It implements
// vfs.FileImpl and vfs.FanotifyGroup.
type Group struct {
	vfs.AnonFileBase
	v          *vfs.VFS
	limits     *Limits
	uid        uint32
	budget     vfs.Charger
	flags      uint32
	eventFlags uint32 // the open flags of the descriptors events carry
	// eventCloexec: those descriptors are close-on-exec (O_CLOEXEC in
	// the event flags, which the open itself does not take).
	eventCloexec bool

	mu       sync.Mutex
	q        vfs.Queue
	events   []event // protected by mu
	overflow bool    // protected by mu
	// marks are the group's marks by what they are on (markKey).
	// Protected by mu.
	marks    map[any]*mark
	released bool  // protected by mu
	charged  int64 // protected by mu
	// waiting are the permission events read and not yet answered, by
	// the descriptor the reader got. Protected by mu.
	waiting map[int32]*permEvent
}

// New is fanotify_init(2) after the privilege check: flags and
// eventFlags (the open flags of the descriptors events carry) are checked
// as Linux checks them (EINVAL), and uid's groups counted (EMFILE).
func New(v *vfs.VFS, l *Limits, uid uint32, budget vfs.Charger, flags, eventFlags uint32) (*vfs.FileDescription, error) {
	if flags&^initKnown != 0 || flags&classBits == classBits {
		return nil, unix.EINVAL
	}
	const eventFlagsKnown = unix.O_ACCMODE | unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_SYNC |
		unix.O_NOATIME | unix.O_CLOEXEC | vfs.OLargeFile
	if eventFlags&^eventFlagsKnown != 0 || eventFlags&unix.O_ACCMODE == unix.O_ACCMODE {
		return nil, unix.EINVAL
	}
	if flags&flagReportPidfd != 0 && flags&flagReportTID != 0 {
		return nil, unix.EINVAL
	}
	if flags&^initHandled != 0 {
		return nil, unix.EINVAL
	}
	if !l.groups.Take(uid, l.MaxUserGroups) {
		return nil, unix.EMFILE
	}
	g := &Group{v: v, limits: l, uid: uid, budget: budget, flags: flags, eventFlags: eventFlags &^ unix.O_CLOEXEC, eventCloexec: eventFlags&unix.O_CLOEXEC != 0,
		marks: map[any]*mark{}}
	st := uint32(unix.O_RDWR)
	if flags&FlagNonblock != 0 {
		st |= unix.O_NONBLOCK
	}
	v.AddFanotifyGroup(g)
	return vfs.NewFileDescription(g, st, vfs.Path{}, vfs.FileOptions{}), nil
}

// Of returns the group behind a description, or nil.
func Of(fd *vfs.FileDescription) *Group {
	g, _ := fd.Impl().(*Group)
	return g
}

// Name is what /proc/PID/fd/N links to.
func (g *Group) Name() string { return "anon_inode:[fanotify]" }

// MarkType returns the object flags selects: 0 (the inode), markMount or
// markFilesystem; EINVAL for both.
func MarkType(flags uint32) (uint32, error) {
	t := flags & (markMount | markFilesystem)
	if t == markMount|markFilesystem {
		return 0, unix.EINVAL
	}
	return t, nil
}

// CheckMark validates fanotify_mark's flags and mask before the group and
// the path are looked up, as Linux's do_fanotify_mark.
func CheckMark(flags uint32, mask uint64) error {
	if mask>>32 != 0 || flags&^markKnown != 0 {
		return unix.EINVAL
	}
	typ, err := MarkType(flags)
	if err != nil {
		return err
	}
	switch flags & (markAdd | markRemove | markFlush) {
	case markAdd, markRemove:
		if mask == 0 {
			return unix.EINVAL
		}
	case markFlush:
		if flags&^(markFlush|typ) != 0 {
			return unix.EINVAL
		}
	default:
		return unix.EINVAL
	}
	if uint32(mask)&^markableEvents != 0 {
		return unix.EINVAL
	}
	if flags&(markEvictable|markIgnore) != 0 {
		return unix.EINVAL // not in uk (as before Linux 5.19 and 6.0)
	}
	return nil
}

// Flush reports whether flags ask to remove every mark of a type, and
// Follow whether the mark's path is followed if it is a symlink, OnlyDir
// whether it must be a directory.
func Flush(flags uint32) bool   { return flags&markFlush != 0 }
func Follow(flags uint32) bool  { return flags&markDontFollow == 0 }
func OnlyDir(flags uint32) bool { return flags&markOnlyDir != 0 }

// CheckEvents checks a mark's events against the group, before its path
// is looked up: permission events need a group of a content class; the
// events of directory entries and attributes need a group that reports
// file handles, which uk does not make (EINVAL, as on a kernel built
// without them), and FAN_PRE_ACCESS one of the pre-content class, which
// uk does not have either.
func (g *Group) CheckEvents(mask uint32) error {
	if mask&permEvents != 0 && g.flags&classBits == classNotif {
		return unix.EINVAL
	}
	if mask&(fanAttrib|fanDirEvents|fanFSError|fanRename|fanPreAccess) != 0 {
		return unix.EINVAL
	}
	return nil
}

// Mark is fanotify_mark(2) on the resolved p, after CheckMark: FAN_MARK_ADD
// adds mask to the event (or with FAN_MARK_IGNORED_MASK the ignore) mask
// of the mark, made if needed (ENOSPC beyond the user's marks), and
// FAN_MARK_REMOVE takes it away (ENOENT without a mark), dropping a mark
// left empty; FAN_MARK_FLUSH drops every mark of the type.
func (g *Group) Mark(flags uint32, mask uint32, p vfs.Path) error {
	typ, _ := MarkType(flags)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released {
		return unix.EBADF
	}
	if flags&markFlush != 0 {
		n := 0
		for k := range g.marks {
			if markTypeOf(k) == typ {
				delete(g.marks, k)
				n++
			}
		}
		g.dropMarksLocked(n)
		return nil
	}
	key := markKey(typ, p)
	m := g.marks[key]
	if flags&markRemove != 0 {
		if m == nil {
			return unix.ENOENT
		}
		if flags&markIgnoredMask != 0 {
			m.ignored &^= mask
		} else {
			m.mask &^= mask
		}
		if m.mask == 0 && m.ignored == 0 {
			delete(g.marks, key)
			g.dropMarksLocked(1)
		}
		return nil
	}
	if m == nil {
		if g.flags&flagUnlimitedMarks == 0 && !g.limits.marks.Take(g.uid, g.limits.MaxUserMarks) {
			return unix.ENOSPC
		}
		if !g.budget.Charge(markCharge) {
			if g.flags&flagUnlimitedMarks == 0 {
				g.limits.marks.Give(g.uid, 1)
			}
			return unix.ENOMEM
		}
		m = &mark{}
		g.marks[key] = m
	}
	if flags&markIgnoredMask != 0 {
		m.ignored |= mask
		if flags&markIgnoredSurvModify != 0 {
			m.survModify = true
		}
	} else {
		m.mask |= mask
	}
	return nil
}

// markKey is what a mark of type typ (MarkType) on p is on: p's inode,
// mount or filesystem, whose distinct types keep the three kinds apart.
func markKey(typ uint32, p vfs.Path) any {
	switch typ {
	case markMount:
		return p.Mount
	case markFilesystem:
		return p.Dentry.Superblock()
	}
	return p.Dentry.Inode()
}

// markTypeOf is the type of a mark with key k.
func markTypeOf(k any) uint32 {
	switch k.(type) {
	case *vfs.Mount:
		return markMount
	case *vfs.Superblock:
		return markFilesystem
	}
	return 0
}

// dropMarksLocked gives back what n marks held.
//
// Preconditions: g.mu is held.
func (g *Group) dropMarksLocked(n int) {
	if n == 0 {
		return
	}
	if g.flags&flagUnlimitedMarks == 0 {
		g.limits.marks.Give(g.uid, n)
	}
	g.budget.Uncharge(int64(n) * markCharge)
}

// FileEvent implements vfs.FanotifyGroup: the events of mask the marks on
// the file, its directory (with FAN_EVENT_ON_CHILD), its mount and its
// filesystem ask for and do not ignore are queued, merged into a recent
// event of the same file and process. A directory's
// events need FAN_ONDIR in a mark, which a group reporting descriptors
// does not report.
func (g *Group) FileEvent(mask uint32, p vfs.Path, parent vfs.Inode, isDir bool, pid, tid int32) {
	g.mu.Lock()
	if g.released {
		g.mu.Unlock()
		return
	}
	report := g.wantedLocked(mask, p, parent, isDir) & fileEvents
	if report == 0 {
		g.mu.Unlock()
		return
	}
	if g.flags&flagReportTID != 0 {
		pid = tid
	}
	queued := g.queueLocked(event{mask: report, path: p, pid: pid})
	g.mu.Unlock()
	if queued {
		g.q.Notify(vfs.EventIn)
	}
}

// wantedLocked returns the events of mask the marks on the file at p,
// its directory (with FAN_EVENT_ON_CHILD), its mount and its filesystem
// ask for and do not ignore. A directory's events need FAN_ONDIR in the
// mark. A modification clears the ignore masks that do not survive it.
//
// Preconditions: g.mu is held.
func (g *Group) wantedLocked(mask uint32, p vfs.Path, parent vfs.Inode, isDir bool) uint32 {
	var marked, ignored uint32
	consider := func(m *mark, child bool) {
		if m == nil {
			return
		}
		if child && m.mask&fanOnChild == 0 {
			return
		}
		if mask&vfs.FanModify != 0 && !m.survModify && !child {
			m.ignored = 0
		}
		ignored |= m.ignored
		if isDir && m.mask&fanOnDir == 0 {
			return
		}
		marked |= m.mask & mask
	}
	consider(g.marks[p.Dentry.Inode()], false)
	if parent != nil {
		consider(g.marks[parent], true)
	}
	consider(g.marks[p.Mount], false)
	consider(g.marks[p.Dentry.Superblock()], false)
	return marked &^ ignored
}

// Permission implements vfs.FanotifyGroup: a permission event the marks
// want is queued (never merged) and the caller waits for its answer.
// When the queue is full the access is allowed, as Linux allows it.
func (g *Group) Permission(ctx vfs.Context, perm uint32, p vfs.Path, parent vfs.Inode, isDir bool) error {
	if g.flags&classBits == classNotif {
		return nil
	}
	g.mu.Lock()
	if g.released {
		g.mu.Unlock()
		return nil
	}
	want := g.wantedLocked(perm, p, parent, isDir) & permEvents
	if want == 0 {
		g.mu.Unlock()
		return nil
	}
	pid, tid := vfs.ActorOf(ctx)
	if g.flags&flagReportTID != 0 {
		pid = tid
	}
	pe := &permEvent{done: make(chan struct{})}
	full := g.flags&flagUnlimitedQueue == 0 && len(g.events) >= g.limits.MaxQueuedEvents
	if full || !g.budget.Charge(eventCharge) {
		g.mu.Unlock()
		return nil
	}
	g.charged += eventCharge
	g.events = append(g.events, event{mask: want, path: p, pid: pid, perm: pe})
	g.mu.Unlock()
	g.q.Notify(vfs.EventIn)
	if err := ctx.Block(pe.done); err != nil {
		// Interrupted: the event stays for the listener, whose answer
		// then goes nowhere.
		return err
	}
	if !pe.allowed {
		return unix.EPERM
	}
	return nil
}

// mergeWindow is how many of the latest queued events an event may merge
// into (Linux checks the events of its hash bucket, up to 128).
const mergeWindow = 128

// queueLocked queues e, merged into a recent event of the same file and
// process if there is one, or the overflow event once the queue is full.
// It reports whether the queue changed.
//
// Preconditions: g.mu is held.
func (g *Group) queueLocked(e event) bool {
	if e.perm == nil {
		for i := len(g.events) - 1; i >= max(0, len(g.events)-mergeWindow); i-- {
			q := &g.events[i]
			if q.path == e.path && q.pid == e.pid && !q.path.IsZero() && q.perm == nil {
				q.mask |= e.mask
				return true
			}
		}
	}
	full := g.flags&flagUnlimitedQueue == 0 && len(g.events) >= g.limits.MaxQueuedEvents
	if full || !g.budget.Charge(eventCharge) {
		if g.overflow {
			return false
		}
		g.overflow = true
		g.events = append(g.events, event{mask: fanQOverflow})
		return true
	}
	g.charged += eventCharge
	g.events = append(g.events, e)
	return true
}

// installer is what a reader's Context offers to give it the descriptor
// of an event's file: the calling task's descriptor table.
type installer interface {
	InstallFile(d *vfs.FileDescription, cloexec bool) (int32, error)
}

// Read implements vfs.FileImpl: as many events as fit in dst, waiting
// for one unless non-blocking (EAGAIN), EINVAL if not one fits. Each event's file
// is opened for the reader (without events of its own) and installed in
// its descriptor table; FAN_NOFD when that fails.
func (g *Group) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	g.mu.Lock()
	if err := vfs.WaitUntil(ctx, &g.q, vfs.EventIn, &g.mu, fd.NonBlocking(), func() bool { return len(g.events) > 0 }); err != nil {
		g.mu.Unlock()
		return 0, err
	}
	if len(dst) < eventSize {
		g.mu.Unlock()
		return 0, unix.EINVAL // the event stays queued
	}
	take := min(len(g.events), len(dst)/eventSize)
	evs := append([]event(nil), g.events[:take]...)
	rest := copy(g.events, g.events[take:])
	clear(g.events[rest:])
	g.events = g.events[:rest]
	for _, e := range evs {
		if e.path.IsZero() {
			g.overflow = false
		} else {
			g.charged -= eventCharge
			g.budget.Uncharge(eventCharge)
		}
	}
	g.mu.Unlock()
	// Outside g.mu: opening takes the VFS's locks, which an event holds
	// when it takes g.mu.
	in, _ := ctx.(installer)
	for i, e := range evs {
		n := int32(noFD)
		if !e.path.IsZero() && in != nil {
			if d, err := g.v.OpenQuiet(ctx, e.path, g.eventFlags); err == nil {
				if fdn, err := in.InstallFile(d, g.eventCloexec); err == nil {
					n = fdn
				}
				d.DecRef()
			}
		}
		if e.perm != nil {
			if n == noFD {
				e.perm.answer(true) // no descriptor to answer by
			} else {
				g.mu.Lock()
				if g.released {
					e.perm.answer(true)
				} else {
					if g.waiting == nil {
						g.waiting = map[int32]*permEvent{}
					}
					g.waiting[n] = e.perm
				}
				g.mu.Unlock()
			}
		}
		b := dst[i*eventSize : (i+1)*eventSize]
		binary.LittleEndian.PutUint32(b[0:], eventSize)
		b[4] = metadataVersion
		b[5] = 0
		binary.LittleEndian.PutUint16(b[6:], eventSize)
		binary.LittleEndian.PutUint64(b[8:], uint64(e.mask))
		binary.LittleEndian.PutUint32(b[16:], uint32(n))
		binary.LittleEndian.PutUint32(b[20:], uint32(e.pid))
	}
	return len(evs) * eventSize, nil
}

// Responses to permission events (struct fanotify_response's response).
const (
	responseAllow = 0x01
	responseDeny  = 0x02
	responseAudit = 0x10
	responseSize  = 8
)

// Write implements vfs.FileImpl: the answer to one permission event
// (struct fanotify_response: the descriptor the event came with, then
// FAN_ALLOW or FAN_DENY). EINVAL for a short write or an answer that is
// neither, ENOENT for a descriptor no waiting event has; it returns the
// whole count, as Linux does.
func (g *Group) Write(_ vfs.Context, _ *vfs.FileDescription, src []byte, _ int64) (int, error) {
	if g.flags&classBits == classNotif || len(src) < responseSize {
		return 0, unix.EINVAL
	}
	fd := int32(binary.LittleEndian.Uint32(src[0:]))
	resp := binary.LittleEndian.Uint32(src[4:])
	if resp&responseAudit != 0 && g.flags&flagEnableAudit == 0 {
		return 0, unix.EINVAL
	}
	switch resp &^ responseAudit {
	case responseAllow, responseDeny:
	default:
		return 0, unix.EINVAL
	}
	if fd < 0 {
		return 0, unix.EINVAL
	}
	g.mu.Lock()
	pe := g.waiting[fd]
	delete(g.waiting, fd)
	g.mu.Unlock()
	if pe == nil {
		return 0, unix.ENOENT
	}
	pe.answer(resp&^responseAudit == responseAllow)
	return len(src), nil
}

// Ioctl implements vfs.FileImpl: FIONREAD is the size of the queued events.
func (g *Group) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	if cmd != vfs.IoctlFIONREAD {
		return 0, unix.ENOTTY
	}
	g.mu.Lock()
	n := len(g.events) * eventSize
	g.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return 0, ctx.CopyOut(arg, b[:])
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (g *Group) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// Readiness implements vfs.FileImpl: readable while events are queued.
func (g *Group) Readiness(mask vfs.EventMask) vfs.EventMask {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.events) > 0 {
		return vfs.EventIn & mask
	}
	return 0
}

// EventRegister implements vfs.FileImpl.
func (g *Group) EventRegister(w *vfs.Waiter) { g.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (g *Group) EventUnregister(w *vfs.Waiter) { g.q.Unregister(w) }

// Release implements vfs.FileImpl: the group stops listening and gives
// back its marks, its queue and the user's count.
func (g *Group) Release() {
	g.v.RemoveFanotifyGroup(g)
	g.mu.Lock()
	g.released = true
	// Whoever waits for an answer gets an allow.
	for _, e := range g.events {
		if e.perm != nil {
			e.perm.answer(true)
		}
	}
	for _, pe := range g.waiting {
		pe.answer(true)
	}
	g.waiting = nil
	g.dropMarksLocked(len(g.marks))
	clear(g.marks)
	g.events = nil
	g.budget.Uncharge(g.charged)
	g.charged = 0
	g.mu.Unlock()
	g.limits.groups.Give(g.uid, 1)
	g.q.Notify(vfs.EventMask(0x4000)) // POLLFREE: epoll drops its entries
}
