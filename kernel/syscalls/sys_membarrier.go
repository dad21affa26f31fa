package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
)

// membarrier(2), as Linux 6.x's kernel/sched/membarrier.c with its checks
// in its order. The barrier itself is the host's (kernel/membarrier.go);
// registrations are the address space's (kernel/mm/membarrier.go).
//
// uk offers what Linux offers but the SYNC_CORE and RSEQ variants, which
// it reports and refuses as a Linux built without them (QUERY leaves them
// out, each is EINVAL): SYNC_CORE promises a core-serializing instruction
// on every CPU running the process before it returns to user mode, which
// uk cannot make the host do for stub threads; RSEQ restarts restartable
// sequences, and uk has no rseq(2).

// Commands (include/uapi/linux/membarrier.h).
const (
	membarrierQuery                    = 0
	membarrierGlobal                   = 1 << 0
	membarrierGlobalExpedited          = 1 << 1
	membarrierRegisterGlobalExpedited  = 1 << 2
	membarrierPrivateExpedited         = 1 << 3
	membarrierRegisterPrivateExpedited = 1 << 4
	membarrierGetRegistrations         = 1 << 9
)

// membarrierCommands is what QUERY reports: every command uk implements.
const membarrierCommands = membarrierGlobal | membarrierGlobalExpedited | membarrierRegisterGlobalExpedited |
	membarrierPrivateExpedited | membarrierRegisterPrivateExpedited | membarrierGetRegistrations

// sysMembarrier: flags must be 0 (only PRIVATE_EXPEDITED_RSEQ takes
// MEMBARRIER_CMD_FLAG_CPU, and it is EINVAL here anyway), then the
// command; an unknown or unsupported one is EINVAL. PRIVATE_EXPEDITED
// before its registration is EPERM. On a host whose barrier uk cannot
// use, the call is ENOSYS, as on a Linux built without CONFIG_MEMBARRIER.
func sysMembarrier(t *kernel.Task, a [6]uint64) (uint64, error) {
	cmd, flags := int32(a[0]), uint32(a[1])
	if !kernel.HostMembarrierAvailable() {
		return 0, unix.ENOSYS
	}
	if flags != 0 {
		return 0, unix.EINVAL
	}
	switch cmd {
	case membarrierQuery:
		return membarrierCommands, nil
	case membarrierGlobal, membarrierGlobalExpedited:
		// GLOBAL_EXPEDITED needs no registration of the caller; it
		// must reach every process registered for it, and the host's
		// barrier reaches them all.
		return 0, t.Kernel().Membarrier()
	case membarrierPrivateExpedited:
		if t.MM.MembarrierRegistrations()&membarrierRegisterPrivateExpedited == 0 {
			return 0, unix.EPERM
		}
		if t.MM.SoleUser() {
			// No other thread shares the memory: the caller's own
			// order is the program's (Linux: mm_users == 1).
			return 0, nil
		}
		return 0, t.Kernel().Membarrier()
	case membarrierRegisterGlobalExpedited, membarrierRegisterPrivateExpedited:
		t.MM.RegisterMembarrier(uint32(cmd))
		return 0, nil
	case membarrierGetRegistrations:
		return uint64(t.MM.MembarrierRegistrations()), nil
	}
	return 0, unix.EINVAL
}
