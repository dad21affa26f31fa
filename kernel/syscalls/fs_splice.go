package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/pipe"
	"uk/fs/vfs"
	"uk/kernel"
	"uk/net/socket"
)

// splice(2) flags.
const (
	spliceFMove     = 1
	spliceFNonblock = 2
	spliceFMore     = 4
	spliceFGift     = 8
	spliceFAll      = spliceFMove | spliceFNonblock | spliceFMore | spliceFGift
)

// spliceChunk bounds one transfer through uk's buffer (Linux moves at
// most a pipe's worth per call too).
const spliceChunk = 1 << 16

// sysSplice is splice(2): between two pipes the bytes move under both
// pipes' locks; between a pipe and another file (a socket, a regular
// file) they go through a buffer, and nothing is lost when the far side
// takes less: from a file only as many bytes are read as the pipe has
// room for, and into a file only what it took is consumed from the pipe.
func sysSplice(t *kernel.Task, a [6]uint64) (uint64, error) {
	inFD, offIn, outFD, offOut, length, flags := int32(a[0]), a[1], int32(a[2]), a[3], a[4], a[5]
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	in, out, release, err := transferFDs(t, inFD, outFD)
	if err != nil {
		return 0, err
	}
	defer release()
	inPipe, outPipe := pipe.Of(in), pipe.Of(out)
	if inPipe == nil && outPipe == nil {
		return 0, unix.EINVAL
	}
	if (inPipe != nil && offIn != 0) || (outPipe != nil && offOut != 0) {
		return 0, unix.ESPIPE
	}
	if out.StatusFlags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	// The far side must be a file Linux can splice at all (a regular
	// file, a device, a socket): a directory, an event or notification
	// descriptor is EINVAL at once, not a wait on the pipe first.
	if inPipe == nil && !spliceable(t, in) || outPipe == nil && !spliceable(t, out) {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	n := int(min(length, maxRW))
	nonblock := flags&spliceFNonblock != 0 || nonBlocking(in) || nonBlocking(out)
	switch {
	case inPipe != nil && outPipe != nil:
		if inPipe == outPipe {
			return 0, unix.EINVAL
		}
		m, err := pipe.Splice(t, inPipe, outPipe, n, nonblock)
		return uint64(m), err
	case inPipe != nil:
		return spliceFromPipe(t, inPipe, out, offOut, n, nonblock)
	default:
		return spliceToPipe(t, in, offIn, out, outPipe, n, nonblock)
	}
}

// fileOffset reads the offset a splice or tee caller passes by pointer
// (-1 when the pointer is null: the file's own offset is used).
func fileOffset(t *kernel.Task, d *vfs.FileDescription, addr uint64) (int64, error) {
	if addr == 0 {
		return -1, nil
	}
	if !d.Options().Seekable {
		return 0, unix.ESPIPE
	}
	v, err := getUint64(t, addr)
	if err != nil {
		return 0, err
	}
	if int64(v) < 0 {
		return 0, unix.EINVAL
	}
	return int64(v), nil
}

// spliceFromPipe moves bytes from a pipe into out: peek, write, then
// consume what out accepted.
func spliceFromPipe(t *kernel.Task, p *pipe.Pipe, out *vfs.FileDescription, offAddr uint64, n int, nonblock bool) (uint64, error) {
	off, err := fileOffset(t, out, offAddr)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(n, spliceChunk))
	got, err := p.Peek(t, buf, nonblock)
	if err != nil || got == 0 {
		return 0, err
	}
	var w int
	if off >= 0 {
		w, err = out.PWrite(t, buf[:got], off)
	} else {
		w, err = out.Write(t, buf[:got])
	}
	if w > 0 {
		p.Discard(w)
		if off >= 0 {
			if perr := putUint64(t, offAddr, uint64(off+int64(w))); perr != nil {
				return 0, perr
			}
		}
		return uint64(w), nil
	}
	return 0, err
}

// spliceToPipe moves bytes from in into a pipe, reading no more than the
// pipe has room for, so that the write cannot block with the bytes
// already taken from in.
func spliceToPipe(t *kernel.Task, in *vfs.FileDescription, offAddr uint64, out *vfs.FileDescription, p *pipe.Pipe, n int, nonblock bool) (uint64, error) {
	off, err := fileOffset(t, in, offAddr)
	if err != nil {
		return 0, err
	}
	room, err := waitPipeRoom(t, out, p, nonblock)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(n, room, spliceChunk))
	var r int
	if off >= 0 {
		r, err = in.PRead(t, buf, off)
	} else {
		r, err = in.Read(t, buf)
	}
	if r == 0 {
		return 0, err
	}
	w, werr := out.Write(t, buf[:r])
	if off >= 0 && w > 0 {
		if perr := putUint64(t, offAddr, uint64(off+int64(w))); perr != nil {
			return 0, perr
		}
	}
	if w == 0 {
		return 0, werr
	}
	return uint64(w), nil
}

// waitPipeRoom waits until the pipe can take bytes (EAGAIN instead when
// nonblock) and returns how many.
func waitPipeRoom(t *kernel.Task, out *vfs.FileDescription, p *pipe.Pipe, nonblock bool) (int, error) {
	var w *vfs.Waiter
	var ch <-chan struct{}
	defer func() {
		if w != nil {
			out.EventUnregister(w)
		}
	}()
	for {
		if room := p.Room(); room > 0 {
			return room, nil
		}
		if out.Readiness(vfs.EventErr)&vfs.EventErr != 0 {
			return 0, unix.EPIPE
		}
		if nonblock {
			return 0, unix.EAGAIN
		}
		if w == nil {
			w, ch = vfs.NewChannelWaiter(vfs.EventOut | vfs.EventErr)
			out.EventRegister(w)
			continue
		}
		if err := t.Block(ch); err != nil {
			return 0, err
		}
	}
}

// sysTee is tee(2): both ends must be pipes.
func sysTee(t *kernel.Task, a [6]uint64) (uint64, error) {
	inFD, outFD, length, flags := int32(a[0]), int32(a[1]), a[2], a[3]
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	in, out, release, err := transferFDs(t, inFD, outFD)
	if err != nil {
		return 0, err
	}
	defer release()
	inPipe, outPipe := pipe.Of(in), pipe.Of(out)
	if inPipe == nil || outPipe == nil || inPipe == outPipe {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	nonblock := flags&spliceFNonblock != 0 || nonBlocking(in) || nonBlocking(out)
	m, err := pipe.Tee(t, inPipe, outPipe, int(min(length, maxRW)), nonblock)
	return uint64(m), err
}

// nonBlocking reports whether d was opened or set O_NONBLOCK: a splice or
// tee on it then says EAGAIN rather than wait, as SPLICE_F_NONBLOCK does.
func nonBlocking(d *vfs.FileDescription) bool { return d.StatusFlags()&unix.O_NONBLOCK != 0 }

// spliceable reports whether d is a file splice can move bytes to or from
// besides a pipe (Linux's splice_read and splice_write): a socket, a
// regular file, a device.
func spliceable(t *kernel.Task, d *vfs.FileDescription) bool {
	if _, err := socket.Of(d); err == nil {
		return true
	}
	if d.Path().Dentry == nil {
		return false // an event, timer, signal or notification fd
	}
	st, err := d.Stat(t)
	if err != nil {
		return false
	}
	switch st.Type() {
	case unix.S_IFREG, unix.S_IFCHR, unix.S_IFBLK:
		return true
	}
	return false
}

// transferFDs looks up the two descriptors of a copy between files
// (sendfile, copy_file_range, splice, tee): EBADF unless in is open for
// reading and out for writing. The caller must call release.
func transferFDs(t *kernel.Task, inFD, outFD int32) (in, out *vfs.FileDescription, release func(), err error) {
	in, err = t.FileFD(inFD, kernel.FDRead)
	if err != nil {
		return nil, nil, nil, err
	}
	out, err = t.FileFD(outFD, kernel.FDWrite)
	if err != nil {
		in.DecRef()
		return nil, nil, nil, err
	}
	release = func() { in.DecRef(); out.DecRef() }
	return in, out, release, nil
}

// sysVmsplice moves user memory into a pipe (its write end) or pipe data
// into user memory (its read end), as Linux's vmsplice: unknown flags
// EINVAL, a descriptor that is no pipe EBADF, then the vector's checks
// as writev's and readv's. uk copies the bytes; SPLICE_F_GIFT's page
// donation is only a hint, as Linux treats it for anything it cannot
// steal.
func sysVmsplice(t *kernel.Task, a [6]uint64) (uint64, error) {
	fd, vec, cnt, flags := int32(a[0]), a[1], a[2], a[3]
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	d, err := t.FileFD(fd, kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	p := pipe.Of(d)
	if p == nil {
		return 0, unix.EBADF
	}
	nonblock := flags&spliceFNonblock != 0 || d.NonBlocking()
	if d.Writable() {
		packet := d.StatusFlags()&unix.O_DIRECT != 0
		return writeVector(t, d, vec, cnt, 0, func(b []byte) (int, error) { return p.WriteTo(t, b, nonblock, packet) })
	}
	if d.Readable() {
		return readVector(t, d, vec, cnt, 0, func(b []byte) (int, error) { return p.ReadFrom(t, b, nonblock) })
	}
	return 0, unix.EBADF
}
