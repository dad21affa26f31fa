// The numbers below follow Linux's arch/x86/entry/syscalls/syscall_64.tbl.
// They were taken from the host's asm/unistd_64.h (0-450) and, for 335, 336 and 451-471,
// from golang.org/x/sys/unix checked against the kernel table; listns (470, Linux
// 6.19) and rseq_slice_yield (471) are newer than Linux 6.18 but numbered
// already, so strace output names them. syscalls_amd64_test.go checks every
// number x/sys knows. There is no generator: edit by hand when Linux adds one.

package arch

import "strconv"

// x86-64 Linux system call numbers (the 64-bit ABI; x32's numbers, which
// have bit 30 set, are not part of it). Numbers 337-423 are unused on x86-64:
// they were kept free so that syscalls added to all architectures at once
// (from 424, pidfd_send_signal) get the same number everywhere; 335 and 336
// are x86-only uprobe helpers added later (Linux 6.11 and 6.18).
const (
	SysRead                  = 0
	SysWrite                 = 1
	SysOpen                  = 2
	SysClose                 = 3
	SysStat                  = 4
	SysFstat                 = 5
	SysLstat                 = 6
	SysPoll                  = 7
	SysLseek                 = 8
	SysMmap                  = 9
	SysMprotect              = 10
	SysMunmap                = 11
	SysBrk                   = 12
	SysRtSigaction           = 13
	SysRtSigprocmask         = 14
	SysRtSigreturn           = 15
	SysIoctl                 = 16
	SysPread64               = 17
	SysPwrite64              = 18
	SysReadv                 = 19
	SysWritev                = 20
	SysAccess                = 21
	SysPipe                  = 22
	SysSelect                = 23
	SysSchedYield            = 24
	SysMremap                = 25
	SysMsync                 = 26
	SysMincore               = 27
	SysMadvise               = 28
	SysShmget                = 29
	SysShmat                 = 30
	SysShmctl                = 31
	SysDup                   = 32
	SysDup2                  = 33
	SysPause                 = 34
	SysNanosleep             = 35
	SysGetitimer             = 36
	SysAlarm                 = 37
	SysSetitimer             = 38
	SysGetpid                = 39
	SysSendfile              = 40
	SysSocket                = 41
	SysConnect               = 42
	SysAccept                = 43
	SysSendto                = 44
	SysRecvfrom              = 45
	SysSendmsg               = 46
	SysRecvmsg               = 47
	SysShutdown              = 48
	SysBind                  = 49
	SysListen                = 50
	SysGetsockname           = 51
	SysGetpeername           = 52
	SysSocketpair            = 53
	SysSetsockopt            = 54
	SysGetsockopt            = 55
	SysClone                 = 56
	SysFork                  = 57
	SysVfork                 = 58
	SysExecve                = 59
	SysExit                  = 60
	SysWait4                 = 61
	SysKill                  = 62
	SysUname                 = 63
	SysSemget                = 64
	SysSemop                 = 65
	SysSemctl                = 66
	SysShmdt                 = 67
	SysMsgget                = 68
	SysMsgsnd                = 69
	SysMsgrcv                = 70
	SysMsgctl                = 71
	SysFcntl                 = 72
	SysFlock                 = 73
	SysFsync                 = 74
	SysFdatasync             = 75
	SysTruncate              = 76
	SysFtruncate             = 77
	SysGetdents              = 78
	SysGetcwd                = 79
	SysChdir                 = 80
	SysFchdir                = 81
	SysRename                = 82
	SysMkdir                 = 83
	SysRmdir                 = 84
	SysCreat                 = 85
	SysLink                  = 86
	SysUnlink                = 87
	SysSymlink               = 88
	SysReadlink              = 89
	SysChmod                 = 90
	SysFchmod                = 91
	SysChown                 = 92
	SysFchown                = 93
	SysLchown                = 94
	SysUmask                 = 95
	SysGettimeofday          = 96
	SysGetrlimit             = 97
	SysGetrusage             = 98
	SysSysinfo               = 99
	SysTimes                 = 100
	SysPtrace                = 101
	SysGetuid                = 102
	SysSyslog                = 103
	SysGetgid                = 104
	SysSetuid                = 105
	SysSetgid                = 106
	SysGeteuid               = 107
	SysGetegid               = 108
	SysSetpgid               = 109
	SysGetppid               = 110
	SysGetpgrp               = 111
	SysSetsid                = 112
	SysSetreuid              = 113
	SysSetregid              = 114
	SysGetgroups             = 115
	SysSetgroups             = 116
	SysSetresuid             = 117
	SysGetresuid             = 118
	SysSetresgid             = 119
	SysGetresgid             = 120
	SysGetpgid               = 121
	SysSetfsuid              = 122
	SysSetfsgid              = 123
	SysGetsid                = 124
	SysCapget                = 125
	SysCapset                = 126
	SysRtSigpending          = 127
	SysRtSigtimedwait        = 128
	SysRtSigqueueinfo        = 129
	SysRtSigsuspend          = 130
	SysSigaltstack           = 131
	SysUtime                 = 132
	SysMknod                 = 133
	SysUselib                = 134
	SysPersonality           = 135
	SysUstat                 = 136
	SysStatfs                = 137
	SysFstatfs               = 138
	SysSysfs                 = 139
	SysGetpriority           = 140
	SysSetpriority           = 141
	SysSchedSetparam         = 142
	SysSchedGetparam         = 143
	SysSchedSetscheduler     = 144
	SysSchedGetscheduler     = 145
	SysSchedGetPriorityMax   = 146
	SysSchedGetPriorityMin   = 147
	SysSchedRrGetInterval    = 148
	SysMlock                 = 149
	SysMunlock               = 150
	SysMlockall              = 151
	SysMunlockall            = 152
	SysVhangup               = 153
	SysModifyLdt             = 154
	SysPivotRoot             = 155
	SysSysctl                = 156
	SysPrctl                 = 157
	SysArchPrctl             = 158
	SysAdjtimex              = 159
	SysSetrlimit             = 160
	SysChroot                = 161
	SysSync                  = 162
	SysAcct                  = 163
	SysSettimeofday          = 164
	SysMount                 = 165
	SysUmount2               = 166
	SysSwapon                = 167
	SysSwapoff               = 168
	SysReboot                = 169
	SysSethostname           = 170
	SysSetdomainname         = 171
	SysIopl                  = 172
	SysIoperm                = 173
	SysCreateModule          = 174
	SysInitModule            = 175
	SysDeleteModule          = 176
	SysGetKernelSyms         = 177
	SysQueryModule           = 178
	SysQuotactl              = 179
	SysNfsservctl            = 180
	SysGetpmsg               = 181
	SysPutpmsg               = 182
	SysAfsSyscall            = 183
	SysTuxcall               = 184
	SysSecurity              = 185
	SysGettid                = 186
	SysReadahead             = 187
	SysSetxattr              = 188
	SysLsetxattr             = 189
	SysFsetxattr             = 190
	SysGetxattr              = 191
	SysLgetxattr             = 192
	SysFgetxattr             = 193
	SysListxattr             = 194
	SysLlistxattr            = 195
	SysFlistxattr            = 196
	SysRemovexattr           = 197
	SysLremovexattr          = 198
	SysFremovexattr          = 199
	SysTkill                 = 200
	SysTime                  = 201
	SysFutex                 = 202
	SysSchedSetaffinity      = 203
	SysSchedGetaffinity      = 204
	SysSetThreadArea         = 205
	SysIoSetup               = 206
	SysIoDestroy             = 207
	SysIoGetevents           = 208
	SysIoSubmit              = 209
	SysIoCancel              = 210
	SysGetThreadArea         = 211
	SysLookupDcookie         = 212
	SysEpollCreate           = 213
	SysEpollCtlOld           = 214
	SysEpollWaitOld          = 215
	SysRemapFilePages        = 216
	SysGetdents64            = 217
	SysSetTidAddress         = 218
	SysRestartSyscall        = 219
	SysSemtimedop            = 220
	SysFadvise64             = 221
	SysTimerCreate           = 222
	SysTimerSettime          = 223
	SysTimerGettime          = 224
	SysTimerGetoverrun       = 225
	SysTimerDelete           = 226
	SysClockSettime          = 227
	SysClockGettime          = 228
	SysClockGetres           = 229
	SysClockNanosleep        = 230
	SysExitGroup             = 231
	SysEpollWait             = 232
	SysEpollCtl              = 233
	SysTgkill                = 234
	SysUtimes                = 235
	SysVserver               = 236
	SysMbind                 = 237
	SysSetMempolicy          = 238
	SysGetMempolicy          = 239
	SysMqOpen                = 240
	SysMqUnlink              = 241
	SysMqTimedsend           = 242
	SysMqTimedreceive        = 243
	SysMqNotify              = 244
	SysMqGetsetattr          = 245
	SysKexecLoad             = 246
	SysWaitid                = 247
	SysAddKey                = 248
	SysRequestKey            = 249
	SysKeyctl                = 250
	SysIoprioSet             = 251
	SysIoprioGet             = 252
	SysInotifyInit           = 253
	SysInotifyAddWatch       = 254
	SysInotifyRmWatch        = 255
	SysMigratePages          = 256
	SysOpenat                = 257
	SysMkdirat               = 258
	SysMknodat               = 259
	SysFchownat              = 260
	SysFutimesat             = 261
	SysNewfstatat            = 262
	SysUnlinkat              = 263
	SysRenameat              = 264
	SysLinkat                = 265
	SysSymlinkat             = 266
	SysReadlinkat            = 267
	SysFchmodat              = 268
	SysFaccessat             = 269
	SysPselect6              = 270
	SysPpoll                 = 271
	SysUnshare               = 272
	SysSetRobustList         = 273
	SysGetRobustList         = 274
	SysSplice                = 275
	SysTee                   = 276
	SysSyncFileRange         = 277
	SysVmsplice              = 278
	SysMovePages             = 279
	SysUtimensat             = 280
	SysEpollPwait            = 281
	SysSignalfd              = 282
	SysTimerfdCreate         = 283
	SysEventfd               = 284
	SysFallocate             = 285
	SysTimerfdSettime        = 286
	SysTimerfdGettime        = 287
	SysAccept4               = 288
	SysSignalfd4             = 289
	SysEventfd2              = 290
	SysEpollCreate1          = 291
	SysDup3                  = 292
	SysPipe2                 = 293
	SysInotifyInit1          = 294
	SysPreadv                = 295
	SysPwritev               = 296
	SysRtTgsigqueueinfo      = 297
	SysPerfEventOpen         = 298
	SysRecvmmsg              = 299
	SysFanotifyInit          = 300
	SysFanotifyMark          = 301
	SysPrlimit64             = 302
	SysNameToHandleAt        = 303
	SysOpenByHandleAt        = 304
	SysClockAdjtime          = 305
	SysSyncfs                = 306
	SysSendmmsg              = 307
	SysSetns                 = 308
	SysGetcpu                = 309
	SysProcessVmReadv        = 310
	SysProcessVmWritev       = 311
	SysKcmp                  = 312
	SysFinitModule           = 313
	SysSchedSetattr          = 314
	SysSchedGetattr          = 315
	SysRenameat2             = 316
	SysSeccomp               = 317
	SysGetrandom             = 318
	SysMemfdCreate           = 319
	SysKexecFileLoad         = 320
	SysBpf                   = 321
	SysExecveat              = 322
	SysUserfaultfd           = 323
	SysMembarrier            = 324
	SysMlock2                = 325
	SysCopyFileRange         = 326
	SysPreadv2               = 327
	SysPwritev2              = 328
	SysPkeyMprotect          = 329
	SysPkeyAlloc             = 330
	SysPkeyFree              = 331
	SysStatx                 = 332
	SysIoPgetevents          = 333
	SysRseq                  = 334
	SysUretprobe             = 335
	SysUprobe                = 336
	SysPidfdSendSignal       = 424
	SysIoUringSetup          = 425
	SysIoUringEnter          = 426
	SysIoUringRegister       = 427
	SysOpenTree              = 428
	SysMoveMount             = 429
	SysFsopen                = 430
	SysFsconfig              = 431
	SysFsmount               = 432
	SysFspick                = 433
	SysPidfdOpen             = 434
	SysClone3                = 435
	SysCloseRange            = 436
	SysOpenat2               = 437
	SysPidfdGetfd            = 438
	SysFaccessat2            = 439
	SysProcessMadvise        = 440
	SysEpollPwait2           = 441
	SysMountSetattr          = 442
	SysQuotactlFd            = 443
	SysLandlockCreateRuleset = 444
	SysLandlockAddRule       = 445
	SysLandlockRestrictSelf  = 446
	SysMemfdSecret           = 447
	SysProcessMrelease       = 448
	SysFutexWaitv            = 449
	SysSetMempolicyHomeNode  = 450
	SysCachestat             = 451
	SysFchmodat2             = 452
	SysMapShadowStack        = 453
	SysFutexWake             = 454
	SysFutexWait             = 455
	SysFutexRequeue          = 456
	SysStatmount             = 457
	SysListmount             = 458
	SysLsmGetSelfAttr        = 459
	SysLsmSetSelfAttr        = 460
	SysLsmListModules        = 461
	SysMseal                 = 462
	SysSetxattrat            = 463
	SysGetxattrat            = 464
	SysListxattrat           = 465
	SysRemovexattrat         = 466
	SysOpenTreeAttr          = 467
	SysFileGetattr           = 468
	SysFileSetattr           = 469
	SysListns                = 470
	SysRseqSliceYield        = 471
)

// SyscallCount is the size of the syscall number space this table covers:
// one more than the highest number it names. Numbers at or above it, and the
// gap below 424, have no name and are answered with ENOSYS by the kernel.
const SyscallCount = 472

// syscallNames maps a syscall number to the name Linux (and strace) uses.
var syscallNames = [SyscallCount]string{
	SysRead:                  "read",
	SysWrite:                 "write",
	SysOpen:                  "open",
	SysClose:                 "close",
	SysStat:                  "stat",
	SysFstat:                 "fstat",
	SysLstat:                 "lstat",
	SysPoll:                  "poll",
	SysLseek:                 "lseek",
	SysMmap:                  "mmap",
	SysMprotect:              "mprotect",
	SysMunmap:                "munmap",
	SysBrk:                   "brk",
	SysRtSigaction:           "rt_sigaction",
	SysRtSigprocmask:         "rt_sigprocmask",
	SysRtSigreturn:           "rt_sigreturn",
	SysIoctl:                 "ioctl",
	SysPread64:               "pread64",
	SysPwrite64:              "pwrite64",
	SysReadv:                 "readv",
	SysWritev:                "writev",
	SysAccess:                "access",
	SysPipe:                  "pipe",
	SysSelect:                "select",
	SysSchedYield:            "sched_yield",
	SysMremap:                "mremap",
	SysMsync:                 "msync",
	SysMincore:               "mincore",
	SysMadvise:               "madvise",
	SysShmget:                "shmget",
	SysShmat:                 "shmat",
	SysShmctl:                "shmctl",
	SysDup:                   "dup",
	SysDup2:                  "dup2",
	SysPause:                 "pause",
	SysNanosleep:             "nanosleep",
	SysGetitimer:             "getitimer",
	SysAlarm:                 "alarm",
	SysSetitimer:             "setitimer",
	SysGetpid:                "getpid",
	SysSendfile:              "sendfile",
	SysSocket:                "socket",
	SysConnect:               "connect",
	SysAccept:                "accept",
	SysSendto:                "sendto",
	SysRecvfrom:              "recvfrom",
	SysSendmsg:               "sendmsg",
	SysRecvmsg:               "recvmsg",
	SysShutdown:              "shutdown",
	SysBind:                  "bind",
	SysListen:                "listen",
	SysGetsockname:           "getsockname",
	SysGetpeername:           "getpeername",
	SysSocketpair:            "socketpair",
	SysSetsockopt:            "setsockopt",
	SysGetsockopt:            "getsockopt",
	SysClone:                 "clone",
	SysFork:                  "fork",
	SysVfork:                 "vfork",
	SysExecve:                "execve",
	SysExit:                  "exit",
	SysWait4:                 "wait4",
	SysKill:                  "kill",
	SysUname:                 "uname",
	SysSemget:                "semget",
	SysSemop:                 "semop",
	SysSemctl:                "semctl",
	SysShmdt:                 "shmdt",
	SysMsgget:                "msgget",
	SysMsgsnd:                "msgsnd",
	SysMsgrcv:                "msgrcv",
	SysMsgctl:                "msgctl",
	SysFcntl:                 "fcntl",
	SysFlock:                 "flock",
	SysFsync:                 "fsync",
	SysFdatasync:             "fdatasync",
	SysTruncate:              "truncate",
	SysFtruncate:             "ftruncate",
	SysGetdents:              "getdents",
	SysGetcwd:                "getcwd",
	SysChdir:                 "chdir",
	SysFchdir:                "fchdir",
	SysRename:                "rename",
	SysMkdir:                 "mkdir",
	SysRmdir:                 "rmdir",
	SysCreat:                 "creat",
	SysLink:                  "link",
	SysUnlink:                "unlink",
	SysSymlink:               "symlink",
	SysReadlink:              "readlink",
	SysChmod:                 "chmod",
	SysFchmod:                "fchmod",
	SysChown:                 "chown",
	SysFchown:                "fchown",
	SysLchown:                "lchown",
	SysUmask:                 "umask",
	SysGettimeofday:          "gettimeofday",
	SysGetrlimit:             "getrlimit",
	SysGetrusage:             "getrusage",
	SysSysinfo:               "sysinfo",
	SysTimes:                 "times",
	SysPtrace:                "ptrace",
	SysGetuid:                "getuid",
	SysSyslog:                "syslog",
	SysGetgid:                "getgid",
	SysSetuid:                "setuid",
	SysSetgid:                "setgid",
	SysGeteuid:               "geteuid",
	SysGetegid:               "getegid",
	SysSetpgid:               "setpgid",
	SysGetppid:               "getppid",
	SysGetpgrp:               "getpgrp",
	SysSetsid:                "setsid",
	SysSetreuid:              "setreuid",
	SysSetregid:              "setregid",
	SysGetgroups:             "getgroups",
	SysSetgroups:             "setgroups",
	SysSetresuid:             "setresuid",
	SysGetresuid:             "getresuid",
	SysSetresgid:             "setresgid",
	SysGetresgid:             "getresgid",
	SysGetpgid:               "getpgid",
	SysSetfsuid:              "setfsuid",
	SysSetfsgid:              "setfsgid",
	SysGetsid:                "getsid",
	SysCapget:                "capget",
	SysCapset:                "capset",
	SysRtSigpending:          "rt_sigpending",
	SysRtSigtimedwait:        "rt_sigtimedwait",
	SysRtSigqueueinfo:        "rt_sigqueueinfo",
	SysRtSigsuspend:          "rt_sigsuspend",
	SysSigaltstack:           "sigaltstack",
	SysUtime:                 "utime",
	SysMknod:                 "mknod",
	SysUselib:                "uselib",
	SysPersonality:           "personality",
	SysUstat:                 "ustat",
	SysStatfs:                "statfs",
	SysFstatfs:               "fstatfs",
	SysSysfs:                 "sysfs",
	SysGetpriority:           "getpriority",
	SysSetpriority:           "setpriority",
	SysSchedSetparam:         "sched_setparam",
	SysSchedGetparam:         "sched_getparam",
	SysSchedSetscheduler:     "sched_setscheduler",
	SysSchedGetscheduler:     "sched_getscheduler",
	SysSchedGetPriorityMax:   "sched_get_priority_max",
	SysSchedGetPriorityMin:   "sched_get_priority_min",
	SysSchedRrGetInterval:    "sched_rr_get_interval",
	SysMlock:                 "mlock",
	SysMunlock:               "munlock",
	SysMlockall:              "mlockall",
	SysMunlockall:            "munlockall",
	SysVhangup:               "vhangup",
	SysModifyLdt:             "modify_ldt",
	SysPivotRoot:             "pivot_root",
	SysSysctl:                "_sysctl",
	SysPrctl:                 "prctl",
	SysArchPrctl:             "arch_prctl",
	SysAdjtimex:              "adjtimex",
	SysSetrlimit:             "setrlimit",
	SysChroot:                "chroot",
	SysSync:                  "sync",
	SysAcct:                  "acct",
	SysSettimeofday:          "settimeofday",
	SysMount:                 "mount",
	SysUmount2:               "umount2",
	SysSwapon:                "swapon",
	SysSwapoff:               "swapoff",
	SysReboot:                "reboot",
	SysSethostname:           "sethostname",
	SysSetdomainname:         "setdomainname",
	SysIopl:                  "iopl",
	SysIoperm:                "ioperm",
	SysCreateModule:          "create_module",
	SysInitModule:            "init_module",
	SysDeleteModule:          "delete_module",
	SysGetKernelSyms:         "get_kernel_syms",
	SysQueryModule:           "query_module",
	SysQuotactl:              "quotactl",
	SysNfsservctl:            "nfsservctl",
	SysGetpmsg:               "getpmsg",
	SysPutpmsg:               "putpmsg",
	SysAfsSyscall:            "afs_syscall",
	SysTuxcall:               "tuxcall",
	SysSecurity:              "security",
	SysGettid:                "gettid",
	SysReadahead:             "readahead",
	SysSetxattr:              "setxattr",
	SysLsetxattr:             "lsetxattr",
	SysFsetxattr:             "fsetxattr",
	SysGetxattr:              "getxattr",
	SysLgetxattr:             "lgetxattr",
	SysFgetxattr:             "fgetxattr",
	SysListxattr:             "listxattr",
	SysLlistxattr:            "llistxattr",
	SysFlistxattr:            "flistxattr",
	SysRemovexattr:           "removexattr",
	SysLremovexattr:          "lremovexattr",
	SysFremovexattr:          "fremovexattr",
	SysTkill:                 "tkill",
	SysTime:                  "time",
	SysFutex:                 "futex",
	SysSchedSetaffinity:      "sched_setaffinity",
	SysSchedGetaffinity:      "sched_getaffinity",
	SysSetThreadArea:         "set_thread_area",
	SysIoSetup:               "io_setup",
	SysIoDestroy:             "io_destroy",
	SysIoGetevents:           "io_getevents",
	SysIoSubmit:              "io_submit",
	SysIoCancel:              "io_cancel",
	SysGetThreadArea:         "get_thread_area",
	SysLookupDcookie:         "lookup_dcookie",
	SysEpollCreate:           "epoll_create",
	SysEpollCtlOld:           "epoll_ctl_old",
	SysEpollWaitOld:          "epoll_wait_old",
	SysRemapFilePages:        "remap_file_pages",
	SysGetdents64:            "getdents64",
	SysSetTidAddress:         "set_tid_address",
	SysRestartSyscall:        "restart_syscall",
	SysSemtimedop:            "semtimedop",
	SysFadvise64:             "fadvise64",
	SysTimerCreate:           "timer_create",
	SysTimerSettime:          "timer_settime",
	SysTimerGettime:          "timer_gettime",
	SysTimerGetoverrun:       "timer_getoverrun",
	SysTimerDelete:           "timer_delete",
	SysClockSettime:          "clock_settime",
	SysClockGettime:          "clock_gettime",
	SysClockGetres:           "clock_getres",
	SysClockNanosleep:        "clock_nanosleep",
	SysExitGroup:             "exit_group",
	SysEpollWait:             "epoll_wait",
	SysEpollCtl:              "epoll_ctl",
	SysTgkill:                "tgkill",
	SysUtimes:                "utimes",
	SysVserver:               "vserver",
	SysMbind:                 "mbind",
	SysSetMempolicy:          "set_mempolicy",
	SysGetMempolicy:          "get_mempolicy",
	SysMqOpen:                "mq_open",
	SysMqUnlink:              "mq_unlink",
	SysMqTimedsend:           "mq_timedsend",
	SysMqTimedreceive:        "mq_timedreceive",
	SysMqNotify:              "mq_notify",
	SysMqGetsetattr:          "mq_getsetattr",
	SysKexecLoad:             "kexec_load",
	SysWaitid:                "waitid",
	SysAddKey:                "add_key",
	SysRequestKey:            "request_key",
	SysKeyctl:                "keyctl",
	SysIoprioSet:             "ioprio_set",
	SysIoprioGet:             "ioprio_get",
	SysInotifyInit:           "inotify_init",
	SysInotifyAddWatch:       "inotify_add_watch",
	SysInotifyRmWatch:        "inotify_rm_watch",
	SysMigratePages:          "migrate_pages",
	SysOpenat:                "openat",
	SysMkdirat:               "mkdirat",
	SysMknodat:               "mknodat",
	SysFchownat:              "fchownat",
	SysFutimesat:             "futimesat",
	SysNewfstatat:            "newfstatat",
	SysUnlinkat:              "unlinkat",
	SysRenameat:              "renameat",
	SysLinkat:                "linkat",
	SysSymlinkat:             "symlinkat",
	SysReadlinkat:            "readlinkat",
	SysFchmodat:              "fchmodat",
	SysFaccessat:             "faccessat",
	SysPselect6:              "pselect6",
	SysPpoll:                 "ppoll",
	SysUnshare:               "unshare",
	SysSetRobustList:         "set_robust_list",
	SysGetRobustList:         "get_robust_list",
	SysSplice:                "splice",
	SysTee:                   "tee",
	SysSyncFileRange:         "sync_file_range",
	SysVmsplice:              "vmsplice",
	SysMovePages:             "move_pages",
	SysUtimensat:             "utimensat",
	SysEpollPwait:            "epoll_pwait",
	SysSignalfd:              "signalfd",
	SysTimerfdCreate:         "timerfd_create",
	SysEventfd:               "eventfd",
	SysFallocate:             "fallocate",
	SysTimerfdSettime:        "timerfd_settime",
	SysTimerfdGettime:        "timerfd_gettime",
	SysAccept4:               "accept4",
	SysSignalfd4:             "signalfd4",
	SysEventfd2:              "eventfd2",
	SysEpollCreate1:          "epoll_create1",
	SysDup3:                  "dup3",
	SysPipe2:                 "pipe2",
	SysInotifyInit1:          "inotify_init1",
	SysPreadv:                "preadv",
	SysPwritev:               "pwritev",
	SysRtTgsigqueueinfo:      "rt_tgsigqueueinfo",
	SysPerfEventOpen:         "perf_event_open",
	SysRecvmmsg:              "recvmmsg",
	SysFanotifyInit:          "fanotify_init",
	SysFanotifyMark:          "fanotify_mark",
	SysPrlimit64:             "prlimit64",
	SysNameToHandleAt:        "name_to_handle_at",
	SysOpenByHandleAt:        "open_by_handle_at",
	SysClockAdjtime:          "clock_adjtime",
	SysSyncfs:                "syncfs",
	SysSendmmsg:              "sendmmsg",
	SysSetns:                 "setns",
	SysGetcpu:                "getcpu",
	SysProcessVmReadv:        "process_vm_readv",
	SysProcessVmWritev:       "process_vm_writev",
	SysKcmp:                  "kcmp",
	SysFinitModule:           "finit_module",
	SysSchedSetattr:          "sched_setattr",
	SysSchedGetattr:          "sched_getattr",
	SysRenameat2:             "renameat2",
	SysSeccomp:               "seccomp",
	SysGetrandom:             "getrandom",
	SysMemfdCreate:           "memfd_create",
	SysKexecFileLoad:         "kexec_file_load",
	SysBpf:                   "bpf",
	SysExecveat:              "execveat",
	SysUserfaultfd:           "userfaultfd",
	SysMembarrier:            "membarrier",
	SysMlock2:                "mlock2",
	SysCopyFileRange:         "copy_file_range",
	SysPreadv2:               "preadv2",
	SysPwritev2:              "pwritev2",
	SysPkeyMprotect:          "pkey_mprotect",
	SysPkeyAlloc:             "pkey_alloc",
	SysPkeyFree:              "pkey_free",
	SysStatx:                 "statx",
	SysIoPgetevents:          "io_pgetevents",
	SysRseq:                  "rseq",
	SysUretprobe:             "uretprobe",
	SysUprobe:                "uprobe",
	SysPidfdSendSignal:       "pidfd_send_signal",
	SysIoUringSetup:          "io_uring_setup",
	SysIoUringEnter:          "io_uring_enter",
	SysIoUringRegister:       "io_uring_register",
	SysOpenTree:              "open_tree",
	SysMoveMount:             "move_mount",
	SysFsopen:                "fsopen",
	SysFsconfig:              "fsconfig",
	SysFsmount:               "fsmount",
	SysFspick:                "fspick",
	SysPidfdOpen:             "pidfd_open",
	SysClone3:                "clone3",
	SysCloseRange:            "close_range",
	SysOpenat2:               "openat2",
	SysPidfdGetfd:            "pidfd_getfd",
	SysFaccessat2:            "faccessat2",
	SysProcessMadvise:        "process_madvise",
	SysEpollPwait2:           "epoll_pwait2",
	SysMountSetattr:          "mount_setattr",
	SysQuotactlFd:            "quotactl_fd",
	SysLandlockCreateRuleset: "landlock_create_ruleset",
	SysLandlockAddRule:       "landlock_add_rule",
	SysLandlockRestrictSelf:  "landlock_restrict_self",
	SysMemfdSecret:           "memfd_secret",
	SysProcessMrelease:       "process_mrelease",
	SysFutexWaitv:            "futex_waitv",
	SysSetMempolicyHomeNode:  "set_mempolicy_home_node",
	SysCachestat:             "cachestat",
	SysFchmodat2:             "fchmodat2",
	SysMapShadowStack:        "map_shadow_stack",
	SysFutexWake:             "futex_wake",
	SysFutexWait:             "futex_wait",
	SysFutexRequeue:          "futex_requeue",
	SysStatmount:             "statmount",
	SysListmount:             "listmount",
	SysLsmGetSelfAttr:        "lsm_get_self_attr",
	SysLsmSetSelfAttr:        "lsm_set_self_attr",
	SysLsmListModules:        "lsm_list_modules",
	SysMseal:                 "mseal",
	SysSetxattrat:            "setxattrat",
	SysGetxattrat:            "getxattrat",
	SysListxattrat:           "listxattrat",
	SysRemovexattrat:         "removexattrat",
	SysOpenTreeAttr:          "open_tree_attr",
	SysFileGetattr:           "file_getattr",
	SysFileSetattr:           "file_setattr",
	SysListns:                "listns",
	SysRseqSliceYield:        "rseq_slice_yield",
}

// SyscallName returns the Linux name of syscall nr ("read", "rt_sigaction"),
// or "syscall_NNN" (decimal) for a number Linux does not assign on x86-64,
// which is also how strace prints those.
func SyscallName(nr uint64) string {
	if nr < SyscallCount && syscallNames[nr] != "" {
		return syscallNames[nr]
	}
	return "syscall_" + strconv.FormatUint(nr, 10)
}
