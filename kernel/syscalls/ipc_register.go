package syscalls

import (
	"uk/arch"
	"uk/kernel"
)

// registerShm adds System V shared memory: shmget, shmat, shmdt, shmctl.
// The namespace's bookkeeping is kernel/ipc; the attachments are ordinary
// shared mappings of the segment's object.
func registerShm(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	r(arch.SysShmget, "shmget", sysShmget, x, i, oct)
	r(arch.SysShmat, "shmat", sysShmat, i, x, oct).RetHex = true
	r(arch.SysShmdt, "shmdt", sysShmdt, x)
	r(arch.SysShmctl, "shmctl", sysShmctl, i, i, x)
}
