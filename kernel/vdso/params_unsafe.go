package vdso

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// The parameter page is shared with application code (the vDSO reads it
// concurrently), so every store is an atomic store to the exact address the
// C struct uses; unsafe is needed to address the page's bytes as words.

func aligned8(page []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(page)))%8 == 0
}

// words returns the page's first ParamsSize bytes as the Params layout.
func pageParams(page []byte) *Params {
	_ = page[ParamsSize-1]
	return (*Params)(unsafe.Pointer(unsafe.SliceData(page)))
}

func writeParams(page []byte, p *Params) {
	finishParams(page, beginParams(page), p)
}

// beginParams makes the sequence number odd: from its return on, a reader
// retries until finishParams. It returns the odd value. (The atomic store is
// a locked instruction on amd64, visible to every CPU before the caller
// goes on.)
func beginParams(page []byte) uint32 {
	dst := pageParams(page)
	seq := atomic.LoadUint32(&dst.Seq)
	if seq&1 != 0 { // a previous writer died mid-update; restart even
		seq++
	}
	atomic.StoreUint32(&dst.Seq, seq+1)
	runtime.KeepAlive(page)
	return seq + 1
}

// finishParams stores p's fields and makes the sequence number even again.
func finishParams(page []byte, odd uint32, p *Params) {
	dst := pageParams(page)
	atomic.StoreUint32(&dst.Flags, p.Flags)
	atomic.StoreUint64(&dst.TSCBase, p.TSCBase)
	atomic.StoreUint64(&dst.Mult, p.Mult)
	atomic.StoreUint32(&dst.Shift, p.Shift)
	atomic.StoreInt64(&dst.MonoBase, p.MonoBase)
	atomic.StoreUint64(&dst.SlewTicks, p.SlewTicks)
	atomic.StoreUint64(&dst.SlewMult, p.SlewMult)
	atomic.StoreInt64(&dst.RealOffset, p.RealOffset)
	atomic.StoreInt64(&dst.BootOffset, p.BootOffset)
	atomic.StoreInt64(&dst.TAIOffset, p.TAIOffset)
	atomic.StoreUint32(&dst.Seq, odd+1)
	runtime.KeepAlive(page)
}

func readParams(page []byte) Params {
	src := pageParams(page)
	for {
		seq := atomic.LoadUint32(&src.Seq)
		if seq&1 != 0 {
			runtime.Gosched()
			continue
		}
		p := Params{
			Seq:        seq,
			Flags:      atomic.LoadUint32(&src.Flags),
			TSCBase:    atomic.LoadUint64(&src.TSCBase),
			Mult:       atomic.LoadUint64(&src.Mult),
			Shift:      atomic.LoadUint32(&src.Shift),
			MonoBase:   atomic.LoadInt64(&src.MonoBase),
			SlewTicks:  atomic.LoadUint64(&src.SlewTicks),
			SlewMult:   atomic.LoadUint64(&src.SlewMult),
			RealOffset: atomic.LoadInt64(&src.RealOffset),
			BootOffset: atomic.LoadInt64(&src.BootOffset),
			TAIOffset:  atomic.LoadInt64(&src.TAIOffset),
		}
		if atomic.LoadUint32(&src.Seq) == seq {
			return p
		}
	}
}
