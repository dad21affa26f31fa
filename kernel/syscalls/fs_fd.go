package syscalls

import (
	"golang.org/x/sys/unix"
	"uk/kernel"
	"uk/net/socket"
)

func sysClose(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.Files.Close(int32(a[0]))
}

func sysDup(t *kernel.Task, a [6]uint64) (uint64, error) {
	n, err := t.Files.Dup(int32(a[0]), t.NoFileLimit())
	return uint64(n), err
}

func sysDup2(t *kernel.Task, a [6]uint64) (uint64, error) {
	n, err := t.Files.Dup2(int32(a[0]), int32(a[1]), t.NoFileLimit())
	return uint64(n), err
}

func sysDup3(t *kernel.Task, a [6]uint64) (uint64, error) {
	n, err := t.Files.Dup3(int32(a[0]), int32(a[1]), int(a[2]), t.NoFileLimit())
	return uint64(n), err
}

func sysFcntl(t *kernel.Task, a [6]uint64) (uint64, error) {
	n, cmd, arg := int32(a[0]), int(int32(a[1])), a[2]
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		if int32(arg) < 0 {
			return 0, unix.EINVAL
		}
		nfd, err := t.Files.DupFD(n, int32(arg), cmd == unix.F_DUPFD_CLOEXEC, t.NoFileLimit())
		return uint64(nfd), err
	case unix.F_GETFD:
		ce, err := t.Files.Cloexec(n)
		if err != nil {
			return 0, err
		}
		if ce {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, t.Files.SetCloexec(n, arg&unix.FD_CLOEXEC != 0)
	}
	d, err := t.FD(n)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	switch cmd {
	case unix.F_GETFL:
		return uint64(d.StatusFlags()), nil
	case unix.F_SETFL:
		d.SetStatusFlags(uint32(arg))
		return 0, nil
	case unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ:
		return pipeFcntl(t, d, cmd, arg)
	}
	// Record locks, leases, seals (fs_misc.go).
	if r, err, ok := fcntlFS(t, d, cmd, arg); ok {
		return r, err
	}
	return 0, unix.EINVAL
}

func sysIoctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if r, err, ok := fsIoctl(t, int32(a[0]), d, uint32(a[1]), a[2]); ok {
		return r, err
	}
	n, err := d.Ioctl(t, uint32(a[1]), a[2])
	if err == unix.ENOTTY && isInterfaceIoctl(uint32(a[1])) && t.Kernel().Network != nil {
		if s, serr := socket.Of(d); serr == nil {
			return interfaceIoctl(t, s.Family(), uint32(a[1]), a[2])
		}
	}
	return uint64(n), err
}

func sysLseek(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	off, err := d.Seek(t, int64(a[1]), int(a[2]))
	return uint64(off), err
}
