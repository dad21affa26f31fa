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

// registerSem adds System V semaphores: semget, semop, semtimedop,
// semctl (kernel/ipc's sets; the undo lists are the tasks').
func registerSem(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	r(arch.SysSemget, "semget", sysSemget, x, i, oct)
	r(arch.SysSemop, "semop", sysSemop, i, x, i)
	r(arch.SysSemtimedop, "semtimedop", sysSemtimedop, i, x, i, x)
	r(arch.SysSemctl, "semctl", sysSemctl, i, i, i, x)
}

// registerMsg adds System V message queues: msgget, msgsnd, msgrcv,
// msgctl.
func registerMsg(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	r(arch.SysMsgget, "msgget", sysMsgget, x, oct)
	r(arch.SysMsgsnd, "msgsnd", sysMsgsnd, i, x, i, oct)
	r(arch.SysMsgrcv, "msgrcv", sysMsgrcv, i, x, i, i, oct)
	r(arch.SysMsgctl, "msgctl", sysMsgctl, i, i, x)
}
