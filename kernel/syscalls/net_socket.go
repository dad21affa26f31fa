package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
	"uk/net/socket"
)

// sockCtx is a task seen as a socket.Context.
type sockCtx struct{ *kernel.Task }

// MknodSocket implements socket.Context.
func (c sockCtx) MknodSocket(path string, mode uint32) (vfs.Inode, error) {
	if path == "" {
		return nil, unix.ENOENT
	}
	v, at, err := c.At(kernel.AtFDCWD, path)
	if err != nil {
		return nil, err
	}
	if err := v.MknodAt(c.Task, at, path, unix.S_IFSOCK|mode, 0); err != nil {
		return nil, err
	}
	p, err := v.Resolve(c.Task, at, path, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return nil, err
	}
	return p.Dentry.Inode(), nil
}

// NetNamespace implements socket.Context: the task's network namespace.
func (c sockCtx) NetNamespace() any { return c.Task.NetNamespace() }

// LookupSocket implements socket.Context.
func (c sockCtx) LookupSocket(path string) (vfs.Inode, uint32, error) {
	if path == "" {
		return nil, 0, unix.ENOENT
	}
	v, at, err := c.At(kernel.AtFDCWD, path)
	if err != nil {
		return nil, 0, err
	}
	p, err := v.Resolve(c.Task, at, path, 0)
	if err != nil {
		return nil, 0, err
	}
	if err := v.Permission(c.Task, p, vfs.MayWrite); err != nil {
		return nil, 0, err
	}
	st, err := v.StatPath(c.Task, p)
	if err != nil {
		return nil, 0, err
	}
	return p.Dentry.Inode(), st.Type(), nil
}

// provider returns the implementation of an address family: AF_UNIX
// lives here, the others in the kernel's network namespace.
func provider(t *kernel.Task, family int) (socket.Provider, error) {
	if family == unix.AF_UNIX {
		return t.Kernel().UnixNamespace(), nil
	}
	net := t.Net()
	if family < 0 || family >= unix.AF_MAX || net == nil {
		return nil, unix.EAFNOSUPPORT
	}
	return net.Provider(family)
}

const sockFlagMask = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC

// sockMax is Linux's SOCK_MAX: socket types at or above it are EINVAL
// before any family sees them.
const sockMax = 11

// checkSocketArgs is the family-independent part of socket(2) and
// socketpair(2), in __sys_socket's and __sock_create's order: flags
// other than SOCK_NONBLOCK/SOCK_CLOEXEC, then the family's range, then
// the type's.
func checkSocketArgs(family, typ int) error {
	if typ&^(sockFlagMask|0xf) != 0 {
		return unix.EINVAL
	}
	if family < 0 || family >= unix.AF_MAX {
		return unix.EAFNOSUPPORT
	}
	if typ&0xf >= sockMax {
		return unix.EINVAL
	}
	return nil
}

func sysSocket(t *kernel.Task, a [6]uint64) (uint64, error) {
	family, typ, proto := int(int32(a[0])), int(int32(a[1])), int(int32(a[2]))
	if err := checkSocketArgs(family, typ); err != nil {
		return 0, err
	}
	p, err := provider(t, family)
	if err != nil {
		return 0, err
	}
	d, err := p.Socket(sockCtx{t}, typ&0xf, proto, uint32(typ&unix.SOCK_NONBLOCK))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, typ&unix.SOCK_CLOEXEC != 0, t.NoFileLimit())
	return uint64(n), err
}

// sysSocketpair creates the pair through the family. Families without
// pairs still create one socket first, as Linux does before it asks the
// protocol for the pair, so that a bad type or protocol reports the same
// error socket(2) would rather than EOPNOTSUPP.
func sysSocketpair(t *kernel.Task, a [6]uint64) (uint64, error) {
	family, typ, proto := int(int32(a[0])), int(int32(a[1])), int(int32(a[2]))
	if err := checkSocketArgs(family, typ); err != nil {
		return 0, err
	}
	p, err := provider(t, family)
	if err != nil {
		return 0, err
	}
	if family != unix.AF_UNIX {
		d, err := p.Socket(sockCtx{t}, typ&0xf, proto, 0)
		if err != nil {
			return 0, err
		}
		d.DecRef()
		return 0, unix.EOPNOTSUPP
	}
	x, y, err := p.Pair(sockCtx{t}, typ&0xf, proto, uint32(typ&unix.SOCK_NONBLOCK))
	if err != nil {
		return 0, err
	}
	return 0, installPair(t, x, y, typ&unix.SOCK_CLOEXEC != 0, a[3])
}

// sockFD returns the socket behind fd (EBADF, ENOTSOCK) and its
// description, which the caller must DecRef. An O_PATH descriptor is
// EBADF, as Linux's fdget does not see one.
func sockFD(t *kernel.Task, n uint64) (socket.Socket, *vfs.FileDescription, error) {
	d, err := t.FileFD(int32(n), kernel.FDNotPath)
	if err != nil {
		return nil, nil, err
	}
	s, err := socket.Of(d)
	if err != nil {
		d.DecRef()
		return nil, nil, err
	}
	return s, d, nil
}

// onSocket runs fn on the socket open as fd, holding the file while fn
// runs: the preamble of every call on a socket.
func onSocket(t *kernel.Task, fd uint64, fn func(s socket.Socket, d *vfs.FileDescription) (uint64, error)) (uint64, error) {
	s, d, err := sockFD(t, fd)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return fn(s, d)
}

// sockaddrMax is sizeof(struct sockaddr_storage).
const sockaddrMax = 128

// copyInAddr is move_addr_to_kernel.
func copyInAddr(t *kernel.Task, addr, n uint64) ([]byte, error) {
	if int32(n) < 0 || n > sockaddrMax {
		return nil, unix.EINVAL
	}
	b := make([]byte, n)
	if n > 0 {
		if err := t.CopyIn(addr, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// copyOutAddr is move_addr_to_user: it copies as much of sa as the
// caller's length allows and stores the full length there.
func copyOutAddr(t *kernel.Task, sa []byte, addr, lenAddr uint64) error {
	var lb [4]byte
	if err := t.CopyIn(lenAddr, lb[:]); err != nil {
		return err
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return unix.EINVAL
	}
	if int(n) > len(sa) {
		n = int32(len(sa))
	}
	if n > 0 {
		if err := t.CopyOut(addr, sa[:n]); err != nil {
			return err
		}
	}
	return putUint32(t, lenAddr, uint32(len(sa)))
}

func sysBind(t *kernel.Task, a [6]uint64) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		b, err := copyInAddr(t, a[1], a[2])
		if err != nil {
			return 0, err
		}
		return 0, s.Bind(sockCtx{t}, b)
	})
}

func sysListen(t *kernel.Task, a [6]uint64) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		return 0, s.Listen(sockCtx{t}, int(int32(a[1])))
	})
}

func sysAccept(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sysAccept4(t, [6]uint64{a[0], a[1], a[2], 0})
}

func sysAccept4(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(int32(a[3]))
	if flags&^sockFlagMask != 0 {
		return 0, unix.EINVAL
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		nd, peer, err := s.Accept(sockCtx{t}, d.NonBlocking(), uint32(flags&unix.SOCK_NONBLOCK))
		if err != nil {
			return 0, err
		}
		defer nd.DecRef()
		n, err := t.Files.Install(nd, 0, flags&unix.SOCK_CLOEXEC != 0, t.NoFileLimit())
		if err != nil {
			return 0, err
		}
		if a[1] != 0 {
			if err := copyOutAddr(t, peer, a[1], a[2]); err != nil {
				t.Files.Close(n)
				return 0, err
			}
		}
		return uint64(n), nil
	})
}

func sysConnect(t *kernel.Task, a [6]uint64) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		b, err := copyInAddr(t, a[1], a[2])
		if err != nil {
			return 0, err
		}
		return 0, s.Connect(sockCtx{t}, b, d.NonBlocking())
	})
}

func sysGetsockname(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sockName(t, a, false)
}

func sysGetpeername(t *kernel.Task, a [6]uint64) (uint64, error) {
	return sockName(t, a, true)
}

func sockName(t *kernel.Task, a [6]uint64, peer bool) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		var err error
		var sa []byte
		if peer {
			sa, err = s.PeerName(sockCtx{t})
		} else {
			sa, err = s.SockName(sockCtx{t})
		}
		if err != nil {
			return 0, err
		}
		return 0, copyOutAddr(t, sa, a[1], a[2])
	})
}

func sysShutdown(t *kernel.Task, a [6]uint64) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		return 0, s.Shutdown(sockCtx{t}, int(int32(a[1])))
	})
}

func sysGetsockopt(t *kernel.Task, a [6]uint64) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		var lb [4]byte
		if err := t.CopyIn(a[4], lb[:]); err != nil {
			return 0, err
		}
		n := int32(binary.LittleEndian.Uint32(lb[:]))
		if n < 0 {
			return 0, unix.EINVAL
		}
		v, err := s.GetSockOpt(sockCtx{t}, int(int32(a[1])), int(int32(a[2])), int(n))
		if err != nil {
			return 0, err
		}
		if int(n) < len(v) {
			v = v[:n]
		}
		if err := t.CopyOut(a[3], v); err != nil {
			return 0, err
		}
		return 0, putUint32(t, a[4], uint32(len(v)))
	})
}

func sysSetsockopt(t *kernel.Task, a [6]uint64) (uint64, error) {
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		n := int32(a[4])
		if n < 0 {
			return 0, unix.EINVAL
		}
		v := make([]byte, min(int(n), 4096))
		if err := t.CopyIn(a[3], v); err != nil {
			return 0, err
		}
		return 0, s.SetSockOpt(sockCtx{t}, int(int32(a[1])), int(int32(a[2])), v)
	})
}
