package eventfd

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Anonymous-inode identity: Linux gives eventfd, timerfd, epoll (and
// signalfd...) descriptions one shared inode of anon_inodefs, mode 0600
// with no file type bits, owned by root. fs/timerfd and fs/epoll use
// AnonStat too, so all three agree.
var (
	// AnonDev is anon_inodefs' device number (below the 0:17 where uk's
	// mounted filesystems start).
	AnonDev = unix.Mkdev(0, 16)
	// AnonIno is the shared inode's number.
	AnonIno uint64 = 1
	// anonTime is the shared inode's timestamps (its creation at boot).
	anonTime = unix.NsecToTimespec(time.Now().UnixNano())
)

// AnonStat is what fstat reports for a file on the shared anonymous inode.
func AnonStat() vfs.Stat {
	return vfs.Stat{
		Mask: unix.STATX_BASIC_STATS,
		Dev:  AnonDev, Ino: AnonIno, Mode: 0o600, Nlink: 1, Blksize: 4096,
		Atime: anonTime, Mtime: anonTime, Ctime: anonTime,
	}
}
