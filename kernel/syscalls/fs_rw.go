package syscalls

import (
	"encoding/binary"
	"errors"
	"math"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/pipe"
	"uk/fs/vfs"
	"uk/kernel"
	"uk/net/socket"
)

// maxRW caps one read/write transfer, as Linux's MAX_RW_COUNT.
const maxRW = 0x7ffff000

// ioChunk is the largest buffer one read or write copies through at a
// time. Buffers larger than kernel.SmallIO are charged to the sandbox's
// memory budget while the call holds them (Task.IOBuffer): a thousand
// threads blocked in 1 MiB reads of empty pipes must not make uk hold a
// gigabyte beyond --mem.
const ioChunk = 1 << 20

func sysRead(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if !d.Readable() {
		return 0, unix.EBADF // before the count is looked at, as Linux's vfs_read
	}
	n, err := readInto(t, a[1], a[2], readFit(t, d), func(b []byte) (int, error) { return d.Read(t, b) })
	return accountRead(t, n, err)
}

// A fitRule says how much of a transfer of count bytes goes ahead when
// only its first fit bytes (fewer) can be copied to or from the
// program's buffer, or the error that refuses it.
type fitRule func(fit, count uint64) (uint64, error)

// readFit is read's rule: a pipe, which Linux copies a page at a time,
// moves the whole pages before the fault (pipeFit), other files every
// byte before it. A buffer that takes not a byte is EFAULT, without
// taking anything, only when there is something to give: the end of a
// file reads 0 and an empty stream waits, as any read would.
func readFit(t *kernel.Task, d *vfs.FileDescription) fitRule {
	return func(fit, count uint64) (uint64, error) {
		if fit == 0 {
			if d.Options().Seekable {
				if st, err := d.Stat(t); err == nil && st.Type() == unix.S_IFREG && d.Offset() < st.Size {
					return 0, unix.EFAULT
				}
			} else if d.Readiness(vfs.EventIn)&vfs.EventIn != 0 {
				return 0, unix.EFAULT
			}
			return count, nil
		}
		if pipe.Of(d) != nil {
			return pipeFit(fit, count)
		}
		return fit, nil
	}
}

// pipeFit is the fitRule of a pipe: all when all fit, else the whole
// pages before the fault, and EFAULT when not one page fits (Linux's
// pipe_read and pipe_write copy a page buffer at a time and drop one that
// faults).
func pipeFit(fit, count uint64) (uint64, error) {
	if fit == count {
		return count, nil
	}
	if fit < arch.PageSize {
		return 0, unix.EFAULT
	}
	return fit &^ arch.PageMask, nil
}

func sysPread64(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	off := int64(a[3])
	if off < 0 || rangeOverflows(off, a[2]) {
		return 0, unix.EINVAL
	}
	n, err := readInto(t, a[1], a[2], nil, preadAt(t, d, off))
	return accountRead(t, n, err)
}

// rangeOverflows reports whether a transfer of count bytes (clamped as
// Linux clamps it) at off would pass the largest file offset: EINVAL
// before the file is asked (Linux's rw_verify_area).
func rangeOverflows(off int64, count uint64) bool {
	return count > 0 && int64(min(count, maxRW)) > math.MaxInt64-off
}

// preadAt is a read of d at off (pread64, preadv, AIO).
func preadAt(t *kernel.Task, d *vfs.FileDescription, off int64) func([]byte) (int, error) {
	return func(b []byte) (int, error) { return d.PRead(t, b, off) }
}

// pwriteAt is a write of d from off on, each chunk after the last,
// with pwritev2's RWF_APPEND and RWF_NOAPPEND from flags (pwrite64,
// pwritev, AIO).
func pwriteAt(t *kernel.Task, d *vfs.FileDescription, off int64, flags uint64) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		n, err := d.PWriteFlags(t, b, off, flags&rwfAppend != 0, flags&rwfNoappend != 0)
		off += int64(n)
		return n, err
	}
}

// accountRead counts a read call for /proc/PID/io (Task.AccountRead) as
// Linux's vfs_read does: not one refused before the file was reached
// (EBADF: not open for reading; EINVAL: a bad count or flag).
func accountRead(t *kernel.Task, n uint64, err error) (uint64, error) {
	if err != unix.EBADF && err != unix.EINVAL {
		t.AccountRead(int64(n))
	}
	return n, err
}

// accountWrite is accountRead for a write call.
func accountWrite(t *kernel.Task, n uint64, err error) (uint64, error) {
	if err != unix.EBADF && err != unix.EINVAL {
		t.AccountWrite(int64(n))
	}
	return n, err
}

// readInto reads once through a kernel buffer and copies the bytes out.
// A buffer that is writable only in part reads what rule (nil: the bytes
// before the fault, or all of count when none fit) lets go ahead.
func readInto(t *kernel.Task, addr, count uint64, rule fitRule, read func([]byte) (int, error)) (uint64, error) {
	if int64(count) < 0 {
		return 0, unix.EINVAL
	}
	// A buffer outside the user half is EFAULT at once (Linux's
	// access_ok). One that faults partway takes no more than fits: what
	// a fault would lose stays in the file or stream, as on Linux. One
	// that does not fit a byte is read into all the same, so that a read
	// with nothing to give (the end of a file) returns 0, as Linux's
	// copies nothing and does not fault (readFit keeps a file's bytes
	// from being taken for it).
	if count > 0 {
		if addr+count < addr || addr+count > arch.TaskSizeMax {
			return 0, unix.EFAULT
		}
		if fit := t.MM.WritableLen(addr, count); fit < count {
			var err error
			switch {
			case rule != nil:
				count, err = rule(fit, count)
			case fit > 0:
				count = fit
			}
			if err != nil {
				return 0, err
			}
		}
	}
	buf, release := t.CopyBuffer(count, ioChunk)
	defer release()
	n, err := read(buf)
	if n > 0 {
		if cerr := t.CopyOut(addr, buf[:n]); cerr != nil {
			return 0, cerr
		}
		return uint64(n), nil
	}
	return 0, err
}

func sysWrite(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if !d.Writable() {
		return 0, unix.EBADF // before the count, as Linux's vfs_write
	}
	if s, err := socket.Of(d); err == nil && int64(a[2]) >= 0 {
		if !accessOK(a[1], min(a[2], maxRW)) {
			return 0, unix.EFAULT
		}
		n, err := writeSocket(t, s, d, min(a[2], maxRW), bufferSource(t, a[1]), 0)
		return accountWrite(t, n, err)
	}
	var rule fitRule
	if pipe.Of(d) != nil {
		rule = pipeFit
	}
	n, err := writeFrom(t, a[1], a[2], rule, func(b []byte) (int, error) { return d.Write(t, b) })
	return accountWrite(t, n, err)
}

func sysPwrite64(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	off := int64(a[3])
	if off < 0 || rangeOverflows(off, a[2]) {
		return 0, unix.EINVAL
	}
	n, err := writeFrom(t, a[1], a[2], nil, pwriteAt(t, d, off, 0))
	return accountWrite(t, n, err)
}

// writeFrom copies the application's buffer in chunk by chunk and writes
// it; a short or failed write after some progress returns the progress.
// A buffer readable only in part writes what rule (nil: the bytes before
// the fault) lets go ahead.
func writeFrom(t *kernel.Task, addr, count uint64, rule fitRule, write func([]byte) (int, error)) (uint64, error) {
	if int64(count) < 0 {
		return 0, unix.EINVAL
	}
	// The bytes before the first that would fault are written, as Linux
	// writes up to a fault; none at all is EFAULT.
	if count > 0 {
		count = min(count, maxRW)
		fit := t.MM.ReadableLen(addr, count)
		if fit == 0 {
			return 0, unix.EFAULT
		}
		if fit < count && rule != nil {
			var err error
			if count, err = rule(fit, count); err != nil {
				return 0, err
			}
		} else {
			count = fit
		}
	}
	return writeChunks(t, count, bufferSource(t, addr), write, true)
}

// writeChunks writes count bytes of src a chunk at a time; a short or
// failed write, or a fault, after some progress returns the progress.
// sigpipe is whether readers going away mid-write raise SIGPIPE (not
// under RWF_NOSIGNAL).
func writeChunks(t *kernel.Task, count uint64, src copySource, write func([]byte) (int, error), sigpipe bool) (uint64, error) {
	var done uint64
	buf, release := t.CopyBuffer(count, ioChunk)
	defer release()
	for done < count || count == 0 {
		chunk := buf[:min(uint64(len(buf)), count-done)]
		c, cerr := src(done, chunk)
		if cerr != nil && c == 0 {
			if done > 0 {
				return done, nil
			}
			return 0, cerr
		}
		chunk = chunk[:c]
		n, err := write(chunk)
		done += uint64(n)
		if err != nil {
			if done > 0 {
				if sigpipe && errors.Is(err, unix.EPIPE) {
					// The readers went away mid-write: Linux returns
					// the count and still sends SIGPIPE.
					t.SendSIGPIPE()
				}
				return done, nil
			}
			return 0, err
		}
		if n < len(chunk) || count == 0 || cerr != nil {
			break
		}
	}
	return done, nil
}

// iovecs reads an iovec array.
func iovecs(t *kernel.Task, addr uint64, cnt uint64) ([][2]uint64, error) {
	if cnt > 1024 { // UIO_MAXIOV
		return nil, unix.EINVAL
	}
	b := make([]byte, 16*cnt)
	if err := t.CopyIn(addr, b); err != nil {
		return nil, err
	}
	v := make([][2]uint64, cnt)
	var total uint64
	for i := range v {
		v[i] = [2]uint64{binary.LittleEndian.Uint64(b[16*i:]), binary.LittleEndian.Uint64(b[16*i+8:])}
		if int64(v[i][1]) < 0 {
			return nil, unix.EINVAL
		}
		total += v[i][1]
		if int64(total) < 0 {
			return nil, unix.EINVAL
		}
	}
	return v, nil
}

func sysReadv(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return readVector(t, d, a[1], a[2], 0, func(b []byte) (int, error) { return d.Read(t, b) })
}

// readVector is readv, preadv and preadv2 once the file is known: the
// checks in Linux's order (the file's mode, the vector, flags only for a
// transfer of at least a byte), then one read through read into a buffer
// the size of the whole vector (which keeps it atomic for streams), then
// the scatter.
func readVector(t *kernel.Task, d *vfs.FileDescription, vec, cnt, flags uint64, read func([]byte) (int, error)) (uint64, error) {
	n, err := readVectorOnce(t, d, vec, cnt, flags, read)
	return accountRead(t, n, err)
}

func readVectorOnce(t *kernel.Task, d *vfs.FileDescription, vec, cnt, flags uint64, read func([]byte) (int, error)) (uint64, error) {
	if !d.Readable() {
		return 0, unix.EBADF
	}
	v, err := iovecs(t, vec, cnt)
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, iv := range v {
		total += iv[1]
	}
	if total == 0 {
		return 0, nil
	}
	if err := checkRWFlags(flags); err != nil {
		return 0, err
	}
	// As readInto: no more than the buffers can hold, up to the first
	// that faults.
	fits := vectorFit(v, t.MM.WritableLen)
	if fits == 0 {
		return 0, unix.EFAULT
	}
	if pipe.Of(d) != nil {
		if fits, err = pipeFit(fits, total); err != nil {
			return 0, err
		}
	}
	total = fits
	if flags&rwfNowait != 0 && !d.Options().Seekable && d.Readiness(vfs.EventIn) == 0 {
		// Checked, then read: a reader racing on the same stream can
		// still make this read wait, where Linux would say EAGAIN.
		return 0, unix.EAGAIN
	}
	buf, release := t.CopyBuffer(total, ioChunk)
	defer release()
	n, err := read(buf)
	if n <= 0 {
		return 0, err
	}
	return scatter(t, v, buf[:n])
}

func scatter(t *kernel.Task, v [][2]uint64, data []byte) (uint64, error) {
	var done uint64
	for _, iv := range v {
		if len(data) == 0 {
			break
		}
		k := min(uint64(len(data)), iv[1])
		if err := t.CopyOut(iv[0], data[:k]); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		data = data[k:]
		done += k
	}
	return done, nil
}

func sysWritev(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return writeVector(t, d, a[1], a[2], 0, func(b []byte) (int, error) { return d.Write(t, b) })
}

// writeVector is writev, pwritev and pwritev2 once the file is known, as
// readVector for reads.
func writeVector(t *kernel.Task, d *vfs.FileDescription, vec, cnt, flags uint64, write func([]byte) (int, error)) (uint64, error) {
	n, err := writeVectorOnce(t, d, vec, cnt, flags, write)
	if flags&rwfNosignal != 0 && errors.Is(err, unix.EPIPE) {
		err = socket.ErrPipeNoSignal // RWF_NOSIGNAL: EPIPE alone
	}
	return accountWrite(t, n, err)
}

func writeVectorOnce(t *kernel.Task, d *vfs.FileDescription, vec, cnt, flags uint64, write func([]byte) (int, error)) (uint64, error) {
	if !d.Writable() {
		return 0, unix.EBADF
	}
	v, err := iovecs(t, vec, cnt)
	if err != nil {
		return 0, err
	}
	// The iovecs that fit in maxRW, as Linux caps a write.
	var total uint64
	for i, iv := range v {
		if total+iv[1] > maxRW {
			v = v[:i]
			break
		}
		total += iv[1]
	}
	if total == 0 {
		return 0, nil
	}
	if err := checkRWFlags(flags); err != nil {
		return 0, err
	}
	if s, err := socket.Of(d); err == nil {
		var f int
		if flags&rwfNowait != 0 {
			f = unix.MSG_DONTWAIT
		}
		return writeSocket(t, s, d, total, iovecSource(t, v), f)
	}
	if pipe.Of(d) != nil {
		if v, total, err = pipeVectorFit(t, v, total); err != nil {
			return 0, err
		}
	}
	if flags&rwfNowait != 0 && !d.Options().Seekable && d.Readiness(vfs.EventOut) == 0 {
		return 0, unix.EAGAIN
	}
	src := iovecSource(t, v)
	data, release := t.CopyBuffer(total, ioChunk)
	defer release()
	var n uint64
	if total > uint64(len(data)) {
		// Big: a chunk at a time (a write that large is not atomic on
		// Linux either), so that uk never holds more than a chunk.
		n, err = writeChunks(t, total, src, write, flags&rwfNosignal == 0)
	} else {
		// Gather into one buffer so the write is one operation (atomic
		// for pipes up to PIPE_BUF, one line on a terminal). An iovec
		// that faults ends the data after the ones before it.
		c, cerr := src(0, data)
		if cerr != nil && c == 0 {
			return 0, cerr
		}
		var w int
		w, err = write(data[:c])
		n = uint64(max(w, 0))
	}
	if n == 0 {
		return 0, err
	}
	if flags&(rwfDsync|rwfSync) != 0 {
		// As O_DSYNC/O_SYNC for this write: the data is on the host's
		// disk before the call returns (a no-op for memory files).
		if err := d.Fsync(t); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// writeSocket is write and writev on a socket: a send, as Linux's
// sock_write_iter, so that a buffer that faults is what it is for send
// (EFAULT for a datagram, not a message cut short). The SIGPIPE of an
// EPIPE is the write's own (MSG_NOSIGNAL here).
func writeSocket(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, total uint64, src copySource, flags int) (uint64, error) {
	n, err := sendData(t, s, d, &socket.SendRequest{Flags: flags | unix.MSG_NOSIGNAL}, total, src)
	return uint64(n), err
}

// vectorFit is how many bytes of the iovecs v, in order, can be copied
// before the first fault, with usable(addr, n) the bytes of [addr, addr+n)
// that can (MM.WritableLen or MM.ReadableLen).
func vectorFit(v [][2]uint64, usable func(addr, n uint64) uint64) uint64 {
	var fits uint64
	for _, iv := range v {
		k := usable(iv[0], iv[1])
		fits += k
		if k < iv[1] {
			break
		}
	}
	return fits
}

// pipeVectorFit cuts the iovecs v (total bytes) of a write to a pipe to
// what pipeFit lets go ahead of their readable start.
func pipeVectorFit(t *kernel.Task, v [][2]uint64, total uint64) ([][2]uint64, uint64, error) {
	n, err := pipeFit(vectorFit(v, t.MM.ReadableLen), total)
	if err != nil || n == total {
		return v, n, err
	}
	cut := make([][2]uint64, 0, len(v))
	for left := n; left > 0; v = v[1:] {
		k := min(left, v[0][1])
		cut = append(cut, [2]uint64{v[0][0], k})
		left -= k
	}
	return cut, n, nil
}

// The RWF_* flags of preadv2 and pwritev2 (include/uapi/linux/fs.h).
const (
	rwfHipri     = 0x1
	rwfDsync     = 0x2
	rwfSync      = 0x4
	rwfNowait    = 0x8
	rwfAppend    = 0x10
	rwfNoappend  = 0x20
	rwfAtomic    = 0x40
	rwfDontcache = 0x80
	rwfNosignal  = 0x100 // no SIGPIPE for a write to a pipe or socket without readers
)

// checkRWFlags checks preadv2/pwritev2 flags as Linux's kiocb_set_rw_flags
// does for a file like uk's: unknown flags, and the atomic and uncached
// modes no uk file offers, are EOPNOTSUPP; RWF_APPEND with RWF_NOAPPEND is
// EINVAL. RWF_HIPRI only asks to poll for completion, which uk's I/O never
// waits on.
func checkRWFlags(flags uint64) error {
	const known = rwfHipri | rwfDsync | rwfSync | rwfNowait | rwfAppend | rwfNoappend | rwfAtomic | rwfDontcache | rwfNosignal
	switch {
	case flags&^known != 0, flags&(rwfAtomic|rwfDontcache) != 0:
		return unix.EOPNOTSUPP
	case flags&rwfAppend != 0 && flags&rwfNoappend != 0:
		return unix.EINVAL
	}
	return nil
}

// rwFlags is preadv2's and pwritev2's flags argument, an rwf_t: 32 bits.
func rwFlags(a [6]uint64) uint64 { return uint64(uint32(a[5])) }

// rwOffset is the file offset preadv and pwritev (and their *2 forms) take
// as pos_l and pos_h: on x86-64 pos_l holds all 64 bits and pos_h is
// ignored, as Linux's pos_from_hilo makes it.
func rwOffset(a [6]uint64) int64 { return int64(a[3]) }

// vectorFD is the description preadv/pwritev act on: EINVAL for a
// negative offset before the descriptor is looked at, ESPIPE for a
// stream, as Linux's do_preadv and do_pwritev.
func vectorFD(t *kernel.Task, fd uint64, off int64) (*vfs.FileDescription, error) {
	if off < 0 {
		return nil, unix.EINVAL
	}
	d, err := t.FD(int32(fd))
	if err != nil {
		return nil, err
	}
	if !d.Options().Seekable {
		d.DecRef()
		return nil, unix.ESPIPE
	}
	return d, nil
}

func sysPreadv(t *kernel.Task, a [6]uint64) (uint64, error) {
	return preadv(t, a, rwOffset(a), 0)
}

// sysPreadv2 is preadv with flags; offset -1 reads at (and moves) the
// file offset, as readv.
func sysPreadv2(t *kernel.Task, a [6]uint64) (uint64, error) {
	if off := rwOffset(a); off != -1 {
		return preadv(t, a, off, rwFlags(a))
	}
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return readVector(t, d, a[1], a[2], rwFlags(a), func(b []byte) (int, error) { return d.Read(t, b) })
}

func preadv(t *kernel.Task, a [6]uint64, off int64, flags uint64) (uint64, error) {
	d, err := vectorFD(t, a[0], off)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return readVector(t, d, a[1], a[2], flags, preadAt(t, d, off))
}

func sysPwritev(t *kernel.Task, a [6]uint64) (uint64, error) {
	return pwritev(t, a, rwOffset(a), 0)
}

// sysPwritev2 is pwritev with flags; offset -1 writes at (and moves) the
// file offset, as writev. RWF_APPEND appends whatever the offset;
// RWF_NOAPPEND writes at the offset even on an O_APPEND description.
func sysPwritev2(t *kernel.Task, a [6]uint64) (uint64, error) {
	if off := rwOffset(a); off != -1 {
		return pwritev(t, a, off, rwFlags(a))
	}
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	flags := rwFlags(a)
	return writeVector(t, d, a[1], a[2], flags, func(b []byte) (int, error) {
		return d.WriteFlags(t, b, flags&rwfAppend != 0, flags&rwfNoappend != 0)
	})
}

func pwritev(t *kernel.Task, a [6]uint64, off int64, flags uint64) (uint64, error) {
	d, err := vectorFD(t, a[0], off)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return writeVector(t, d, a[1], a[2], flags, pwriteAt(t, d, off, flags))
}
