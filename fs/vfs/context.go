package vfs

import "golang.org/x/sys/unix"

// Context is what a file operation may ask of the task that calls it. The
// kernel's task type implements it; tests use a small fake.
type Context interface {
	// Credentials are the caller's credentials. The result must not be
	// modified; a task that changes its credentials installs a new value.
	Credentials() *Credentials
	// Umask is the caller's file mode creation mask (only the 0777 bits).
	Umask() uint32
	// Block waits until ch is closed or readable. It returns nil then, or
	// unix.EINTR when a signal interrupts the wait (the syscall layer turns
	// that into a restart or EINTR as Linux does).
	Block(ch <-chan struct{}) error
	// CopyIn reads len(dst) bytes of application memory at addr (EFAULT on a
	// bad address). Used by ioctls that pass pointers.
	CopyIn(addr uint64, dst []byte) error
	// CopyOut writes src to application memory at addr (EFAULT on a bad
	// address).
	CopyOut(addr uint64, src []byte) error
}

// KernelContext is the context uk itself acts in while it builds
// filesystems (the root from an initramfs or a host tree, /dev, /sys): root's
// credentials and no umask. It has no application memory, and a wait in it
// would be a bug, so Block fails with EINTR.
type KernelContext struct{}

// Credentials are root's.
func (KernelContext) Credentials() *Credentials { return RootCredentials() }

// Umask is 0: the modes uk gives are the modes files get.
func (KernelContext) Umask() uint32 { return 0 }

// Block never waits.
func (KernelContext) Block(<-chan struct{}) error { return unix.EINTR }

// CopyIn fails: there is no application memory.
func (KernelContext) CopyIn(uint64, []byte) error { return unix.EFAULT }

// CopyOut fails: there is no application memory.
func (KernelContext) CopyOut(uint64, []byte) error { return unix.EFAULT }

// Credentials are the identities a task acts with. File access checks use
// FSUID/FSGID and Groups; Privileged stands for the capabilities root holds
// in the initial user namespace (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
// CAP_FOWNER, CAP_CHOWN, CAP_FSETID, CAP_MKNOD, CAP_SYS_ADMIN).
//
// The capability sets are what capget and capset read and write, and what
// /proc/PID/status shows. uk's checks look at Privileged alone, which
// holds exactly while the effective set is whole (SetCaps keeps it so): a
// task that drops any capability loses every privilege for uk, which
// refuses more than Linux would, never less.
type Credentials struct {
	UID, EUID, SUID, FSUID uint32
	GID, EGID, SGID, FSGID uint32
	Groups                 []uint32
	Privileged             bool

	Effective, Permitted, Inheritable CapSet
	// Bounding limits what an exec can give the permitted set
	// (PR_CAPBSET_DROP takes from it).
	Bounding CapSet
	// Ambient capabilities survive an exec of a program without file
	// capabilities (PR_CAP_AMBIENT); always within Permitted and
	// Inheritable.
	Ambient CapSet
	// Securebits are PR_SET_SECUREBITS's flags (SecureKeepCaps and the
	// others, each with its lock bit).
	Securebits uint32
	// Landlock is the task's Landlock domain (landlock_restrict_self),
	// nil if it has none. Forks and execs keep it.
	Landlock Landlock
}

// Securebits flags (Linux's SECBIT_*): each flag's lock is the bit above it.
const (
	SecureNoRoot           = 1 << 0
	SecureNoSetuidFixup    = 1 << 2
	SecureKeepCaps         = 1 << 4
	SecureKeepCapsLocked   = 1 << 5
	SecureNoAmbientRaise   = 1 << 6
	SecureExecRestrictFile = 1 << 8
	SecureExecDenyInteract = 1 << 10
	// SecureAllBits are the flags, SecureAllLocks their locks.
	SecureAllBits  = SecureNoRoot | SecureNoSetuidFixup | SecureKeepCaps | SecureNoAmbientRaise | SecureExecRestrictFile | SecureExecDenyInteract
	SecureAllLocks = SecureAllBits << 1
)

// CapSet is a capability set: bit n is capability n, as Linux's
// kernel_cap_t.
type CapSet uint64

// CapLast is the highest capability Linux knows (CAP_CHECKPOINT_RESTORE);
// AllCaps holds every one; CapSetPCap is CAP_SETPCAP.
const (
	CapLast           = 40
	AllCaps    CapSet = 1<<(CapLast+1) - 1
	CapSetPCap        = 8
)

// SetCaps replaces the effective, permitted and inheritable sets (masked
// to the capabilities Linux knows) and Privileged with them.
func (c *Credentials) SetCaps(eff, perm, inh CapSet) {
	c.Effective, c.Permitted, c.Inheritable = eff&AllCaps, perm&AllCaps, inh&AllCaps
	c.Ambient &= c.Permitted & c.Inheritable
	c.Privileged = c.Effective == AllCaps
}

// HasCap reports whether capability n is in the effective set.
func (c *Credentials) HasCap(n int) bool { return n >= 0 && n <= CapLast && c.Effective&(1<<n) != 0 }

// RootCredentials are the credentials of uid 0 with all capabilities.
func RootCredentials() *Credentials {
	c := &Credentials{Bounding: AllCaps}
	c.SetCaps(AllCaps, AllCaps, 0)
	return c
}

// UserCredentials are the credentials of an unprivileged uid/gid with the
// given supplementary groups.
func UserCredentials(uid, gid uint32, groups ...uint32) *Credentials {
	return &Credentials{UID: uid, EUID: uid, SUID: uid, FSUID: uid,
		GID: gid, EGID: gid, SGID: gid, FSGID: gid, Groups: groups, Bounding: AllCaps}
}

// AfterSetuid applies Linux's capability rules for a change of user ids
// from old to c's (cap_emulate_setxuid): leaving uid 0 in every one of the
// real, effective and saved ids empties the ambient set, and the permitted
// and effective sets too unless SecureKeepCaps is set; an effective uid
// leaving 0 empties the effective set, one becoming 0 takes the permitted
// set. SecureNoSetuidFixup turns all of this off.
func (c *Credentials) AfterSetuid(old *Credentials) {
	if c.Securebits&SecureNoSetuidFixup != 0 {
		return
	}
	eff, perm := c.Effective, c.Permitted
	if (old.UID == 0 || old.EUID == 0 || old.SUID == 0) && c.UID != 0 && c.EUID != 0 && c.SUID != 0 {
		if c.Securebits&SecureKeepCaps == 0 {
			eff, perm = 0, 0
		}
		c.Ambient = 0
	}
	switch {
	case old.EUID == 0 && c.EUID != 0:
		eff = 0
	case old.EUID != 0 && c.EUID == 0:
		eff = perm
	}
	c.SetCaps(eff, perm, c.Inheritable)
}

// AfterExec returns the credentials a program runs with after exec, by
// Linux's rules for a file without capabilities or set-id bits: root (by
// real or effective uid, unless SecureNoRoot) gets a permitted set of its
// bounding and inheritable sets, effective too if its effective uid is 0;
// anyone else gets its ambient set as permitted and effective. The
// ambient set stays; SecureKeepCaps is cleared.
func (c *Credentials) AfterExec() *Credentials {
	n := *c
	eff, perm := c.Ambient, c.Ambient
	if (c.UID == 0 || c.EUID == 0) && c.Securebits&SecureNoRoot == 0 {
		perm |= c.Bounding | c.Inheritable
		if c.EUID == 0 {
			eff = perm
		}
	}
	n.Securebits &^= SecureKeepCaps
	n.SetCaps(eff, perm, c.Inheritable)
	return &n
}

// InGroup reports whether gid is the filesystem gid or a supplementary group.
func (c *Credentials) InGroup(gid uint32) bool {
	if c.FSGID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// Charger is a sandbox's memory budget. What uk holds in its own heap on a
// program's behalf (pipe pages, queued socket messages) is charged to it
// before it grows, so that it counts against the sandbox's memory limit
// as the program's own pages do; kernel/memfile.File implements it.
type Charger interface {
	// Charge reserves n bytes; false when the budget cannot cover them
	// (the caller fails as for an allocation: ENOMEM, ENOBUFS).
	Charge(n int64) bool
	// Uncharge gives back n bytes charged before.
	Uncharge(n int64)
}

// ChargerOf returns the memory budget of the sandbox ctx's task runs in:
// a Context may offer one with a MemoryBudget method (the kernel's tasks
// do). Contexts without one (setup, tests) get a budget without limit.
func ChargerOf(ctx Context) Charger {
	if b, ok := ctx.(interface{ MemoryBudget() Charger }); ok {
		if c := b.MemoryBudget(); c != nil {
			return c
		}
	}
	return Unlimited{}
}

// Unlimited is a Charger that accepts every charge.
type Unlimited struct{}

// Charge implements Charger.
func (Unlimited) Charge(int64) bool { return true }

// Uncharge implements Charger.
func (Unlimited) Uncharge(int64) {}
