package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/pipe"
	"uk/fs/vfs"
	"uk/kernel"
)

// installPair puts two new descriptions in the caller's table and writes
// their numbers as int[2] to addr; on failure nothing stays installed.
func installPair(t *kernel.Task, r, w *vfs.FileDescription, cloexec bool, addr uint64) error {
	defer r.DecRef()
	defer w.DecRef()
	lim := t.NoFileLimit()
	rfd, err := t.Files.Install(r, 0, cloexec, lim)
	if err != nil {
		return err
	}
	wfd, err := t.Files.Install(w, 0, cloexec, lim)
	if err != nil {
		t.Files.Close(rfd)
		return err
	}
	b := []byte{byte(rfd), byte(rfd >> 8), byte(rfd >> 16), byte(rfd >> 24), byte(wfd), byte(wfd >> 8), byte(wfd >> 16), byte(wfd >> 24)}
	if err := t.CopyOut(addr, b); err != nil {
		t.Files.Close(rfd)
		t.Files.Close(wfd)
		return err
	}
	return nil
}

func sysPipe2(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(a[1])
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return 0, unix.EINVAL
	}
	r, w, err := pipe.New(t, flags&^unix.O_CLOEXEC)
	if err != nil {
		return 0, err
	}
	return 0, installPair(t, r, w, flags&unix.O_CLOEXEC != 0, a[0])
}

func sysPipe(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sysPipe2(t, [6]uint64{a[0], 0})
}

// pipeFcntl serves F_GETPIPE_SZ and F_SETPIPE_SZ.
func pipeFcntl(t *kernel.Task, d *vfs.FileDescription, cmd int, arg uint64) (uint64, error) {
	p := pipe.Of(d)
	if p == nil {
		return 0, unix.EBADF
	}
	if cmd == unix.F_GETPIPE_SZ {
		return uint64(p.GetSize()), nil
	}
	n, err := p.SetSize(t, arg)
	return uint64(n), err
}
