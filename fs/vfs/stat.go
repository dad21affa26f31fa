package vfs

import "golang.org/x/sys/unix"

// Stat is the attributes of a file, the union of Linux's struct stat and
// struct statx. Times are wall-clock times. Dev and Rdev are encoded as
// unix.Mkdev does (the new_encode_dev layout of struct stat).
type Stat struct {
	// Mask says which fields are valid (unix.STATX_* bits); filesystems that
	// know everything set unix.STATX_BASIC_STATS.
	Mask    uint32
	Dev     uint64
	Ino     uint64
	Mode    uint32 // file type (unix.S_IFMT bits) and permission bits
	Nlink   uint64
	UID     uint32
	GID     uint32
	Rdev    uint64
	Size    int64
	Blksize int64
	Blocks  int64 // 512-byte units, as Linux reports st_blocks
	Atime   unix.Timespec
	Mtime   unix.Timespec
	Ctime   unix.Timespec
	Btime   unix.Timespec // valid when Mask has unix.STATX_BTIME
	// Flags are the inode flags (FlagImmutable...), where the filesystem
	// keeps them (FlagsInode).
	Flags uint32
}

// Type returns the S_IFMT bits of Mode.
func (s *Stat) Type() uint32 { return s.Mode & unix.S_IFMT }

// IsDir reports whether the file is a directory.
func (s *Stat) IsDir() bool { return s.Type() == unix.S_IFDIR }

// LinuxStat converts s to the x86-64 struct stat layout (what fstat and
// newfstatat copy out).
func (s *Stat) LinuxStat() unix.Stat_t {
	return unix.Stat_t{
		Dev: s.Dev, Ino: s.Ino, Nlink: s.Nlink, Mode: s.Mode, Uid: s.UID, Gid: s.GID,
		Rdev: s.Rdev, Size: s.Size, Blksize: s.Blksize, Blocks: s.Blocks,
		Atim: s.Atime, Mtim: s.Mtime, Ctim: s.Ctime,
	}
}

// Statx converts s to struct statx (what statx copies out). The syscall
// layer masks the result with what the caller asked for if it wants.
func (s *Stat) Statx() unix.Statx_t {
	ts := func(t unix.Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	return unix.Statx_t{
		Mask: s.Mask, Blksize: uint32(s.Blksize), Nlink: uint32(s.Nlink),
		Uid: s.UID, Gid: s.GID, Mode: uint16(s.Mode), Ino: s.Ino, Size: uint64(s.Size),
		Blocks: uint64(s.Blocks), Atime: ts(s.Atime), Btime: ts(s.Btime), Ctime: ts(s.Ctime), Mtime: ts(s.Mtime),
		Rdev_major: unix.Major(s.Rdev), Rdev_minor: unix.Minor(s.Rdev),
		Dev_major: unix.Major(s.Dev), Dev_minor: unix.Minor(s.Dev),
	}
}

// Statfs is what statfs/fstatfs report about a filesystem.
type Statfs struct {
	Type    int64 // magic number, e.g. unix.TMPFS_MAGIC
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namelen int64
	Frsize  int64
	Flags   int64 // ST_* mount flags (unix.ST_RDONLY, ...)
}

// LinuxStatfs converts s to the x86-64 struct statfs layout.
func (s *Statfs) LinuxStatfs() unix.Statfs_t {
	return unix.Statfs_t{
		Type: s.Type, Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail,
		Files: s.Files, Ffree: s.Ffree, Namelen: s.Namelen, Frsize: s.Frsize, Flags: s.Flags,
	}
}
