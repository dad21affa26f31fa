package syscalls

import (
	"encoding/binary"
	"math"
	"uk/fs/nsfs"

	"golang.org/x/sys/unix"

	"uk/fs/lock"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel"
	"uk/net/socket"
)

func sysClose(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.Files.Remove(int32(a[0]))
	if err != nil {
		return 0, err
	}
	mqFlush(t, d)
	d.DecRef()
	return 0, nil
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
	if cmd != unix.F_GETFL && d.StatusFlags()&unix.O_PATH != 0 {
		// An O_PATH descriptor takes only the commands above and
		// F_GETFL (Linux's check_fcntl_cmd).
		return 0, unix.EBADF
	}
	switch cmd {
	case unix.F_GETFL:
		return uint64(d.StatusFlags()), nil
	case unix.F_SETFL:
		if uint32(arg)&unix.O_NOATIME != 0 && d.StatusFlags()&unix.O_NOATIME == 0 {
			// As at open: only the file's owner (or CAP_FOWNER).
			st, err := d.Stat(t)
			if err != nil {
				return 0, err
			}
			if c := t.Credentials(); !c.Privileged && c.FSUID != st.UID {
				return 0, unix.EPERM
			}
		}
		if (uint32(arg)^d.StatusFlags())&unix.O_APPEND != 0 && d.InodeFlags()&vfs.FlagAppend != 0 {
			return 0, unix.EPERM // an append-only file stays open to append
		}
		if async := uint32(arg)&unix.O_ASYNC != 0; async != (d.StatusFlags()&unix.O_ASYNC != 0) {
			t.SetFileAsync(d, n, async)
		}
		d.SetStatusFlags(uint32(arg))
		return 0, nil
	case unix.F_SETOWN:
		typ, id := int32(vfs.OwnerPID), int32(arg)
		if id < 0 {
			typ, id = vfs.OwnerPGRP, -id
		}
		return 0, t.SetFileOwner(d, typ, id)
	case unix.F_GETOWN:
		o := d.Owner()
		if o.Type == vfs.OwnerPGRP {
			return uint64(-int64(o.ID)), nil
		}
		return uint64(o.ID), nil
	case unix.F_SETOWN_EX:
		var b [8]byte
		if err := t.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		return 0, t.SetFileOwner(d, int32(binary.LittleEndian.Uint32(b[0:])), int32(binary.LittleEndian.Uint32(b[4:])))
	case unix.F_GETOWN_EX:
		o := d.Owner()
		var b [8]byte
		binary.LittleEndian.PutUint32(b[0:], uint32(o.Type))
		binary.LittleEndian.PutUint32(b[4:], uint32(o.ID))
		if o.ID == 0 {
			binary.LittleEndian.PutUint32(b[0:], vfs.OwnerPID) // none reads as {F_OWNER_PID, 0}
		}
		return 0, t.CopyOut(arg, b[:])
	case unix.F_SETSIG:
		if arg > 64 {
			return 0, unix.EINVAL
		}
		d.SetAsyncSignal(int(arg))
		return 0, nil
	case unix.F_GETSIG:
		return uint64(d.AsyncSignal()), nil
	case unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ:
		return pipeFcntl(t, d, cmd, arg)
	}
	// Record locks, leases, seals (fcntlFS below).
	if r, err, ok := fcntlFS(t, n, d, cmd, arg); ok {
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
	if ns, ok := nsfs.Of(d); ok {
		return t.NamespaceIoctl(ns, uint32(a[1]), a[2])
	}
	n, err := d.Ioctl(t, uint32(a[1]), a[2])
	if err == unix.ENOTTY && isInterfaceIoctl(uint32(a[1])) && t.Net() != nil {
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

// Generic ioctls the fd table or the file type answers (x86-64 numbers).
const (
	ioctlFIONCLEX   = 0x5450
	ioctlFIOCLEX    = 0x5451
	ioctlFSGetFlags = 0x80086601 // FS_IOC_GETFLAGS
	ioctlFSSetFlags = 0x40086602 // FS_IOC_SETFLAGS
)

// inodeFlagsIoctl is FS_IOC_GETFLAGS and FS_IOC_SETFLAGS (chattr's and
// lsattr's): an int at arg, whatever the ioctl's declared long says, as
// Linux reads and writes it.
func inodeFlagsIoctl(t *kernel.Task, d *vfs.FileDescription, cmd uint32, arg uint64) (uint64, error, bool) {
	if d.IsPath() {
		return 0, unix.EBADF, true
	}
	p := d.Path()
	if p.Dentry == nil {
		return 0, unix.ENOTTY, true
	}
	v, _, err := t.VFS()
	if err != nil {
		return 0, err, true
	}
	if cmd == ioctlFSGetFlags {
		fl, err := v.InodeFlags(p)
		if err != nil {
			return 0, err, true
		}
		return 0, putUint32(t, arg, fl), true
	}
	var b [4]byte
	if err := t.CopyIn(arg, b[:]); err != nil {
		return 0, err, true
	}
	return 0, v.SetInodeFlags(t, p, binary.LittleEndian.Uint32(b[:])), true
}

// fsIoctl answers the ioctls that are about the descriptor or a regular
// file rather than the device: handled is false for the rest.
func fsIoctl(t *kernel.Task, fdn int32, d *vfs.FileDescription, cmd uint32, arg uint64) (r uint64, err error, handled bool) {
	switch cmd {
	case ioctlFIOCLEX, ioctlFIONCLEX:
		return 0, t.Files.SetCloexec(fdn, cmd == ioctlFIOCLEX), true
	case ioctlFSGetFlags, ioctlFSSetFlags:
		return inodeFlagsIoctl(t, d, cmd, arg)
	case vfs.IoctlFIONREAD:
		if d.IsPath() {
			return 0, unix.EBADF, true
		}
		if r := tmpfs.RegularOf(d); r != nil {
			n := r.Size() - d.Offset()
			if n < 0 {
				n = 0
			}
			return 0, putUint32(t, arg, uint32(n)), true
		}
	}
	return 0, nil, false
}

// Record locks (fcntl F_GETLK/F_SETLK/F_SETLKW and the OFD variants) are
// kept by package lock; leases and directory notification are accepted
// and never break.
const (
	fOFDGetlk  = 36
	fOFDSetlk  = 37
	fOFDSetlkw = 38
	fSetlease  = 1024
	fGetlease  = 1025
	fNotify    = 1026
	fAddSeals  = 1033
	fGetSeals  = 1034
)

// lockKind is the lock kind of an l_type (F_UNLCK: lock.Unlock).
func lockKind(typ int16) lock.Kind {
	switch typ {
	case unix.F_RDLCK:
		return lock.Read
	case unix.F_WRLCK:
		return lock.Write
	}
	return lock.Unlock
}

// fcntlFS handles the fcntl commands about locks, leases and seals;
// handled is false for commands it does not know.
func fcntlFS(t *kernel.Task, fdn int32, d *vfs.FileDescription, cmd int, arg uint64) (r uint64, err error, handled bool) {
	switch cmd {
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, fOFDGetlk, fOFDSetlk, fOFDSetlkw:
		if d.IsPath() {
			return 0, unix.EBADF, true
		}
		var b [32]byte
		if err := t.CopyIn(arg, b[:]); err != nil {
			return 0, err, true
		}
		le := binary.LittleEndian
		typ := int16(le.Uint16(b[0:]))
		whence := int16(le.Uint16(b[2:]))
		start := int64(le.Uint64(b[8:]))
		length := int64(le.Uint64(b[16:]))
		pid := int32(le.Uint32(b[24:]))
		if cmd >= fOFDGetlk && pid != 0 {
			return 0, unix.EINVAL, true
		}
		switch typ {
		case unix.F_RDLCK, unix.F_WRLCK, unix.F_UNLCK:
		default:
			return 0, unix.EINVAL, true
		}
		var base int64
		switch whence {
		case unix.SEEK_SET:
		case unix.SEEK_CUR:
			base = d.Offset()
		case unix.SEEK_END:
			st, err := d.Stat(t)
			if err != nil {
				return 0, err, true
			}
			base = st.Size
		default:
			return 0, unix.EINVAL, true
		}
		s := base + start
		if s < 0 {
			return 0, unix.EINVAL, true
		}
		// Linux's flock_to_posix_lock: a negative length locks the bytes
		// before start; 0 runs to the end of the file, however far.
		lo, hi := uint64(s), lock.ToEnd
		switch {
		case length > 0:
			if length-1 > math.MaxInt64-s {
				return 0, unix.EOVERFLOW, true
			}
			hi = uint64(s + length)
		case length < 0:
			if s+length < 0 {
				return 0, unix.EINVAL, true
			}
			lo, hi = uint64(s+length), uint64(s)
		}
		ofd := cmd >= fOFDGetlk
		var owner lock.Owner = t.Files
		ownPid := t.PID()
		if ofd {
			owner, ownPid = d, -1
		}
		kind := lockKind(typ)
		if cmd == unix.F_GETLK || cmd == fOFDGetlk {
			if typ == unix.F_UNLCK {
				return 0, unix.EINVAL, true
			}
			r, found := lock.Global.Test(d.LockKey(), owner, kind, lo, hi)
			if !found {
				le.PutUint16(b[0:], unix.F_UNLCK)
				return 0, t.CopyOut(arg, b[:]), true
			}
			le.PutUint16(b[0:], uint16(unix.F_RDLCK))
			if r.Kind == lock.Write {
				le.PutUint16(b[0:], uint16(unix.F_WRLCK))
			}
			le.PutUint16(b[2:], unix.SEEK_SET)
			le.PutUint64(b[8:], r.Start)
			n := uint64(0) // to the end
			if r.End != lock.ToEnd {
				n = r.End - r.Start
			}
			le.PutUint64(b[16:], n)
			le.PutUint32(b[24:], uint32(r.Pid))
			return 0, t.CopyOut(arg, b[:]), true
		}
		if typ == unix.F_RDLCK && !d.Readable() || typ == unix.F_WRLCK && !d.Writable() {
			return 0, unix.EBADF, true
		}
		var w lock.Waiter
		if cmd == unix.F_SETLKW || cmd == fOFDSetlkw {
			w = t
		}
		return 0, lock.Global.Set(d.LockKey(), owner, ownPid, kind, lo, hi, w, !ofd), true
	case fGetlease:
		return unix.F_UNLCK, nil, true
	case fSetlease:
		switch arg {
		case unix.F_RDLCK, unix.F_WRLCK, unix.F_UNLCK:
			return 0, nil, true
		}
		return 0, unix.EINVAL, true
	case fNotify:
		return 0, t.SetDirNotify(d, fdn, uint32(arg)), true
	case fGetSeals, fAddSeals:
		r, ok := t.SealableFile(d)
		if !ok {
			return 0, unix.EINVAL, true
		}
		if cmd == fGetSeals {
			return uint64(r.Seals()), nil, true
		}
		if !d.Writable() {
			return 0, unix.EPERM, true
		}
		return 0, r.AddSeals(uint32(arg)), true
	}
	return 0, nil, false
}
