package tmpfs

import (
	"sort"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// bogoDirentSize is what Linux tmpfs adds to a directory's size per entry
// (and twice for "." and ".."), so `ls -ld` shows the same sizes.
const bogoDirentSize = 20

// Dir is a tmpfs directory. Entries keep the offset they were given when
// added, so getdents offsets stay valid while the directory changes.
type Dir struct {
	attrs
	entries map[string]*entry // protected by mu
	list    []*entry          // in offset order, may hold removed entries; protected by mu
	removed int               // removed entries still in list; protected by mu
	nextOff int64             // protected by mu
}

type entry struct {
	name    string
	ino     inode
	off     int64
	removed bool
	charged int64 // what the entry holds of the sandbox's budget (entryCost)
}

// entryBase is what a directory entry is charged besides its name: the
// entry, its place in the directory's map and list, and a share of the
// inode it names (a file, directory or link costs uk about 300-600
// bytes; a million of them took uk past 570 MB uncharged).
const entryBase = 512

// entryCost is what an entry called name is charged; target is the
// symbolic link's it names, if it names one (Linux keeps a long target
// in a page of the filesystem's).
func entryCost(name, target string) int64 { return int64(entryBase + len(name) + len(target)) }

// linkTarget is ino's target if it is a symbolic link, else "".
func linkTarget(ino inode) string {
	if l, ok := ino.(*Symlink); ok {
		return l.target
	}
	return ""
}

func (fs *FS) newDir(o vfs.CreateOptions) *Dir {
	d := &Dir{entries: make(map[string]*entry), nextOff: vfs.FirstDirentOffset}
	fs.initAttrs(&d.attrs, o, 2)
	return d
}

// Stat implements vfs.Inode.
func (d *Dir) Stat(vfs.Context) (vfs.Stat, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.statLocked()
	s.Size = int64(bogoDirentSize * (2 + len(d.entries)))
	return s, nil
}

// SetStat implements vfs.Inode; a size change is EISDIR.
func (d *Dir) SetStat(_ vfs.Context, req vfs.SetStat) error {
	if req.Mask&unix.STATX_SIZE != 0 {
		return unix.EISDIR
	}
	d.mu.Lock()
	d.setAttrsLocked(req)
	d.mu.Unlock()
	return nil
}

// Open implements vfs.Inode (the VFS opens directories itself).
func (d *Dir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.EISDIR
}

func (d *Dir) dropped() {}

// Lookup implements vfs.DirInode.
func (d *Dir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[name]
	if !ok {
		return nil, unix.ENOENT
	}
	return e.ino, nil
}

// addLocked adds name → ino, holding charged of the budget (which the
// caller charged: fs.charge), and updates the directory times.
func (d *Dir) addLocked(name string, ino inode, charged int64) {
	e := &entry{name: name, ino: ino, off: d.nextOff, charged: charged}
	d.nextOff++
	d.entries[name] = e
	d.list = append(d.list, e)
	t := now()
	d.mtime, d.ctime = t, t
}

func (d *Dir) removeLocked(name string) {
	e := d.entries[name]
	d.fs.uncharge(e.charged)
	delete(d.entries, name)
	e.removed = true
	d.removed++
	if d.removed > 32 && d.removed > len(d.list)/2 {
		live := d.list[:0]
		for _, x := range d.list {
			if !x.removed {
				live = append(live, x)
			}
		}
		clear(d.list[len(live):])
		d.list, d.removed = live, 0
	}
	t := now()
	d.mtime, d.ctime = t, t
}

// Create implements vfs.DirInode.
func (d *Dir) Create(_ vfs.Context, name string, o vfs.CreateOptions) (vfs.Inode, error) {
	fs := d.fs
	if uint64(fs.inodes.Load()) >= fs.maxInodes {
		return nil, unix.ENOSPC
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return nil, unix.EEXIST
	}
	// Charged before the inode exists: a full budget leaves nothing made
	// (ENOSPC, as Linux's shmem_get_inode when no inode can be had).
	var target string
	if o.Mode&unix.S_IFMT == unix.S_IFLNK {
		target = o.Target
	}
	cost := entryCost(name, target)
	if !fs.charge(cost) {
		return nil, unix.ENOSPC
	}
	var ino inode
	switch o.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		ino = fs.newDir(o)
		d.nlink++
	case unix.S_IFREG:
		ino = fs.newRegular(o)
	case unix.S_IFLNK:
		ino = fs.newSymlink(o)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
		ino = fs.newNode(o)
	default:
		fs.uncharge(cost)
		return nil, unix.EINVAL
	}
	d.addLocked(name, ino, cost)
	return ino, nil
}

// Link implements vfs.DirInode.
func (d *Dir) Link(_ vfs.Context, name string, target vfs.Inode) error {
	t, ok := target.(inode)
	if !ok || t.base().fs != d.fs {
		return unix.EXDEV
	}
	if _, ok := t.(*Dir); ok {
		return unix.EPERM
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return unix.EEXIST
	}
	cost := entryCost(name, linkTarget(t))
	if !d.fs.charge(cost) {
		return unix.ENOSPC
	}
	if t.base().changeLink(1) == 1 {
		// An O_TMPFILE file gets its first name: it counts as an inode
		// from now on, as unlinkInode stops counting a file at its last.
		d.fs.inodes.Add(1)
	}
	d.addLocked(name, t, cost)
	return nil
}

// Tmpfile implements vfs.TmpfileDir: a regular file in no directory with
// a link count of 0, which Link may name later. Like an unlinked file
// that is still open it does not count against nr_inodes until then; its
// pages go at its last close (regularFile.Release) unless it was named.
func (d *Dir) Tmpfile(_ vfs.Context, o vfs.CreateOptions) (vfs.Inode, error) {
	fs := d.fs
	if o.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EINVAL
	}
	if uint64(fs.inodes.Load()) >= fs.maxInodes {
		return nil, unix.ENOSPC
	}
	r := fs.newRegular(o)
	r.nlink = 0 // not shared yet: no lock needed
	fs.inodes.Add(-1)
	return r, nil
}

// unlinkInode drops one link of ino, freeing it when it was the last.
func unlinkInode(ino inode) {
	if ino.base().changeLink(-1) == 0 {
		ino.base().fs.inodes.Add(-1)
		ino.dropped()
	}
}

// Unlink implements vfs.DirInode.
func (d *Dir) Unlink(_ vfs.Context, name string, child vfs.Inode) error {
	d.mu.Lock()
	e, ok := d.entries[name]
	if !ok || e.ino != child {
		d.mu.Unlock()
		return unix.ENOENT
	}
	if _, isDir := e.ino.(*Dir); isDir {
		d.mu.Unlock()
		return unix.EISDIR
	}
	d.removeLocked(name)
	d.mu.Unlock()
	unlinkInode(e.ino)
	return nil
}

// Rmdir implements vfs.DirInode.
func (d *Dir) Rmdir(_ vfs.Context, name string, child vfs.Inode) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[name]
	if !ok || e.ino != child {
		return unix.ENOENT
	}
	c, isDir := e.ino.(*Dir)
	if !isDir {
		return unix.ENOTDIR
	}
	c.mu.Lock()
	if len(c.entries) > 0 {
		c.mu.Unlock()
		return unix.ENOTEMPTY
	}
	c.nlink = 0
	c.ctime = now()
	c.mu.Unlock()
	d.removeLocked(name)
	d.nlink--
	d.fs.inodes.Add(-1)
	return nil
}

// Rename implements vfs.DirInode.
func (d *Dir) Rename(_ vfs.Context, oldName string, newParent vfs.DirInode, newName string, flags uint32) error {
	nd, ok := newParent.(*Dir)
	if !ok || nd.fs != d.fs {
		return unix.EXDEV
	}
	// Lock both directories in a fixed order.
	first, second := d, nd
	if nd.ino < d.ino {
		first, second = nd, d
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	if second != first {
		second.mu.Lock()
		defer second.mu.Unlock()
	}
	oe, ok := d.entries[oldName]
	if !ok {
		return unix.ENOENT
	}
	ne := nd.entries[newName]
	_, oIsDir := oe.ino.(*Dir)
	if flags&unix.RENAME_EXCHANGE != 0 {
		if ne == nil {
			return unix.ENOENT
		}
		_, nIsDir := ne.ino.(*Dir)
		oe.ino, ne.ino = ne.ino, oe.ino
		if d != nd && oIsDir != nIsDir {
			if oIsDir { // a directory moved from d to nd
				d.nlink--
				nd.nlink++
			} else {
				d.nlink++
				nd.nlink--
			}
		}
		t := now()
		d.mtime, d.ctime, nd.mtime, nd.ctime = t, t, t, t
		oe.ino.base().touchCtime()
		ne.ino.base().touchCtime()
		return nil
	}
	// The new entry is charged before anything changes; the old one's
	// charge goes back with it.
	cost := entryCost(newName, linkTarget(oe.ino))
	if !d.fs.charge(cost) {
		return unix.ENOSPC
	}
	if ne != nil {
		if err := nd.replaceableLocked(ne, oIsDir, flags); err != nil {
			d.fs.uncharge(cost)
			return err
		}
		nd.removeLocked(newName)
		if _, nIsDir := ne.ino.(*Dir); nIsDir {
			nd.nlink--
			d.fs.inodes.Add(-1)
		} else {
			defer unlinkInode(ne.ino)
		}
	}
	d.removeLocked(oldName)
	nd.addLocked(newName, oe.ino, cost)
	if oIsDir && d != nd {
		d.nlink--
		nd.nlink++
	}
	oe.ino.base().touchCtime()
	return nil
}

// replaceableLocked reports whether a rename may replace the entry ne of
// d with what it moves (a directory or not): EEXIST under
// RENAME_NOREPLACE, EISDIR or ENOTDIR for a kind that differs, ENOTEMPTY
// for a directory with entries. A directory that may go gets its link
// count of 0 at once, under its lock, so that nothing is made in it
// meanwhile.
func (d *Dir) replaceableLocked(ne *entry, oIsDir bool, flags uint32) error {
	if flags&unix.RENAME_NOREPLACE != 0 {
		return unix.EEXIST
	}
	nc, nIsDir := ne.ino.(*Dir)
	switch {
	case nIsDir && !oIsDir:
		return unix.EISDIR
	case !nIsDir && oIsDir:
		return unix.ENOTDIR
	case !nIsDir:
		return nil
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if len(nc.entries) > 0 {
		return unix.ENOTEMPTY
	}
	nc.nlink = 0
	return nil
}

// IterDirents implements vfs.DirInode.
func (d *Dir) IterDirents(_ vfs.Context, off int64, emit func(vfs.Dirent) bool) error {
	d.mu.Lock()
	i := sort.Search(len(d.list), func(i int) bool { return d.list[i].off >= off })
	var batch []*entry
	for _, e := range d.list[i:] {
		if !e.removed {
			batch = append(batch, e)
		}
	}
	d.atime = now()
	d.mu.Unlock()
	for _, e := range batch {
		a := e.ino.base()
		a.mu.Lock()
		ino, mode := a.ino, a.mode
		a.mu.Unlock()
		if !emit(vfs.Dirent{Name: e.name, Ino: ino, Type: vfs.DirentType(mode), Next: e.off + 1}) {
			break
		}
	}
	return nil
}

// Len returns the number of entries.
func (d *Dir) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}
