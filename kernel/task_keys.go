package kernel

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel/keys"
)

// keysState is the kernel's key registry, made on first use.
type keysState struct {
	once sync.Once
	reg  *keys.Registry
	// made: reg exists. Until then no task holds a keyring, and clone,
	// exec and exit have nothing to do.
	made atomic.Bool
}

// Keys returns the sandbox's key registry (add_key, request_key, keyctl,
// /proc/keys).
func (k *Kernel) Keys() *keys.Registry {
	k.keys.once.Do(func() {
		now := func() int64 {
			ns, _ := k.ClockNow(unix.CLOCK_REALTIME, nil)
			return ns / 1e9
		}
		var budget vfs.Charger
		if k.MemFile != nil {
			budget = k.MemFile
		}
		k.keys.reg = keys.NewRegistry(now, budget)
		k.keys.made.Store(true)
	})
	return k.keys.reg
}

// keyCred is what the key registry needs of credentials c.
func keyCred(c *vfs.Credentials) keys.Cred {
	return keys.Cred{UID: c.UID, GID: c.GID, FSUID: c.FSUID, FSGID: c.FSGID, Groups: c.Groups, SysAdmin: c.HasCap(unix.CAP_SYS_ADMIN)}
}

// KeyCaller is the task as a caller of the key registry. Only the task's
// own goroutine uses its keyrings.
func (t *Task) KeyCaller() *keys.Caller {
	return &keys.Caller{Cred: keyCred(t.Credentials()), Rings: &t.keyRings}
}

// cloneKeys gives child its keyrings (Linux's copy_creds).
func (t *Task) cloneKeys(child *Task, thread bool) {
	if t.k.keys.made.Load() {
		t.k.Keys().Clone(&t.keyRings, &child.keyRings, thread, keyCred(child.Credentials()))
	}
}

// execKeys drops the thread and process keyrings at execve.
func (t *Task) execKeys() {
	if t.k.keys.made.Load() {
		t.k.Keys().Exec(&t.keyRings)
	}
}

// exitKeys drops every keyring of an exiting task.
func (t *Task) exitKeys() {
	if t.k.keys.made.Load() {
		t.k.Keys().Exit(&t.keyRings)
	}
}

// SessionKeyringToParent is KEYCTL_SESSION_TO_PARENT: the caller's
// session keyring replaces its parent's, if the parent is a single-
// threaded process, not init, with the caller's effective ids as all its
// ids, and the keyrings are the caller's.
func (t *Task) SessionKeyringToParent() error {
	k := t.k
	k.mu.Lock()
	ptg := t.tg.proc.parent
	k.mu.Unlock()
	if ptg == nil || ptg.pid <= 1 || ptg.isKernelInit {
		return unix.EPERM
	}
	ptg.mu.Lock()
	var parent *Task
	if len(ptg.tasks) == 1 {
		parent = ptg.tasks[0]
	}
	ptg.mu.Unlock()
	if parent == nil {
		return unix.EPERM
	}
	me, pc := t.Credentials(), parent.Credentials()
	return k.Keys().SessionToParent(t.KeyCaller(), &parent.keyRings, func(owner uint32, powner int64) error {
		if pc.UID != me.EUID || pc.EUID != me.EUID || pc.SUID != me.EUID ||
			pc.GID != me.EGID || pc.EGID != me.EGID || pc.SGID != me.EGID {
			return unix.EPERM
		}
		if (powner >= 0 && uint32(powner) != me.EUID) || owner != me.EUID {
			return unix.EPERM
		}
		return nil
	})
}

// KeysLimit implements proc.KeysSysctl.
func (p procKernel) KeysLimit(name string) (int64, bool) { return p.k.Keys().Sysctl(name) }

// SetKeysLimit implements proc.KeysSysctl.
func (p procKernel) SetKeysLimit(name string, v int64) error { return p.k.Keys().SetSysctl(name, v) }

// KeyUsers implements proc.KeysSysctl.
func (p procKernel) KeyUsers() string { return p.k.Keys().KeyUsers() }
