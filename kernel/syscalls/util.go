package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

func putUint64(t *kernel.Task, addr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.CopyOut(addr, b[:])
}

func putUint32(t *kernel.Task, addr uint64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return t.CopyOut(addr, b[:])
}

func getUint64(t *kernel.Task, addr uint64) (uint64, error) {
	var b [8]byte
	err := t.CopyIn(addr, b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}

func getUint32(t *kernel.Task, addr uint64) (uint32, error) {
	var b [4]byte
	err := t.CopyIn(addr, b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

// words encodes 64-bit values little endian.
func words(vs ...uint64) []byte {
	b := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// copySource copies the application's bytes at offset off of some source
// (a buffer, an iovec array) into b. It returns how many it copied: fewer
// than len(b) only together with the error of the fault that stopped it.
type copySource func(off uint64, b []byte) (int, error)

// bufferSource is the buffer at addr. A chunk copies whole or not at all.
func bufferSource(t *kernel.Task, addr uint64) copySource {
	return func(off uint64, b []byte) (int, error) {
		if err := t.CopyIn(addr+off, b); err != nil {
			return 0, err
		}
		return len(b), nil
	}
}

// iovecSource is the concatenation of the buffers of an iovec array. An
// iovec that faults ends the copy after the ones before it.
func iovecSource(t *kernel.Task, v [][2]uint64) copySource {
	return func(off uint64, b []byte) (int, error) {
		n := 0
		for _, iv := range v {
			if n == len(b) {
				break
			}
			if off >= iv[1] {
				off -= iv[1]
				continue
			}
			k := int(min(iv[1]-off, uint64(len(b)-n)))
			if err := t.CopyIn(iv[0]+off, b[n:n+k]); err != nil {
				return n, err
			}
			n += k
			off = 0
		}
		return n, nil
	}
}

// copyInAllCharged is copyInAll for a message that must be whole (a
// datagram): the buffer is charged to the sandbox's memory budget as it
// grows, ENOBUFS when the budget cannot cover it (as Linux's socket
// allocations fail). release gives the charge back once the message is
// sent (the socket keeps its own, charged, copy).
func copyInAllCharged(t *kernel.Task, src copySource, n uint64) (data []byte, release func(), err error) {
	if n <= kernel.SmallIO {
		data, err = copyInAll(src, n)
		return data, func() {}, err
	}
	budget := vfs.ChargerOf(t)
	if !budget.Charge(int64(n)) {
		return nil, nil, unix.ENOBUFS
	}
	data, err = copyInAll(src, n)
	if err != nil {
		budget.Uncharge(int64(n))
		return nil, nil, err
	}
	return data, func() { budget.Uncharge(int64(n)) }, nil
}

// copyInAll copies n bytes of src into a new slice, a megabyte at a time.
// On a fault it returns what was copied before it, and the error.
//
// Why chunks: the buffer grows only as far as the application's memory
// really reaches. Allocating the length the application asked for first
// would let any bad call (sendto of 2 GiB from a 4 KiB buffer) make uk
// allocate and zero gigabytes before the copy faults.
func copyInAll(src copySource, n uint64) ([]byte, error) {
	const chunk = 1 << 20
	var data []byte
	for off := uint64(0); off < n; {
		k := min(n-off, chunk)
		start := len(data)
		data = append(data, make([]byte, k)...)
		c, err := src(off, data[start:])
		if err != nil {
			return data[:start+c], err
		}
		off += k
	}
	return data, nil
}
