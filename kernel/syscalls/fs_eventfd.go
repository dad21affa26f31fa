package syscalls

import (
	"golang.org/x/sys/unix"
	"uk/fs/eventfd"
	"uk/kernel"
)

func sysEventfd2(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(a[1])
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
		return 0, unix.EINVAL
	}
	d, err := eventfd.New(uint32(a[0]), flags&^unix.EFD_CLOEXEC)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, flags&unix.EFD_CLOEXEC != 0, t.NoFileLimit())
	return uint64(n), err
}

func sysEventfd(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sysEventfd2(t, [6]uint64{a[0], 0})
}
