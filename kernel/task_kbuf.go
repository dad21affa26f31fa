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
