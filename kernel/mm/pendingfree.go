package mm

import (
	"sync"
	"time"

	"uk/kernel/memfile"
)

// Pages waiting for their address space to go. A dead MM whose platform
// says when its address space is gone (releaserThen) frees its private
// pages only then, a fraction of a millisecond to a few milliseconds
// after its last user left. Meanwhile they stay counted, and an
// allocation that finds the memory file short must not fail, nor the OOM
// killer pick a live victim, for memory that is about to come back: the
// pending pages are a memfile.Reclaimer that waits for them.

// pendingWait bounds how long an allocation waits for pending pages.
const pendingWait = 100 * time.Millisecond

// pendingFree counts one memory file's pending pages.
type pendingFree struct {
	mu    sync.Mutex
	pages int64 // protected by mu
	// changed is closed, and replaced, whenever pages goes down.
	// Protected by mu.
	changed chan struct{}
}

var (
	pendingMu sync.Mutex
	pendings  = map[*memfile.File]*pendingFree{} // protected by pendingMu
)

// pendingFor returns mf's pending pages, registered as its reclaimer on
// first use.
func pendingFor(mf *memfile.File) *pendingFree {
	pendingMu.Lock()
	defer pendingMu.Unlock()
	p := pendings[mf]
	if p == nil {
		p = &pendingFree{changed: make(chan struct{})}
		pendings[mf] = p
		mf.AddReclaimer(p)
	}
	return p
}

// add records n pages pending.
func (p *pendingFree) add(n int64) {
	p.mu.Lock()
	p.pages += n
	p.mu.Unlock()
}

// done records n pending pages freed.
func (p *pendingFree) done(n int64) {
	p.mu.Lock()
	p.pages -= n
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// Reclaimable implements memfile.Reclaimer: the pages pending (some may
// still be shared copy-on-write with a live process, so "about").
func (p *pendingFree) Reclaimable() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages
}

// Reclaim implements memfile.Reclaimer: it waits, at most pendingWait,
// until n pages have come back or none are pending, and reports how many
// came back.
func (p *pendingFree) Reclaim(n int64) int64 {
	timer := time.NewTimer(pendingWait)
	defer timer.Stop()
	p.mu.Lock()
	start := p.pages
	for {
		got := start - p.pages
		if p.pages <= 0 || got >= n {
			p.mu.Unlock()
			return max(got, 0)
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			p.mu.Lock()
			got := start - p.pages
			p.mu.Unlock()
			return max(got, 0)
		}
		p.mu.Lock()
	}
}
