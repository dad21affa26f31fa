package vfstest

import "sync"

// Budget is a sandbox memory budget for tests (a vfs.Charger): charges
// beyond Limit are refused. Tests may read and set Limit and Charged
// directly between operations; Used reads Charged under the lock.
type Budget struct {
	mu      sync.Mutex
	Limit   int64
	Charged int64
}

// Charge implements vfs.Charger.
func (b *Budget) Charge(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Charged+n > b.Limit {
		return false
	}
	b.Charged += n
	return true
}

// Uncharge implements vfs.Charger.
func (b *Budget) Uncharge(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Charged -= n
}

// Used is what is charged now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Charged
}
