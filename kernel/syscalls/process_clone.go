package syscalls

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

func sysExit(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.Exit(int(a[0]))
	return 0, kernel.ErrNoReturnValue
}

func sysExitGroup(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.ExitGroup(int(a[0]))
	return 0, kernel.ErrNoReturnValue
}

func sysGetpid(t *kernel.Task, a [6]uint64) (uint64, error)  { return uint64(t.PID()), nil }
func sysGettid(t *kernel.Task, a [6]uint64) (uint64, error)  { return uint64(t.TID()), nil }
func sysGetppid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.PPID()), nil }

func sysSetTidAddress(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.SetClearChildTID(a[0])
	return uint64(t.TID()), nil
}

// robustListHeadSize is sizeof(struct robust_list_head) on x86-64.
const robustListHeadSize = 24

func sysSetRobustList(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[1] != robustListHeadSize {
		return 0, unix.EINVAL
	}
	t.SetRobustList(a[0])
	return 0, nil
}

// ARCH_* codes of arch_prctl.
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

// canonical reports whether addr is a canonical user address, as Linux
// requires of FS/GS bases.
func canonical(addr uint64) bool { return addr < 1<<47 }

func sysClone(t *kernel.Task, a [6]uint64) (uint64, error) {
	// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
	tid, err := t.Clone(kernel.CloneArgs{Flags: a[0] &^ 0xff, ExitSignal: int(a[0] & 0xff),
		Stack: a[1], ParentTID: a[2], ChildTID: a[3], TLS: a[4]})
	return uint64(tid), err
}

func sysFork(t *kernel.Task, a [6]uint64) (uint64, error) {
	tid, err := t.Clone(kernel.CloneArgs{ExitSignal: int(unix.SIGCHLD)})
	return uint64(tid), err
}

func sysVfork(t *kernel.Task, a [6]uint64) (uint64, error) {
	tid, err := t.Clone(kernel.CloneArgs{Flags: unix.CLONE_VM | unix.CLONE_VFORK, ExitSignal: int(unix.SIGCHLD)})
	return uint64(tid), err
}

// cloneArgsSize0 is the first published size of struct clone_args, and
// cloneArgsSizeKnown the size up to the last field uk knows (cgroup).
const (
	cloneArgsSize0     = 64
	cloneArgsSizeKnown = 88
)

func sysClone3(t *kernel.Task, a [6]uint64) (uint64, error) {
	size := a[1]
	switch {
	case size > arch.PageSize:
		return 0, unix.E2BIG
	case size < cloneArgsSize0:
		return 0, unix.EINVAL
	}
	raw := make([]byte, size)
	if err := t.CopyIn(a[0], raw); err != nil {
		return 0, err
	}
	// Fields past the ones uk knows must be zero.
	for i := cloneArgsSizeKnown; i < len(raw); i++ {
		if raw[i] != 0 {
			return 0, unix.E2BIG
		}
	}
	// Any size from the first version on is accepted, not only multiples
	// of 8: what the caller did not pass reads as zero (Linux's
	// copy_struct_from_user).
	b := make([]byte, cloneArgsSizeKnown)
	copy(b, raw)
	w := func(i int) uint64 { return le64(b[8*i:]) }
	if w(8) != 0 || w(9) != 0 { // set_tid, set_tid_size
		return 0, unix.EINVAL
	}
	flags, exitSignal, stack, stackSize := w(0), w(4), w(5), w(6)
	if exitSignal > 64 || flags&unix.CLONE_PIDFD != 0 {
		return 0, unix.EINVAL
	}
	if stack == 0 && stackSize != 0 || stack != 0 && stackSize == 0 {
		return 0, unix.EINVAL
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	tid, err := t.Clone(kernel.CloneArgs{Flags: flags, ExitSignal: int(exitSignal), Stack: sp,
		ChildTID: w(2), ParentTID: w(3), TLS: w(7)})
	return uint64(tid), err
}

func sysWait4(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, statusAddr, options, rusageAddr := int32(a[0]), a[1], int(a[2]), a[3]
	if options&^(0x1|0x2|0x8|0x20000000|0x40000000|0x80000000) != 0 {
		return 0, unix.EINVAL
	}
	var sel kernel.WaitSelector
	switch {
	case pid > 0:
		sel.Pid = pid
	case pid == 0:
		sel.PGID = t.ThreadGroup().ProcessGroup()
	case pid < -1:
		sel.PGID = -pid
	}
	r, err := t.Wait(sel, options|0x4 /* WEXITED */)
	if err != nil || r.Pid == 0 {
		return 0, err
	}
	if statusAddr != 0 {
		if err := putUint32(t, statusAddr, uint32(r.Status)); err != nil {
			return 0, err
		}
	}
	if rusageAddr != 0 {
		if err := t.CopyOut(rusageAddr, rusage(r.CPU, 0)); err != nil {
			return 0, err
		}
	}
	return uint64(r.Pid), nil
}

// rusage encodes struct rusage with user and system time (ns).
func rusage(user, sys int64) []byte {
	b := make([]byte, 144)
	copy(b[0:], words(uint64(user/1e9), uint64(user%1e9/1e3), uint64(sys/1e9), uint64(sys%1e9/1e3)))
	return b
}

// idtypes of waitid.
const (
	pAll   = 0
	pPid   = 1
	pPgid  = 2
	pPidfd = 3
)

func sysWaitid(t *kernel.Task, a [6]uint64) (uint64, error) {
	idtype, id, infoAddr, options, rusageAddr := a[0], int32(a[1]), a[2], int(a[3]), a[4]
	if options&^(0x1|0x2|0x4|0x8|0x01000000|0x20000000|0x40000000|0x80000000) != 0 || options&(0x2|0x4|0x8) == 0 {
		return 0, unix.EINVAL
	}
	var sel kernel.WaitSelector
	switch idtype {
	case pAll:
	case pPid:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		sel.Pid = id
	case pPgid:
		if id < 0 {
			return 0, unix.EINVAL
		}
		sel.PGID = id
		if id == 0 {
			sel.PGID = t.ThreadGroup().ProcessGroup()
		}
	default:
		return 0, unix.EINVAL
	}
	r, err := t.Wait(sel, options)
	if err != nil {
		return 0, err
	}
	if infoAddr != 0 {
		info := arch.SignalInfo{}
		if r.Pid != 0 {
			info = arch.SignalInfo{Signo: int32(unix.SIGCHLD), Pid: r.Pid, Uid: r.UID}
			switch {
			case r.Status&0x7f == 0:
				info.Code, info.Status = arch.CLD_EXITED, int32(r.Status>>8&0xff)
			case r.Status&0x80 != 0:
				info.Code, info.Status = arch.CLD_DUMPED, int32(r.Status&0x7f)
			default:
				info.Code, info.Status = arch.CLD_KILLED, int32(r.Status&0x7f)
			}
		}
		var b [arch.SignalInfoSize]byte
		info.Encode(b[:])
		if err := t.CopyOut(infoAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if rusageAddr != 0 && r.Pid != 0 {
		if err := t.CopyOut(rusageAddr, rusage(r.CPU, 0)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysArchPrctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	r := &t.State.Regs
	switch a[0] {
	case archSetFS:
		if !canonical(a[1]) {
			return 0, unix.EPERM
		}
		r.FsBase = a[1]
	case archSetGS:
		if !canonical(a[1]) {
			return 0, unix.EPERM
		}
		r.GsBase = a[1]
	case archGetFS:
		return 0, putUint64(t, a[1], r.FsBase)
	case archGetGS:
		return 0, putUint64(t, a[1], r.GsBase)
	case arch.ARCH_GET_XCOMP_SUPP:
		return 0, putUint64(t, a[1], arch.HostXSave().Supported())
	case arch.ARCH_GET_XCOMP_PERM, arch.ARCH_GET_XCOMP_GUEST_PERM:
		return 0, putUint64(t, a[1], t.ThreadGroup().XPerm(a[0] == arch.ARCH_GET_XCOMP_GUEST_PERM))
	case arch.ARCH_REQ_XCOMP_PERM, arch.ARCH_REQ_XCOMP_GUEST_PERM:
		return 0, t.ThreadGroup().RequestXPerm(a[1], a[0] == arch.ARCH_REQ_XCOMP_GUEST_PERM)
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

func sysUname(t *kernel.Task, a [6]uint64) (uint64, error) {
	// struct utsname: six fields of 65 bytes.
	var u [6 * 65]byte
	fields := []string{"Linux", t.Kernel().Hostname, kernel.Release, kernel.Version, "x86_64", "(none)"}
	for i, f := range fields {
		copy(u[i*65:i*65+64], f)
	}
	return 0, t.CopyOut(a[0], u[:])
}

func sysGetRobustList(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid := int32(a[0])
	target := t
	if pid != 0 {
		target = t.Kernel().TaskByTID(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
	}
	if err := putUint64(t, a[1], target.RobustList()); err != nil {
		return 0, err
	}
	return 0, putUint64(t, a[2], robustListHeadSize)
}

// maxArgs bounds argv and envp entries read by execve.
const maxArgs = 1 << 17

// stringVector reads a NULL-terminated array of string pointers.
func stringVector(t *kernel.Task, addr uint64) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := 0; ; i++ {
		if i >= maxArgs {
			return nil, unix.E2BIG
		}
		p, err := getUint64(t, addr+uint64(8*i))
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.CopyInString(p, 32*4096)
		if err != nil {
			if err == unix.ENAMETOOLONG {
				return nil, unix.E2BIG
			}
			return nil, err
		}
		out = append(out, s)
	}
}

func sysExecve(t *kernel.Task, a [6]uint64) (uint64, error) {
	return execveAt(t, unix.AT_FDCWD, a[0], a[1], a[2], 0)
}

func sysExecveat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return execveAt(t, int32(a[0]), a[1], a[2], a[3], int(a[4]))
}

func execveAt(t *kernel.Task, dirfd int32, pathAddr, argvAddr, envAddr uint64, flags int) (uint64, error) {
	path, err := t.CopyInString(pathAddr, unix.PathMax)
	if err != nil {
		return 0, err
	}
	if dirfd != unix.AT_FDCWD && !strings.HasPrefix(path, "/") {
		if path == "" && flags&unix.AT_EMPTY_PATH != 0 {
			path = fmt.Sprintf("/proc/self/fd/%d", dirfd)
		} else {
			path = fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, path)
		}
	}
	argv, err := stringVector(t, argvAddr)
	if err != nil {
		return 0, err
	}
	envv, err := stringVector(t, envAddr)
	if err != nil {
		return 0, err
	}
	return 0, t.Execve(path, argv, envv)
}

func sysUnshare(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.Unshare(a[0])
}
