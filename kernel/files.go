package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/mm"
)

// FDTable is a process's file descriptor table.
type FDTable = vfs.FDTable

// FD returns the open file description behind fd, with a reference the
// caller must drop with DecRef.
func (t *Task) FD(fd int32) (*vfs.FileDescription, error) {
	d, _, err := t.Files.Get(fd)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// NoFileLimit is the task's RLIMIT_NOFILE soft limit.
func (t *Task) NoFileLimit() uint64 { return t.tg.Rlimit(unix.RLIMIT_NOFILE).Cur }

// MappedFile is what mmap needs of a file: its pages and its identity.
type MappedFile struct {
	Mappable mm.Mappable
	Name     string
	Dev, Ino uint64
}

// tmpfsMappable maps a tmpfs file's own pages: a shared mapping sees and
// makes the file's contents, a private one starts from them. A page wholly
// past the end of the file is an error, which mm turns into SIGBUS as
// Linux does.
type tmpfsMappable struct{ r *tmpfs.Regular }

// PageAt implements mm.Mappable.
func (m tmpfsMappable) PageAt(index uint64) (int64, error) {
	if index >= uint64((m.r.Size()+arch.PageMask)>>arch.PageShift) {
		return 0, unix.EFAULT
	}
	return m.r.PageAt(index, true)
}

// PeekPage implements mm.PagePeeker: the file's page at index, if it has
// one inside the file's size.
func (m tmpfsMappable) PeekPage(index uint64) (int64, bool) {
	if index >= uint64((m.r.Size()+arch.PageMask)>>arch.PageShift) {
		return 0, false
	}
	return m.r.PresentPage(index)
}

// MappableFD returns the pages of the file behind fd for mmap, checking the
// description's access mode against the mapping.
func (t *Task) MappableFD(fd int32, shared, write bool) (*MappedFile, error) {
	d, err := t.FD(fd)
	if err != nil {
		return nil, err
	}
	defer d.DecRef()
	if d.IsPath() {
		return nil, unix.EBADF
	}
	if !d.Readable() || shared && write && !d.Writable() {
		return nil, unix.EACCES
	}
	var mp mm.Mappable
	if r := tmpfs.RegularOf(d); r != nil {
		mp = tmpfsMappable{r}
	} else if m, ok := d.Impl().(mm.Mappable); ok {
		mp = m
	} else {
		return nil, unix.ENODEV
	}
	st, err := d.Stat(t)
	if err != nil {
		return nil, err
	}
	mf := &MappedFile{Mappable: mp, Dev: st.Dev, Ino: st.Ino}
	if name, ok := t.PathName(d.Path()); ok {
		mf.Name = name
		if p := d.Path(); p.Dentry.IsDeleted() {
			mf.Name += " (deleted)"
		}
	}
	return mf, nil
}
