package tmpfs

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Symlink is a tmpfs symbolic link.
type Symlink struct {
	attrs
	target string
}

func (fs *FS) newSymlink(o vfs.CreateOptions) *Symlink {
	s := &Symlink{target: o.Target}
	fs.initAttrs(&s.attrs, o, 1)
	return s
}

// Stat implements vfs.Inode; the size is the target's length.
func (s *Symlink) Stat(vfs.Context) (vfs.Stat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statLocked()
	st.Size = int64(len(s.target))
	return st, nil
}

// SetStat implements vfs.Inode.
func (s *Symlink) SetStat(_ vfs.Context, req vfs.SetStat) error {
	if req.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	s.mu.Lock()
	s.setAttrsLocked(req)
	s.mu.Unlock()
	return nil
}

// Open implements vfs.Inode (never called: the VFS does not open links).
func (s *Symlink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}

// Readlink implements vfs.SymlinkInode.
func (s *Symlink) Readlink(vfs.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.atime = now()
	return s.target, nil
}

func (s *Symlink) dropped() {}

// Node is a device node, FIFO or socket: attributes only; the VFS opens
// devices through its registry and FIFOs through its FIFO hook.
type Node struct {
	attrs
}

func (fs *FS) newNode(o vfs.CreateOptions) *Node {
	n := &Node{}
	fs.initAttrs(&n.attrs, o, 1)
	return n
}

// Stat implements vfs.Inode.
func (n *Node) Stat(vfs.Context) (vfs.Stat, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.statLocked(), nil
}

// SetStat implements vfs.Inode; truncating a FIFO or device is ignored as
// on Linux (O_TRUNC on /dev/null works).
func (n *Node) SetStat(_ vfs.Context, req vfs.SetStat) error {
	n.mu.Lock()
	n.setAttrsLocked(req)
	n.mu.Unlock()
	return nil
}

// Open implements vfs.Inode.
func (n *Node) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}

func (n *Node) dropped() {}
