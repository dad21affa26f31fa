package syscalls

import (
	"encoding/binary"
	"math"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/lock"
	"uk/fs/pipe"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel"
)

func sysFsync(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return 0, d.Fsync(t)
}

func sysSync(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, nil }

// sysSyncfs checks the descriptor; everything is in memory.
func sysSyncfs(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FileFD(int32(a[0]), kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return 0, nil
}

func sysSyncFileRange(t *kernel.Task, a [6]uint64) (uint64, error) {
	off, n, flags := int64(a[1]), int64(a[2]), a[3]
	if flags&^7 != 0 || off < 0 || n < 0 || off+n < 0 {
		return 0, unix.EINVAL
	}
	d, err := t.FileFD(int32(a[0]), kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	st, err := d.Stat(t)
	if err != nil {
		return 0, err
	}
	switch st.Type() {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK, unix.S_IFBLK:
		return 0, nil
	}
	return 0, unix.ESPIPE
}

// Modes of fallocate(2).
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
	fallocZeroRange = 0x10
)

func sysFallocate(t *kernel.Task, a [6]uint64) (uint64, error) {
	mode, off, n := a[1], int64(a[2]), int64(a[3])
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if off < 0 || n <= 0 {
		return 0, unix.EINVAL
	}
	if mode&^uint64(fallocKeepSize|fallocPunchHole|fallocZeroRange) != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if mode&fallocPunchHole != 0 && (mode&fallocKeepSize == 0 || mode&fallocZeroRange != 0) {
		return 0, unix.EOPNOTSUPP
	}
	if !d.Writable() {
		return 0, unix.EBADF
	}
	// An append-only file may only grow; an immutable one cannot be
	// open for writing, but it may have become immutable since.
	if fl := d.InodeFlags(); fl&vfs.FlagAppend != 0 && mode&^uint64(fallocKeepSize) != 0 || fl&vfs.FlagImmutable != 0 {
		return 0, unix.EPERM
	}
	if off+n < 0 {
		return 0, unix.EFBIG // past the largest file offset
	}
	st, err := d.Stat(t)
	if err != nil {
		return 0, err
	}
	switch st.Type() {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return 0, unix.EISDIR
	case unix.S_IFIFO, unix.S_IFSOCK:
		return 0, unix.ESPIPE
	default:
		return 0, unix.ENODEV
	}
	r := tmpfs.RegularOf(d)
	if r == nil {
		return 0, unix.EOPNOTSUPP
	}
	if d.StatusFlags()&unix.O_APPEND != 0 && mode&(fallocPunchHole|fallocZeroRange) != 0 {
		return 0, unix.EPERM
	}
	size := r.Size()
	if mode&fallocPunchHole != 0 {
		if r.Seals()&(tmpfs.SealWrite|tmpfs.SealFutureWrite) != 0 {
			return 0, unix.EPERM
		}
		r.PunchHole(off, n)
		return 0, nil
	}
	if mode&fallocZeroRange != 0 {
		// Linux's tmpfs has no ZERO_RANGE (shmem_fallocate).
		return 0, unix.EOPNOTSUPP
	}
	if mode&fallocKeepSize == 0 && off+n > size {
		if err := vfs.CheckFileSize(t, off+n); err != nil {
			return 0, err
		}
	}
	if err := r.Allocate(off, n); err != nil {
		return 0, err
	}
	if mode&fallocKeepSize == 0 && off+n > size {
		return 0, d.Truncate(t, off+n)
	}
	return 0, nil
}

func sysFadvise64(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FileFD(int32(a[0]), kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	// Only a FIFO (a pipe) is ESPIPE, as Linux's generic_fadvise; a
	// socket or an event descriptor takes the advice and ignores it.
	if st, err := d.Stat(t); err == nil && st.Type() == unix.S_IFIFO {
		return 0, unix.ESPIPE
	}
	if a[3] > 5 || int64(a[2]) < 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}

func sysReadahead(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FileFD(int32(a[0]), kernel.FDRead)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if st, err := d.Stat(t); err != nil || st.Type() != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// sendfile and copy_file_range move data through a kernel buffer of
// this size at a time.
const copyChunk = 128 << 10

func sysSendfile(t *kernel.Task, a [6]uint64) (uint64, error) {
	outFD, inFD, offAddr, count := int32(a[0]), int32(a[1]), a[2], a[3]
	in, out, release, err := transferFDs(t, inFD, outFD)
	if err != nil {
		return 0, err
	}
	defer release()
	if out.StatusFlags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	// Into a pipe the input needs only to be spliceable; into anything
	// else it must be seekable too, as Linux's splice_direct_to_actor
	// requires: a regular file, /dev/zero or /dev/urandom may be sent, a
	// pipe, socket or directory is EINVAL.
	if pipe.Of(in) != nil || !spliceable(t, in) || pipe.Of(out) == nil && !in.Options().Seekable {
		return 0, unix.EINVAL
	}
	var off int64 = -1
	if offAddr != 0 {
		v, err := getUint64(t, offAddr)
		if err != nil {
			return 0, err
		}
		off = int64(v)
		if off < 0 {
			return 0, unix.EINVAL
		}
		if !in.Options().Seekable {
			return 0, unix.ESPIPE
		}
	}
	// Linux's rw_verify_area on both ends, as do_sendfile: the input's
	// with the count asked (above SSIZE_MAX, or a range that would pass
	// the largest offset, is EINVAL), the output's with the count cut to
	// maxRW.
	inPos := off
	if inPos < 0 {
		inPos = in.Offset()
	}
	if int64(count) < 0 || inPos+int64(count) < 0 {
		return 0, unix.EINVAL
	}
	count = min(count, maxRW)
	if pipe.Of(out) == nil && out.Offset()+int64(count) < 0 {
		return 0, unix.EINVAL
	}
	// Without an offset pointer, a seekable input is read at its own
	// offset, which then advances by what was sent, not by what was read:
	// a short write into a full socket must leave the rest to be sent by
	// the next call, not lose it.
	seekable := in.Options().Seekable
	start := off
	if off < 0 && seekable {
		start = in.Offset()
	}
	done, err := copyChunks(t, count, func(b []byte, done uint64) (int, error) {
		if start >= 0 {
			return in.PRead(t, b, start+int64(done))
		}
		return in.Read(t, b)
	}, func(b []byte, _ uint64) (int, error) { return out.Write(t, b) })
	// One read and one write for /proc/PID/io, as Linux's do_sendfile.
	t.AccountRead(int64(done))
	t.AccountWrite(int64(done))
	if err != nil {
		return 0, err
	}
	switch {
	case off >= 0:
		if err := putUint64(t, offAddr, uint64(off)+done); err != nil {
			return 0, err
		}
	case seekable:
		if _, err := in.Seek(t, start+int64(done), unix.SEEK_SET); err != nil {
			return 0, err
		}
	}
	return done, nil
}

func sysCopyFileRange(t *kernel.Task, a [6]uint64) (uint64, error) {
	inFD, inOffAddr, outFD, outOffAddr, count, flags := int32(a[0]), a[1], int32(a[2]), a[3], a[4], a[5]
	if flags != 0 {
		return 0, unix.EINVAL
	}
	// The files' types are checked before their access modes, as Linux's
	// generic_copy_file_checks: a directory is EISDIR even where it is
	// not open for writing.
	in, err := t.FileFD(inFD, kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	out, err := t.FileFD(outFD, kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	ist, err := in.Stat(t)
	if err != nil {
		return 0, err
	}
	ost, err := out.Stat(t)
	if err != nil {
		return 0, err
	}
	if ist.IsDir() || ost.IsDir() {
		return 0, unix.EISDIR
	}
	if ist.Type() != unix.S_IFREG || ost.Type() != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	if !in.Readable() || !out.Writable() || out.StatusFlags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	inOff, outOff := in.Offset(), out.Offset()
	if inOffAddr != 0 {
		v, err := getUint64(t, inOffAddr)
		if err != nil {
			return 0, err
		}
		inOff = int64(v)
	}
	if outOffAddr != 0 {
		v, err := getUint64(t, outOffAddr)
		if err != nil {
			return 0, err
		}
		outOff = int64(v)
	}
	// As Linux's generic_copy_file_checks: offsets that wrap (a negative
	// one does, read unsigned) are EOVERFLOW, files on two filesystems
	// EXDEV (no splice fallback across them); the copy stops at the end
	// of the input and the largest offset of the output.
	if uint64(inOff)+count < uint64(inOff) || uint64(outOff)+count < uint64(outOff) || inOff < 0 || outOff < 0 {
		return 0, unix.EOVERFLOW // the length asked for, before any clamp
	}
	if ist.Dev != ost.Dev {
		return 0, unix.EXDEV
	}
	count = min(count, maxRW)
	if outOff == math.MaxInt64 {
		return 0, unix.EFBIG // at the largest file size, even for 0 bytes
	}
	if inOff >= ist.Size {
		count = 0
	} else {
		count = min(count, uint64(ist.Size-inOff))
	}
	count = min(count, uint64(math.MaxInt64-outOff))
	if ist.Ino == ost.Ino && ist.Dev == ost.Dev && inOff < outOff+int64(count) && outOff < inOff+int64(count) {
		return 0, unix.EINVAL
	}
	done, err := copyChunks(t, count, func(b []byte, done uint64) (int, error) {
		return in.PRead(t, b, inOff+int64(done))
	}, func(b []byte, done uint64) (int, error) {
		return out.PWrite(t, b, outOff+int64(done))
	})
	// One read and one write for /proc/PID/io, as Linux's
	// vfs_copy_file_range.
	t.AccountRead(int64(done))
	t.AccountWrite(int64(done))
	if err != nil {
		return 0, err
	}
	// Offsets passed by pointer are updated there; otherwise the files'
	// own offsets advance.
	if inOffAddr != 0 {
		if err := putUint64(t, inOffAddr, uint64(inOff)+done); err != nil {
			return 0, err
		}
	} else if _, err := in.Seek(t, inOff+int64(done), unix.SEEK_SET); err != nil {
		return 0, err
	}
	if outOffAddr != 0 {
		if err := putUint64(t, outOffAddr, uint64(outOff)+done); err != nil {
			return 0, err
		}
	} else if _, err := out.Seek(t, outOff+int64(done), unix.SEEK_SET); err != nil {
		return 0, err
	}
	return done, nil
}

// memfd_create flags.
const (
	mfdCloexec      = 0x1
	mfdAllowSealing = 0x2
	mfdHugetlb      = 0x4
	mfdNoexecSeal   = 0x8
	mfdExec         = 0x10
)

func sysMemfdCreate(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := uint32(a[1])
	if flags&^(mfdCloexec|mfdAllowSealing|mfdNoexecSeal|mfdExec) != 0 {
		if flags&mfdHugetlb != 0 {
			return 0, unix.EINVAL
		}
		return 0, unix.EINVAL
	}
	if flags&mfdNoexecSeal != 0 && flags&mfdExec != 0 {
		return 0, unix.EINVAL
	}
	name, err := t.CopyInString(a[0], 250)
	if err != nil {
		if err == unix.ENAMETOOLONG {
			return 0, unix.EINVAL
		}
		return 0, err
	}
	d, err := t.NewMemfd(name, flags&mfdAllowSealing != 0)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, flags&mfdCloexec != 0, t.NoFileLimit())
	return uint64(n), err
}

func sysFlock(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FileFD(int32(a[0]), kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	const lockMand = 32 // LOCK_MAND: gone from Linux, which ignores a request with it
	cmd := a[1]
	if cmd&lockMand != 0 {
		return 0, nil
	}
	var kind lock.Kind
	switch cmd &^ unix.LOCK_NB {
	case unix.LOCK_SH:
		kind = lock.Read
	case unix.LOCK_EX:
		kind = lock.Write
	case unix.LOCK_UN:
		kind = lock.Unlock
	default:
		return 0, unix.EINVAL
	}
	var w lock.Waiter
	if cmd&unix.LOCK_NB == 0 {
		w = t
	}
	return 0, lock.Global.Flock(d.LockKey(), d, kind, w)
}

// File handles (name_to_handle_at, open_by_handle_at). Only tmpfs files
// have them, as shmem encodes them: type 1 (FILEID_INO32_GEN), three
// words: the generation (0: tmpfs never reuses a number) and the 64-bit
// inode number. Other filesystems answer EOPNOTSUPP, as Linux's without
// export operations.
const (
	fileHandleType  = 1
	fileHandleBytes = 12
	maxHandleSize   = 128   // MAX_HANDLE_SZ
	fileidInvalid   = 255   // FILEID_INVALID
	atHandleFID     = 0x200 // AT_HANDLE_FID
	atHandleMntID   = 0x001 // AT_HANDLE_MNT_ID_UNIQUE
)

// sysNameToHandleAt is name_to_handle_at(2): the flags (EINVAL), the
// file, whether it has handles (EOPNOTSUPP), the caller's struct
// file_handle (EFAULT; a size above MAX_HANDLE_SZ is EINVAL, one too
// small EOVERFLOW with the size needed written back), then the mount id.
func sysNameToHandleAt(t *kernel.Task, a [6]uint64) (uint64, error) {
	p, err := copyPath(t, a[1])
	if err != nil {
		return 0, err
	}
	flags := int(a[4])
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH|atHandleFID|atHandleMntID) != 0 {
		return 0, unix.EINVAL
	}
	rf := unix.AT_SYMLINK_NOFOLLOW
	if flags&unix.AT_SYMLINK_FOLLOW != 0 {
		rf = 0
	}
	q, err := t.ResolveAt(int32(a[0]), p, rf|flags&unix.AT_EMPTY_PATH)
	if err != nil {
		return 0, err
	}
	if !tmpfs.IsTmpfs(q.Dentry.Inode()) {
		return 0, unix.EOPNOTSUPP
	}
	var hdr [8]byte
	if err := t.CopyIn(a[2], hdr[:]); err != nil {
		return 0, unix.EFAULT
	}
	size := binary.LittleEndian.Uint32(hdr[0:])
	if size > maxHandleSize {
		return 0, unix.EINVAL
	}
	st, err := q.Dentry.Inode().Stat(t)
	if err != nil {
		return 0, err
	}
	out := make([]byte, 8, 8+fileHandleBytes)
	binary.LittleEndian.PutUint32(out[0:], fileHandleBytes)
	var result error
	if size < fileHandleBytes {
		binary.LittleEndian.PutUint32(out[4:], fileidInvalid)
		result = unix.EOVERFLOW
	} else {
		binary.LittleEndian.PutUint32(out[4:], fileHandleType)
		out = binary.LittleEndian.AppendUint32(out, 0)
		out = binary.LittleEndian.AppendUint64(out, st.Ino)
	}
	id := uint64(q.Mount.ID())
	var idErr error
	if flags&atHandleMntID != 0 {
		idErr = putUint64(t, a[3], id)
	} else {
		idErr = t.CopyOut(a[3], binary.LittleEndian.AppendUint32(nil, uint32(id)))
	}
	if idErr != nil || t.CopyOut(a[2], out) != nil {
		return 0, unix.EFAULT
	}
	return 0, result
}

// capDacReadSearch is CAP_DAC_READ_SEARCH, which open_by_handle_at needs.
const capDacReadSearch = 2

// sysOpenByHandleAt is open_by_handle_at(2), checking as Linux's
// handle_to_path: the handle's header (EFAULT; a size of 0 or above
// MAX_HANDLE_SZ, or a negative type, EINVAL), mount_fd (EBADF), the
// handle (EFAULT), CAP_DAC_READ_SEARCH (EPERM), then the file the handle
// names below that mount's root (ESTALE when none has that number, or it
// has no name any more: Linux still finds an unlinked file while it is
// open, uk does not), opened as open(2) would.
func sysOpenByHandleAt(t *kernel.Task, a [6]uint64) (uint64, error) {
	var hdr [8]byte
	if err := t.CopyIn(a[1], hdr[:]); err != nil {
		return 0, unix.EFAULT
	}
	size, typ := binary.LittleEndian.Uint32(hdr[0:]), int32(binary.LittleEndian.Uint32(hdr[4:]))
	if size == 0 || size > maxHandleSize || typ < 0 {
		return 0, unix.EINVAL
	}
	var mnt vfs.Path
	v, fsc, err := t.VFS()
	if err != nil {
		return 0, err
	}
	if dirfd := int32(a[0]); dirfd == kernel.AtFDCWD {
		mnt = fsc.Cwd()
	} else {
		d, err := t.FD(dirfd)
		if err != nil {
			return 0, err
		}
		mnt = d.Path()
		d.DecRef()
		if mnt.IsZero() {
			return 0, unix.ESTALE
		}
	}
	handle := make([]byte, size)
	if err := t.CopyIn(a[1]+8, handle); err != nil {
		return 0, unix.EFAULT
	}
	if !t.Credentials().HasCap(capDacReadSearch) {
		return 0, unix.EPERM
	}
	root := vfs.Path{Mount: mnt.Mount, Dentry: mnt.Mount.Root()}
	if typ != fileHandleType || size < fileHandleBytes {
		return 0, unix.ESTALE
	}
	names, ok := tmpfs.FindIno(root.Dentry.Inode(), binary.LittleEndian.Uint64(handle[4:]))
	if !ok {
		return 0, unix.ESTALE
	}
	name := "."
	if len(names) > 0 {
		name = strings.Join(names, "/")
	}
	flags := uint32(a[2])&^(unix.O_CREAT|unix.O_EXCL|unix.O_TMPFILE) | unix.O_NOFOLLOW
	d, err := v.OpenAt(t, vfs.At{Root: fsc.Root(), Dir: root}, name, flags, 0)
	if err != nil {
		return 0, err
	}
	n, err := t.Files.Install(d, 0, flags&unix.O_CLOEXEC != 0, t.NoFileLimit())
	d.DecRef()
	if err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// copyChunks moves up to count bytes through a kernel buffer, one chunk
// at a time (sendfile, copy_file_range). read and write get the bytes
// moved so far. It stops at a short read or write; an error after some
// progress ends the copy with the progress, as Linux reports it, and so
// does a signal (2 GiB from /dev/urandom takes seconds: Linux's read
// stops for a signal, and so must this, or the task could not be
// stopped, not even killed, until it is done).
func copyChunks(t *kernel.Task, count uint64, read, write func(b []byte, done uint64) (int, error)) (uint64, error) {
	var done uint64
	buf := make([]byte, min(count, copyChunk))
	for done < count {
		if done > 0 && t.Interrupted() {
			break
		}
		chunk := buf[:min(uint64(len(buf)), count-done)]
		n, rerr := read(chunk, done)
		if n > 0 {
			w, werr := write(chunk[:n], done)
			done += uint64(w)
			if werr != nil || w < n {
				if done == 0 {
					return 0, werr
				}
				break
			}
		}
		if rerr != nil {
			if done == 0 {
				return 0, rerr
			}
			break
		}
		if n < len(chunk) {
			break
		}
	}
	return done, nil
}
