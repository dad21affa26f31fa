package kernel

import "golang.org/x/sys/unix"

// unshareNamespaces are the namespace flags of unshare(2) uk refuses: it
// has one instance of each of those kinds (the sandbox itself is the
// isolation), so it answers them as a Linux built without namespace
// support does: EINVAL. Time (timens.go), mount (mountns.go), UTS (uts.go),
// IPC (ipcns.go), cgroup (cgroupns.go) and network namespaces (netns.go)
// it has.
const unshareNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWPID

// unshareKnown are the flags unshare(2) accepts at all.
const unshareKnown = unshareNamespaces | unix.CLONE_NEWTIME | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP | unix.CLONE_NEWNET | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SYSVSEM |
	unix.CLONE_THREAD | unix.CLONE_SIGHAND | unix.CLONE_VM

// Unshare is unshare(2): the caller stops sharing its descriptor table
// (CLONE_FILES) or filesystem context (CLONE_FS) with other tasks, or
// makes a new time namespace for its children (CLONE_NEWTIME) or moves
// into a copy of its mount namespace (CLONE_NEWNS, which implies
// CLONE_FS) or UTS namespace (CLONE_NEWUTS), or into a new IPC namespace
// (CLONE_NEWIPC, which implies CLONE_SYSVSEM), cgroup namespace
// (CLONE_NEWCGROUP) or network namespace (CLONE_NEWNET); each needs
// CAP_SYS_ADMIN.
// CLONE_THREAD, CLONE_SIGHAND and CLONE_VM succeed only for a task that
// shares nothing (CLONE_SIGHAND: not its handler table either), as on
// Linux; CLONE_SYSVSEM leaves the SysV semaphore
// undo list (which has nothing to undo: uk has no semaphores).
func (t *Task) Unshare(flags uint64) error {
	if flags&^uint64(unshareKnown) != 0 || flags&unshareNamespaces != 0 {
		return unix.EINVAL
	}
	if flags&(unix.CLONE_THREAD|unix.CLONE_SIGHAND|unix.CLONE_VM) != 0 {
		t.tg.mu.Lock()
		n := len(t.tg.tasks)
		t.tg.mu.Unlock()
		if n > 1 || flags&unix.CLONE_SIGHAND != 0 && t.tg.handlersShared() {
			// Linux's check_unshare_flags: CLONE_SIGHAND also needs
			// a table no other process uses.
			return unix.EINVAL
		}
	}
	if flags&unix.CLONE_NEWNS != 0 {
		flags |= unix.CLONE_FS // as Linux's check_unshare_flags
	}
	if flags&unix.CLONE_NEWIPC != 0 {
		flags |= unix.CLONE_SYSVSEM // the old namespace's sets are out of reach
	}
	if flags&(unix.CLONE_NEWTIME|unix.CLONE_NEWNS|unix.CLONE_NEWUTS|unix.CLONE_NEWIPC|unix.CLONE_NEWCGROUP|unix.CLONE_NEWNET) != 0 && !t.Credentials().HasCap(capSysAdmin) {
		return unix.EPERM
	}
	if flags&unix.CLONE_NEWNET != 0 {
		if err := t.unshareNet(); err != nil {
			return err
		}
	}
	if flags&unix.CLONE_NEWTIME != 0 {
		t.unshareTime()
	}
	if flags&unix.CLONE_NEWUTS != 0 {
		t.utsNS.Store(t.UTSNamespace().copyUTS())
	}
	k := t.k
	if flags&unix.CLONE_FILES != 0 && t.Files != nil {
		k.mu.Lock()
		shared := k.fdUsers[t.Files] > 1
		k.mu.Unlock()
		if shared {
			old := t.Files
			files, err := old.Fork()
			if err != nil {
				return err
			}
			t.Files = files
			k.shareFiles(t.Files)
			k.releaseFiles(old)
		}
	}
	if flags&unix.CLONE_FS != 0 && t.FS != nil {
		t.FS = t.FS.Fork()
	}
	if flags&unix.CLONE_NEWNS != 0 && t.FS != nil {
		if err := t.newMountNamespace(t.MountNamespace(), t.FS); err != nil {
			return err
		}
	}
	if flags&unix.CLONE_SYSVSEM != 0 {
		t.exitSem()
	}
	if flags&unix.CLONE_NEWIPC != 0 {
		t.unshareIPC()
	}
	if flags&unix.CLONE_NEWCGROUP != 0 {
		t.cgroupNS.Store(newCgroupNamespace())
	}
	return nil
}
