package kernel

import (
	"golang.org/x/sys/unix"

	"uk/fs/nsfs"
	"uk/fs/vfs"
)

// soleNamespace is a namespace of a kind uk has one of: every task of
// every sandbox is in it (the sandbox itself is the isolation), so it has
// no state, only Linux's numbers for the initial namespace of its kind.
type soleNamespace struct {
	kind string
	inum uint64
	flag uint64
}

// Kind implements nsfs.Namespace.
func (s *soleNamespace) Kind() string { return s.kind }

// Inum implements nsfs.Namespace.
func (s *soleNamespace) Inum() uint64 { return s.inum }

// CloneFlag implements nsfs.Namespace.
func (s *soleNamespace) CloneFlag() uint64 { return s.flag }

// The namespaces besides time, with the inode numbers of Linux's initial
// ones (PROC_*_INIT_INO).
var (
	netNS  = &soleNamespace{"net", 0xEFFFFFF9, unix.CLONE_NEWNET}
	pidNS  = &soleNamespace{"pid", 0xEFFFFFFC, unix.CLONE_NEWPID}
	userNS = &soleNamespace{"user", 0xEFFFFFFD, unix.CLONE_NEWUSER}
)

// NamespaceNames are the links of /proc/PID/ns, in Linux's order.
var NamespaceNames = []string{"net", "uts", "ipc", "pid", "pid_for_children", "user", "mnt", "cgroup", "time", "time_for_children"}

// Namespace returns the namespace link name of /proc/PID/ns names for t,
// or nil for a name that is none.
func (t *Task) Namespace(name string) nsfs.Namespace {
	switch name {
	case "net":
		if ns := t.NetNamespace(); ns != nil {
			return ns
		}
		return netNS
	case "uts":
		return t.UTSNamespace()
	case "ipc":
		return t.IPCNamespace()
	case "pid", "pid_for_children":
		return pidNS
	case "user":
		return userNS
	case "mnt":
		if ns := t.MountNamespace(); ns != nil {
			return ns
		}
		return nil
	case "cgroup":
		return t.CgroupNamespace()
	case "time":
		return t.TimeNS()
	case "time_for_children":
		return t.TimeNSForChildren()
	}
	return nil
}

// setnsKinds are the namespace flags setns(2) takes with a pidfd.
const setnsKinds = unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID |
	unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// Setns is setns(2) with descriptor d: a namespace file (nstype 0 or its
// kind), or a pidfd and the kinds of its process's namespaces to enter.
func (t *Task) Setns(d *vfs.FileDescription, nstype uint64) error {
	if ns, ok := nsfs.Of(d); ok {
		if nstype != 0 && nstype != ns.CloneFlag() {
			return unix.EINVAL
		}
		return t.enterNamespace(ns)
	}
	tg := PidFDProcess(d)
	if tg == nil {
		return unix.EINVAL
	}
	if nstype == 0 || nstype&^uint64(setnsKinds) != 0 {
		return unix.EINVAL
	}
	target := anyTask(tg)
	if target == nil {
		return unix.ESRCH
	}
	for _, name := range []string{"user", "mnt", "uts", "ipc", "cgroup", "net", "pid", "time"} {
		ns := target.Namespace(name)
		if ns == nil || nstype&ns.CloneFlag() == 0 {
			continue
		}
		if err := t.enterNamespace(ns); err != nil {
			return err
		}
	}
	return nil
}

// enterNamespace makes t enter ns. Entering one of the sole namespaces
// leaves t where it is, checked as Linux checks it: the caller needs
// CAP_SYS_ADMIN, and may not re-enter its own user namespace. Entering a
// mount namespace also needs CAP_SYS_CHROOT and moves the root and
// working directory to the namespace's root, as Linux's mntns_install.
func (t *Task) enterNamespace(ns nsfs.Namespace) error {
	switch ns := ns.(type) {
	case *TimeNamespace:
		return t.SetTimeNS(ns)
	case *UTSNamespace:
		if !t.Credentials().HasCap(capSysAdmin) {
			return unix.EPERM
		}
		t.utsNS.Store(ns)
	case *NetNamespace:
		if !t.Credentials().HasCap(capSysAdmin) {
			return unix.EPERM
		}
		t.setNetNamespace(ns)
	case *CgroupNamespace:
		if !t.Credentials().HasCap(capSysAdmin) {
			return unix.EPERM
		}
		t.cgroupNS.Store(ns)
	case *IPCNamespace:
		if !t.Credentials().HasCap(capSysAdmin) {
			return unix.EPERM
		}
		t.exitSem() // as Linux's ipcns_install
		t.setIPCNamespace(ns)
	case *vfs.MountNamespace:
		c := t.Credentials()
		if !c.HasCap(capSysAdmin) || !c.HasCap(capSysChroot) {
			return unix.EPERM
		}
		if t.FS == nil || t.fsShared() {
			return unix.EINVAL // as Linux's mntns_install: the root and cwd change
		}
		t.setMountNamespace(ns)
		root := ns.Root()
		t.FS.SetRoot(root)
		t.FS.SetCwd(root)
	case *soleNamespace:
		if ns == userNS {
			return unix.EINVAL
		}
		if !t.Credentials().HasCap(capSysAdmin) {
			return unix.EPERM
		}
	}
	return nil
}

// capSysChroot is CAP_SYS_CHROOT.
const capSysChroot = 18

// ioctls of namespace files (NSIO).
const (
	nsGetUserns   = 0xb701
	nsGetParent   = 0xb702
	nsGetNstype   = 0xb703
	nsGetOwnerUID = 0xb704
)

// NamespaceIoctl answers an ioctl on a file of namespace ns, as Linux's
// ns_ioctl: the owning user namespace and the parent (both new
// descriptors, close-on-exec; EPERM past the initial namespaces, and
// EINVAL for a parent of a kind without hierarchy), the kind, and a user
// namespace's owner. Other requests are ENOTTY.
func (t *Task) NamespaceIoctl(ns nsfs.Namespace, cmd uint32, arg uint64) (uint64, error) {
	switch cmd {
	case nsGetUserns:
		if ns == nsfs.Namespace(userNS) {
			return 0, unix.EPERM // the initial user namespace has no owner
		}
		return t.openNamespace(userNS)
	case nsGetParent:
		if ns != nsfs.Namespace(userNS) && ns != nsfs.Namespace(pidNS) {
			return 0, unix.EINVAL
		}
		return 0, unix.EPERM // both are the initial ones
	case nsGetNstype:
		return ns.CloneFlag(), nil
	case nsGetOwnerUID:
		if ns != nsfs.Namespace(userNS) {
			return 0, unix.EINVAL
		}
		return 0, t.CopyOut(arg, []byte{0, 0, 0, 0}) // root owns it
	}
	return 0, unix.ENOTTY
}

// openNamespace installs a new read-only, close-on-exec descriptor of
// namespace ns.
func (t *Task) openNamespace(ns nsfs.Namespace) (uint64, error) {
	d, err := t.k.hiddenTmpfs().v.OpenPath(t, t.k.NamespacePath(ns), unix.O_RDONLY)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, true, t.NoFileLimit())
	return uint64(n), err
}
