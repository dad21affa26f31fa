package landlock

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
)

// Ruleset is a ruleset being built (landlock_create_ruleset's file):
// which rights it handles, and its rules. It is the implementation of an
// anonymous file, "anon_inode:[landlock-ruleset]".
type Ruleset struct {
	vfs.FileBase
	handledFS, handledNet, scoped uint64
	// budget is the sandbox's memory budget, charged ruleCost a rule
	// while the ruleset lives.
	budget vfs.Charger

	mu  sync.Mutex
	fs  map[vfs.Inode]uint64 // protected by mu
	net map[uint16]uint64    // protected by mu
}

// ruleCost is what a rule is charged to the sandbox, in a ruleset and
// again in each layer made of it: about what it holds in uk. maxRules
// bounds one ruleset, but not how many rulesets and layers a program
// makes (2000 rulesets of 16384 rules took uk past 700 MB).
const ruleCost = 64

// NewRuleset checks a ruleset's handled rights (EINVAL for unknown ones,
// ENOMSG when it handles nothing) and returns a new open file of it, its
// rules to be charged to budget.
func NewRuleset(fs, net, scoped uint64, budget vfs.Charger) (*vfs.FileDescription, error) {
	if fs&^vfs.AccessFSMask != 0 || net&^accessNetMask != 0 || scoped&^scopeMask != 0 {
		return nil, unix.EINVAL
	}
	if fs == 0 && net == 0 && scoped == 0 {
		return nil, unix.ENOMSG
	}
	r := &Ruleset{handledFS: fs, handledNet: net, scoped: scoped, budget: budget}
	return vfs.NewFileDescription(r, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{}), nil
}

// RulesetOf returns the ruleset behind a description, or nil.
func RulesetOf(fd *vfs.FileDescription) *Ruleset {
	r, _ := fd.Impl().(*Ruleset)
	return r
}

// HandledFS is the file rights the ruleset handles.
func (r *Ruleset) HandledFS() uint64 { return r.handledFS }

// AddPathRule grants allowed beneath the file ino (a directory, or a file
// when allowed holds only file rights: else EINVAL). allowed must be
// rights the ruleset handles (EINVAL) and not none (ENOMSG). The rights
// the ruleset does not handle are granted along, as Linux stores them,
// except AccessRefer, which a layer grants only where a rule says so.
func (r *Ruleset) AddPathRule(allowed uint64, ino vfs.Inode, isDir bool) error {
	if allowed == 0 {
		return unix.ENOMSG
	}
	if allowed&^r.handledFS != 0 {
		return unix.EINVAL
	}
	if !isDir && allowed&^vfs.AccessFile != 0 {
		return unix.EINVAL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.fs[ino]; !ok {
		if err := r.roomLocked(); err != nil {
			return err
		}
	}
	if r.fs == nil {
		r.fs = make(map[vfs.Inode]uint64)
	}
	r.fs[ino] |= allowed | vfs.AccessFSMask&^(r.handledFS|vfs.AccessRefer)
	return nil
}

// AddPortRule grants allowed (network rights the ruleset handles: else
// EINVAL; none is ENOMSG) on TCP port (at most 65535: else EINVAL).
func (r *Ruleset) AddPortRule(allowed, port uint64) error {
	if allowed == 0 {
		return unix.ENOMSG
	}
	if allowed&^r.handledNet != 0 || port > 65535 {
		return unix.EINVAL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := uint16(port)
	if _, ok := r.net[p]; !ok {
		if err := r.roomLocked(); err != nil {
			return err
		}
	}
	if r.net == nil {
		r.net = make(map[uint16]uint64)
	}
	r.net[p] |= allowed
	return nil
}

// roomLocked charges a new rule: ENOMEM past maxRules or when the budget
// is spent. Preconditions: r.mu is held.
func (r *Ruleset) roomLocked() error {
	if len(r.fs)+len(r.net) >= maxRules || !r.budget.Charge(ruleCost) {
		return unix.ENOMEM
	}
	return nil
}

// Release implements vfs.FileImpl: the rules' charge goes back (a layer
// made of them holds its own).
func (r *Ruleset) Release() {
	r.mu.Lock()
	n := len(r.fs) + len(r.net)
	r.fs, r.net = nil, nil
	r.mu.Unlock()
	r.budget.Uncharge(int64(n) * ruleCost)
}

// Read implements vfs.FileImpl: a ruleset file is opened for reading and
// writing so that rights to use it can be checked, but holds no data.
func (r *Ruleset) Read(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Write implements vfs.FileImpl, as Read.
func (r *Ruleset) Write(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (r *Ruleset) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// Name is what /proc/PID/fd/N links to.
func (r *Ruleset) Name() string { return "anon_inode:[landlock-ruleset]" }
