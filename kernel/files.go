package kernel

import (
	"golang.org/x/sys/unix"

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

// MappableFD returns the pages of the file behind fd for mmap, checking the
// description's access mode against the mapping.
func (t *Task) MappableFD(fd int32, shared, write bool) (*MappedFile, error) {
	d, err := t.FD(fd)
	if err != nil {
		return nil, err
	}
	defer d.DecRef()
	if !d.Readable() || shared && write && !d.Writable() {
		return nil, unix.EACCES
	}
	mp, ok := d.Impl().(mm.Mappable)
	if !ok {
		return nil, unix.ENODEV
	}
	st, err := d.Stat(t)
	if err != nil {
		return nil, err
	}
	return &MappedFile{Mappable: mp, Dev: st.Dev, Ino: st.Ino}, nil
}
