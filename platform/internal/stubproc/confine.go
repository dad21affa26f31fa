package stubproc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// How stubs are confined. The seccomp filter (the platform's seccomp.go) is
// the first barrier; should a stub ever run a host syscall the filter lets
// through, or should the filter have a hole, what it finds behind it is
// nothing:
//
//   - One master stub is exec'd, once per platform, in new user, PID,
//     mount, network, IPC, UTS and cgroup namespaces. Its user namespace
//     maps one uid: 0 inside is uk's own uid, or nobody (65534) when uk runs
//     as root, so a stub never holds the host's root uid or supplementary
//     groups.
//   - Before anything else runs in it, the master remounts its copy of the
//     mount tree private (nothing propagates to the host), mounts an empty
//     read-only tmpfs and chroots into it, locks the securebits so that
//     uid 0 means nothing, drops every capability from its bounding,
//     permitted, effective and inheritable sets, becomes non-dumpable (only
//     uk, which owns its user namespace, may ptrace it or read its memory),
//     sets no_new_privs and installs its seccomp filter. It holds only the
//     memory file (fd 3) and the platform's extra fds (from fd 5), and
//     ignores SIGCHLD, so that the stubs it forks are reaped once uk has
//     waited for them.
//   - Every address space's stub is forked from the master by an injected
//     clone: it inherits all of the above, adds the stub filter, moves its
//     own request page into place and unmaps everything else; with
//     Config.HostFiles it makes its socket pair with uk (hostfiles.go). Forking a
//     confined stub rather than exec'ing a new one also means uk itself
//     never forks or execs again after start-up, which its own seccomp
//     filter can then forbid.
//
// The PID namespace makes the pids a stub's syscalls return (clone's
// result) pids inside it. uk learns the host pid of every task it makes in
// a stub from the PTRACE_EVENT_FORK/CLONE message instead, which the kernel
// gives in the tracer's namespace (RunInjectedEvents).
//
// Where the host refuses user namespaces, uk as root still makes the other
// namespaces, the chroot and the capability drop (stubs keep uid 0, with
// no capabilities); unprivileged, stubs get only no_new_privs, the filters
// and the empty fd table, as before. Confinement says which applies.

// Confinement is how far the master stub could be confined.
type Confinement int

// Confinement modes, from the strictest.
const (
	// ConfineFull: all namespaces (with a user namespace), the chroot and
	// no capabilities.
	ConfineFull Confinement = iota
	// ConfineRoot: uk is root but may not make a user namespace: the other
	// namespaces, the chroot and no capabilities.
	ConfineRoot
	// ConfineNone: unprivileged without user namespaces: no namespaces.
	ConfineNone
)

// String names the mode, for errors and test names.
func (m Confinement) String() string {
	return [...]string{"namespaces", "namespaces without a user namespace", "unconfined"}[m]
}

// confineNamespaces are the namespaces of a fully confined stub.
const confineNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP

// nobodyID is the host uid and gid stubs run as when uk runs as root.
const nobodyID = 65534

// Confinement describes, in one line, how the stubs are confined (for
// `uk run --debug`).
func (h *Host) Confinement() string {
	var b strings.Builder
	switch h.mode {
	case ConfineFull:
		fmt.Fprintf(&b, "new user (uid 0 = host uid %d), pid, mount, net, ipc, uts and cgroup namespaces; ", h.stubUID)
	case ConfineRoot:
		b.WriteString("new pid, mount, net, ipc, uts and cgroup namespaces (the host refuses user namespaces); ")
	case ConfineNone:
		b.WriteString("no namespaces (the host refuses them to an unprivileged user); ")
	}
	if h.mode != ConfineNone {
		b.WriteString("chroot to an empty read-only tmpfs; no capabilities, securebits locked; ")
	}
	b.WriteString("no_new_privs; seccomp")
	if h.cfg.Seccomp != "" {
		b.WriteString(" (" + h.cfg.Seccomp + ")")
	}
	b.WriteString("; fds: " + h.cfg.FDs)
	return b.String()
}

// execMaster forks and execs the master stub (image exe) with the request
// file as fd 4 and the extra fds after it, traced from exec on, in the
// namespaces of mode.
//
// Preconditions: runs on the factory thread.
func (h *Host) execMaster(exe int, mode Confinement) (int, error) {
	closed := ^uintptr(0)
	// A process group of its own keeps the terminal's job-control
	// signals (^C, ^Z, a hangup) away from the stubs, which go only
	// through uk. Not a session of its own: with autogroup scheduling
	// (Linux's default) a session is one scheduling entity, and every
	// stub of the sandbox then shared one task's CPU share, apart from
	// uk serving them. Two fork bombs beside two busy loops took 8-16 s
	// a round that way, an injection into a new stub waiting over 3 s
	// for a CPU; 3 s in the caller's session, where a program run
	// natively would be too.
	sys := &syscall.SysProcAttr{Ptrace: true, Setpgid: true}
	switch mode {
	case ConfineFull:
		sys.Cloneflags = confineNamespaces
		uid, gid := os.Geteuid(), os.Getegid()
		if uid == 0 {
			uid, gid = nobodyID, nobodyID
		}
		h.stubUID = uid
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		// Become the mapped uid 0 (the host's nobody for a root uk). As
		// root, also drop the supplementary groups (setgroups with none);
		// an unprivileged user may not, and keeps its own.
		sys.Credential = &syscall.Credential{Uid: 0, Gid: 0}
		sys.GidMappingsEnableSetgroups = os.Geteuid() == 0
	case ConfineRoot:
		sys.Cloneflags = confineNamespaces &^ unix.CLONE_NEWUSER
	case ConfineNone:
		// Without a PID namespace the Go child can check for a dead
		// parent (in one it cannot: getppid is 0 there), so the death
		// signal is set before exec too; setup sets it either way.
		sys.Pdeathsig = syscall.SIGKILL
	}
	files := []uintptr{closed, closed, closed, uintptr(h.cfg.MemFD), uintptr(h.reqs.fd)}
	for _, fd := range h.cfg.ExtraFDs {
		files = append(files, uintptr(fd))
	}
	attr := &syscall.ProcAttr{Env: []string{}, Files: files, Sys: sys}
	path := fmt.Sprintf("/proc/self/fd/%d", exe)
	return syscall.ForkExec(path, []string{"uk-stub"}, attr)
}

// startMaster starts the master stub, as confined as the host allows.
//
// Preconditions: runs on the factory thread.
func (h *Host) startMaster(exe int) error {
	modes := Modes()
	if h.cfg.Modes != nil {
		modes = h.cfg.Modes
	}
	var errs []error
	for _, mode := range modes {
		pid, err := h.startMasterAs(exe, mode)
		if err == nil {
			h.master, h.mode = pid, mode
			return nil
		}
		errs = append(errs, err)
		if errors.Is(err, errNoTrace) {
			break // no mode helps
		}
	}
	return errors.Join(errs...)
}

// errNoTrace is the host refusing PTRACE_TRACEME.
var errNoTrace = errors.New("PTRACE_TRACEME denied (seccomp, Yama ptrace_scope or no CAP_SYS_PTRACE)")

// startMasterAs starts the master in one confinement mode.
//
// Preconditions: runs on the factory thread.
func (h *Host) startMasterAs(exe int, mode Confinement) (int, error) {
	var lastErr error
	// The kernel places the initial stack at a random address below the
	// top of the user range; in the rare case it lands on the stub's
	// fixed address, exec fails after the point of no return. Retry.
	for attempt := 0; attempt < 8; attempt++ {
		pid, err := h.execMaster(exe, mode)
		if err == syscall.EPERM && mode == ConfineNone {
			return 0, fmt.Errorf("start stub: %w: %w", errNoTrace, err)
		}
		if err != nil {
			return 0, fmt.Errorf("start stub (%s): %w", mode, err)
		}
		st, err := WaitStop(pid)
		if err != nil {
			return 0, err
		}
		if st.Exited || st.Sig != int(unix.SIGTRAP) {
			lastErr = fmt.Errorf("stub did not reach its first instruction (status %#x)", uint32(st.Status))
			unix.Kill(pid, unix.SIGKILL)
			Wait4(pid, 0)
			continue
		}
		if err := SetOptions(pid, masterOptions); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			Wait4(pid, 0)
			return 0, fmt.Errorf("set ptrace options: %w", err)
		}
		if err := h.prepareMaster(pid, mode); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			Wait4(pid, 0)
			return 0, fmt.Errorf("prepare stub (%s): %w", mode, err)
		}
		return pid, nil
	}
	return 0, lastErr
}

// masterOptions are the master's ptrace options, which the stubs it forks
// and their threads inherit: TraceOptions, and attach every task it (or
// they) make to the factory thread, which learns its host pid that way.
const masterOptions = TraceOptions | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACECLONE

// prepareMaster empties the master's address space around the stub code,
// maps the request region and its own request page, and confines it as
// mode allows (see the top of this file). It takes an injection for the
// request page, then runs everything else as batches read from it, as many
// steps each as fit beside their data (RunSteps): two, with the filter.
//
// Preconditions: runs on the factory thread, the master's tracer; the
// master is stopped.
func (h *Host) prepareMaster(pid int, mode Confinement) error {
	// MAP_FIXED replaces whatever the kernel put there (its stack may
	// reach this high).
	r, err := InjectSyscall(pid, SiteSyscall, unix.SYS_MMAP, ReqPage, arch.PageSize, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, reqFDInStub, 0)
	if err == nil {
		err = ErrnoOf(r)
	}
	if err != nil {
		return fmt.Errorf("map request page: %w", err)
	}
	req := h.reqs.page(0)
	defer clear(req)
	d := NewPageData(req)
	var sigIgn [32]byte // struct sigaction: handler SIG_IGN (1), no flags, no mask
	binary.LittleEndian.PutUint64(sigIgn[0:], 1)
	var caps [32]byte // capset: header {version 3, pid 0}, then two empty data sets
	binary.LittleEndian.PutUint32(caps[0:], unix.LINUX_CAPABILITY_VERSION_3)
	capHdr := d.Put(caps[:])
	capData := capHdr + 8
	steps := []Step{
		// Everything below the stub: the kernel's stack, vDSO, vvar.
		Must("unmap", unix.SYS_MUNMAP, 0, StubBase),
		// Everything above the request page, should the stack be there.
		Must("unmap", unix.SYS_MUNMAP, ReqPage+arch.PageSize, StubEnd-ReqPage-arch.PageSize),
		// Every address space's request page, read-only, for the stubs it
		// forks to take theirs from (forkStub).
		Must("map request region", unix.SYS_MMAP, ReqRegion, uint64(len(h.reqs.mem)), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, reqFDInStub, 0),
	}
	// The request file, and any fd uk inherited without O_CLOEXEC and
	// so passed on through exec: the stub keeps only the memory file and
	// the extra fds.
	if n := len(h.cfg.ExtraFDs); n == 0 {
		steps = append(steps, Must("close fds", unix.SYS_CLOSE_RANGE, reqFDInStub, 1<<32-1, 0))
	} else {
		steps = append(steps,
			Must("close fds", unix.SYS_CLOSE_RANGE, reqFDInStub, reqFDInStub, 0),
			Must("close fds", unix.SYS_CLOSE_RANGE, uint64(FirstExtraFD+n), 1<<32-1, 0))
	}
	if h.cfg.HostFiles {
		// Where a stub's recvmsg of a host file writes (hostfiles.go);
		// every stub forked from here has its own copy.
		steps = append(steps, Must("map the scratch page", unix.SYS_MMAP, ScratchPage, arch.PageSize, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, 1<<64-1, 0))
	}
	// Forked stubs are reaped by the kernel once uk has waited for them.
	steps = append(steps, Must("ignore SIGCHLD", unix.SYS_RT_SIGACTION, uint64(unix.SIGCHLD), d.Put(sigIgn[:]), 0, 8))
	if h.cfg.MasterSteps != nil {
		steps = append(steps, h.cfg.MasterSteps(d)...)
	}
	steps = append(steps,
		// Die with the factory thread (Pdeathsig could not be set before
		// exec in a PID namespace).
		Must("set the parent death signal", unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)),
		// A name for ps and /proc (exec named it after the image's fd).
		Must("set the name", unix.SYS_PRCTL, unix.PR_SET_NAME, d.CString(h.cfg.StubName)),
	)
	if mode == ConfineFull {
		// Only the owner of the stub's user namespace, uk, may ptrace it
		// or read its memory; another process of the stub's uid may not.
		steps = append(steps, Must("make non-dumpable", unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0))
	}
	if mode != ConfineNone {
		// Only in a mount namespace of the stub's own: these would
		// change the host's.
		steps = append(steps,
			// Mounts below must not propagate to the host's mount
			// namespace.
			Must("make mounts private", unix.SYS_MOUNT, 0, d.CString("/"), 0, unix.MS_REC|unix.MS_PRIVATE, 0),
			// An empty read-only tmpfs over a directory every host
			// has, as the new root.
			Must("mount the empty root", unix.SYS_MOUNT, d.CString("uk-stub"), d.CString("/proc"), d.CString("tmpfs"),
				unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, d.CString("mode=0,size=4k")),
			Must("chdir to the empty root", unix.SYS_CHDIR, d.CString("/proc")),
			Must("chroot", unix.SYS_CHROOT, d.CString(".")),
		)
	}
	capSteps := []Step{Must("lock securebits", unix.SYS_PRCTL, unix.PR_SET_SECUREBITS, LockedSecurebits)}
	for c := 0; c <= LastCap(); c++ {
		capSteps = append(capSteps, Must("drop bounding capability", unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uint64(c)))
	}
	for _, s := range capSteps {
		// Unprivileged without namespaces these are not allowed (they
		// need CAP_SETPCAP); try anyway: a root uk whose namespaces
		// failed can still do them.
		s.Optional = mode == ConfineNone
		steps = append(steps, s)
	}
	steps = append(steps,
		Must("drop capabilities", unix.SYS_CAPSET, capHdr, capData),
		// No new privileges is required for an unprivileged filter and
		// harmless otherwise.
		Must("set no_new_privs", unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1),
		Must("install the master filter", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, PutFilter(d, h.cfg.Filter(true))),
	)
	return RunSteps(pid, d, steps)
}

// forkStub makes the stub of a new address space: a fork of the master
// (which the factory thread traces from birth), with request page slot.
// It returns the stub's host pid, its serving thread (if the platform has
// them) and uk's end of its host-file socket (-1 without Config.HostFiles).
//
// Preconditions: runs on the factory thread.
func (h *Host) forkStub(slot int) (int, *server, int, error) {
	h.follow(h.master, &h.masterCPU)
	child, err := injectClone(h.master, SiteSyscall, SiteSyscallTrap, ForkFlags, unix.PTRACE_EVENT_FORK)
	if err != nil {
		return 0, nil, -1, fmt.Errorf("fork stub: %w", err)
	}
	sock := -1
	fail := func(err error) (int, *server, int, error) {
		if sock >= 0 {
			unix.Close(sock)
		}
		unix.Kill(child, unix.SIGKILL)
		Wait4(child, 0)
		return 0, nil, -1, err
	}
	if err := WaitNewTracee(child); err != nil {
		return fail(err)
	}
	if err := h.prepareStub(child, slot); err != nil {
		return fail(fmt.Errorf("prepare stub: %w", err))
	}
	if h.cfg.HostFiles {
		if sock, err = takeHostSock(child); err != nil {
			return fail(err)
		}
	}
	var sv *server
	if h.cfg.ServeSite != 0 {
		if sv, err = h.startServer(child); err != nil {
			return fail(err)
		}
	}
	return child, sv, sock, nil
}

// prepareStub moves a forked stub's own request page (slot) into place,
// unmaps the rest of the request region and adds the stub filter, and
// makes the host-file socket pair and the serving thread's pipe if the
// platform has them.
//
// Preconditions: runs on the factory thread; pid is stopped.
func (h *Host) prepareStub(pid, slot int) error {
	r, err := InjectSyscall(pid, SiteSyscall, unix.SYS_MREMAP, ReqRegion+uint64(slot)*arch.PageSize, arch.PageSize, arch.PageSize, RemapFlags, ReqPage)
	if err == nil {
		err = ErrnoOf(r)
	}
	if err != nil {
		return fmt.Errorf("move request page: %w", err)
	}
	req := h.reqs.page(slot)
	defer clear(req)
	d := NewPageData(req)
	steps := []Step{
		Must("unmap", unix.SYS_MUNMAP, 0, StubBase),
		Must("install the stub filter", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, PutFilter(d, h.cfg.Filter(false))),
	}
	var sockFDs, fds uint64
	if h.cfg.HostFiles {
		// First: the socket pair takes fds 0 and 1 and leaves them free.
		sockFDs = d.Put(make([]byte, 8))
		steps = append(steps, hostSockSteps(sockFDs)...)
	}
	if h.cfg.ServeSite != 0 {
		// In the same injection: each costs a ptrace stop and resume,
		// and a fork loop waits for the next stub.
		fds = d.Put(make([]byte, 8))
		steps = append(steps, h.servePipeSteps(fds)...)
	}
	if err := RunSteps(pid, d, steps); err != nil {
		return err
	}
	if sockFDs != 0 {
		if err := checkHostSock(req[sockFDs-ReqPage:]); err != nil {
			return err
		}
	}
	if fds != 0 {
		return checkServePipe(req[fds-ReqPage:])
	}
	return nil
}

// Modes returns the confinement modes the host may allow, strictest first:
// what NewHost tries unless Config.Modes says otherwise.
func Modes() []Confinement {
	if os.Geteuid() == 0 {
		return []Confinement{ConfineFull, ConfineRoot, ConfineNone}
	}
	return []Confinement{ConfineFull, ConfineNone}
}

// CheckConfined checks, from the host side, what the confinement promises
// of stub process pid (see the top of this file), and returns everything
// it finds wrong.
func (h *Host) CheckConfined(pid int) error {
	var errs []error
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err
	}
	want := []string{"Seccomp:\t2", "NoNewPrivs:\t1", "CapEff:\t0000000000000000", "CapPrm:\t0000000000000000",
		"CapInh:\t0000000000000000", "CapAmb:\t0000000000000000", "Name:\t" + h.cfg.StubName}
	if h.mode != ConfineNone || os.Geteuid() == 0 {
		want = append(want, "CapBnd:\t0000000000000000")
	}
	for _, w := range want {
		if !strings.Contains(string(status), w+"\n") {
			errs = append(errs, fmt.Errorf("stub %d: /proc/PID/status lacks %q:\n%s", pid, w, status))
		}
	}
	if h.mode != ConfineNone {
		for _, ns := range []string{"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"} {
			if h.mode == ConfineRoot && ns == "user" {
				continue
			}
			self, _ := os.Readlink("/proc/self/ns/" + ns)
			stub, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
			if err != nil || stub == self {
				errs = append(errs, fmt.Errorf("stub %d shares uk's %s namespace %s (%v)", pid, ns, self, err))
			}
		}
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/", pid))
		if err != nil || len(ents) != 0 {
			errs = append(errs, fmt.Errorf("stub %d: root directory holds %d entries (%v), want an empty one", pid, len(ents), err))
		}
	}
	fds, err := ListFDs(pid)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	wantFDs := []int{MemFDInStub}
	for i := range h.cfg.ExtraFDs {
		wantFDs = append(wantFDs, FirstExtraFD+i)
	}
	if h.cfg.ServeSite != 0 {
		wantFDs = append(wantFDs, h.cfg.ServeFD)
	}
	if h.cfg.HostFiles && pid != h.master {
		wantFDs = append(wantFDs, HostSockInStub)
	}
	// Host files installed (hostfiles.go): read-only, in their range.
	var own []int
	for _, fd := range fds {
		if fd < HostFDBase || fd >= HostFDBase+MaxHostFiles || !h.cfg.HostFiles {
			own = append(own, fd)
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
		if err != nil || !strings.Contains(string(info), "flags:\t") || fdAccMode(string(info)) != unix.O_RDONLY {
			errs = append(errs, fmt.Errorf("stub %d: host file fd %d is not read-only (%v):\n%s", pid, fd, err, info))
		}
	}
	fds = own
	if fmt.Sprint(fds) != fmt.Sprint(wantFDs) {
		errs = append(errs, fmt.Errorf("stub %d: fds %v, want %v", pid, fds, wantFDs))
	}
	return errors.Join(errs...)
}

// fdAccMode returns the access mode of the flags line of an fdinfo file
// (octal), or -1.
func fdAccMode(info string) int {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(l, "flags:\t"); ok {
			if f, err := strconv.ParseUint(v, 8, 32); err == nil {
				return int(f) & unix.O_ACCMODE
			}
		}
	}
	return -1
}

// injectClone runs clone(flags) in the stopped tracee pid at site (whose
// int3 ends at trapRip) and returns the new task's host pid. RAX holds its
// pid inside the stub's PID namespace; the ptrace event (PTRACE_EVENT_FORK
// or _CLONE, by flags) gives it as uk sees it. The task is attached to the
// caller, pid's tracer, from birth.
func injectClone(pid int, site, trapRip, flags uint64, event int) (int, error) {
	regs := InjectRegs(site)
	regs.Rax = unix.SYS_CLONE
	regs.Rdi = flags
	child := 0
	err := RunInjectedEvents(pid, &regs, trapRip, func(ev int, msg uint) {
		if ev == event {
			child = int(msg)
		}
	})
	if err != nil {
		return 0, err
	}
	if e := ErrnoOf(regs.Rax); e != nil {
		return 0, fmt.Errorf("clone: %w", e)
	}
	if child == 0 {
		return 0, fmt.Errorf("clone: no ptrace event %d", event)
	}
	return child, nil
}
