package syscalls

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"

	"uk/kernel"
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
	return readInto(t, a[1], a[2], func(b []byte) (int, error) { return d.Read(t, b) })
}

func sysPread64(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	off := int64(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return readInto(t, a[1], a[2], func(b []byte) (int, error) { return d.PRead(t, b, off) })
}

// readInto reads once through a kernel buffer and copies the bytes out.
func readInto(t *kernel.Task, addr, count uint64, read func([]byte) (int, error)) (uint64, error) {
	if int64(count) < 0 {
		return 0, unix.EINVAL
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
	return writeFrom(t, a[1], a[2], func(b []byte) (int, error) { return d.Write(t, b) })
}

func sysPwrite64(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	off := int64(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return writeFrom(t, a[1], a[2], func(b []byte) (int, error) {
		n, err := d.PWrite(t, b, off)
		off += int64(n)
		return n, err
	})
}

// writeFrom copies the application's buffer in chunk by chunk and writes
// it; a short or failed write after some progress returns the progress.
func writeFrom(t *kernel.Task, addr, count uint64, write func([]byte) (int, error)) (uint64, error) {
	if int64(count) < 0 {
		return 0, unix.EINVAL
	}
	return writeChunks(t, min(count, maxRW), bufferSource(t, addr), write)
}

// writeChunks writes count bytes of src a chunk at a time; a short or
// failed write, or a fault, after some progress returns the progress.
func writeChunks(t *kernel.Task, count uint64, src copySource, write func([]byte) (int, error)) (uint64, error) {
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
				if errors.Is(err, unix.EPIPE) {
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
	v, err := iovecs(t, a[1], a[2])
	if err != nil {
		return 0, err
	}
	// One read into a buffer the size of the whole vector keeps readv
	// atomic for streams, then scatter.
	var total uint64
	for _, iv := range v {
		total += iv[1]
	}
	buf, release := t.CopyBuffer(total, ioChunk)
	defer release()
	n, err := d.Read(t, buf)
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
	v, err := iovecs(t, a[1], a[2])
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
	src := iovecSource(t, v)
	data, release := t.CopyBuffer(total, ioChunk)
	defer release()
	if total > uint64(len(data)) {
		// Big: a chunk at a time (a write that large is not atomic on
		// Linux either), so that uk never holds more than a chunk.
		return writeChunks(t, total, src, func(b []byte) (int, error) { return d.Write(t, b) })
	}
	// Gather into one buffer so the write is one operation (atomic for
	// pipes up to PIPE_BUF, one line on a terminal). An iovec that
	// faults ends the data after the ones before it.
	c, err := src(0, data)
	if err != nil && c == 0 {
		return 0, err
	}
	n, err := d.Write(t, data[:c])
	if n > 0 {
		return uint64(n), nil
	}
	return 0, err
}
