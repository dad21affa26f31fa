package hostfs

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/internal/fdgrow"
)

// Dir is a host directory.
type Dir struct {
	node
	hdev, hino uint64 // the host inode this is: checked whenever the fd is reopened

	// blocked marks a host pseudo filesystem (proc, sysfs, ...) met
	// inside the tree: it is shown as an empty directory, so the host's
	// kernel objects never reach the sandbox (uk mounts its own).
	blocked bool

	// The fd, in the filesystem's bounded cache; protected by fs.fdMu.
	fd     int // -1 when closed
	pinned int // users of fd right now: it is not closed while > 0
	elem   *list.Element

	listMu   sync.Mutex // held while a listing reads (and so moves) the fd's position
	listedFD int        // the fd the latest listing moved (-1: none); protected by listMu

	// Lookup and listing caches; protected by mu.
	children map[string]vfs.Inode // names looked up
	missing  map[string]struct{}  // names the host has not (read-only trees)
	ents     []*dent              // the listing in offset order
	byName   map[string]*dent
	nextOff  int64
	listed   bool
}

// dent is one name of a directory listing with its stable offset.
type dent struct {
	name string
	ino  uint64
	off  int64
	typ  uint8
	seen bool // in the latest host listing
}

func (d *Dir) init() {
	// missing and byName are made when first written (most directories
	// of a tree walk are listed once, and few names are missing).
	d.children = make(map[string]vfs.Inode)
	d.nextOff = vfs.FirstDirentOffset
	d.hdev, d.hino = d.st.Dev, d.st.Ino
	d.listedFD = -1
}

// Open implements vfs.Inode (the VFS opens directories itself).
func (d *Dir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.EISDIR
}

// withFD runs f with the directory's host fd, opening it again from the
// parent's if the cache closed it, and keeping it open meanwhile.
func (d *Dir) withFD(f func(fd int) error) error {
	fd, err := d.acquire()
	if err != nil {
		return err
	}
	defer d.release()
	return f(fd)
}

func (d *Dir) acquire() (int, error) {
	fs := d.fs
	fs.fdMu.Lock()
	if d.fd >= 0 {
		d.pinned++
		if d.elem != nil {
			fs.lru.MoveToFront(d.elem)
		}
		fd := d.fd
		fs.fdMu.Unlock()
		return fd, nil
	}
	fs.fdMu.Unlock()
	parent, name := d.where()
	if parent == nil {
		return -1, unix.EBADF // the filesystem was closed
	}
	var fd int
	err := parent.withFD(func(pfd int) error {
		var err error
		fd, err = unix.Openat(pfd, name, dirOpenFlags, 0)
		fdgrow.Note(fd)
		return err
	})
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != d.hdev || st.Ino != d.hino {
		// Another directory took the name on the host: not the one the
		// sandbox looked up.
		unix.Close(fd)
		return -1, unix.ESTALE
	}
	fs.fdMu.Lock()
	defer fs.fdMu.Unlock()
	d.installLocked(fd)
	d.pinned++
	return d.fd, nil
}

// installLocked makes fd, just opened, the directory's cached fd (or
// closes it if another user opened one meanwhile). fs.fdMu is held.
func (d *Dir) installLocked(fd int) {
	fs := d.fs
	if d.fd >= 0 {
		unix.Close(fd)
		return
	}
	d.fd = fd
	d.elem = fs.lru.PushFront(d)
	fs.nOpen++
	fs.evictLocked()
}

func (d *Dir) release() {
	d.fs.fdMu.Lock()
	d.pinned--
	d.fs.fdMu.Unlock()
}

// evictLocked closes the least recently used unpinned directory fds
// beyond maxDirFDs.
func (fs *FS) evictLocked() {
	for e := fs.lru.Back(); e != nil && fs.nOpen > maxDirFDs; {
		prev := e.Prev()
		if d := e.Value.(*Dir); d.pinned == 0 {
			unix.Close(d.fd)
			d.fd = -1
			fs.lru.Remove(e)
			d.elem = nil
			fs.nOpen--
		}
		e = prev
	}
}

// pseudoFS are host filesystems never served: kernel objects, not files.
var pseudoFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.DEVPTS_SUPER_MAGIC: true,
	unix.DEBUGFS_MAGIC: true, unix.SECURITYFS_MAGIC: true, unix.CGROUP_SUPER_MAGIC: true,
	unix.CGROUP2_SUPER_MAGIC: true, unix.BPF_FS_MAGIC: true, unix.TRACEFS_MAGIC: true,
	unix.PSTOREFS_MAGIC: true, unix.EFIVARFS_MAGIC: true, unix.SELINUX_MAGIC: true,
	unix.SMACK_MAGIC: true, unix.BINFMTFS_MAGIC: true, unix.NSFS_MAGIC: true,
	unix.FUSE_SUPER_MAGIC: false, 0x65735543 /* fusectl */ : true, 0x19800202 /* mqueue */ : true,
	0x62656570 /* configfs */ : true,
}

// pseudo reports whether the directory open at fd is on a host pseudo
// filesystem (or cannot be told).
func pseudo(fd int) bool {
	var s unix.Statfs_t
	return unix.Fstatfs(fd, &s) != nil || pseudoFS[s.Type]
}

// dirOpenFlags open a host directory: never through a symlink, and never
// blocking (a FIFO planted under the name fails O_DIRECTORY first).
const dirOpenFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK

// newChild makes the inode for a name just found on the host. fd is the
// directory's own host fd when the lookup opened it (lookupDir), else -1.
func (d *Dir) newChild(name string, st *unix.Stat_t, fd int) vfs.Inode {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		c := &Dir{fd: -1}
		c.node.set(d, name, st)
		c.init()
		if st.Dev != d.hdev {
			// Another host filesystem is mounted here: serve it only if
			// it holds files.
			if fd >= 0 {
				c.blocked = pseudo(fd)
			} else {
				_ = d.withFD(func(pfd int) error {
					fd, err := unix.Openat(pfd, name, dirOpenFlags, 0)
					if err != nil {
						c.blocked = true
						return err
					}
					defer unix.Close(fd)
					c.blocked = pseudo(fd)
					return nil
				})
			}
		}
		return c
	case unix.S_IFREG:
		f := &File{cfd: -1}
		f.node.set(d, name, st)
		f.hdev, f.hino = st.Dev, st.Ino
		return f
	case unix.S_IFLNK:
		s := &Symlink{}
		s.node.set(d, name, st)
		return s
	default:
		n := &Node{}
		n.node.set(d, name, st)
		return n
	}
}

// Lookup implements vfs.DirInode: one fstatat of one component, never
// following a symlink; the result (and a missing name, on a read-only
// tree) is remembered.
func (d *Dir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	return d.lookup(name, unix.DT_UNKNOWN)
}

// lookup is Lookup for a caller that may know the name's type from a
// listing it keeps itself (the overlay): typ, or DT_UNKNOWN.
func (d *Dir) lookup(name string, typ uint8) (vfs.Inode, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if d.blocked {
		return nil, unix.ENOENT
	}
	ro := !d.fs.writable
	listedDir := ro && typ == unix.DT_DIR // a listing says a directory: open it (openDir)
	d.mu.Lock()
	if c, ok := d.children[name]; ok && ro {
		d.mu.Unlock()
		return c, nil
	}
	if ro {
		if _, ok := d.missing[name]; ok {
			d.mu.Unlock()
			return nil, unix.ENOENT
		}
		e, ok := d.byName[name]
		if d.listed && !ok {
			d.mu.Unlock()
			return nil, unix.ENOENT
		}
		listedDir = listedDir || ok && e.typ == unix.DT_DIR
	}
	d.mu.Unlock()
	var st unix.Stat_t
	cfd := -1
	if listedDir {
		cfd = d.openDir(name, &st)
	}
	var err error
	if cfd < 0 {
		err = d.withFD(func(fd int) error { return unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	}
	if err != nil {
		if err == unix.ENOENT && ro {
			d.mu.Lock()
			if d.missing == nil {
				d.missing = make(map[string]struct{})
			}
			d.missing[name] = struct{}{}
			d.mu.Unlock()
		}
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.children[name]; ok && sameHost(c, &st) {
		if cfd >= 0 {
			unix.Close(cfd)
		}
		return c, nil
	}
	c := d.newChild(name, &st, cfd)
	d.children[name] = c
	if cfd >= 0 {
		if cd, ok := c.(*Dir); ok && !cd.blocked {
			d.fs.fdMu.Lock()
			cd.installLocked(cfd)
			d.fs.fdMu.Unlock()
		} else {
			unix.Close(cfd)
		}
	}
	return c, nil
}

// openDir opens the subdirectory name and stats what it opened, for a
// lookup of a name the listing says is a directory: the stat a lookup
// needs and the fd a walk into it or a listing of it needs next, in two
// host calls instead of three (fstatat, then openat and an fstat that
// checks the inode is still the one looked up). -1 if either fails: the
// caller's fstatat then says why.
func (d *Dir) openDir(name string, st *unix.Stat_t) int {
	fd := -1
	_ = d.withFD(func(pfd int) error {
		f, err := unix.Openat(pfd, name, dirOpenFlags, 0)
		if err != nil {
			return err
		}
		fdgrow.Note(f)
		if err := unix.Fstat(f, st); err != nil {
			unix.Close(f)
			return err
		}
		fd = f
		return nil
	})
	return fd
}

// sameHost reports whether inode c is the host file st describes.
func sameHost(c vfs.Inode, st *unix.Stat_t) bool {
	switch c := c.(type) {
	case *Dir:
		return c.hdev == st.Dev && c.hino == st.Ino
	case *File:
		return c.hdev == st.Dev && c.hino == st.Ino
	case *Symlink:
		return c.st.Dev == st.Dev && c.st.Ino == st.Ino
	case *Node:
		return c.st.Dev == st.Dev && c.st.Ino == st.Ino
	}
	return false
}

// hostDent is one entry of a host getdents64 listing.
type hostDent struct {
	name   string
	ino    uint64
	typ    uint8
	lo, hi int // while a batch is parsed: where the name is in the buffer
}

// slab hands out elements of one allocation: the names of a directory
// listing are made together and live together, so one allocation serves
// them all instead of one each. Past its capacity it allocates singly.
type slab[T any] []T

func (s *slab[T]) next() *T {
	if len(*s) == cap(*s) {
		return new(T)
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

// readHost lists the directory on the host through the directory's own
// fd: its position is used by nothing else (every other call on it is an
// *at call), and listMu keeps two listings from sharing it. A listing of
// its own would cost an openat and a close per directory (a third of the
// host calls of `find /usr`). Only the fd a listing has moved is rewound:
// a directory is usually listed once, right after its fd is opened, and
// an lseek there would be one host call in seven of a tree walk. (The fd
// stays open while pinned, so an fd of this number that is not the one
// listed last is a fresh one, at offset 0; one that reuses the number is
// rewound needlessly, which is harmless.)
func (d *Dir) readHost(out []hostDent) ([]hostDent, error) {
	d.listMu.Lock()
	defer d.listMu.Unlock()
	err := d.withFD(func(dfd int) error {
		if dfd == d.listedFD {
			if _, err := unix.Seek(dfd, 0, 0); err != nil {
				return err
			}
		}
		d.listedFD = dfd
		bp := direntBufs.Get().(*[]byte)
		defer direntBufs.Put(bp)
		buf := *bp
		for {
			n, err := unix.Getdents(dfd, buf)
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			// The batch's names go into one string, sliced: one
			// allocation instead of one per name (they live as long as
			// the directory's cache either way).
			first, size := len(out), 0
			for at := 0; n-at >= 19; {
				b := buf[at:n]
				reclen := int(binary.LittleEndian.Uint16(b[16:]))
				if reclen < 19 || reclen > len(b) {
					return unix.EIO
				}
				nm := b[19:reclen]
				if i := bytes.IndexByte(nm, 0); i >= 0 {
					nm = nm[:i]
				}
				if string(nm) != "." && string(nm) != ".." { // compared without allocating
					out = append(out, hostDent{ino: binary.LittleEndian.Uint64(b), typ: b[18], lo: at + 19, hi: at + 19 + len(nm)})
					size += len(nm)
				}
				at += reclen
			}
			var sb strings.Builder
			sb.Grow(size)
			for _, h := range out[first:] {
				sb.Write(buf[h.lo:h.hi])
			}
			names, pos := sb.String(), 0
			for i := range out[first:] {
				h := &out[first+i]
				h.name, pos = names[pos:pos+h.hi-h.lo], pos+h.hi-h.lo
			}
		}
	})
	return out, err
}

// direntBufs are getdents64 buffers: one per listing in progress, reused
// rather than allocated (and collected) for each of a tree's directories.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// IterDirents implements vfs.DirInode. A read-only tree's directory is
// listed on the host once; a writable one's again at each rewind. Names
// keep their offsets across listings, so a listing interleaved with
// changes neither repeats nor skips a surviving name.
func (d *Dir) IterDirents(_ vfs.Context, off int64, emit func(vfs.Dirent) bool) error {
	if d.blocked {
		return nil
	}
	if err := d.refresh(off); err != nil {
		return err
	}
	var arr [64]vfs.Dirent // on the stack: no allocation per call
	for {
		d.mu.Lock()
		i := sort.Search(len(d.ents), func(i int) bool { return d.ents[i].off >= off })
		batch := arr[:0]
		for _, e := range d.ents[i:] {
			if len(batch) == cap(batch) {
				break
			}
			batch = append(batch, vfs.Dirent{Name: e.name, Ino: e.ino, Type: e.typ, Next: e.off + 1})
		}
		d.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}
		for _, e := range batch {
			if !emit(e) {
				return nil
			}
		}
		off = batch[len(batch)-1].Next
	}
}

// refresh lists the directory on the host if a listing from offset off
// needs it: never yet listed, or a writable tree's listing rewound.
func (d *Dir) refresh(off int64) error {
	d.mu.Lock()
	listed := d.listed && (!d.fs.writable || off > vfs.FirstDirentOffset)
	d.mu.Unlock()
	if listed {
		return nil
	}
	host, err := d.readHost(nil)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.mergeLocked(host)
	d.mu.Unlock()
	return nil
}

// mergeLocked makes host the listing: names already listed keep their
// offsets, new ones go at the end, vanished ones leave.
func (d *Dir) mergeLocked(host []hostDent) {
	for _, e := range d.ents {
		e.seen = false
	}
	// New names are made in one allocation (sized for the usual case, the
	// first listing; more come one by one).
	fresh := max(len(host)-len(d.byName), 0)
	if d.byName == nil {
		d.byName = make(map[string]*dent, fresh)
	}
	d.ents = slices.Grow(d.ents, fresh)
	dents := make(slab[dent], 0, fresh)
	mix := d.fs.inoOf(d.hdev, 0) // the same for every name: asked once
	for _, h := range host {
		ino := h.ino ^ mix
		if e, ok := d.byName[h.name]; ok {
			e.ino, e.typ, e.seen = ino, h.typ, true
			continue
		}
		e := dents.next()
		*e = dent{name: h.name, ino: ino, typ: h.typ, off: d.nextOff, seen: true}
		d.nextOff++
		d.ents = append(d.ents, e)
		d.byName[h.name] = e
		delete(d.missing, h.name)
	}
	live := d.ents[:0]
	for _, e := range d.ents {
		if e.seen {
			live = append(live, e)
		} else {
			delete(d.byName, e.name)
		}
	}
	clear(d.ents[len(live):])
	d.ents = live
	d.listed = true
}

// names lists the directory on the host for the overlay, appending to
// out (inode numbers as the sandbox sees them). The overlay keeps the
// listing itself and lists a directory once (its lower tree is
// read-only), so nothing is cached here: a tree walk makes each name's
// entries once, not twice (and the overlay passes a listed name's type to
// lookup, which is what the cache here would have told it).
func (d *Dir) names(out []hostDent) ([]hostDent, error) {
	if d.blocked {
		return out, nil
	}
	first := len(out)
	out, err := d.readHost(out)
	if err != nil {
		return out[:first], err
	}
	mix := d.fs.inoOf(d.hdev, 0)
	for i := range out[first:] {
		out[first+i].ino ^= mix
	}
	return out, nil
}

// Blocked reports whether the directory is a host pseudo filesystem shown
// empty.
func (d *Dir) Blocked() bool { return d.blocked }

// forget drops name from the caches after a change on the host.
func (d *Dir) forgetLocked(name string) {
	delete(d.children, name)
	if e, ok := d.byName[name]; ok {
		delete(d.byName, name)
		for i, x := range d.ents {
			if x == e {
				d.ents = append(d.ents[:i], d.ents[i+1:]...)
				break
			}
		}
	}
}

// Create implements vfs.DirInode on a writable tree. Devices are never
// made on the host; set-id bits are dropped.
func (d *Dir) Create(_ vfs.Context, name string, o vfs.CreateOptions) (vfs.Inode, error) {
	if !d.fs.writable {
		return nil, unix.EROFS
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	perm := o.Mode & 0o1777
	var st unix.Stat_t
	err := d.withFD(func(dfd int) error {
		var err error
		switch o.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			var fd int
			fd, err = unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
			if err == nil {
				unix.Close(fd)
			}
		case unix.S_IFDIR:
			err = unix.Mkdirat(dfd, name, perm)
		case unix.S_IFLNK:
			err = unix.Symlinkat(o.Target, dfd, name)
		case unix.S_IFIFO, unix.S_IFSOCK:
			err = unix.Mknodat(dfd, name, o.Mode&unix.S_IFMT|perm, 0)
		default:
			err = unix.EPERM
		}
		if err != nil {
			return err
		}
		return unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return nil, err
	}
	c := d.newChild(name, &st, -1)
	d.mu.Lock()
	d.children[name] = c
	delete(d.missing, name)
	d.mu.Unlock()
	return c, nil
}

// nodeOf returns the common part of a host inode of this package.
func nodeOf(ino vfs.Inode) *node {
	switch c := ino.(type) {
	case *Dir:
		return &c.node
	case *File:
		return &c.node
	case *Symlink:
		return &c.node
	case *Node:
		return &c.node
	}
	return nil
}

// Link implements vfs.DirInode on a writable tree (linkat, never
// following a symlink).
func (d *Dir) Link(_ vfs.Context, name string, target vfs.Inode) error {
	if !d.fs.writable {
		return unix.EROFS
	}
	if err := validName(name); err != nil {
		return err
	}
	tn := nodeOf(target)
	if tn == nil || tn.fs != d.fs {
		return unix.EXDEV
	}
	if _, ok := target.(*Dir); ok {
		return unix.EPERM
	}
	tparent, tname := tn.where()
	err := tparent.withFD(func(ofd int) error {
		return d.withFD(func(nfd int) error { return unix.Linkat(ofd, tname, nfd, name, 0) })
	})
	if err != nil {
		return err
	}
	tn.addPlace(d, name)
	d.mu.Lock()
	d.children[name] = target
	delete(d.missing, name)
	d.mu.Unlock()
	return nil
}

// Unlink implements vfs.DirInode on a writable tree.
func (d *Dir) Unlink(_ vfs.Context, name string, child vfs.Inode) error {
	return d.remove(name, child, 0)
}

// Rmdir implements vfs.DirInode on a writable tree.
func (d *Dir) Rmdir(_ vfs.Context, name string, child vfs.Inode) error {
	return d.remove(name, child, unix.AT_REMOVEDIR)
}

func (d *Dir) remove(name string, child vfs.Inode, flags int) error {
	if !d.fs.writable {
		return unix.EROFS
	}
	if err := validName(name); err != nil {
		return err
	}
	if err := d.withFD(func(dfd int) error { return unix.Unlinkat(dfd, name, flags) }); err != nil {
		return err
	}
	d.mu.Lock()
	d.forgetLocked(name)
	d.mu.Unlock()
	if n := nodeOf(child); n != nil {
		n.dropPlace(d, name)
	}
	return nil
}

// Rename implements vfs.DirInode on a writable tree (renameat2 between
// two directory fds; the moved inode learns its new place).
func (d *Dir) Rename(_ vfs.Context, oldName string, newParent vfs.DirInode, newName string, flags uint32) error {
	if !d.fs.writable {
		return unix.EROFS
	}
	nd, ok := newParent.(*Dir)
	if !ok || nd.fs != d.fs {
		return unix.EXDEV
	}
	if validName(oldName) != nil || validName(newName) != nil {
		return unix.ENOENT
	}
	err := d.withFD(func(ofd int) error {
		return nd.withFD(func(nfd int) error { return unix.Renameat2(ofd, oldName, nfd, newName, uint(flags)) })
	})
	if err != nil {
		return err
	}
	// The VFS serializes renames; Lookups hold one directory lock at a
	// time, so taking two here in any order cannot deadlock with them.
	d.mu.Lock()
	moved := d.children[oldName]
	d.forgetLocked(oldName)
	d.mu.Unlock()
	nd.mu.Lock()
	replaced := nd.children[newName]
	nd.forgetLocked(newName)
	if moved != nil {
		nd.children[newName] = moved
	}
	nd.mu.Unlock()
	if flags&unix.RENAME_EXCHANGE != 0 {
		// Both move, through a temporary place: the two may be names
		// of one file.
		const tmp = "\x00exchange"
		if n := nodeOf(replaced); n != nil {
			n.renamePlace(nd, newName, nil, tmp)
		}
		if n := nodeOf(moved); n != nil {
			n.renamePlace(d, oldName, nd, newName)
		}
		if n := nodeOf(replaced); n != nil {
			n.renamePlace(nil, tmp, d, oldName)
		}
	} else {
		if n := nodeOf(replaced); n != nil && replaced != moved {
			n.dropPlace(nd, newName)
		}
		if n := nodeOf(moved); n != nil {
			n.renamePlace(d, oldName, nd, newName)
		}
	}
	if flags&unix.RENAME_EXCHANGE != 0 && replaced != nil {
		d.mu.Lock()
		d.children[oldName] = replaced
		d.mu.Unlock()
	}
	return nil
}
