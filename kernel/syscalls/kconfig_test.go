package syscalls

import (
	"strings"
	"testing"

	"uk/arch"
	"uk/kernel"
)

// TestKernelConfigMatchesTable keeps /proc/config.gz honest: an option
// that names system calls is set exactly when the table has them, so a
// program that reads the configuration to choose its tests neither skips
// what uk has nor runs into ENOSYS.
func TestKernelConfigMatchesTable(t *testing.T) {
	set := map[string]bool{}
	unset := map[string]bool{}
	for _, line := range strings.Split(kernel.KernelConfig, "\n") {
		if name, ok := strings.CutSuffix(line, "=y"); ok {
			set[name] = true
		} else if name, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(name, " is not set"); ok {
				unset[name] = true
			}
		}
	}
	tab := Table()
	for _, tc := range []struct {
		option string
		calls  []int
	}{
		{"CONFIG_AIO", []int{arch.SysIoSetup, arch.SysIoSubmit}},
		{"CONFIG_IO_URING", []int{arch.SysIoUringSetup}},
		{"CONFIG_FANOTIFY", []int{arch.SysFanotifyInit}},
		{"CONFIG_USERFAULTFD", []int{arch.SysUserfaultfd}},
		{"CONFIG_KEYS", []int{arch.SysAddKey, arch.SysKeyctl}},
		{"CONFIG_BPF_SYSCALL", []int{arch.SysBpf}},
		{"CONFIG_PERF_EVENTS", []int{arch.SysPerfEventOpen}},
		{"CONFIG_QUOTA", []int{arch.SysQuotactl}},
		{"CONFIG_SWAP", []int{arch.SysSwapon}},
		{"CONFIG_NUMA", []int{arch.SysMbind}},
		{"CONFIG_BSD_PROCESS_ACCT", []int{arch.SysAcct}},
		{"CONFIG_CACHESTAT_SYSCALL", []int{arch.SysCachestat}},
		{"CONFIG_SYSFS_SYSCALL", []int{arch.SysSysfs}},
		{"CONFIG_FHANDLE", []int{arch.SysNameToHandleAt, arch.SysOpenByHandleAt}},
		{"CONFIG_CROSS_MEMORY_ATTACH", []int{arch.SysProcessVmReadv, arch.SysProcessVmWritev}},
		{"CONFIG_KCMP", []int{arch.SysKcmp}},
		{"CONFIG_MEMBARRIER", []int{arch.SysMembarrier}},
		{"CONFIG_RSEQ", []int{arch.SysRseq}},
		{"CONFIG_POSIX_MQUEUE", []int{arch.SysMqOpen}},
		{"CONFIG_SYSVIPC", []int{arch.SysSemget, arch.SysMsgget, arch.SysShmget}},
		{"CONFIG_SECCOMP", []int{arch.SysSeccomp}},
		{"CONFIG_SECURITY_LANDLOCK", []int{arch.SysLandlockCreateRuleset, arch.SysLandlockAddRule, arch.SysLandlockRestrictSelf}},
		{"CONFIG_EPOLL", []int{arch.SysEpollCreate1}},
		{"CONFIG_SIGNALFD", []int{arch.SysSignalfd4}},
		{"CONFIG_TIMERFD", []int{arch.SysTimerfdCreate}},
		{"CONFIG_EVENTFD", []int{arch.SysEventfd2}},
		{"CONFIG_INOTIFY_USER", []int{arch.SysInotifyInit1}},
		{"CONFIG_ADVISE_SYSCALLS", []int{arch.SysMadvise}},
		{"CONFIG_MEMFD_CREATE", []int{arch.SysMemfdCreate}},
		{"CONFIG_FILE_LOCKING", []int{arch.SysFlock}},
		{"CONFIG_FUTEX", []int{arch.SysFutex}},
	} {
		if !set[tc.option] && !unset[tc.option] {
			t.Errorf("%s is neither set nor unset in KernelConfig", tc.option)
			continue
		}
		for _, nr := range tc.calls {
			has := tab.Entries[nr].Fn != nil
			if has != set[tc.option] {
				t.Errorf("%s set %v, but the table has syscall %d: %v", tc.option, set[tc.option], nr, has)
			}
		}
	}
}
