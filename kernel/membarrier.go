package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// The host's membarrier(2), which makes uk's barriers real. The program's
// threads run on host threads uk does not schedule (stub processes under
// the ptrace and sigsys platforms, uk's own vCPU threads under KVM), so
// only the host kernel can make every CPU that may be running one of them
// execute a full memory barrier.
//
// MEMBARRIER_CMD_GLOBAL does that for every thread on the host without
// any registration: it waits for an RCU grace period, in which each CPU
// passes through a quiescent state (a context switch, user mode at a
// tick, idle). It is slow (about 12 ms on a 2-CPU VM) but reaches the
// stubs, which uk cannot register for the expedited commands. Under KVM
// every program thread is a vCPU that one of uk's own threads runs, so
// the host's PRIVATE_EXPEDITED for uk's process is enough: an IPI to each
// CPU running one of uk's threads, whose VM exit and handler's barrier
// order what the guest did (about 1 µs).

// Host membarrier commands uk uses (include/uapi/linux/membarrier.h).
const (
	hostMembarrierQuery                    = 0
	hostMembarrierGlobal                   = 1 << 0
	hostMembarrierPrivateExpedited         = 1 << 3
	hostMembarrierRegisterPrivateExpedited = 1 << 4
)

var hostMembarrier struct {
	once sync.Once
	ok   bool
	// private: uk is registered for the host's PRIVATE_EXPEDITED.
	privateOnce sync.Once
	private     bool
}

// HostMembarrierAvailable reports whether the host offers
// MEMBARRIER_CMD_GLOBAL. It does not without CONFIG_MEMBARRIER, or with
// nohz_full CPUs (whose user mode RCU never interrupts); uk's membarrier
// is then ENOSYS, as it could not keep the commands' promise.
func HostMembarrierAvailable() bool {
	hostMembarrier.once.Do(func() {
		mask, _, errno := unix.RawSyscall(unix.SYS_MEMBARRIER, hostMembarrierQuery, 0, 0)
		hostMembarrier.ok = errno == 0 && mask&hostMembarrierGlobal != 0
	})
	return hostMembarrier.ok
}

// Membarrier returns once every thread of every sandboxed process,
// wherever it runs, has executed a full memory barrier since the call
// began. Only for use once HostMembarrierAvailable has said true.
func (k *Kernel) Membarrier() error {
	cmd := uintptr(hostMembarrierGlobal)
	if k.Platform.Name() == "kvm" && hostPrivateRegistered() {
		cmd = hostMembarrierPrivateExpedited
	}
	// Syscall, not RawSyscall: GLOBAL's wait is long enough that the Go
	// scheduler should run other goroutines meanwhile.
	_, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, cmd, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// hostPrivateRegistered registers uk for the host's PRIVATE_EXPEDITED on
// first use (once: it may wait for a grace period) and reports whether
// that worked.
func hostPrivateRegistered() bool {
	hostMembarrier.privateOnce.Do(func() {
		_, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, hostMembarrierRegisterPrivateExpedited, 0, 0)
		hostMembarrier.private = errno == 0
	})
	return hostMembarrier.private
}
