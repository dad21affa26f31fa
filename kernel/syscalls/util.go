package syscalls

import (
	"encoding/binary"

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

// words encodes 64-bit values little endian.
func words(vs ...uint64) []byte {
	b := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// appendCopyIn appends n bytes from the application's addr to data, a
// chunk at a time, and returns the longer slice. On a fault it returns
// data with what was copied before the chunk that faulted, and the error.
//
// Why chunks: the buffer grows only as far as the application's memory
// really reaches. Allocating the length the application asked for first
// would let any bad call (sendto of 2 GiB from a 4 KiB buffer) make uk
// allocate and zero gigabytes before the copy faults.
func appendCopyIn(t *kernel.Task, data []byte, addr, n uint64) ([]byte, error) {
	const chunk = 1 << 20
	for n > 0 {
		k := min(n, chunk)
		start := len(data)
		data = append(data, make([]byte, k)...)
		if err := t.CopyIn(addr, data[start:]); err != nil {
			return data[:start], err
		}
		addr += k
		n -= k
	}
	return data, nil
}
