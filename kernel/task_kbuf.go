package kernel

import (
	"golang.org/x/sys/unix"

	"uk/kernel/memfile"
)

// SmallIO is the buffer a system call copies through when the sandbox's
// memory budget cannot cover a larger one. It is part of what each task
// may cost uk beyond --mem (README.md, "Resource limits"); any larger
// buffer is charged to the budget while it lives.
const SmallIO = 16 << 10

// IOBuffer returns a buffer of up to n bytes (at most max) for a system
// call to copy application data through, and the function that gives it
// back. A buffer larger than SmallIO is charged to the sandbox's memory
// budget; when the budget cannot cover it, the buffer is SmallIO bytes
// instead, so that a copy goes on in more, smaller pieces rather than
// fail. The buffer must not be used after release.
func (t *Task) IOBuffer(n, max uint64) (buf []byte, release func()) {
	n = min(n, max)
	if n <= SmallIO {
		return make([]byte, n), func() {}
	}
	mf := t.k.MemFile
	if mf == nil {
		return make([]byte, n), func() {}
	}
	if !mf.Charge(int64(n)) {
		return make([]byte, SmallIO), func() {}
	}
	return make([]byte, n), func() { mf.Uncharge(int64(n)) }
}

// ChargedBuffer returns a buffer of n bytes charged to the sandbox's
// memory budget, for data that must be whole (a datagram being gathered),
// and the function that gives it back; ENOBUFS when the budget cannot
// cover it, as Linux's socket allocations fail.
func (t *Task) ChargedBuffer(n uint64) (buf []byte, release func(), err error) {
	mf := t.k.MemFile
	if n <= SmallIO || mf == nil {
		return make([]byte, n), func() {}, nil
	}
	if !mf.Charge(int64(n)) {
		return nil, nil, unix.ENOBUFS
	}
	return make([]byte, n), func() { mf.Uncharge(int64(n)) }, nil
}

// Read buffers kept between calls: pools of SmallIO and bigRead bytes,
// readPoolCount buffers each at most. They cover the reads programs make
// most (stdio's 4 KiB, 8-32 KiB of io.Copy, cat, gzip, sha256sum). A
// buffer held by a call costs what IOBuffer's would: a small one is part
// of the task's overhead (SmallIO), a big one is charged whole while
// held; the idle ones (1.25 MiB at most) are part of uk's fixed overhead
// beyond --mem (memOverhead).
const (
	bigRead       = 64 << 10
	readPoolCount = 16
)

// smallReads and bigReads hold the idle read buffers of every kernel of
// the process, hugeBufs the idle buffers of reads and writes over bigRead
// bytes. A buffer is in a pool or held by exactly one call.
var (
	smallReads = make(chan []byte, readPoolCount)
	bigReads   = make(chan []byte, readPoolCount)
	hugeBufs   = make(chan []byte, hugePoolCount)
)

// Buffers of reads and writes over bigRead bytes are hugeBuf bytes (the
// largest chunk a read or write copies through) and kept between calls,
// hugePoolCount at most: a stream of 256 KiB writes or reads on a socket
// otherwise made and zeroed a buffer at each call, with the collector's
// share, which bounded TCP over the link (profiled; over a TAP device, sending
// 323 -> 784 MiB/s, receiving 464 -> 844). The idle ones (2 MiB at most)
// are part of uk's fixed overhead beyond --mem (memOverhead), a held one
// is charged whole.
const (
	hugeBuf       = 1 << 20
	hugePoolCount = 2
)

// CopyBuffer is IOBuffer for a call that fills the buffer before anything
// reads it: a read filling it from a file (read, pread, readv), or a write
// filling it from the application (write, writev, a stream send). The
// buffer may hold bytes of an earlier call, so the caller must use only
// what it filled, and no file may keep the slice after its Write returns
// (every one copies what it queues). Buffers up to bigRead bytes come
// from a pool instead of being made and zeroed for each call (in a
// loopback TCP stream's 8 KiB reads that was a fifth of uk's CPU, with
// the collector's share); larger ones, up to hugeBuf, from a pool of
// their own (hugeBuffer).
func (t *Task) CopyBuffer(n, max uint64) (buf []byte, release func()) {
	n = min(n, max)
	if n > bigRead {
		return t.hugeBuffer(n, max)
	}
	pool, size := smallReads, SmallIO
	mf := t.k.MemFile
	if n > SmallIO {
		switch {
		case mf == nil: // nothing to charge (a kernel without a budget)
			pool, size = bigReads, bigRead
		case mf.Charge(bigRead):
			pool, size = bigReads, bigRead
		default:
			n = SmallIO // the budget is spent: copy in smaller pieces
		}
	}
	var charged int64
	if size == bigRead && mf != nil {
		charged = bigRead
	}
	return fromPool(pool, size, n, mf, charged)
}

// hugeBuffer is CopyBuffer's for n over bigRead bytes: a pooled hugeBuf
// buffer charged whole while held, IOBuffer's beyond that size.
func (t *Task) hugeBuffer(n, max uint64) (buf []byte, release func()) {
	if n > hugeBuf {
		return t.IOBuffer(n, max)
	}
	mf := t.k.MemFile
	var charged int64
	if mf != nil {
		if !mf.Charge(hugeBuf) {
			return make([]byte, SmallIO), func() {} // the budget is spent: smaller pieces
		}
		charged = hugeBuf
	}
	return fromPool(hugeBufs, hugeBuf, n, mf, charged)
}

// fromPool takes a buffer of size bytes from pool, or makes one, and
// returns its first n bytes and the function that uncharges charged bytes
// from mf and gives the buffer back (dropping it if the pool is full).
func fromPool(pool chan []byte, size int, n uint64, mf *memfile.File, charged int64) ([]byte, func()) {
	var b []byte
	select {
	case b = <-pool:
	default:
		b = make([]byte, size)
	}
	return b[:n], func() {
		if charged > 0 {
			mf.Uncharge(charged)
		}
		select {
		case pool <- b:
		default:
		}
	}
}
