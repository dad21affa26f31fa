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
