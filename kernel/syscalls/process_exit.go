package syscalls

import (
	"uk/kernel"
)

func sysExit(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.Exit(int(a[0]))
	return 0, kernel.ErrNoReturnValue
}

func sysExitGroup(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.ExitGroup(int(a[0]))
	return 0, kernel.ErrNoReturnValue
}
