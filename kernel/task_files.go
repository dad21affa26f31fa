package kernel

import (
	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/memmap"
	"uk/platform"
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

// FDAccess is what a syscall needs of a file descriptor beyond its being
// open; a descriptor without it is EBADF, as Linux's fdget and the f_mode
// checks after it say.
type FDAccess int

const (
	FDAny     FDAccess = iota // any open descriptor, O_PATH ones included
	FDNotPath                 // not an O_PATH descriptor
	FDRead                    // open for reading
	FDWrite                   // open for writing
)

// FileFD returns the open file description behind fd if it allows want,
// with a reference the caller must drop with DecRef; otherwise the errno
// (EBADF for a closed descriptor or one without want).
func (t *Task) FileFD(fd int32, want FDAccess) (*vfs.FileDescription, error) {
	d, err := t.FD(fd)
	if err != nil {
		return nil, err
	}
	var ok bool
	switch want {
	case FDNotPath:
		ok = !d.IsPath()
	case FDRead:
		ok = d.Readable()
	case FDWrite:
		ok = d.Writable()
	default:
		ok = true
	}
	if !ok {
		d.DecRef()
		return nil, unix.EBADF
	}
	return d, nil
}

// NoFileLimit is the task's RLIMIT_NOFILE soft limit.
func (t *Task) NoFileLimit() uint64 { return t.tg.Rlimit(unix.RLIMIT_NOFILE).Cur }

// MappedFile is what mmap needs of a file: its pages, its identity, and
// the most rights a mapping of it may ever have.
type MappedFile struct {
	Mappable memmap.Mappable
	Name     string
	Dev, Ino uint64
	// MaxProt is Linux's VM_MAYREAD/MAYWRITE/MAYEXEC for a mapping of the
	// file: a shared mapping may become writable only if the description
	// was opened for writing (else mprotect(PROT_WRITE) is EACCES, or
	// anyone could write a file they may only read).
	MaxProt platform.Access
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
	var mp memmap.Mappable
	sealedRO := false
	if r := tmpfs.RegularOf(d); r != nil {
		mp = r
		if shared {
			forbidden, noWrite := r.SealsForbidMap(write)
			if forbidden {
				return nil, unix.EPERM
			}
			sealedRO = noWrite
		}
	} else if m, ok := d.Impl().(memmap.Mappable); ok {
		mp = m
	} else if m, ok := d.Impl().(MappableSource); ok {
		mp = m.Mappable()
	} else {
		return nil, unix.ENODEV
	}
	st, err := d.Stat(t)
	if err != nil {
		return nil, err
	}
	mf := &MappedFile{Mappable: mp, Dev: st.Dev, Ino: st.Ino, MaxProt: platform.Read | platform.Exec}
	if !shared || d.Writable() && !sealedRO {
		mf.MaxProt |= platform.Write
	}
	if name, ok := t.PathName(d.Path()); ok {
		mf.Name = name
		if p := d.Path(); p.Dentry.IsDeleted() {
			mf.Name += " (deleted)"
		}
	}
	return mf, nil
}

// InstallFile puts d in the task's descriptor table at the lowest free
// number (fanotify gives a reader the file of each event it reads).
func (t *Task) InstallFile(d *vfs.FileDescription, cloexec bool) (int32, error) {
	n, err := t.Files.Install(d, 0, cloexec, t.NoFileLimit())
	return int32(n), err
}
