package vfs

import "sync"

// UserCounts counts what each user holds of something Linux limits per
// user (inotify's instances and watches, fanotify's groups and marks).
// The zero value is ready; it is safe for concurrent use.
type UserCounts struct {
	mu sync.Mutex
	n  map[uint32]int // protected by mu
}

// Take adds one to uid's count unless it is at max already.
func (c *UserCounts) Take(uid uint32, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[uid] >= max {
		return false
	}
	if c.n == nil {
		c.n = map[uint32]int{}
	}
	c.n[uid]++
	return true
}

// Give takes n from uid's count.
func (c *UserCounts) Give(uid uint32, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		return
	}
	if c.n[uid] -= n; c.n[uid] <= 0 {
		delete(c.n, uid)
	}
}
