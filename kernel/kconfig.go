package kernel

// KernelConfig is the build configuration uk reports as its own in
// /proc/config.gz: the Linux options whose behaviour it provides are set,
// those it does not are "is not set", so that a program that reads the
// configuration to decide what to test (LTP's needs_kconfigs) finds uk's
// truth rather than the host's, or nothing. Keep it in step with the
// system calls: an option set here promises what it names.
const KernelConfig = `#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 ` + Release + ` Kernel Configuration
#
CONFIG_64BIT=y
CONFIG_X86_64=y
CONFIG_X86=y
CONFIG_MMU=y
CONFIG_SMP=y
CONFIG_LOCALVERSION="-uk"
CONFIG_HZ_100=y
CONFIG_HZ=100
CONFIG_HIGH_RES_TIMERS=y
CONFIG_POSIX_TIMERS=y
CONFIG_MULTIUSER=y
CONFIG_IKCONFIG=y
CONFIG_IKCONFIG_PROC=y

#
# Processes and namespaces
#
CONFIG_NAMESPACES=y
CONFIG_TIME_NS=y
# CONFIG_UTS_NS is not set
# CONFIG_IPC_NS is not set
# CONFIG_USER_NS is not set
# CONFIG_PID_NS is not set
# CONFIG_NET_NS is not set
# CONFIG_CGROUPS is not set
# CONFIG_MEMCG is not set
CONFIG_BSD_PROCESS_ACCT=y
CONFIG_BSD_PROCESS_ACCT_V3=y
# CONFIG_TASKSTATS is not set
CONFIG_FUTEX=y
CONFIG_FUTEX_PI=y
CONFIG_RSEQ=y
CONFIG_MEMBARRIER=y
CONFIG_KCMP=y
CONFIG_CHECKPOINT_RESTORE=y
CONFIG_SECCOMP=y
CONFIG_SECCOMP_FILTER=y
# CONFIG_COREDUMP is not set
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
# CONFIG_PERF_EVENTS is not set
# CONFIG_BPF_SYSCALL is not set
CONFIG_KEYS=y
CONFIG_SECURITY=y
CONFIG_SECURITY_LANDLOCK=y
CONFIG_LSM="landlock"

#
# Inter-process communication
#
CONFIG_SYSVIPC=y
CONFIG_SYSVIPC_SYSCTL=y
CONFIG_POSIX_MQUEUE=y
CONFIG_POSIX_MQUEUE_SYSCTL=y
CONFIG_CROSS_MEMORY_ATTACH=y

#
# Memory
#
CONFIG_SHMEM=y
CONFIG_MEMFD_CREATE=y
CONFIG_ADVISE_SYSCALLS=y
CONFIG_CACHESTAT_SYSCALL=y
# CONFIG_SWAP is not set
# CONFIG_NUMA is not set
# CONFIG_TRANSPARENT_HUGEPAGE is not set
# CONFIG_HUGETLBFS is not set
CONFIG_USERFAULTFD=y
CONFIG_HAVE_ARCH_USERFAULTFD_WP=y
# CONFIG_KSM is not set

#
# Files
#
CONFIG_EPOLL=y
CONFIG_SIGNALFD=y
CONFIG_TIMERFD=y
CONFIG_EVENTFD=y
CONFIG_FILE_LOCKING=y
CONFIG_INOTIFY_USER=y
CONFIG_FANOTIFY=y
CONFIG_FANOTIFY_ACCESS_PERMISSIONS=y
CONFIG_AIO=y
# CONFIG_IO_URING is not set
CONFIG_FHANDLE=y
# CONFIG_QUOTA is not set
# CONFIG_BLOCK is not set
CONFIG_PROC_FS=y
CONFIG_PROC_SYSCTL=y
CONFIG_SYSFS=y
CONFIG_SYSFS_SYSCALL=y
CONFIG_TMPFS=y
CONFIG_TMPFS_XATTR=y
# CONFIG_TMPFS_POSIX_ACL is not set
CONFIG_TTY=y
CONFIG_UNIX98_PTYS=y

#
# Networking
#
CONFIG_NET=y
CONFIG_INET=y
CONFIG_UNIX=y
# CONFIG_PACKET is not set
`
