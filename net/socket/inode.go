package socket

import (
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Dev is the device number every socket reports in fstat: Linux's sockfs
// (0:8).
var Dev = unix.Mkdev(0, 8)

// nextIno numbers the inodes of all sockets of all families, so that no
// two sockets alive show the same number (fstat, /proc/PID/fd's
// socket:[N], /proc/net/*).
var nextIno atomic.Uint64

func init() { nextIno.Store(10000) }

// Inode is a socket's inode on sockfs, which every family's socket holds:
// its number (unique among all sockets), its owner and its creation time.
// It never changes after creation, except that accept gives a new socket
// its listener's owner.
type Inode struct {
	Ino      uint64
	UID, GID uint32
	Ctime    unix.Timespec
}

// NewInode returns the inode of a socket created now, owned by uid and
// gid, with the next inode number.
func NewInode(uid, gid uint32) Inode {
	return Inode{Ino: nextIno.Add(1), UID: uid, GID: gid, Ctime: unix.NsecToTimespec(time.Now().UnixNano())}
}

// Stat is what fstat reports of the socket: S_IFSOCK|0777 on sockfs, with
// all three times the creation time.
func (i *Inode) Stat() vfs.Stat {
	return vfs.Stat{
		Mask: unix.STATX_BASIC_STATS,
		Dev:  Dev, Ino: i.Ino, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		UID: i.UID, GID: i.GID, Blksize: 4096,
		Atime: i.Ctime, Mtime: i.Ctime, Ctime: i.Ctime,
	}
}

// Name is what /proc/PID/fd/N links to: socket:[ino].
func (i *Inode) Name() string { return fmt.Sprintf("socket:[%d]", i.Ino) }
