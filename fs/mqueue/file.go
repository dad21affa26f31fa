package mqueue

import "uk/fs/vfs"

// File is an open description of a queue, from mq_open(2) or from open(2)
// in a mounted mqueue filesystem. It implements vfs.FileImpl: read(2)
// gives the status line, poll reports room and messages; the queue's own
// operations are the mq_* calls (Queue.Send, Queue.Receive...).
type File struct {
	vfs.FileBase
	q *Queue
}

// Of returns the queue behind a description, or nil when it is not a
// queue (the mq_* calls then fail with EBADF).
func Of(fd *vfs.FileDescription) *Queue {
	if f, ok := fd.Impl().(*File); ok {
		return f.q
	}
	return nil
}

// Name is what /proc/PID/fd/N links to for a description mq_open made:
// the queue's name with its slash, as Linux's path in its internal mount.
func (f *File) Name() string { return "/" + f.q.name }

// Read implements vfs.FileImpl: the status line from off (Linux's
// mqueue_read_file with simple_read_from_buffer); a read that returns
// data updates the access and change times.
func (f *File) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	s := f.q.statusLine()
	if off >= int64(len(s)) {
		return 0, nil
	}
	n := copy(dst, s[off:])
	if n > 0 {
		f.q.mu.Lock()
		now := nowTS()
		f.q.atime, f.q.ctime = now, now
		f.q.mu.Unlock()
	}
	return n, nil
}

// Seek implements vfs.FileImpl as default_llseek over the file's size.
func (f *File) Seek(_ vfs.Context, _ *vfs.FileDescription, cur, off int64, whence int) (int64, error) {
	return vfs.GenericSeek(cur, off, whence, filentSize)
}

// Stat implements vfs.FileImpl: the queue's attributes (a description
// from mq_open has no path to ask).
func (f *File) Stat(ctx vfs.Context, fd *vfs.FileDescription) (vfs.Stat, error) {
	st, err := f.q.Stat(ctx)
	if p := fd.Path(); !p.IsZero() {
		st.Dev = p.Dentry.Superblock().Dev()
	}
	return st, err
}

// Readiness implements vfs.FileImpl.
func (f *File) Readiness(mask vfs.EventMask) vfs.EventMask { return f.q.readiness() & mask }

// EventRegister implements vfs.FileImpl.
func (f *File) EventRegister(w *vfs.Waiter) { f.q.poll.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (f *File) EventUnregister(w *vfs.Waiter) { f.q.poll.Unregister(w) }

// Release implements vfs.FileImpl: the queue goes with its last
// description once it has no name.
func (f *File) Release() { f.q.closed() }
