// Package vfs is uk's virtual filesystem layer: what the kernel's syscall
// handlers call to name, open and operate on files. Every operation is a
// plain method taking a Context (the calling task) and returning
// unix.Errno values the syscall layer passes straight to the application.
//
// Files and descriptors:
//
//   - Context: Credentials(), Umask(), Block(ch) (interruptible wait →
//     EINTR), CopyIn/CopyOut (ioctl arguments). vfstest.Ctx is a fake.
//   - Credentials: UID/EUID/SUID/FSUID, GID/EGID/SGID/FSGID, Groups,
//     Privileged (root's capabilities).
//   - FileDescription (NewFileDescription(impl, flags, path, FileOptions)):
//     Read, PRead, Write, PWrite, Seek, Stat, Getdents, Ioctl (FIONBIO and
//     FIOASYNC handled here), Readiness, EventRegister/Unregister,
//     Truncate, Fsync; StatusFlags/SetStatusFlags (F_GETFL/F_SETFL),
//     IncRef/DecRef/TryIncRef, Path, Impl, Offset. Access-mode and O_PATH
//     checks happen here, so FileImpls only implement behaviour.
//   - FileImpl: the per-type interface; embed FileBase for Linux defaults.
//     Seekable descriptions pass explicit offsets (AppendOffset for
//     O_APPEND); streams get -1.
//   - Waiter/Queue/EventMask/NewChannelWaiter: readiness for poll/epoll
//     and blocking I/O.
//   - Blocker (NewBlocker, SetDeadline, Wait/WaitReleasing, Sleep, Done):
//     the one wait loop of every blocking file operation: register on the
//     queue, check again, sleep until an event, the deadline (ETIMEDOUT)
//     or a signal (ctx.Block's error). net/socket.Blocker adds the socket
//     errors; vfstest.BlockCtx scripts Block for its tests.
//   - FDTable: Install, InstallAt, Get (+ref), Remove, Close, Dup, DupFD,
//     Dup2, Dup3, SetCloexec, Cloexec, Fork, CloseOnExec, CloseRange,
//     CloseAll, ForEach, Count; RLIMIT_NOFILE passed per call.
//   - Stat (LinuxStat, Statx), Statfs (LinuxStatfs), Dirent, AppendDirent64.
//
// The namespace: VFS (New, RegisterType, Devices, OpenFIFO hook) holds the
// mount tree and dentry cache. A process's root and cwd are an FSContext;
// operations take an At{Root, Dir} built by FSContext.At(dirPath) (zero
// Path = AT_FDCWD; a dirfd's description gives Path()). Operations:
// OpenAt, OpenPath, MkdirAt, MknodAt, SymlinkAt, LinkAt, UnlinkAt,
// RenameAt2, ReadlinkAt, StatAt, StatPath, ChmodAt, ChownAt, UtimensAt,
// TruncateAt, AccessAt, StatfsAt, StatfsPath, Resolve, CheckDir,
// Permission, Mount, Umount, MountRoot, MountFilesystem, NewFilesystem,
// Mounts, PathName, RootPath. fd-based variants (fchmod, fchown, futimens,
// fstatat(fd, "")) are the *At forms with AT_EMPTY_PATH and an empty path.
//
// Filesystems implement Inode / DirInode / SymlinkInode (+ MagicLink for
// proc's fd links, DynamicDir for proc's changing directories),
// Filesystem and FilesystemType; the VFS does path walks (symlinks, ELOOP
// after 40, "..", mount crossing, trailing slashes), permission checks
// (mode bits, groups, sticky directories, root) and Linux's error rules.
// Inode values must be comparable (pointers). Devices are opened through a
// DeviceRegistry keyed by (type, major, minor).
package vfs
