package syscalls

import (
	"uk/arch"
	"uk/kernel"
)

// registerFS adds the filesystem syscalls: names (open, stat, mkdir,
// link, rename...), attributes, directories, mounts, and the data movers
// that work on files (sendfile, copy_file_range, fallocate).
func registerFS(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	const (
		of = kernel.ArgOpenFlags
		af = kernel.ArgAtFlags
	)
	// Opening.
	r(arch.SysOpen, "open", sysOpen, path, of, oct)
	r(arch.SysOpenat, "openat", sysOpenat, fd, path, of, oct)
	r(arch.SysOpenat2, "openat2", sysOpenat2, fd, path, x, i)
	r(arch.SysCreat, "creat", sysCreat, path, oct)
	r(arch.SysCloseRange, "close_range", sysCloseRange, fd, fd, x)
	r(arch.SysMemfdCreate, "memfd_create", sysMemfdCreate, path, x)

	// Attributes.
	r(arch.SysStat, "stat", sysStat, path, x)
	r(arch.SysLstat, "lstat", sysLstat, path, x)
	r(arch.SysNewfstatat, "newfstatat", sysNewfstatat, fd, path, x, af)
	r(arch.SysStatx, "statx", sysStatx, fd, path, af, x, x)
	r(arch.SysStatfs, "statfs", sysStatfs, path, x)
	r(arch.SysFstatfs, "fstatfs", sysFstatfs, fd, x)
	r(arch.SysChmod, "chmod", sysChmod, path, oct)
	r(arch.SysFchmod, "fchmod", sysFchmod, fd, oct)
	r(arch.SysFchmodat, "fchmodat", sysFchmodat, fd, path, oct)
	r(arch.SysFchmodat2, "fchmodat2", sysFchmodat2, fd, path, oct, af)
	r(arch.SysChown, "chown", sysChown, path, i, i)
	r(arch.SysFchown, "fchown", sysFchown, fd, i, i)
	r(arch.SysLchown, "lchown", sysLchown, path, i, i)
	r(arch.SysFchownat, "fchownat", sysFchownat, fd, path, i, i, af)
	r(arch.SysUtimensat, "utimensat", sysUtimensat, fd, path, x, af)
	r(arch.SysUtime, "utime", sysUtime, path, x)
	r(arch.SysUtimes, "utimes", sysUtimes, path, x)
	r(arch.SysFutimesat, "futimesat", sysFutimesat, fd, path, x)
	r(arch.SysTruncate, "truncate", sysTruncate, path, i)
	r(arch.SysFtruncate, "ftruncate", sysFtruncate, fd, i)
	r(arch.SysAccess, "access", sysAccess, path, oct)
	r(arch.SysFaccessat, "faccessat", sysFaccessat, fd, path, oct)
	r(arch.SysFaccessat2, "faccessat2", sysFaccessat2, fd, path, oct, af)
	r(arch.SysUmask, "umask", sysUmask, oct)

	// Directories and names.
	r(arch.SysGetdents64, "getdents64", sysGetdents64, fd, x, i)
	r(arch.SysGetdents, "getdents", sysGetdents, fd, x, i)
	r(arch.SysMkdir, "mkdir", sysMkdir, path, oct)
	r(arch.SysMkdirat, "mkdirat", sysMkdirat, fd, path, oct)
	r(arch.SysMknod, "mknod", sysMknod, path, oct, x)
	r(arch.SysMknodat, "mknodat", sysMknodat, fd, path, oct, x)
	r(arch.SysRmdir, "rmdir", sysRmdir, path)
	r(arch.SysUnlink, "unlink", sysUnlink, path)
	r(arch.SysUnlinkat, "unlinkat", sysUnlinkat, fd, path, af)
	r(arch.SysLink, "link", sysLink, path, path)
	r(arch.SysLinkat, "linkat", sysLinkat, fd, path, fd, path, af)
	r(arch.SysSymlink, "symlink", sysSymlink, path, path)
	r(arch.SysSymlinkat, "symlinkat", sysSymlinkat, path, fd, path)
	r(arch.SysRename, "rename", sysRename, path, path)
	r(arch.SysRenameat, "renameat", sysRenameat, fd, path, fd, path)
	r(arch.SysRenameat2, "renameat2", sysRenameat2, fd, path, fd, path, x)
	r(arch.SysChdir, "chdir", sysChdir, path)
	r(arch.SysFchdir, "fchdir", sysFchdir, fd)
	r(arch.SysGetcwd, "getcwd", sysGetcwd, x, i)
	r(arch.SysChroot, "chroot", sysChroot, path)

	// Data and sync.
	r(arch.SysFsync, "fsync", sysFsync, fd)
	r(arch.SysFdatasync, "fdatasync", sysFsync, fd)
	r(arch.SysSync, "sync", sysSync)
	r(arch.SysSyncfs, "syncfs", sysSyncfs, fd)
	r(arch.SysSyncFileRange, "sync_file_range", sysSyncFileRange, fd, i, i, x)
	r(arch.SysFallocate, "fallocate", sysFallocate, fd, x, i, i)
	r(arch.SysFadvise64, "fadvise64", sysFadvise64, fd, i, i, i)
	r(arch.SysReadahead, "readahead", sysReadahead, fd, i, i)
	r(arch.SysSendfile, "sendfile", sysSendfile, fd, fd, x, i)
	r(arch.SysCopyFileRange, "copy_file_range", sysCopyFileRange, fd, x, fd, x, i, x)
	r(arch.SysFlock, "flock", sysFlock, fd, x)

	// Extended attributes (fs_xattr.go).
	r(arch.SysGetxattr, "getxattr", getxattrOp.path(true), path, path, x, i)
	r(arch.SysLgetxattr, "lgetxattr", getxattrOp.path(false), path, path, x, i)
	r(arch.SysFgetxattr, "fgetxattr", getxattrOp.fd, fd, path, x, i)
	r(arch.SysSetxattr, "setxattr", setxattrOp.path(true), path, path, x, i, x)
	r(arch.SysLsetxattr, "lsetxattr", setxattrOp.path(false), path, path, x, i, x)
	r(arch.SysFsetxattr, "fsetxattr", setxattrOp.fd, fd, path, x, i, x)
	r(arch.SysListxattr, "listxattr", listxattrOp.path(true), path, x, i)
	r(arch.SysLlistxattr, "llistxattr", listxattrOp.path(false), path, x, i)
	r(arch.SysFlistxattr, "flistxattr", sysFlistxattr, fd, x, i)
	r(arch.SysRemovexattr, "removexattr", removexattrOp.path(true), path, path)
	r(arch.SysLremovexattr, "lremovexattr", removexattrOp.path(false), path, path)
	r(arch.SysFremovexattr, "fremovexattr", removexattrOp.fd, fd, path)
	r(arch.SysNameToHandleAt, "name_to_handle_at", sysNameToHandleAt, fd, path, x, x, af)
	r(arch.SysOpenByHandleAt, "open_by_handle_at", sysOpenByHandleAt, fd, x, kernel.ArgOpenFlags)

	// Mounts.
	r(arch.SysMount, "mount", sysMount, path, path, path, x, x)
	r(arch.SysUmount2, "umount2", sysUmount2, path, x)
	r(arch.SysPivotRoot, "pivot_root", sysPivotRoot, path, path)
}

func registerFiles(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	r(arch.SysRead, "read", sysRead, fd, out, i)
	r(arch.SysWrite, "write", sysWrite, fd, in, i)
	r(arch.SysPread64, "pread64", sysPread64, fd, out, i, i)
	r(arch.SysPwrite64, "pwrite64", sysPwrite64, fd, in, i, i)
	r(arch.SysReadv, "readv", sysReadv, fd, x, i)
	r(arch.SysWritev, "writev", sysWritev, fd, x, i)
	r(arch.SysPreadv, "preadv", sysPreadv, fd, x, i, i, i)
	r(arch.SysPwritev, "pwritev", sysPwritev, fd, x, i, i, i)
	r(arch.SysPreadv2, "preadv2", sysPreadv2, fd, x, i, i, i, x)
	r(arch.SysPwritev2, "pwritev2", sysPwritev2, fd, x, i, i, i, x)
	r(arch.SysClose, "close", sysClose, fd)
	r(arch.SysDup, "dup", sysDup, fd)
	r(arch.SysDup2, "dup2", sysDup2, fd, fd)
	r(arch.SysDup3, "dup3", sysDup3, fd, fd, x)
	r(arch.SysFcntl, "fcntl", sysFcntl, fd, kernel.ArgFcntlCmd, x)
	r(arch.SysIoctl, "ioctl", sysIoctl, fd, kernel.ArgIoctlReq, x)
	r(arch.SysFstat, "fstat", sysFstat, fd, x)
	r(arch.SysLseek, "lseek", sysLseek, fd, i, i)
	r(arch.SysReadlink, "readlink", sysReadlink, path, x, i)
	r(arch.SysReadlinkat, "readlinkat", sysReadlinkat, fd, path, x, i)
}
