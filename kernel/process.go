package kernel

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/loader"
	"uk/kernel/mm"
	"uk/platform"
)

// Executable is a program file to start: its bytes and its name.
type Executable struct {
	// File reads the program; Size is its length. A nil File means Path
	// names the program inside the sandbox's filesystem.
	File io.ReaderAt
	Size int64
	// Path is the name the program was started by (argv[0] default,
	// AT_EXECFN, /proc/self/exe).
	Path string
}

// InitOptions describe the first process.
type InitOptions struct {
	Exe        Executable
	Argv, Envv []string
	// Files is the initial descriptor table (stdin, stdout, stderr).
	Files *FDTable
	// FS is the initial root and working directory (nil without a VFS).
	FS *vfs.FSContext
	// OpenInterp opens a PT_INTERP path inside the sandbox; nil refuses
	// dynamically linked programs.
	OpenInterp func(path string) (io.ReaderAt, int64, error)
	// AsChild makes the program PID 2, a child of a kernel-made PID 1,
	// as a program started from a shell expects to be (a parent, default
	// signal actions). Otherwise it is PID 1 itself (uk boot's /init).
	AsChild bool
	// Attach, if set, is a platform still starting in the background:
	// the program is loaded first, into memory the platform has not seen
	// yet, and Attach is called after that. It must install k.Platform
	// and say what it prepared for the program. Without Attach, k.Platform
	// must be set already.
	Attach func() (Attached, error)
	// MaxUserAddress is the platform's MaxUserAddress, for laying out the
	// program before Attach; 0 asks k.Platform.
	MaxUserAddress uint64
	// Creds are the program's credentials (uk run --user); nil is root.
	Creds *vfs.Credentials
}

// Attached is what a platform started in the background prepared for the
// first program.
type Attached struct {
	// AS, if set, is an empty address space made ahead of time.
	AS platform.AddressSpace
	// Context and Run, if set, are a context prepared ahead of time for
	// AS and the way to reach the OS thread it is bound to: Run must call
	// its argument on that thread. The first task then runs there instead
	// of on a thread of its own (whose creation would delay the start).
	Context platform.Context
	Run     func(func())
}

// StartInit creates PID 1 from opts and starts it. Errors are the user's
// (not an ELF, unsupported format) or the host's (no memory); either way
// nothing is left running.
func (k *Kernel) StartInit(opts InitOptions) error {
	// A task that exists only to resolve paths with init's credentials
	// and filesystem context.
	resolver := &Task{k: k, FS: opts.FS, Files: opts.Files, creds: vfs.RootCredentials(), tg: &ThreadGroup{k: k, rlimits: defaultRlimits()}}
	// AT_EXECFN is the name the program was started by, as execve's
	// filename argument would be.
	execFn := opts.Exe.Path
	if len(opts.Argv) > 0 {
		execFn = opts.Argv[0]
	}
	if opts.Exe.File == nil {
		// A script starts as execve would start it: its interpreter
		// runs, with the script's path among its arguments.
		r, size, abs, argv, err := resolver.openFollowingScripts(opts.Exe.Path, opts.Argv)
		if err != nil {
			return fmt.Errorf("%s: %w", opts.Exe.Path, err)
		}
		opts.Exe, opts.Argv = Executable{File: r, Size: size, Path: abs}, argv
	}
	if opts.OpenInterp == nil && opts.FS != nil {
		opts.OpenInterp = func(p string) (io.ReaderAt, int64, error) {
			r, size, _, err := resolver.OpenExecutable(p)
			return r, size, err
		}
	}
	e, err := loader.ParseELF(opts.Exe.File, opts.Exe.Size)
	if err != nil {
		return err
	}
	maxAddr := opts.MaxUserAddress
	if maxAddr == 0 {
		maxAddr = k.Platform.MaxUserAddress()
	}
	// The address space comes once the program is loaded: until then the
	// MM has nothing mapped anywhere, and loading needs only memory.
	m := mm.New(k.MemFile, nil, mm.NewLayout(maxAddr))
	m.Exe = opts.Exe.Path
	if ir, ok := opts.Exe.File.(*inodeReader); ok && vfs.DenyWriteAccess(ir.ino) == nil {
		m.OnRelease = func() { vfs.AllowWriteAccess(ir.ino) } // as execve's
	}
	creds := vfs.RootCredentials()
	if opts.Creds != nil {
		creds = opts.Creds
	}
	vdsoAddr, err := k.mapVDSO(m, false) // the root time namespace
	if err != nil {
		m.DecUsers()
		return err
	}
	res, err := loader.Load(m, opts.Exe.File, e, loader.Args{
		SysinfoEhdr: vdsoAddr,
		Argv:        opts.Argv, Envv: opts.Envv, ExecFn: execFn,
		UID: creds.UID, EUID: creds.EUID, GID: creds.GID, EGID: creds.EGID,
		OpenInterp: opts.OpenInterp,
	})
	if err != nil {
		m.DecUsers()
		return err
	}
	var att Attached
	if opts.Attach != nil {
		if att, err = opts.Attach(); err != nil {
			m.DecUsers()
			return err
		}
	}
	if att.AS == nil {
		if att.AS, err = k.Platform.NewAddressSpace(); err != nil {
			m.DecUsers()
			return fmt.Errorf("new address space: %w", err)
		}
	}
	m.Attach(att.AS)
	m.PrefaultNew(res.Entry)
	tg := &ThreadGroup{k: k, rlimits: defaultRlimits(), startBoot: k.Uptime(nil)}
	tg.noteVMLimitsLocked()
	m.Limits = tg.vmLimitsNow
	tg.proc.exitSignal = int(unix.SIGCHLD)
	t := &Task{k: k, tg: tg, MM: m, Files: opts.Files, FS: opts.FS, creds: creds, umask: 0022, comm: comm(execFn), interrupt: make(chan struct{}, 1)}
	t.State.Regs = arch.Registers{Rip: res.Entry, Rsp: res.SP, Cs: arch.UserCS, Ss: arch.UserDS, Eflags: 0x202}
	t.State.ResetFP(arch.NewFPState())
	t.altStack = arch.StackT{Flags: arch.SS_DISABLE}
	if opts.Files != nil && k.MemFile != nil {
		// Every table forked from this one inherits the budget.
		if err := opts.Files.SetBudget(k.MemFile); err != nil {
			m.DecUsers()
			return fmt.Errorf("descriptor table: %w", err)
		}
	}
	k.mu.Lock()
	if opts.AsChild && k.initTG == nil {
		k.initTG = &ThreadGroup{k: k, pid: 1, isKernelInit: true, rlimits: defaultRlimits()}
		k.initTG.proc.pgid, k.initTG.proc.sid = 1, 1
		k.initTG.noLeader.creds = vfs.RootCredentials() // root's, as Linux's pid 1
		k.initTask = &Task{k: k, tid: 1, tg: k.initTG, creds: vfs.RootCredentials(), umask: 0o022, comm: KernelInitComm,
			interrupt: make(chan struct{}, 1),
			State:     arch.State{FP: arch.NewFPState(), Regs: arch.Registers{Cs: arch.UserCS, Ss: arch.UserDS}}}
		k.tgs[1] = k.initTG
		k.nextTID = 2
	}
	t.tid = k.allocTIDLocked(t)
	k.nrTasks++
	tg.pid = t.tid
	tg.proc.pgid, tg.proc.sid = tg.pid, tg.pid
	k.registerThreadGroupLocked(tg)
	if k.initTG == nil {
		k.initTG = tg
	} else {
		k.linkChildLocked(k.initTG, tg)
	}
	k.mainTG = tg
	if opts.Files != nil {
		k.fdUsers[opts.Files]++
	}
	k.mu.Unlock()
	tg.tasks = []*Task{t}
	if att.Context != nil && att.Run != nil {
		t.preparedCtx = att.Context
		att.Run(t.run)
		return nil
	}
	t.Start()
	return nil
}

// KernelInitComm is the name of uk run's stand-in PID 1, which runs no
// code: it reaps orphans, as an init that only waits would.
const KernelInitComm = "uk-init"

// comm is the task name Linux derives from a path: its last element, at
// most 15 bytes.
func comm(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			path = path[i+1:]
			break
		}
	}
	if len(path) > 15 {
		path = path[:15]
	}
	return path
}

// Comm is the task's name (prctl PR_GET_NAME, /proc/PID/comm).
func (t *Task) Comm() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.comm
}

// SetComm renames the thread (PR_SET_NAME).
func (t *Task) SetComm(name string) {
	if len(name) > 15 {
		name = name[:15]
	}
	t.mu.Lock()
	t.comm = name
	t.mu.Unlock()
}
