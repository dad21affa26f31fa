// Package syscalls implements uk's Linux system calls, one file per family,
// and builds the table from syscall number to handler (with the argument
// kinds --strace uses to decode each call).
package syscalls

import (
	"uk/arch"
	"uk/kernel"
)

// Shorthands for argument kinds.
const (
	i    = kernel.ArgInt
	x    = kernel.ArgHex
	fd   = kernel.ArgFD
	path = kernel.ArgPath
	in   = kernel.ArgInBuf
	out  = kernel.ArgOutBuf
	oct  = kernel.ArgOct
	sig  = kernel.ArgSignal
)

// Table returns the syscall table.
func Table() *kernel.SyscallTable {
	t := &kernel.SyscallTable{}
	r := t.Register

	// Processes and identity.
	r(arch.SysClone, "clone", sysClone, kernel.ArgCloneFlags, x, x, x, x)
	r(arch.SysClone3, "clone3", sysClone3, x, i)
	r(arch.SysFork, "fork", sysFork)
	r(arch.SysVfork, "vfork", sysVfork)
	r(arch.SysWait4, "wait4", sysWait4, i, x, x, x)
	r(arch.SysWaitid, "waitid", sysWaitid, i, i, x, x, x)
	r(arch.SysSeccomp, "seccomp", sysSeccomp, i, x, x)
	r(arch.SysPidfdOpen, "pidfd_open", sysPidfdOpen, i, x)
	r(arch.SysPidfdSendSignal, "pidfd_send_signal", sysPidfdSendSignal, fd, sig, x, x)
	r(arch.SysPidfdGetfd, "pidfd_getfd", sysPidfdGetfd, fd, i, x)
	r(arch.SysKcmp, "kcmp", sysKcmp, i, i, i, x, x)
	r(arch.SysProcessVmReadv, "process_vm_readv", sysProcessVMReadv, i, x, i, x, i, x)
	r(arch.SysProcessVmWritev, "process_vm_writev", sysProcessVMWritev, i, x, i, x, i, x)
	r(arch.SysExecve, "execve", sysExecve, path, x, x)
	r(arch.SysExecveat, "execveat", sysExecveat, fd, path, x, x, kernel.ArgAtFlags)
	r(arch.SysSetsid, "setsid", sysSetsid)
	r(arch.SysSetpgid, "setpgid", sysSetpgid, i, i)
	r(arch.SysGetpgid, "getpgid", sysGetpgid, i)
	r(arch.SysGetpgrp, "getpgrp", sysGetpgrp)
	r(arch.SysGetsid, "getsid", sysGetsid, i)
	r(arch.SysPrctl, "prctl", sysPrctl, kernel.ArgPrctlOpt, x, x, x, x)
	r(arch.SysGetrusage, "getrusage", sysGetrusage, i, x)
	r(arch.SysTimes, "times", sysTimes, x)
	r(arch.SysReboot, "reboot", sysReboot, x, x, x, x)
	r(arch.SysExit, "exit", sysExit, i)
	r(arch.SysExitGroup, "exit_group", sysExitGroup, i)
	r(arch.SysGetpid, "getpid", sysGetpid)
	r(arch.SysGettid, "gettid", sysGettid)
	r(arch.SysGetppid, "getppid", sysGetppid)
	r(arch.SysSetTidAddress, "set_tid_address", sysSetTidAddress, x)
	r(arch.SysSetRobustList, "set_robust_list", sysSetRobustList, x, i)
	r(arch.SysGetRobustList, "get_robust_list", sysGetRobustList, i, x, x)
	r(arch.SysFutex, "futex", sysFutex, x, i, i, x, x, i)
	r(arch.SysFutexWaitv, "futex_waitv", sysFutexWaitv, x, i, x, x, i)
	r(arch.SysRseq, "rseq", sysRseq, x, i, x, x)
	r(arch.SysMembarrier, "membarrier", sysMembarrier, x, x, i)
	r(arch.SysArchPrctl, "arch_prctl", sysArchPrctl, kernel.ArgArchPrctlCode, x)
	r(arch.SysUname, "uname", sysUname, x)
	r(arch.SysSethostname, "sethostname", sysSethostname, x, i)
	r(arch.SysSetdomainname, "setdomainname", sysSetdomainname, x, i)
	r(arch.SysPersonality, "personality", sysPersonality, x)
	r(arch.SysSysinfo, "sysinfo", sysSysinfo, x)
	r(arch.SysGetcpu, "getcpu", sysGetcpu, x, x, x)
	r(arch.SysSyslog, "syslog", sysSyslog, i, x, i)
	r(arch.SysUnshare, "unshare", sysUnshare, x)
	r(arch.SysSetns, "setns", sysSetns, fd, x)
	r(arch.SysAddKey, "add_key", sysAddKey, x, x, x, i, i)
	r(arch.SysRequestKey, "request_key", sysRequestKey, x, x, x, i)
	r(arch.SysKeyctl, "keyctl", sysKeyctl, i, x, x, x, x)
	r(arch.SysUstat, "ustat", sysUstat, x, x)
	r(arch.SysVhangup, "vhangup", sysVhangup)
	r(arch.SysAcct, "acct", sysAcct, path)
	r(arch.SysSysfs, "sysfs", sysSysfs, i, x, x)
	r(arch.SysIoSetup, "io_setup", sysIoSetup, i, x)
	r(arch.SysIoDestroy, "io_destroy", sysIoDestroy, x)
	r(arch.SysIoSubmit, "io_submit", sysIoSubmit, x, i, x)
	r(arch.SysIoGetevents, "io_getevents", sysIoGetevents, x, i, i, x, x)
	r(arch.SysIoPgetevents, "io_pgetevents", sysIoPgetevents, x, i, i, x, x, x)
	r(arch.SysIoCancel, "io_cancel", sysIoCancel, x, x, x)
	r(arch.SysCachestat, "cachestat", sysCachestat, fd, x, x, x)
	r(arch.SysSplice, "splice", sysSplice, fd, x, fd, x, i, x)
	r(arch.SysTee, "tee", sysTee, fd, fd, i, x)
	r(arch.SysVmsplice, "vmsplice", sysVmsplice, fd, x, i, x)
	r(arch.SysGetuid, "getuid", sysGetuid)
	r(arch.SysGeteuid, "geteuid", sysGeteuid)
	r(arch.SysGetgid, "getgid", sysGetgid)
	r(arch.SysGetegid, "getegid", sysGetegid)
	r(arch.SysGetresuid, "getresuid", sysGetresuid, x, x, x)
	r(arch.SysGetresgid, "getresgid", sysGetresgid, x, x, x)
	r(arch.SysSetuid, "setuid", sysSetuid, i)
	r(arch.SysSetgid, "setgid", sysSetgid, i)
	r(arch.SysSetreuid, "setreuid", sysSetreuid, i, i)
	r(arch.SysSetregid, "setregid", sysSetregid, i, i)
	r(arch.SysSetresuid, "setresuid", sysSetresuid, i, i, i)
	r(arch.SysSetresgid, "setresgid", sysSetresgid, i, i, i)
	r(arch.SysSetfsuid, "setfsuid", sysSetfsuid, i)
	r(arch.SysSetfsgid, "setfsgid", sysSetfsgid, i)
	r(arch.SysGetgroups, "getgroups", sysGetgroups, i, x)
	r(arch.SysCapget, "capget", sysCapget, x, x)
	r(arch.SysCapset, "capset", sysCapset, x, x)
	r(arch.SysSetgroups, "setgroups", sysSetgroups, i, x)
	r(arch.SysPrlimit64, "prlimit64", sysPrlimit64, i, i, x, x)
	r(arch.SysGetrlimit, "getrlimit", sysGetrlimit, i, x)
	r(arch.SysSetrlimit, "setrlimit", sysSetrlimit, i, x)
	r(arch.SysGetrandom, "getrandom", sysGetrandom, x, i, x)
	r(arch.SysSchedGetaffinity, "sched_getaffinity", sysSchedGetaffinity, i, i, x)
	r(arch.SysSchedSetaffinity, "sched_setaffinity", sysSchedSetaffinity, i, i, x)
	r(arch.SysSchedYield, "sched_yield", sysSchedYield)
	r(arch.SysGetpriority, "getpriority", sysGetpriority, i, i)
	r(arch.SysSetpriority, "setpriority", sysSetpriority, i, i, i)
	r(arch.SysSchedSetscheduler, "sched_setscheduler", sysSchedSetscheduler, i, i, x)
	r(arch.SysSchedGetscheduler, "sched_getscheduler", sysSchedGetscheduler, i)
	r(arch.SysSchedSetparam, "sched_setparam", sysSchedSetparam, i, x)
	r(arch.SysSchedGetparam, "sched_getparam", sysSchedGetparam, i, x)
	r(arch.SysSchedGetPriorityMax, "sched_get_priority_max", sysSchedGetPriorityMax, i)
	r(arch.SysSchedGetPriorityMin, "sched_get_priority_min", sysSchedGetPriorityMin, i)
	r(arch.SysSchedRrGetInterval, "sched_rr_get_interval", sysSchedRrGetInterval, i, x)
	r(arch.SysSchedSetattr, "sched_setattr", sysSchedSetattr, i, x, x)
	r(arch.SysSchedGetattr, "sched_getattr", sysSchedGetattr, i, x, i, x)
	r(arch.SysIoprioGet, "ioprio_get", sysIoprioGet, i, i)
	r(arch.SysIoprioSet, "ioprio_set", sysIoprioSet, i, i, x)

	// Memory.
	r(arch.SysMmap, "mmap", sysMmap, x, i, kernel.ArgProt, kernel.ArgMapFlags, fd, x).RetHex = true
	r(arch.SysMunmap, "munmap", sysMunmap, x, i)
	r(arch.SysMprotect, "mprotect", sysMprotect, x, i, kernel.ArgProt)
	r(arch.SysBrk, "brk", sysBrk, x).RetHex = true
	r(arch.SysMremap, "mremap", sysMremap, x, i, i, x, x).RetHex = true
	r(arch.SysRemapFilePages, "remap_file_pages", sysRemapFilePages, x, i, x, i, x)
	r(arch.SysMadvise, "madvise", sysMadvise, x, i, i)
	r(arch.SysMincore, "mincore", sysMincore, x, i, x)
	r(arch.SysMsync, "msync", sysMsync, x, i, x)
	r(arch.SysMlock, "mlock", sysMlock, x, i)
	r(arch.SysMunlock, "munlock", sysMunlock, x, i)
	r(arch.SysMlock2, "mlock2", sysMlock2, x, i, x)
	r(arch.SysMlockall, "mlockall", sysMlockall, x)
	r(arch.SysMunlockall, "munlockall", sysMunlockall)

	// Time.
	r(arch.SysClockSettime, "clock_settime", sysClockSettime, i, x)
	r(arch.SysSettimeofday, "settimeofday", sysSettimeofday, x, x)
	r(arch.SysAdjtimex, "adjtimex", sysAdjtimex, x)
	r(arch.SysClockAdjtime, "clock_adjtime", sysClockAdjtime, i, x)
	r(arch.SysClockGettime, "clock_gettime", sysClockGettime, i, x)
	r(arch.SysClockGetres, "clock_getres", sysClockGetres, i, x)
	r(arch.SysGettimeofday, "gettimeofday", sysGettimeofday, x, x)
	r(arch.SysTime, "time", sysTime, x)
	r(arch.SysNanosleep, "nanosleep", sysNanosleep, x, x)
	r(arch.SysClockNanosleep, "clock_nanosleep", sysClockNanosleep, i, x, x, x)
	r(arch.SysRestartSyscall, "restart_syscall", sysRestartSyscall)

	r(arch.SysSetitimer, "setitimer", sysSetitimer, i, x, x)
	r(arch.SysGetitimer, "getitimer", sysGetitimer, i, x)
	r(arch.SysAlarm, "alarm", sysAlarm, i)
	r(arch.SysTimerCreate, "timer_create", sysTimerCreate, i, x, x)
	r(arch.SysTimerSettime, "timer_settime", sysTimerSettime, i, x, x, x)
	r(arch.SysTimerGettime, "timer_gettime", sysTimerGettime, i, x)
	r(arch.SysTimerGetoverrun, "timer_getoverrun", sysTimerGetoverrun, i)
	r(arch.SysTimerDelete, "timer_delete", sysTimerDelete, i)

	// Signals.
	r(arch.SysRtSigaction, "rt_sigaction", sysRtSigaction, sig, x, x, i)
	r(arch.SysRtSigprocmask, "rt_sigprocmask", sysRtSigprocmask, i, x, x, i)
	r(arch.SysSigaltstack, "sigaltstack", sysSigaltstack, x, x)
	r(arch.SysRtSigreturn, "rt_sigreturn", sysRtSigreturn)
	r(arch.SysSignalfd, "signalfd", sysSignalfd, fd, x, i)
	r(arch.SysSignalfd4, "signalfd4", sysSignalfd4, fd, x, i, x)
	r(arch.SysRtSigpending, "rt_sigpending", sysRtSigpending, x, i)
	r(arch.SysRtSigsuspend, "rt_sigsuspend", sysRtSigsuspend, x, i)
	r(arch.SysPause, "pause", sysPause)
	r(arch.SysRtSigtimedwait, "rt_sigtimedwait", sysRtSigtimedwait, x, x, x, i)
	r(arch.SysKill, "kill", sysKill, i, sig)
	r(arch.SysTgkill, "tgkill", sysTgkill, i, i, sig)
	r(arch.SysTkill, "tkill", sysTkill, i, sig)
	r(arch.SysRtSigqueueinfo, "rt_sigqueueinfo", sysRtSigqueueinfo, i, sig, x)
	r(arch.SysRtTgsigqueueinfo, "rt_tgsigqueueinfo", sysRtTgsigqueueinfo, i, i, sig, x)

	registerFiles(r)
	r(arch.SysPipe, "pipe", sysPipe, x)
	r(arch.SysPipe2, "pipe2", sysPipe2, x, x)
	r(arch.SysPoll, "poll", sysPoll, x, i, i)
	r(arch.SysPpoll, "ppoll", sysPpoll, x, i, x, x, i)
	r(arch.SysSelect, "select", sysSelect, i, x, x, x, x)
	r(arch.SysPselect6, "pselect6", sysPselect6, i, x, x, x, x, x)
	r(arch.SysEpollCreate, "epoll_create", sysEpollCreate, i)
	r(arch.SysEpollCreate1, "epoll_create1", sysEpollCreate1, x)
	r(arch.SysEpollCtl, "epoll_ctl", sysEpollCtl, fd, i, fd, x)
	r(arch.SysEpollWait, "epoll_wait", sysEpollWait, fd, x, i, i)
	r(arch.SysEpollPwait, "epoll_pwait", sysEpollPwait, fd, x, i, i, x, i)
	r(arch.SysEpollPwait2, "epoll_pwait2", sysEpollPwait2, fd, x, i, x, x, i)
	r(arch.SysTimerfdCreate, "timerfd_create", sysTimerfdCreate, i, x)
	r(arch.SysTimerfdSettime, "timerfd_settime", sysTimerfdSettime, fd, x, x, x)
	r(arch.SysTimerfdGettime, "timerfd_gettime", sysTimerfdGettime, fd, x)
	r(arch.SysEventfd, "eventfd", sysEventfd, i)
	r(arch.SysInotifyInit, "inotify_init", sysInotifyInit)
	r(arch.SysInotifyInit1, "inotify_init1", sysInotifyInit1, x)
	r(arch.SysInotifyAddWatch, "inotify_add_watch", sysInotifyAddWatch, fd, path, x)
	r(arch.SysInotifyRmWatch, "inotify_rm_watch", sysInotifyRmWatch, fd, i)
	r(arch.SysEventfd2, "eventfd2", sysEventfd2, i, x)
	for _, nr := range []int{arch.SysWrite, arch.SysWritev, arch.SysPwrite64, arch.SysPwritev, arch.SysPwritev2,
		arch.SysSendto, arch.SysSendmsg, arch.SysSendmmsg, arch.SysSplice, arch.SysTee, arch.SysVmsplice} {
		t.Entries[nr].SigpipeOnEPIPE = true
	}
	registerFS(r)
	registerSockets(r)
	registerShm(r)
	registerMqueue(r)
	registerSem(r)
	registerMsg(r)
	return t
}
