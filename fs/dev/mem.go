package dev

import (
	"crypto/rand"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// nullFile is /dev/null: reads see end of file, writes vanish.
type nullFile struct{ vfs.FileBase }

func (nullFile) Read(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) { return 0, nil }
func (nullFile) Write(_ vfs.Context, _ *vfs.FileDescription, src []byte, _ int64) (int, error) {
	return len(src), nil
}
func (nullFile) Seek(vfs.Context, *vfs.FileDescription, int64, int64, int) (int64, error) {
	return 0, nil
}

// zeroFile is /dev/zero: reads fill with zeros, writes vanish. (mmap of
// /dev/zero is the kernel's: it is anonymous memory.)
type zeroFile struct{ nullFile }

func (zeroFile) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	clear(dst)
	return len(dst), nil
}

// fullFile is /dev/full: reads zeros, writes fail with ENOSPC.
type fullFile struct{ zeroFile }

func (fullFile) Write(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.ENOSPC
}

// randomFile is /dev/random and /dev/urandom (both non-blocking, as on
// Linux since 5.6), fed by the host's CSPRNG.
type randomFile struct{ nullFile }

func (randomFile) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if _, err := rand.Read(dst); err != nil {
		return 0, unix.EIO
	}
	return len(dst), nil
}

// kmsgFile is /dev/kmsg: writes are accepted and dropped (u-root's init
// logs there); reads find nothing (EAGAIN when non-blocking, else EOF so
// nobody hangs).
type kmsgFile struct{ nullFile }

func (kmsgFile) Read(_ vfs.Context, fd *vfs.FileDescription, _ []byte, _ int64) (int, error) {
	if fd.NonBlocking() {
		return 0, unix.EAGAIN
	}
	return 0, nil
}

func fixed(impl vfs.FileImpl) vfs.Device {
	return vfs.DeviceFunc(func(vfs.Context, vfs.Path, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
		return impl, vfs.FileOptions{Seekable: true}, nil
	})
}

// Device numbers of the standard devices.
var (
	Null    = [2]uint32{1, 3}
	Zero    = [2]uint32{1, 5}
	Full    = [2]uint32{1, 7}
	Random  = [2]uint32{1, 8}
	URandom = [2]uint32{1, 9}
	Kmsg    = [2]uint32{1, 11}
	TTY     = [2]uint32{5, 0}
	Console = [2]uint32{5, 1}
	PTMX    = [2]uint32{5, 2}
)

// RegisterStandard registers null, zero, full, random, urandom and kmsg,
// and, when console is not nil, tty (5,0) and console (5,1) as the host
// stream. (/dev/tty should be the caller's controlling terminal; until the
// kernel has ttys of its own it is the console.)
func RegisterStandard(r *vfs.DeviceRegistry, console *HostStream) {
	r.RegisterChar(Null[0], Null[1], fixed(nullFile{}))
	r.RegisterChar(Zero[0], Zero[1], fixed(zeroFile{}))
	r.RegisterChar(Full[0], Full[1], fixed(fullFile{}))
	r.RegisterChar(Random[0], Random[1], fixed(randomFile{}))
	r.RegisterChar(URandom[0], URandom[1], fixed(randomFile{}))
	r.RegisterChar(Kmsg[0], Kmsg[1], fixed(kmsgFile{}))
	if console != nil {
		r.RegisterChar(TTY[0], TTY[1], console)
		r.RegisterChar(Console[0], Console[1], console)
	}
}
