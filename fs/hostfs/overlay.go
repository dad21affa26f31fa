package hostfs

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/memmap"
)

// overlayMagic is Linux's OVERLAYFS_SUPER_MAGIC, what statfs reports.
const overlayMagic = 0x794c7630

// upperInoBase marks inode numbers of files made in the sandbox, so they
// never equal a host file's (host numbers carry a device index of at most
// 0x7f in the top byte).
const upperInoBase = 0xfe << 56

// Overlay is a read-only host tree with a writable layer private to the
// sandbox on top, as Linux's overlayfs with a tmpfs upper directory: what
// the sandbox creates lives in memory (a hidden tmpfs), a host file is
// copied up at its first write or truncation, and a removed host name is
// hidden by a whiteout. Attribute changes (chmod, chown, utimes) of a
// host file are kept in memory without copying its data.
//
// Directories are never copied: an overlay directory is the host
// directory (through its fd, never a path) plus the names created,
// replaced or removed in it, so renaming a host directory keeps its
// contents without touching the host. A directory removed and made again
// is a new, empty one (opaque), as overlayfs.
type Overlay struct {
	lower  *FS
	hidden *tmpfs.Dir // where the upper files live, under hidden names
	seq    atomic.Uint64
	root   *ovDir
}

// NewOverlay puts a writable layer over lower, whose files it keeps in
// upper (a tmpfs that nothing else uses).
func NewOverlay(lower *FS, upper *tmpfs.FS) *Overlay {
	o := &Overlay{lower: lower, hidden: upper.Root().(*tmpfs.Dir)}
	o.root = o.newLowerDir(lower.root)
	return o
}

// Root implements vfs.Filesystem.
func (o *Overlay) Root() vfs.DirInode { return o.root }

// Statfs implements vfs.Filesystem: the host filesystem's numbers, as
// overlayfs reports its upper layer's.
func (o *Overlay) Statfs(ctx vfs.Context) (vfs.Statfs, error) {
	s, err := o.lower.Statfs(ctx)
	s.Type = overlayMagic
	return s, err
}

// Lower returns the host tree under the overlay.
func (o *Overlay) Lower() *FS { return o.lower }

func (o *Overlay) newIno() uint64 { return upperInoBase | o.seq.Add(1) }

func (o *Overlay) hiddenName() string { return "#" + strconv.FormatUint(o.seq.Add(1), 10) }

func nowTS() unix.Timespec {
	t := time.Now()
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// ovAttr are attributes the overlay keeps over a host file's: the bits
// of mask (STATX_MODE, STATX_UID, STATX_GID, STATX_ATIME, STATX_MTIME,
// STATX_CTIME) that are set override the host's.
type ovAttr struct {
	mask                uint32
	mode                uint32 // permission bits
	uid, gid            uint32
	atime, mtime, ctime unix.Timespec
}

func (a *ovAttr) apply(st *vfs.Stat) {
	if a.mask&unix.STATX_MODE != 0 {
		st.Mode = st.Mode&unix.S_IFMT | a.mode
	}
	if a.mask&unix.STATX_UID != 0 {
		st.UID = a.uid
	}
	if a.mask&unix.STATX_GID != 0 {
		st.GID = a.gid
	}
	if a.mask&unix.STATX_ATIME != 0 {
		st.Atime = a.atime
	}
	if a.mask&unix.STATX_MTIME != 0 {
		st.Mtime = a.mtime
	}
	if a.mask&unix.STATX_CTIME != 0 {
		st.Ctime = a.ctime
	}
}

func (a *ovAttr) set(req vfs.SetStat) {
	if req.Mask&unix.STATX_MODE != 0 {
		a.mode, a.mask = req.Mode&0o7777, a.mask|unix.STATX_MODE
	}
	if req.Mask&unix.STATX_UID != 0 {
		a.uid, a.mask = req.UID, a.mask|unix.STATX_UID
	}
	if req.Mask&unix.STATX_GID != 0 {
		a.gid, a.mask = req.GID, a.mask|unix.STATX_GID
	}
	if req.Mask&unix.STATX_ATIME != 0 {
		a.atime, a.mask = req.Atime, a.mask|unix.STATX_ATIME
	}
	if req.Mask&unix.STATX_MTIME != 0 {
		a.mtime, a.mask = req.Mtime, a.mask|unix.STATX_MTIME
	}
	a.ctime, a.mask = nowTS(), a.mask|unix.STATX_CTIME
}

// touch sets mtime and ctime to now (a directory whose names changed).
func (a *ovAttr) touch() {
	t := nowTS()
	a.mtime, a.ctime, a.mask = t, t, a.mask|unix.STATX_MTIME|unix.STATX_CTIME
}

// ovEnt is a name of an overlay directory: an inode, a whiteout, or a
// host name listed but not looked up yet (ino nil, not whiteout).
type ovEnt struct {
	name     string
	ino      vfs.Inode
	lino     uint64   // from the host listing, for names not looked up
	le       *listEnt // the name's place in the listing, if listed and live
	ltyp     uint8    // (the small fields last: 56 bytes, not 64, each of a tree's names)
	whiteout bool
}

// listEnt is a place in an overlay directory's listing: its offset stays
// while names come and go.
type listEnt struct {
	ent *ovEnt // nil once the name left the listing (16 bytes, not 24, each)
	off int64
}

// ovDir is an overlay directory.
type ovDir struct {
	ov    *Overlay
	lower *Dir // nil for a directory made in the sandbox

	mu       sync.Mutex
	ino      uint64 // for directories made in the sandbox
	attr     ovAttr
	subdirs  int64 // directories added (minus removed) here: the link count's change
	dead     bool
	entries  map[string]*ovEnt
	list     []*listEnt
	nextOff  int64
	listed   bool
	nRemoved int
}

func (o *Overlay) newLowerDir(l *Dir) *ovDir {
	return &ovDir{ov: o, lower: l, entries: make(map[string]*ovEnt), nextOff: vfs.FirstDirentOffset}
}

// wrap makes the overlay inode for a host inode just looked up.
func (o *Overlay) wrap(ctx vfs.Context, li vfs.Inode) (vfs.Inode, error) {
	if d, ok := li.(*Dir); ok {
		return o.newLowerDir(d), nil
	}
	st, err := li.Stat(ctx)
	if err != nil {
		return nil, err
	}
	ino, l := newLeaf(st.Mode)
	l.ov, l.lower, l.links, l.ino = o, li, 1, st.Ino
	return ino, nil
}

// newLeaf makes an overlay inode of the type of mode.
func newLeaf(mode uint32) (vfs.Inode, *ovLeaf) {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		f := &ovFile{}
		return f, &f.ovLeaf
	case unix.S_IFLNK:
		s := &ovSymlink{}
		return s, &s.ovLeaf
	}
	n := &ovNode{}
	return n, &n.ovLeaf
}

// Stat implements vfs.Inode.
func (d *ovDir) Stat(ctx vfs.Context) (vfs.Stat, error) {
	var st vfs.Stat
	if d.lower != nil {
		var err error
		if st, err = d.lower.Stat(ctx); err != nil {
			return st, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lower == nil {
		st = vfs.Stat{Mask: unix.STATX_BASIC_STATS, Ino: d.ino, Mode: unix.S_IFDIR, Nlink: 2,
			Blksize: 4096, Size: 4096}
	}
	d.attr.apply(&st)
	st.Nlink = uint64(int64(st.Nlink) + d.subdirs)
	if d.dead {
		st.Nlink = 0
	}
	return st, nil
}

// SetStat implements vfs.Inode: kept in memory.
func (d *ovDir) SetStat(_ vfs.Context, req vfs.SetStat) error {
	if req.Mask&unix.STATX_SIZE != 0 {
		return unix.EISDIR
	}
	d.mu.Lock()
	d.attr.set(req)
	d.mu.Unlock()
	return nil
}

// Open implements vfs.Inode (the VFS opens directories itself).
func (d *ovDir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.EISDIR
}

// Lookup implements vfs.DirInode: the sandbox's own names first, then the
// host's (unless a whiteout hides it).
func (d *ovDir) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	d.mu.Lock()
	e := d.entries[name]
	if e != nil && (e.whiteout || e.ino != nil) {
		d.mu.Unlock()
		if e.whiteout {
			return nil, unix.ENOENT
		}
		return e.ino, nil
	}
	if e == nil && (d.lower == nil || d.listed) {
		d.mu.Unlock()
		return nil, unix.ENOENT
	}
	typ := uint8(unix.DT_UNKNOWN)
	if e != nil {
		typ = e.ltyp // listed, not looked up yet
	}
	d.mu.Unlock()
	li, err := d.lower.lookup(name, typ)
	if err != nil {
		return nil, err
	}
	w, err := d.ov.wrap(ctx, li)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e = d.entries[name]
	switch {
	case e == nil:
		e = &ovEnt{name: name}
		d.entries[name] = e
	case e.whiteout:
		return nil, unix.ENOENT
	case e.ino != nil:
		return e.ino, nil // another lookup won
	}
	e.ino = w
	return w, nil
}

// ensureListed merges the host listing into the directory's names once.
func (d *ovDir) ensureListed() error {
	d.mu.Lock()
	if d.listed {
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	hp := hostDents.Get().(*[]hostDent)
	host := (*hp)[:0]
	defer func() {
		clear(host) // the pool must not keep the names alive
		*hp = host[:0]
		hostDents.Put(hp)
	}()
	if d.lower != nil {
		var err error
		if host, err = d.lower.names(host); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.listed {
		return nil
	}
	// The names and their places are made in one allocation each, and
	// the map and list sized once (a tree walk lists every directory).
	known := len(d.entries) // names made here or looked up before the listing
	if known == 0 {
		d.entries = make(map[string]*ovEnt, len(host))
	}
	d.list = slices.Grow(d.list, len(host))
	ents := make(slab[ovEnt], 0, len(host))
	places := make(slab[listEnt], 0, len(host))
	for _, h := range host {
		e := d.entries[h.name]
		if e == nil {
			e = ents.next()
			*e = ovEnt{name: h.name, lino: h.ino, ltyp: h.typ}
			d.entries[h.name] = e
		}
		if !e.whiteout && e.le == nil {
			d.placeLocked(e, places.next())
		}
	}
	if known > 0 {
		// Names made in the sandbox (not on the host) follow, sorted.
		var rest []string
		for name, e := range d.entries {
			if !e.whiteout && e.le == nil {
				rest = append(rest, name)
			}
		}
		sort.Strings(rest)
		for _, name := range rest {
			d.appendLocked(d.entries[name])
		}
	}
	d.listed = true
	return nil
}

// hostDents are the buffers a listing's host names pass through on their
// way into an overlay directory.
var hostDents = sync.Pool{New: func() any { s := make([]hostDent, 0, 256); return &s }}

func (d *ovDir) appendLocked(e *ovEnt) { d.placeLocked(e, new(listEnt)) }

// placeLocked puts e at the end of the listing, in le.
func (d *ovDir) placeLocked(e *ovEnt, le *listEnt) {
	*le = listEnt{ent: e, off: d.nextOff}
	e.le = le
	d.nextOff++
	d.list = append(d.list, le)
}

// unlistLocked takes e out of the listing.
func (d *ovDir) unlistLocked(e *ovEnt) {
	if e.le == nil {
		return
	}
	e.le.ent = nil
	e.le = nil
	d.nRemoved++
	if d.nRemoved > 32 && d.nRemoved > len(d.list)/2 {
		live := d.list[:0]
		for _, x := range d.list {
			if x.ent != nil {
				live = append(live, x)
			}
		}
		clear(d.list[len(live):])
		d.list, d.nRemoved = live, 0
	}
}

// IterDirents implements vfs.DirInode.
func (d *ovDir) IterDirents(ctx vfs.Context, off int64, emit func(vfs.Dirent) bool) error {
	if err := d.ensureListed(); err != nil {
		return err
	}
	type item struct {
		name string
		ino  vfs.Inode
		lino uint64
		ltyp uint8
		next int64
	}
	// In chunks, so a listing read by many calls costs its length once;
	// the chunk is on the stack (no allocation per getdents).
	var arr [64]item
	for {
		d.mu.Lock()
		i := sort.Search(len(d.list), func(i int) bool { return d.list[i].off >= off })
		batch := arr[:0]
		for _, le := range d.list[i:] {
			if len(batch) == cap(batch) {
				break
			}
			if e := le.ent; e != nil {
				batch = append(batch, item{e.name, e.ino, e.lino, e.ltyp, le.off + 1})
			}
		}
		d.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}
		for _, it := range batch {
			ino, typ := it.lino, it.ltyp
			if it.ino != nil {
				st, err := it.ino.Stat(ctx)
				if err != nil {
					continue
				}
				ino, typ = st.Ino, vfs.DirentType(st.Mode)
			}
			if !emit(vfs.Dirent{Name: it.name, Ino: ino, Type: typ, Next: it.next}) {
				return nil
			}
		}
		off = batch[len(batch)-1].next
	}
}

// existsLocked reports whether name is a live name, asking the host if it
// must (with d.mu dropped meanwhile).
func (d *ovDir) exists(ctx vfs.Context, name string) bool {
	d.mu.Lock()
	e := d.entries[name]
	known := e != nil || d.lower == nil || d.listed
	d.mu.Unlock()
	if known {
		return e != nil && !e.whiteout
	}
	_, err := d.Lookup(ctx, name)
	return err == nil
}

// addLocked makes name a live name for ino.
func (d *ovDir) addLocked(name string, ino vfs.Inode) {
	e := d.entries[name]
	if e == nil {
		e = &ovEnt{name: name}
		d.entries[name] = e
	}
	e.whiteout, e.ino = false, ino
	if d.listed && e.le == nil {
		d.appendLocked(e)
	}
	if _, ok := ino.(*ovDir); ok {
		d.subdirs++
	}
	d.attr.touch()
}

// removeLocked hides name: a whiteout where the host may have it.
func (d *ovDir) removeLocked(name string) {
	e := d.entries[name]
	if e == nil {
		return
	}
	if _, ok := e.ino.(*ovDir); ok {
		d.subdirs--
	}
	d.unlistLocked(e)
	if d.lower != nil {
		e.whiteout, e.ino = true, nil
	} else {
		delete(d.entries, name)
	}
	d.attr.touch()
}

// Create implements vfs.DirInode: directories in memory, everything else
// as a file of the hidden tmpfs.
func (d *ovDir) Create(ctx vfs.Context, name string, o vfs.CreateOptions) (vfs.Inode, error) {
	if d.exists(ctx, name) {
		return nil, unix.EEXIST
	}
	var ino vfs.Inode
	if o.Mode&unix.S_IFMT == unix.S_IFDIR {
		nd := &ovDir{ov: d.ov, ino: d.ov.newIno(), entries: make(map[string]*ovEnt), nextOff: vfs.FirstDirentOffset, listed: true}
		t := nowTS()
		nd.attr = ovAttr{mask: unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID | unix.STATX_ATIME | unix.STATX_MTIME | unix.STATX_CTIME,
			mode: o.Mode & 0o7777, uid: o.UID, gid: o.GID, atime: t, mtime: t, ctime: t}
		ino = nd
	} else {
		hidden := d.ov.hiddenName()
		ui, err := d.ov.hidden.Create(ctx, hidden, o)
		if err != nil {
			return nil, err
		}
		var l *ovLeaf
		ino, l = newLeaf(o.Mode)
		l.ov, l.upper, l.hidden, l.links, l.ino = d.ov, ui, hidden, 1, d.ov.newIno()
	}
	d.mu.Lock()
	d.addLocked(name, ino)
	d.mu.Unlock()
	return ino, nil
}

// leafOf returns the shared part of an overlay file, symlink or node.
func leafOf(ino vfs.Inode) *ovLeaf {
	switch l := ino.(type) {
	case *ovFile:
		return &l.ovLeaf
	case *ovSymlink:
		return &l.ovLeaf
	case *ovNode:
		return &l.ovLeaf
	}
	return nil
}

// Link implements vfs.DirInode: one more name for the same overlay inode
// (a host file needs no copy: both names show the same one).
func (d *ovDir) Link(ctx vfs.Context, name string, target vfs.Inode) error {
	l := leafOf(target)
	if l == nil || l.ov != d.ov {
		return unix.EXDEV
	}
	if d.exists(ctx, name) {
		return unix.EEXIST
	}
	l.mu.Lock()
	l.links++
	l.mu.Unlock()
	d.mu.Lock()
	d.addLocked(name, target)
	d.mu.Unlock()
	return nil
}

// Unlink implements vfs.DirInode.
func (d *ovDir) Unlink(ctx vfs.Context, name string, child vfs.Inode) error {
	d.mu.Lock()
	e := d.entries[name]
	if e == nil || e.whiteout || e.ino != child {
		d.mu.Unlock()
		return unix.ENOENT
	}
	if _, ok := child.(*ovDir); ok {
		d.mu.Unlock()
		return unix.EISDIR
	}
	d.removeLocked(name)
	d.mu.Unlock()
	leafOf(child).dropLink(ctx)
	return nil
}

// empty reports whether the directory has no live name.
func (d *ovDir) empty() (bool, error) {
	if err := d.ensureListed(); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.entries {
		if !e.whiteout {
			return false, nil
		}
	}
	return true, nil
}

// Rmdir implements vfs.DirInode.
func (d *ovDir) Rmdir(_ vfs.Context, name string, child vfs.Inode) error {
	c, ok := child.(*ovDir)
	if !ok {
		return unix.ENOTDIR
	}
	d.mu.Lock()
	e := d.entries[name]
	ok = e != nil && !e.whiteout && e.ino == child
	d.mu.Unlock()
	if !ok {
		return unix.ENOENT
	}
	if empty, err := c.empty(); err != nil {
		return err
	} else if !empty {
		return unix.ENOTEMPTY
	}
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	d.mu.Lock()
	d.removeLocked(name)
	d.mu.Unlock()
	return nil
}

// Rename implements vfs.DirInode: names move between overlay directories
// in memory; the host is never touched. The VFS holds its namespace lock
// for writing, so no lookup or listing runs meanwhile.
func (d *ovDir) Rename(ctx vfs.Context, oldName string, newParent vfs.DirInode, newName string, flags uint32) error {
	nd, ok := newParent.(*ovDir)
	if !ok || nd.ov != d.ov {
		return unix.EXDEV
	}
	moved, err := d.Lookup(ctx, oldName)
	if err != nil {
		return err
	}
	replaced, err := nd.Lookup(ctx, newName)
	if err != nil && err != unix.ENOENT {
		return err
	}
	if flags&unix.RENAME_EXCHANGE != 0 {
		if replaced == nil {
			return unix.ENOENT
		}
		d.mu.Lock()
		d.entries[oldName].ino = replaced
		d.attr.touch()
		_, mDir := moved.(*ovDir)
		_, rDir := replaced.(*ovDir)
		if mDir != rDir && d != nd {
			if mDir {
				d.subdirs--
			} else {
				d.subdirs++
			}
		}
		d.mu.Unlock()
		nd.mu.Lock()
		nd.entries[newName].ino = moved
		nd.attr.touch()
		if mDir != rDir && d != nd {
			if mDir {
				nd.subdirs++
			} else {
				nd.subdirs--
			}
		}
		nd.mu.Unlock()
		return nil
	}
	if replaced != nil {
		if flags&unix.RENAME_NOREPLACE != 0 {
			return unix.EEXIST
		}
		if rd, ok := replaced.(*ovDir); ok {
			if empty, err := rd.empty(); err != nil {
				return err
			} else if !empty {
				return unix.ENOTEMPTY
			}
			rd.mu.Lock()
			rd.dead = true
			rd.mu.Unlock()
		}
		nd.mu.Lock()
		nd.removeLocked(newName)
		nd.mu.Unlock()
	}
	d.mu.Lock()
	d.removeLocked(oldName)
	d.mu.Unlock()
	nd.mu.Lock()
	nd.addLocked(newName, moved)
	nd.mu.Unlock()
	if l := leafOf(replaced); l != nil {
		l.dropLink(ctx)
	}
	return nil
}

// ovLeaf is what overlay files, symlinks and nodes share: the host inode
// and, once made, the upper (tmpfs) one that replaces it.
type ovLeaf struct {
	ov     *Overlay
	mu     sync.Mutex
	lower  vfs.Inode // host inode; nil for one made in the sandbox
	upper  vfs.Inode // tmpfs inode once made; protected by mu
	hidden string    // upper's name in the hidden directory; protected by mu
	attr   ovAttr    // over lower, until upper exists; protected by mu
	links  int64     // names in the overlay; protected by mu
	ino    uint64
}

// Stat implements vfs.Inode.
func (l *ovLeaf) Stat(ctx vfs.Context) (vfs.Stat, error) {
	l.mu.Lock()
	up, links, attr := l.upper, l.links, l.attr
	l.mu.Unlock()
	if up != nil {
		st, err := up.Stat(ctx)
		st.Ino, st.Nlink = l.ino, uint64(links)
		return st, err
	}
	st, err := l.lower.Stat(ctx)
	if err != nil {
		return st, err
	}
	attr.apply(&st)
	st.Ino = l.ino
	if n := int64(st.Nlink) - 1 + links; links == 0 || n < 0 {
		st.Nlink = 0
	} else {
		st.Nlink = uint64(n)
	}
	return st, nil
}

// SetStat implements vfs.Inode: attributes of a host file are kept in
// memory; a size change copies it up first (ovFile).
func (l *ovLeaf) SetStat(ctx vfs.Context, req vfs.SetStat) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.upper != nil {
		return l.upper.SetStat(ctx, req)
	}
	if req.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	l.attr.set(req)
	return nil
}

// dropLink removes one name; the last one gives the upper file back to
// the hidden tmpfs, which frees it when nothing has it open or mapped.
func (l *ovLeaf) dropLink(ctx vfs.Context) {
	l.mu.Lock()
	l.links--
	var up vfs.Inode
	if l.links == 0 && l.upper != nil {
		up = l.upper
	}
	hidden := l.hidden
	l.mu.Unlock()
	if up != nil {
		_ = l.ov.hidden.Unlink(ctx, hidden, up)
	}
}

// ovFile is an overlay regular file: the host file until its first
// write, then a tmpfs copy of it.
type ovFile struct{ ovLeaf }

// copyUpLocked replaces the host file by a tmpfs copy (of its first size
// bytes, or all of it for size < 0), with the attributes it shows.
func (f *ovFile) copyUpLocked(ctx vfs.Context, size int64) error {
	if f.upper != nil {
		return nil
	}
	lf := f.lower.(*File)
	st, err := lf.Stat(ctx)
	if err != nil {
		return err
	}
	f.attr.apply(&st)
	hidden := f.ov.hiddenName()
	ui, err := f.ov.hidden.Create(ctx, hidden, vfs.CreateOptions{Mode: unix.S_IFREG | st.Mode&0o7777, UID: st.UID, GID: st.GID})
	if err != nil {
		return err
	}
	fail := func(err error) error {
		_ = f.ov.hidden.Unlink(ctx, hidden, ui)
		return err
	}
	if size < 0 || size > st.Size {
		size = st.Size
	}
	if size > 0 {
		var hst unix.Stat_t
		fd, err := lf.openHost(unix.O_RDONLY, &hst)
		if err != nil {
			return fail(err)
		}
		err = ui.(*tmpfs.Regular).FillFromHost(fd, size)
		unix.Close(fd)
		if err != nil {
			return fail(err)
		}
	}
	if err := ui.SetStat(ctx, vfs.SetStat{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: st.Atime, Mtime: st.Mtime}); err != nil {
		return fail(err)
	}
	f.upper, f.hidden = ui, hidden
	return nil
}

// SetStat implements vfs.Inode: a truncation copies the file up first
// (only what the new size keeps).
func (f *ovFile) SetStat(ctx vfs.Context, req vfs.SetStat) error {
	if req.Mask&unix.STATX_SIZE != 0 {
		f.mu.Lock()
		err := f.copyUpLocked(ctx, req.Size)
		f.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return f.ovLeaf.SetStat(ctx, req)
}

// Open implements vfs.Inode: opening for writing copies the file up;
// reading a file not copied reads the host's.
func (f *ovFile) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	f.mu.Lock()
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		if err := f.copyUpLocked(ctx, -1); err != nil {
			f.mu.Unlock()
			return nil, vfs.FileOptions{}, err
		}
	}
	up, low := f.upper, f.lower
	f.mu.Unlock()
	if up != nil {
		return up.Open(ctx, flags)
	}
	return low.Open(ctx, flags)
}

// Mappable returns the pages mmap and the ELF loader map: the copy's once
// there is one, else the host file's cache.
func (f *ovFile) Mappable() memmap.Mappable {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upper != nil {
		return f.upper.(*tmpfs.Regular)
	}
	return f.lower.(*File)
}

// ovSymlink is an overlay symbolic link.
type ovSymlink struct{ ovLeaf }

// Open implements vfs.Inode (links are never opened).
func (s *ovSymlink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}

// Readlink implements vfs.SymlinkInode.
func (s *ovSymlink) Readlink(ctx vfs.Context) (string, error) {
	s.mu.Lock()
	ino := s.upper
	s.mu.Unlock()
	if ino == nil {
		ino = s.lower
	}
	return ino.(vfs.SymlinkInode).Readlink(ctx)
}

// ovNode is an overlay device node, FIFO or socket (the VFS opens them).
type ovNode struct{ ovLeaf }

// Open implements vfs.Inode.
func (n *ovNode) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}
