package pipe

import (
	"sync"

	"uk/fs/vfs"
)

// Linux's per-user pipe limits (fs/pipe.c): every pipe's ring slots are
// counted against the user who made it (its real uid, in its sandbox), so
// that one user's pipes hold at most about UserPagesSoft pages plus
// minSlots per pipe, whatever the sandbox's memory budget would allow.
const (
	// UserPagesSoft is /proc/sys/fs/pipe-user-pages-soft: past it, an
	// unprivileged user's new pipes get minSlots slots and F_SETPIPE_SZ
	// may not grow a pipe (EPERM).
	UserPagesSoft = 16384
	// UserPagesHard is /proc/sys/fs/pipe-user-pages-hard; 0, Linux's
	// default, is no hard limit.
	UserPagesHard = 0
	// minSlots is PIPE_MIN_DEF_BUFFERS: the ring of a pipe made past the
	// soft limit (two pages since Linux 5.x, so that a write of a page
	// does not need the reader to keep up page by page).
	minSlots = 2
)

// pipeUser names the user a pipe's slots are counted against: a uid within
// one sandbox (the sandbox's memory budget tells sandboxes apart).
type pipeUser struct {
	sandbox vfs.Charger
	uid     uint32
}

// userSlots is the slots of every user's pipes.
var userSlots struct {
	mu sync.Mutex
	n  map[pipeUser]int64
}

// addUserSlots adds delta slots to u's count and returns the new count
// (Linux's account_pipe_buffers). A user with none is forgotten.
func addUserSlots(u pipeUser, delta int64) int64 {
	userSlots.mu.Lock()
	defer userSlots.mu.Unlock()
	if userSlots.n == nil {
		userSlots.n = make(map[pipeUser]int64)
	}
	n := userSlots.n[u] + delta
	if n <= 0 {
		delete(userSlots.n, u)
		return 0
	}
	userSlots.n[u] = n
	return n
}

// overUserLimit reports whether a count of slots is past the soft or the
// hard limit (too_many_pipe_buffers_soft/hard).
func overUserLimit(n int64) bool {
	return (UserPagesSoft > 0 && n > UserPagesSoft) || (UserPagesHard > 0 && n > UserPagesHard)
}

// creator is who makes or first opens a pipe: the user its slots count
// against, and whether the limits bind them (Linux exempts
// CAP_SYS_RESOURCE and CAP_SYS_ADMIN).
func creator(ctx vfs.Context) (u pipeUser, privileged bool) {
	u.sandbox = vfs.ChargerOf(ctx)
	if c := ctx.Credentials(); c != nil {
		return pipeUser{u.sandbox, c.UID}, c.Privileged
	}
	return u, true
}

// accountUserLocked counts a pipe that is being made (or a FIFO being
// opened with no open ends) against its creator, as alloc_pipe_info: past
// the soft limit an unprivileged creator gets minSlots slots. The ring is
// empty then.
func (p *Pipe) accountUserLocked(ctx vfs.Context) {
	if p.accounted != 0 {
		return
	}
	u, privileged := creator(ctx)
	n := int64(len(p.slots))
	if total := addUserSlots(u, n); !privileged && overUserLimit(total) && n > minSlots {
		addUserSlots(u, minSlots-n)
		n = minSlots
		if p.budget != nil {
			p.budget.Uncharge(ringCharge(uint64(len(p.slots))))
		}
		p.slots = make([]slot, minSlots)
	}
	p.user, p.accounted = u, n
}

// unaccountUserLocked gives the pipe's slots back to its user (the pipe
// is idle: free_pipe_info).
func (p *Pipe) unaccountUserLocked() {
	if p.accounted != 0 {
		addUserSlots(p.user, -p.accounted)
		p.accounted = 0
	}
}
