// Package vfs is uk's virtual filesystem layer: what the kernel's syscall
// handlers call to name, open and operate on files. Every operation is a
// plain method that takes a Context (the calling task) and returns
// unix.Errno values the syscall layer passes straight to the application.
//
// Core types:
//
//   - Context: what an operation may ask of the calling task: Credentials,
//     Umask, Block (interruptible wait, EINTR), CopyIn/CopyOut (ioctl args).
//   - Credentials: uid/gid sets, fsuid/fsgid, groups, Privileged (root caps).
//   - FileDescription: an open file description (status flags, offset and
//     its lock, Path, refcount). Read/PRead/Write/PWrite/Seek/Stat/Getdents/
//     Ioctl/Readiness/EventRegister/Truncate/Fsync check the access mode and
//     call the FileImpl.
//   - FileImpl: implemented by each file type; embed FileBase for Linux's
//     defaults (EINVAL, ESPIPE, ENOTDIR, ENOTTY, always ready).
//   - Waiter, Queue, EventMask: readiness notification for poll/epoll and
//     blocking I/O (NewChannelWaiter + Context.Block).
//   - FDTable: fd numbers → (description, FD_CLOEXEC): Install, InstallAt,
//     Get, Remove, Close, Dup, DupFD, Dup2, Dup3, SetCloexec, Cloexec, Fork,
//     CloseOnExec, CloseRange, CloseAll, ForEach, Count.
//   - Stat/Statfs (with LinuxStat/Statx/LinuxStatfs converters), Dirent and
//     AppendDirent64 for getdents64.
//
// The namespace (see vfs.go, walk.go, ops.go): VFS holds registered
// FilesystemTypes, a DeviceRegistry, the mount tree and dentry cache.
// Filesystems implement Inode / DirInode / SymlinkInode (+ MagicLink,
// DynamicDir) and Filesystem; the VFS does path walks, permission checks,
// mount crossing and Linux's error rules. A process's root and cwd live in
// an FSContext; operations take an At (root + starting directory).
package vfs
