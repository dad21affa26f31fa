package kernel

import "golang.org/x/sys/unix"

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

// Copy buffers kept between calls, in three sizes: SmallIO and bigBuf
// bytes (poolCount of each at most), which cover the reads and writes
// programs make most (stdio's 4 KiB, 8-32 KiB of io.Copy, cat, gzip,
// sha256sum), and hugeBuf bytes (hugePoolCount at most), the largest
// chunk a read or write copies through: a stream of 256 KiB writes or
// reads on a socket made and zeroed a buffer at each call, with the
// collector's share, which bounded TCP over a TAP device (profiled;
// sending 323 -> 784 MiB/s, receiving 1134-1268 -> 2062-2126). A buffer
// held by a call costs what IOBuffer's would: a small one is part of the
// task's overhead (SmallIO), a larger one is charged whole while held.
// The idle ones (3.25 MiB at most) are part of uk's fixed overhead beyond
// --mem (memOverhead).
const (
	bigBuf        = 64 << 10
	hugeBuf       = 1 << 20
	poolCount     = 16
	hugePoolCount = 2
)

// copyPools are the pools of idle copy buffers of every kernel of the
// process, smallest first; all but the first are charged while held. A
// buffer is in a pool or held by exactly one call.
var copyPools = [...]struct {
	size int
	idle chan []byte
}{
	{SmallIO, make(chan []byte, poolCount)},
	{bigBuf, make(chan []byte, poolCount)},
	{hugeBuf, make(chan []byte, hugePoolCount)},
}

// CopyBuffer is IOBuffer for a call that fills the buffer before anything
// reads it: a read filling it from a file (read, pread, readv), or a write
// filling it from the application (write, writev, a stream send). The
// buffer may hold bytes of an earlier call, so the caller must use only
// what it filled, and no file may keep the slice after its Write returns
// (every one copies what it queues). Buffers up to hugeBuf bytes come from
// the smallest pool that fits (copyPools) instead of being made and
// zeroed for each call; a larger one is IOBuffer's.
func (t *Task) CopyBuffer(n, max uint64) (buf []byte, release func()) {
	n = min(n, max)
	if n > hugeBuf {
		return t.IOBuffer(n, max)
	}
	p := 0
	for uint64(copyPools[p].size) < n {
		p++
	}
	mf := t.k.MemFile
	var charged int64
	if p > 0 && mf != nil {
		if mf.Charge(int64(copyPools[p].size)) {
			charged = int64(copyPools[p].size)
		} else {
			p, n = 0, SmallIO // the budget is spent: copy in smaller pieces
		}
	}
	pool := copyPools[p]
	var b []byte
	select {
	case b = <-pool.idle:
	default:
		b = make([]byte, pool.size)
	}
	return b[:n], func() {
		if charged > 0 {
			mf.Uncharge(charged)
		}
		select {
		case pool.idle <- b:
		default:
		}
	}
}
