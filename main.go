// Command uk is a userspace application kernel: it runs Linux x86-64
// programs on its own implementation of the Linux system-call ABI. A
// platform (ptrace stubs, or KVM where it works) only runs the program's
// instructions and hands every system call and fault back to uk.
//
//	uk boot [flags] IMAGE.cpio[.gz]    boot an initramfs: its /init is PID 1
//	uk run [flags] -- PROG [ARGS...]   run a static program from the host
//	uk platforms                       say which platforms work here
//	uk version                         print uk's version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/dev"
	"uk/fs/vfs"
	"uk/internal/fdgrow"
	"uk/internal/hrtimer"
	"uk/kernel"
	"uk/kernel/loader"
	"uk/kernel/memfile"
	"uk/kernel/mm"
	"uk/kernel/syscalls"
	"uk/net/inet"
	"uk/net/netns"
	"uk/platform"
)

// version is uk's release, printed by `uk version`.
const version = "0.1.0"

func main() {
	stop := startProfile()
	status := run(os.Args[1:])
	stop()
	os.Exit(status)
}

// usageError is a mistake on the command line; it is printed with a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  uk boot [flags] IMAGE.cpio[.gz]    boot an initramfs image: its /init runs as PID 1
  uk run [flags] -- PROG [ARGS...]   run PROG in a new sandbox: a static x86-64 ELF on the host,
                                     or with --rootfs any program inside it (PATH searched)
  uk platforms                       list the platforms and whether they work here
  uk version                         print the version

run flags:
`)
}

// run executes the command line and returns the process exit status.
func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	var err error
	status := 0
	switch args[0] {
	case "run":
		status, err = cmdRun(args[1:])
	case "boot":
		status, err = cmdBoot(args[1:])
	case "platforms":
		err = cmdPlatforms(args[1:])
	case ttyGuardCmd:
		return runTTYGuard()
	case "version", "--version":
		fmt.Println("uk", version)
	case "help", "-h", "--help":
		usage(os.Stdout)
	default:
		err = usageError{fmt.Sprintf("unknown command %q (try: uk run, uk platforms, uk version)", args[0])}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "uk: %v\n", oneLine(err))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		if errors.Is(err, unix.ENOENT) {
			return 127
		}
		var fe *loader.FormatError
		if errors.As(err, &fe) {
			return 126
		}
		return 1
	}
	return status
}

// oneLine keeps an error message to a single line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// commonFlags are shared by run and boot.
type commonFlags struct {
	platform string
	strace   bool
	debug    bool
	hostname string
	mem      string
	appendCL string
	env      multiFlag
	rootfs   string
	vdso     bool
	pids     int
	patch    bool
	network  networkFlags
	// etc are files for the sandbox's /etc implied by the flags, and net
	// the sandbox's network namespace (both set by newKernel).
	etc map[string]string
	net *netns.Namespace
}

// exitDrain is how long uk, once the sandbox has ended, keeps sending what
// closed TCP connections still have queued.
const exitDrain = 5 * time.Second

// finish ends a sandbox run: closed connections finish sending, then the
// exit status passes through.
func (c *commonFlags) finish(status int) int {
	c.net.Close(exitDrain)
	return status
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.platform, "platform", "auto", "platform: auto, ptrace, sigsys or kvm")
	fs.BoolVar(&c.strace, "strace", false, "print every system call to stderr")
	fs.BoolVar(&c.debug, "debug", false, "print diagnostics (platform choice, unimplemented syscalls)")
	fs.StringVar(&c.hostname, "hostname", "uk", "the sandbox's hostname")
	fs.StringVar(&c.mem, "mem", "4G", "most memory the sandbox may use (e.g. 512M, 4G)")
	fs.StringVar(&c.appendCL, "append", "", "kernel command line (/proc/cmdline)")
	fs.Var(&c.env, "env", "add K=V to the program's environment (repeatable)")
	fs.BoolVar(&c.vdso, "vdso", true, "map uk's vDSO (false: every clock read is a syscall)")
	fs.BoolVar(&c.patch, "patch-syscalls", true, "sigsys: rewrite hot syscall sites into jumps to uk's trampoline (false: every syscall traps)")
	fs.IntVar(&c.pids, "pids", defaultPids(), "most tasks (threads) the sandbox may hold; clone beyond is EAGAIN")
	fs.StringVar(&c.rootfs, "rootfs", "", "run: fill the root from this directory or cpio image; PROG is a path inside it")
	fs.StringVar(&c.network.net, "net", "none", "network: none (loopback only) or tap:NAME (an existing TAP device, eth0 inside)")
	fs.StringVar(&c.network.ip, "ip", "", "address/prefix for eth0, which is then up (e.g. 10.0.2.15/24)")
	fs.StringVar(&c.network.gateway, "gateway", "", "default route's gateway")
	fs.Var(&c.network.dns, "dns", "nameserver for /etc/resolv.conf (repeatable)")
}

// parseSize reads "512M", "4G", "1048576".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// defaultEnv is the clean environment a program starts with.
var defaultEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
	"TERM=linux",
}

func cmdRun(args []string) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c commonFlags
	c.register(fs)
	var rf runFlags
	rf.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(os.Stdout)
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return 0, nil
		}
		return 0, usageError{err.Error()}
	}
	if err := rf.parse(); err != nil {
		return 0, err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return 0, usageError{"run: no program given (uk run [flags] -- PROG [ARGS...])"}
	}
	for _, kv := range c.env {
		if !strings.Contains(kv, "=") {
			return 0, usageError{fmt.Sprintf("--env %q: want K=V", kv)}
		}
	}
	prog := rest[0]
	if c.rootfs == "" {
		// Refuse what cannot run before building a sandbox.
		var err error
		if prog, err = hostProgram(prog); err != nil {
			return 0, err
		}
		if err := checkHostProgram(prog); err != nil {
			return 0, err
		}
	}
	k, ps, err := newKernel(&c)
	if err != nil {
		return 0, err
	}
	console := dev.NewHostStream(0, "/dev/console")
	binds, err := rf.mounts.open(k.MemFile)
	if err != nil {
		return 0, err
	}
	root, inside, err := buildRootFS(k, c.rootfs, prog, console, nil, c.etc)
	if err != nil {
		return 0, err
	}
	if err := rf.mounts.mount(k, root.Root(), binds); err != nil {
		return 0, err
	}
	if err := rf.setCwd(k, root); err != nil {
		return 0, err
	}
	env := mergeEnv(defaultEnv, c.env)
	if c.rootfs != "" {
		if inside, err = sandboxProgram(k, root, path.Join("/", rf.chdir), rest[0], env); err != nil {
			return 0, err
		}
	}
	files, err := stdioFiles(false)
	if err != nil {
		return 0, err
	}
	// Forwarding runs until uk exits: undoing it first would only delay
	// the exit (a dozen rt_sigaction calls). It starts before the program
	// does: a signal that came after would otherwise kill uk itself.
	k.ForwardHostSignals()
	maxAddr := maxUserAddress(c.platform) // may look at /dev/kvm: before confineSelf
	if err := confineSelf(&c, ps, len(rf.mounts.binds) > 0); err != nil {
		return 0, err
	}
	err = k.StartInit(kernel.InitOptions{
		Exe:            kernel.Executable{Path: inside},
		Argv:           rest,
		Envv:           env,
		Files:          files,
		FS:             root,
		AsChild:        true,
		Attach:         ps.attach(k),
		MaxUserAddress: maxAddr,
		Creds:          rf.creds,
	})
	if err != nil {
		return 0, err
	}
	status, tripped := rf.wait(k)
	for _, fs := range binds {
		fs.Sync() // what shared mappings wrote, before uk is gone
	}
	if tripped {
		return status, nil // no lingering: a limit ends uk at once
	}
	return c.finish(status), nil
}

// checkHostProgram gives the one-line reason a host file cannot be run.
func checkHostProgram(prog string) error {
	f, err := os.Open(prog)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %w", prog, pe.Err)
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory", prog)
	}
	elf, err := loader.ParseELF(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", prog, err)
	}
	if elf.Interp != "" {
		// Only the program is copied in: its interpreter and libraries
		// would be missing, and exec would fail with a bare ENOENT.
		return fmt.Errorf("%s: dynamically linked (interpreter %s); without --rootfs only static programs run: add --rootfs / to use the host's libraries", prog, elf.Interp)
	}
	return nil
}

// newKernel builds the memory file and the kernel, and starts the platform
// (and the first address space) in the background: creating stub
// processes takes milliseconds that the filesystem setup can overlap. The
// caller passes the platform's attach to StartInit.
func newKernel(c *commonFlags) (*kernel.Kernel, *platformStart, error) {
	size, err := parseSize(c.mem)
	if err != nil {
		return nil, nil, usageError{"--mem: " + err.Error()}
	}
	if err := checkPids(c.pids); err != nil {
		return nil, nil, usageError{err.Error()}
	}
	setThreadLimit(c.pids)
	switch c.platform {
	case "auto", "ptrace", "sigsys", "kvm":
	default:
		return nil, nil, usageError{fmt.Sprintf("--platform=%s: want auto, ptrace, sigsys or kvm", c.platform)}
	}
	netCfg, etc, err := c.network.parse()
	if err != nil {
		return nil, nil, err
	}
	c.etc = etc
	c.net = netns.New(netCfg)
	mf, err := memfile.New(size)
	if err != nil {
		return nil, nil, err
	}
	limitGoMemory(mf, c.pids)
	fdgrow.Init() // reads /proc: before confineSelf
	if os.Getenv("UK_CHECK_PAGES") == "1" {
		// The tests' debug mode: every page freed is checked to be
		// unreachable from every address space (a panic names it).
		mm.EnablePageCheck(mf)
	}
	ps := startPlatform(c.platform, mf, c.debug)
	// Precise short timers need their timerfd made before confinement;
	// without it they are Go's, late by up to a millisecond.
	if err := hrtimer.Start(); err != nil && c.debug {
		fmt.Fprintf(os.Stderr, "uk: %v: short sleeps and timeouts may end up to 1 ms late\n", err)
	}
	cfg := kernel.Config{MemFile: mf, Table: syscalls.Table(), Hostname: c.hostname, Cmdline: c.appendCL, NoVDSO: !c.vdso,
		Filesystems:    fsTypes,
		NoSyscallPatch: !c.patch,
		Network:        sandboxNet{c.net}, MaxTasks: c.pids}
	panicHook(cfg.Table)
	if c.strace {
		cfg.Strace = os.Stderr
	}
	if c.debug {
		cfg.Debug = os.Stderr
		inet.SetDiagnostics(os.Stderr)
	}
	return kernel.New(cfg), ps, nil
}

// platformStart is a platform being created in the background, with the
// address space for the first program and, where the platform can prepare
// one, a context already bound to the background goroutine's OS thread.
type platformStart struct {
	done chan struct{}
	p    platform.Platform
	as   platform.AddressSpace
	ctx  platform.Context // prepared for as, bound to the goroutine below; nil if none
	run  chan func()      // work for that goroutine: the first task's loop
	err  error
}

func startPlatform(name string, mf *memfile.File, debug bool) *platformStart {
	ps := &platformStart{done: make(chan struct{}), run: make(chan func(), 1)}
	go func() {
		// Locked for good: a context prepared here belongs to this thread.
		runtime.LockOSThread()
		ps.p, ps.err = choosePlatform(name, mf, debug)
		if ps.err == nil {
			// A failure here is reported again when the program starts.
			ps.as, _ = ps.p.NewAddressSpace()
		}
		if ps.as != nil {
			if ctx, err := ps.p.NewContext(); err == nil {
				if pr, ok := ctx.(platform.Preparer); ok && pr.Prepare(ps.as) == nil {
					ps.ctx = ctx
				} else {
					ctx.Release()
				}
			}
		}
		close(ps.done)
		if ps.ctx == nil {
			return
		}
		// The first task runs here, if it is started; otherwise uk exits
		// with this goroutine still waiting.
		(<-ps.run)()
	}()
	return ps
}

// attach is kernel.InitOptions.Attach for the platform being started: it
// waits for it, installs it in k and hands over what it prepared.
func (ps *platformStart) attach(k *kernel.Kernel) func() (kernel.Attached, error) {
	return func() (kernel.Attached, error) {
		<-ps.done
		if ps.err != nil {
			return kernel.Attached{}, ps.err
		}
		k.SetPlatform(ps.p)
		att := kernel.Attached{AS: ps.as}
		if ps.ctx != nil {
			att.Context, att.Run = ps.ctx, func(f func()) { ps.run <- f }
		}
		return att, nil
	}
}

// stdioFiles wires the program's fds 0, 1 and 2 to uk's own. With
// terminal set, each also answers terminal ioctls (a booted init needs a
// controlling terminal even when uk's stdio are pipes).
func stdioFiles(terminal bool) (*kernel.FDTable, error) {
	t := vfs.NewFDTable()
	names := []string{"/dev/stdin", "/dev/stdout", "/dev/stderr"}
	if terminal {
		names = []string{"/dev/console", "/dev/console", "/dev/console"}
	}
	for fd := 0; fd < 3; fd++ {
		s := dev.NewHostStream(fd, names[fd])
		if terminal {
			s.EmulateTerminal()
		}
		// The description has the access mode of uk's own fd, so that a
		// write to a read-only stdin fails with EBADF as it would natively.
		hostFlags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			return nil, fmt.Errorf("fd %d: %w (uk needs its stdin, stdout and stderr open)", fd, err)
		}
		flags := uint32(hostFlags) & (unix.O_ACCMODE | unix.O_APPEND)
		if err := t.InstallAt(int32(fd), s.NewDescription(flags), false); err != nil {
			return nil, fmt.Errorf("install fd %d: %w", fd, err)
		}
	}
	return t, nil
}

// mergeEnv returns base with each K=V of extra added, replacing an entry
// of base with the same K.
func mergeEnv(base, extra []string) []string {
	env := append([]string(nil), base...)
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range env {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				env[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env
}
