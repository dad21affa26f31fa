package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform/internal/stubproc"
)

// How stubs are confined. The seccomp filter (seccomp.go) is the first
// barrier; should a stub ever run a host syscall the filter lets through,
// or should the filter have a hole, what it finds behind it is nothing:
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
//     memory file (fd 3) and ignores SIGCHLD, so that the stubs it forks are
//     reaped once uk has waited for them.
//   - Every address space's stub is forked from the master by an injected
//     clone: it inherits all of the above, adds the stub filter, moves its
//     own request page into place and unmaps everything else. Forking a
//     confined stub rather than exec'ing a new one also means uk itself
//     never forks or execs again after start-up, which its own seccomp
//     filter can then forbid.
//
// The PID namespace makes the pids a stub's syscalls return (clone's
// result) pids inside it. uk learns the host pid of every task it makes in
// a stub from the PTRACE_EVENT_FORK/CLONE message instead, which the kernel
// gives in the tracer's namespace (runInjectedEvents).
//
// Where the host refuses user namespaces, uk as root still makes the other
// namespaces, the chroot and the capability drop (stubs keep uid 0, with
// no capabilities); unprivileged, stubs get only no_new_privs, the filters
// and the empty fd table, as before. Confinement says which applies.

// confinement is how far the master stub could be confined.
type confinement int

const (
	// confineFull: all namespaces (with a user namespace), the chroot and
	// no capabilities.
	confineFull confinement = iota
	// confineRoot: uk is root but may not make a user namespace: the other
	// namespaces, the chroot and no capabilities.
	confineRoot
	// confineNone: unprivileged without user namespaces: no namespaces.
	confineNone
)

// confineNamespaces are the namespaces of a fully confined stub.
const confineNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP

// nobodyID is the host uid and gid stubs run as when uk runs as root.
const nobodyID = 65534

// Confinement describes, in one line, how the stubs are confined (for
// `uk run --debug`).
func (p *Platform) Confinement() string {
	var b strings.Builder
	switch p.mode {
	case confineFull:
		fmt.Fprintf(&b, "new user (uid 0 = host uid %d), pid, mount, net, ipc, uts and cgroup namespaces; ", p.stubUID)
	case confineRoot:
		b.WriteString("new pid, mount, net, ipc, uts and cgroup namespaces (the host refuses user namespaces); ")
	case confineNone:
		b.WriteString("no namespaces (the host refuses them to an unprivileged user); ")
	}
	if p.mode != confineNone {
		b.WriteString("chroot to an empty read-only tmpfs; no capabilities, securebits locked; ")
	}
	b.WriteString("no_new_privs; seccomp; fds: the memory file only")
	return b.String()
}

// execMaster forks and execs the master stub with reqFD as fd 4, traced
// from exec on, in the namespaces of mode.
//
// Preconditions: runs on the factory thread.
func (p *Platform) execMaster(mode confinement, reqFD int) (int, error) {
	closed := ^uintptr(0)
	sys := &syscall.SysProcAttr{Ptrace: true, Setsid: true}
	switch mode {
	case confineFull:
		sys.Cloneflags = confineNamespaces
		uid, gid := os.Geteuid(), os.Getegid()
		if uid == 0 {
			uid, gid = nobodyID, nobodyID
		}
		p.stubUID = uid
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		// Become the mapped uid 0 (the host's nobody for a root uk). As
		// root, also drop the supplementary groups (setgroups with none);
		// an unprivileged user may not, and keeps its own.
		sys.Credential = &syscall.Credential{Uid: 0, Gid: 0}
		sys.GidMappingsEnableSetgroups = os.Geteuid() == 0
	case confineRoot:
		sys.Cloneflags = confineNamespaces &^ unix.CLONE_NEWUSER
	case confineNone:
		// Without a PID namespace the Go child can check for a dead
		// parent (in one it cannot: getppid is 0 there), so the death
		// signal is set before exec too; setup sets it either way.
		sys.Pdeathsig = syscall.SIGKILL
	}
	attr := &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{closed, closed, closed, uintptr(p.memFD), uintptr(reqFD)},
		Sys:   sys,
	}
	path := fmt.Sprintf("/proc/self/fd/%d", p.exeFD)
	return syscall.ForkExec(path, []string{"uk-stub"}, attr)
}

// startMaster starts the master stub, as confined as the host allows.
//
// Preconditions: runs on the factory thread.
func (p *Platform) startMaster() error {
	modes := []confinement{confineFull, confineNone}
	if os.Geteuid() == 0 {
		modes = []confinement{confineFull, confineRoot, confineNone}
	}
	if p.opts.modes != nil {
		modes = p.opts.modes
	}
	var errs []error
	for _, mode := range modes {
		pid, err := p.startMasterAs(mode)
		if err == nil {
			p.master, p.mode = pid, mode
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
func (p *Platform) startMasterAs(mode confinement) (int, error) {
	var lastErr error
	// The kernel places the initial stack at a random address below the
	// top of the user range; in the rare case it lands on the stub's
	// fixed address, exec fails after the point of no return. Retry.
	for attempt := 0; attempt < 8; attempt++ {
		pid, err := p.execMaster(mode, p.reqs.fd)
		if err == syscall.EPERM && mode == confineNone {
			return 0, fmt.Errorf("start stub: %w: %w", errNoTrace, err)
		}
		if err != nil {
			return 0, fmt.Errorf("start stub (%s): %w", mode, err)
		}
		st, err := stubproc.WaitStop(pid)
		if err != nil {
			return 0, err
		}
		if st.Exited || st.Sig != int(unix.SIGTRAP) {
			lastErr = fmt.Errorf("stub did not reach its first instruction (status %#x)", uint32(st.Status))
			unix.Kill(pid, unix.SIGKILL)
			stubproc.Wait4(pid, 0)
			continue
		}
		if err := stubproc.SetOptions(pid, masterOptions); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			stubproc.Wait4(pid, 0)
			return 0, fmt.Errorf("set ptrace options: %w", err)
		}
		if err := p.prepareMaster(pid, mode); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			stubproc.Wait4(pid, 0)
			return 0, fmt.Errorf("prepare stub (%s): %w", mode, err)
		}
		return pid, nil
	}
	return 0, lastErr
}

func (m confinement) String() string {
	return [...]string{"namespaces", "namespaces without a user namespace", "unconfined"}[m]
}

// masterOptions are the master's ptrace options, which the stubs it forks
// and their threads inherit: stubproc.TraceOptions, and attach every task it (or
// they) make to the factory thread, which learns its host pid that way.
const masterOptions = stubproc.TraceOptions | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACECLONE

// pageData lays out the data of one setup batch on a request page: the
// batch's records from the start (runBatch), data from the end.
type pageData struct {
	req []byte
	top int
}

// put copies b to the page (8-byte aligned) and returns the stub's address
// of it.
func (d *pageData) put(b []byte) uint64 {
	d.top = (d.top - len(b)) &^ 7
	copy(d.req[d.top:], b)
	return reqPage + uint64(d.top)
}

// cstring puts a NUL-terminated string.
func (d *pageData) cstring(s string) uint64 { return d.put(append([]byte(s), 0)) }

// step is one host syscall of a stub's setup; optional ones may fail.
type step struct {
	request
	optional bool
	what     string
}

// runSteps runs steps in stub tid, batching as many as possible: the
// records go to the start of the request page, below d's data. A failed
// step fails the setup unless it is optional; the steps after it still run.
//
// Preconditions: the caller is tid's tracer; tid is stopped; the request
// page is mapped in its stub.
func runSteps(tid int, d *pageData, steps []step) error {
	if len(steps)*reqSize > d.top {
		return fmt.Errorf("%d setup steps do not fit the request page", len(steps))
	}
	for len(steps) > 0 {
		reqs := make([]request, len(steps))
		for i, s := range steps {
			reqs[i] = s.request
		}
		err := runBatch(tid, d.req, reqs)
		if err == nil {
			return nil
		}
		var be *batchError
		if !errors.As(err, &be) {
			return err
		}
		if !steps[be.index].optional {
			return fmt.Errorf("%s: %w", steps[be.index].what, be.err)
		}
		steps = steps[be.index+1:]
	}
	return nil
}

// prepareMaster empties the master's address space around the stub code,
// maps the request region and its own request page, and confines it as
// mode allows (see the top of this file). It takes two injections: the
// request page first, then everything else as batches read from it.
//
// Preconditions: runs on the factory thread, the master's tracer; the
// master is stopped.
func (p *Platform) prepareMaster(pid int, mode confinement) error {
	// MAP_FIXED replaces whatever the kernel put there (its stack may
	// reach this high).
	r, err := stubproc.InjectSyscall(pid, siteSyscall, unix.SYS_MMAP, reqPage, arch.PageSize, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, 4, 0)
	if err == nil {
		err = stubproc.ErrnoOf(r)
	}
	if err != nil {
		return fmt.Errorf("map request page: %w", err)
	}
	req := p.reqs.page(0)
	defer clear(req)
	d := &pageData{req: req, top: len(req)}
	var sigIgn [32]byte // struct sigaction: handler SIG_IGN (1), no flags, no mask
	binary.LittleEndian.PutUint64(sigIgn[0:], 1)
	var caps [32]byte // capset: header {version 3, pid 0}, then two empty data sets
	binary.LittleEndian.PutUint32(caps[0:], unix.LINUX_CAPABILITY_VERSION_3)
	capHdr := d.put(caps[:])
	capData := capHdr + 8
	must := func(what string, nr uint64, args ...uint64) step {
		s := step{what: what, request: request{nr: nr}}
		copy(s.args[:], args)
		return s
	}
	steps := []step{
		// Everything below the stub: the kernel's stack, vDSO, vvar.
		must("unmap", unix.SYS_MUNMAP, 0, stubBase),
		// Everything above the request page, should the stack be there.
		must("unmap", unix.SYS_MUNMAP, reqPage+arch.PageSize, stubEnd-reqPage-arch.PageSize),
		// Every address space's request page, read-only, for the stubs it
		// forks to take theirs from (forkStub).
		must("map request region", unix.SYS_MMAP, reqRegion, uint64(len(p.reqs.mem)), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, 4, 0),
		// The request file, and any fd uk inherited without O_CLOEXEC and
		// so passed on through exec: the stub keeps only fd 3.
		must("close fds", unix.SYS_CLOSE_RANGE, 4, 1<<32-1, 0),
		// Forked stubs are reaped by the kernel once uk has waited for them.
		must("ignore SIGCHLD", unix.SYS_RT_SIGACTION, uint64(unix.SIGCHLD), d.put(sigIgn[:]), 0, 8),
		// Die with the factory thread (Pdeathsig could not be set before
		// exec in a PID namespace).
		must("set the parent death signal", unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)),
		// A name for ps and /proc (exec named it after the image's fd).
		must("set the name", unix.SYS_PRCTL, unix.PR_SET_NAME, d.cstring("uk-stub")),
	}
	if mode == confineFull {
		// Only the owner of the stub's user namespace, uk, may ptrace it
		// or read its memory; another process of the stub's uid may not.
		steps = append(steps, must("make non-dumpable", unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0))
	}
	if mode != confineNone {
		// Only in a mount namespace of the stub's own: these would
		// change the host's.
		steps = append(steps,
			// Mounts below must not propagate to the host's mount
			// namespace.
			must("make mounts private", unix.SYS_MOUNT, 0, d.cstring("/"), 0, unix.MS_REC|unix.MS_PRIVATE, 0),
			// An empty read-only tmpfs over a directory every host
			// has, as the new root.
			must("mount the empty root", unix.SYS_MOUNT, d.cstring("uk-stub"), d.cstring("/proc"), d.cstring("tmpfs"),
				unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, d.cstring("mode=0,size=4k")),
			must("chdir to the empty root", unix.SYS_CHDIR, d.cstring("/proc")),
			must("chroot", unix.SYS_CHROOT, d.cstring(".")),
		)
	}
	capSteps := []step{must("lock securebits", unix.SYS_PRCTL, unix.PR_SET_SECUREBITS, stubproc.LockedSecurebits)}
	for c := 0; c <= stubproc.LastCap(); c++ {
		capSteps = append(capSteps, must("drop bounding capability", unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uint64(c)))
	}
	for _, s := range capSteps {
		// Unprivileged without namespaces these are not allowed (they
		// need CAP_SETPCAP); try anyway: a root uk whose namespaces
		// failed can still do them.
		s.optional = mode == confineNone
		steps = append(steps, s)
	}
	steps = append(steps,
		must("drop capabilities", unix.SYS_CAPSET, capHdr, capData),
		// No new privileges is required for an unprivileged filter and
		// harmless otherwise.
		must("set no_new_privs", unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1),
		must("install the master filter", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, putFilter(d, stubFilter(true))),
	)
	return runSteps(pid, d, steps)
}

// forkStub makes the stub of a new address space: a fork of the master
// (which the factory thread traces from birth), with request page slot.
// It returns the stub's host pid.
//
// Preconditions: runs on the factory thread.
func (p *Platform) forkStub(slot int) (int, error) {
	regs := stubproc.InjectRegs(siteSyscall)
	regs.Rax = unix.SYS_CLONE
	regs.Rdi = forkFlags
	child := 0
	err := stubproc.RunInjectedEvents(p.master, &regs, siteSyscall+3, func(event int, msg uint) {
		if event == unix.PTRACE_EVENT_FORK {
			child = int(msg)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("fork stub: %w", err)
	}
	if e := stubproc.ErrnoOf(regs.Rax); e != nil {
		return 0, fmt.Errorf("fork stub: %w", e)
	}
	if child == 0 {
		return 0, fmt.Errorf("fork stub: no fork event")
	}
	if err := stubproc.WaitNewTracee(child); err != nil {
		unix.Kill(child, unix.SIGKILL)
		stubproc.Wait4(child, 0)
		return 0, err
	}
	if err := p.prepareStub(child, slot); err != nil {
		unix.Kill(child, unix.SIGKILL)
		stubproc.Wait4(child, 0)
		return 0, fmt.Errorf("prepare stub: %w", err)
	}
	return child, nil
}

// prepareStub moves a forked stub's own request page (slot) into place,
// unmaps the rest of the request region and adds the stub filter.
//
// Preconditions: runs on the factory thread; pid is stopped.
func (p *Platform) prepareStub(pid, slot int) error {
	r, err := stubproc.InjectSyscall(pid, siteSyscall, unix.SYS_MREMAP, reqRegion+uint64(slot)*arch.PageSize, arch.PageSize, arch.PageSize, remapFlags, reqPage)
	if err == nil {
		err = stubproc.ErrnoOf(r)
	}
	if err != nil {
		return fmt.Errorf("move request page: %w", err)
	}
	req := p.reqs.page(slot)
	defer clear(req)
	d := &pageData{req: req, top: len(req)}
	return runSteps(pid, d, []step{
		{what: "unmap", request: request{nr: unix.SYS_MUNMAP, args: [6]uint64{0, stubBase}}},
		{what: "install the stub filter", request: request{nr: unix.SYS_SECCOMP,
			args: [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, putFilter(d, stubFilter(false))}}},
	})
}

// reqRegion is where the master maps the whole request file, for the
// stubs it forks: right below the stub.
const reqRegion = stubBase - maxSpaces*arch.PageSize

// maxSpaces is how many address spaces (stub processes) may exist at once:
// the request file has a page for each.
const maxSpaces = 1 << 14

// requestFile is the memfd holding every address space's request page:
// page 0 is the master's, each stub forked from it takes a free one.
// uk maps it whole (it costs address space, not memory, until pages are
// written).
type requestFile struct {
	fd  int
	mem []byte

	mu   sync.Mutex
	free []int // slots given back; protected by mu
	next int   // lowest slot never handed out; protected by mu
}

func newRequestFile() (*requestFile, error) {
	fd, err := unix.MemfdCreate("uk-stub-requests", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("request file memfd: %w", err)
	}
	size := maxSpaces * arch.PageSize
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("size request file: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("map request file: %w", err)
	}
	return &requestFile{fd: fd, mem: mem, next: 1}, nil
}

// page returns uk's view of request page slot.
func (f *requestFile) page(slot int) []byte {
	return f.mem[slot*arch.PageSize : (slot+1)*arch.PageSize : (slot+1)*arch.PageSize]
}

// get hands out a free slot.
func (f *requestFile) get() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.free); n > 0 {
		s := f.free[n-1]
		f.free = f.free[:n-1]
		return s, nil
	}
	if f.next == maxSpaces {
		return 0, fmt.Errorf("ptrace: %d address spaces exist: %w", maxSpaces-1, unix.EAGAIN)
	}
	f.next++
	return f.next - 1, nil
}

// put gives slot back, cleared.
func (f *requestFile) put(slot int) {
	clear(f.page(slot))
	f.mu.Lock()
	f.free = append(f.free, slot)
	f.mu.Unlock()
}

// close unmaps and closes the file.
func (f *requestFile) close() {
	unix.Munmap(f.mem)
	unix.Close(f.fd)
}
