package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
)

// capSysPtraceBit is CAP_SYS_PTRACE.
const capSysPtraceBit = 19

// sysUserfaultfd makes a userfaultfd for the caller's memory. As Linux
// with vm.unprivileged_userfaultfd at its default 0, one that also
// handles faults of the kernel's own accesses needs CAP_SYS_PTRACE;
// UFFD_USER_MODE_ONLY does not.
func sysUserfaultfd(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(a[0])
	if flags&kernel.UffdUserModeOnly == 0 && !t.Credentials().HasCap(capSysPtraceBit) {
		return 0, unix.EPERM
	}
	n, err := t.NewUserfaultfd(flags)
	return uint64(n), err
}
