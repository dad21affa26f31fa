package mm

import (
	"sync"

	"uk/kernel/memfile"
)

// AnonObject is the memory behind a MAP_SHARED|MAP_ANONYMOUS mapping: pages
// allocated on first touch, shared by every mapping of it (including those
// inherited across fork).
type AnonObject struct {
	mf *memfile.File

	mu    sync.Mutex
	pages map[uint64]int64 // protected by mu
}

// NewAnonObject returns an empty shared object; npages is a size hint.
func NewAnonObject(mf *memfile.File, npages uint64) *AnonObject {
	return &AnonObject{mf: mf, pages: make(map[uint64]int64, min(npages, 1024))}
}

// PageAt implements Mappable.
func (o *AnonObject) PageAt(index uint64) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if off, ok := o.pages[index]; ok {
		return off, nil
	}
	offs, err := o.mf.Allocate(1)
	if err != nil {
		return 0, err
	}
	o.pages[index] = offs[0]
	return offs[0], nil
}
