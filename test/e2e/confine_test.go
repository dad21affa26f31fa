package e2e

// Defense in depth (issue: a hostile program cannot get past a second
// barrier): uk's own posture and its stubs', read from the host side while
// a program runs, as root and as an unprivileged user; and hostile C
// programs (testdata/c/confine.c) that go looking for the host kernel.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/internal/testenv"
)

func init() { otherCPrograms = append(otherCPrograms, "confine") }

// posture is what /proc says of one process.
type posture struct {
	pid    int
	status map[string]string
	ns     map[string]string
	fds    []string
	root   []string // entries of its root directory
	rootOK bool
}

// readStatus reads a /proc status file into its fields.
func readStatus(path string) (map[string]string, error) {
	st, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(st), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, nil
}

func readPosture(pid int) (posture, error) {
	p := posture{pid: pid, ns: map[string]string{}}
	var err error
	if p.status, err = readStatus(fmt.Sprintf("/proc/%d/status", pid)); err != nil {
		return p, err
	}
	for _, n := range []string{"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"} {
		p.ns[n], _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n))
	}
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, e := range ents {
		p.fds = append(p.fds, e.Name())
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/", pid)); err == nil {
		p.rootOK = true
		for _, e := range ents {
			p.root = append(p.root, e.Name())
		}
	}
	return p, nil
}

func (p posture) String() string {
	s := p.status
	return fmt.Sprintf("pid %d %s: uid %s, CapEff %s CapPrm %s CapBnd %s, NoNewPrivs %s, Seccomp %s (%s filters), fds %v, root entries %d, ns user=%s pid=%s mnt=%s net=%s ipc=%s uts=%s cgroup=%s",
		p.pid, s["Name"], strings.Fields(s["Uid"] + " ?")[0], s["CapEff"], s["CapPrm"], s["CapBnd"], s["NoNewPrivs"],
		s["Seccomp"], s["Seccomp_filters"], p.fds, len(p.root),
		p.ns["user"], p.ns["pid"], p.ns["mnt"], p.ns["net"], p.ns["ipc"], p.ns["uts"], p.ns["cgroup"])
}

// pfUserWorker is PF_USER_WORKER, a task flag of /proc/.../stat.
const pfUserWorker = 0x4000

// userWorker reports whether thread tid of pid is a kernel worker in
// uk's thread group: KVM's huge-page recovery thread (kvm-nx-lpage-re on
// Linux 6.x) is one, made with uk's credentials of the time it made the
// VM, before confinement. It runs only kernel code, never a user
// instruction, so its credentials give nothing to anyone.
func userWorker(pid int, tid string) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, tid))
	if err != nil {
		return false
	}
	s := string(st)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 7 {
		return false
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	return err == nil && flags&pfUserWorker != 0
}

// children returns the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, c)
		}
	}
	return out
}

// startWaiting starts `uk run -- confine wait` (as cred, if not nil) and
// returns once the program runs, with uk's pid and a function that ends it.
func startWaiting(t *testing.T, uk, prog, platform string, cred *syscall.Credential) (int, func()) {
	t.Helper()
	pid, finish := startHeld(t, uk, []string{"run", "--platform=" + platform, "--", prog, "wait"}, "ready\n", cred)
	return pid, func() {
		if rest, err := finish(); err != nil || rest != "done\n" {
			t.Errorf("uk run confine wait: %v, rest of stdout %q", err, rest)
		}
	}
}

// startHeld starts `uk ARGS...` (as cred, if not nil) whose program prints
// ready once it has done what the caller looks at, then waits for the end
// of its stdin. It returns then, with uk's pid and a function that ends the
// program and returns the rest of its stdout and, if uk failed, why (with
// its stderr).
func startHeld(t *testing.T, uk string, args []string, ready string, cred *syscall.Credential) (int, func() (string, error)) {
	t.Helper()
	cmd := exec.Command(uk, args...)
	cmd.Env = ukTestEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := time.AfterFunc(*runTimeout, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	out := bufio.NewReader(stdout)
	finish := func() (string, error) {
		stdin.Close()
		rest, _ := io.ReadAll(out)
		err := cmd.Wait()
		kill.Stop()
		if err != nil {
			err = fmt.Errorf("%v\nstderr:\n%s", err, stderr.String())
		}
		return string(rest), err
	}
	for {
		line, err := out.ReadString('\n')
		if err == nil && line == ready {
			return cmd.Process.Pid, finish
		}
		if err != nil {
			rest, ferr := finish()
			t.Fatalf("uk %s printed no %q: %v; %q, %v", strings.Join(args, " "), ready, err, rest, ferr)
		}
	}
}

// checkPosture reads and checks the posture of uk (pid) and, on ptrace,
// of its stubs: the master (uk's child named uk-stub) and the stubs it
// forked. It logs what it saw.
func checkPosture(t *testing.T, pid int, platform string, unprivileged bool) {
	t.Helper()
	uk, err := readPosture(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("uk:     %v", uk)
	// uk's bounding set stays full (hostfilter.Confine says why: no
	// thread of uk can execve); what it may exec is checked by the
	// filter's tables (hostfilter's TestNoExec).
	want := map[string]string{"Seccomp": "2", "NoNewPrivs": "1", "CapEff": "0000000000000000",
		"CapPrm": "0000000000000000", "CapInh": "0000000000000000", "CapAmb": "0000000000000000"}
	for k, v := range want {
		if uk.status[k] != v {
			t.Errorf("uk: %s is %q, want %q", k, uk.status[k], v)
		}
	}
	// Every thread, not only the leader /proc/PID/status shows: the
	// capabilities are per thread, and the filter and no_new_privs reach
	// the others through TSYNC.
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) < 2 {
		t.Errorf("uk's threads: %d listed (%v), want several", len(tasks), err)
	}
	for _, task := range tasks {
		th, err := readStatus(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		if err != nil || userWorker(pid, task.Name()) {
			continue // gone meanwhile, or not uk's
		}
		for k, v := range want {
			if th[k] != v {
				t.Errorf("uk thread %s: %s is %q, want %q", task.Name(), k, th[k], v)
			}
		}
	}
	if platform != "ptrace" {
		return
	}
	var master []int
	for _, c := range children(pid) {
		if p, err := readPosture(c); err == nil && p.status["Name"] == "uk-stub" {
			master = append(master, c)
		}
	}
	if len(master) != 1 {
		t.Fatalf("uk %d has stub children %v, want one master", pid, master)
	}
	stubs := append([]int{master[0]}, children(master[0])...)
	if len(stubs) < 2 {
		t.Errorf("the master stub %d has no stub children", master[0])
	}
	want["CapBnd"] = "0000000000000000"
	for _, s := range stubs {
		p, err := readPosture(s)
		if err != nil {
			t.Errorf("stub %d: %v", s, err)
			continue
		}
		t.Logf("stub:   %v", p)
		for k, v := range want {
			if p.status[k] != v {
				t.Errorf("stub %d: %s is %q, want %q", s, k, p.status[k], v)
			}
		}
		for n, v := range p.ns {
			if v == "" || v == uk.ns[n] {
				t.Errorf("stub %d shares uk's %s namespace (%q)", s, n, v)
			}
		}
		// The master forks the stubs; each stub has a socket with uk
		// for the host files it maps (stubproc's hostfiles.go).
		if want := "3 8"; s == master[0] && strings.Join(p.fds, " ") != "3" || s != master[0] && strings.Join(p.fds, " ") != want {
			t.Errorf("stub %d holds fds %v, want only the memory file (3) and, but in the master, its host-file socket (8)", s, p.fds)
		}
		if !p.rootOK || len(p.root) != 0 {
			t.Errorf("stub %d: root directory has %v (readable %v), want empty", s, p.root, p.rootOK)
		}
		if uid := strings.Fields(p.status["Uid"] + " ?")[0]; !unprivileged && uid == "0" {
			t.Errorf("stub %d runs as host root", s)
		}
	}
}

// TestConfinementPosture prints and checks, from the host, how uk and its
// stubs are confined while a program runs: uk with seccomp mode 2,
// no_new_privs and no capabilities; each stub also in user, pid, mount,
// net, ipc, uts and cgroup namespaces of its own, chrooted to an empty
// directory, holding only the memory file and its host-file socket.
func TestConfinementPosture(t *testing.T) {
	prog := cProgram(t, "confine")
	forEveryPlatform(t, func(t *testing.T, platform string) {
		needUK(t)
		pid, done := startWaiting(t, ukBin, prog, platform, nil)
		defer done()
		checkPosture(t, pid, platform, os.Geteuid() != 0)
	})
}

// TestConfinementUnprivileged: the same, with uk started by an
// unprivileged user (nobody), which must still get its stubs confined.
func TestConfinementUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Need(t, "root", "to start uk as the unprivileged user nobody")
	}
	needUK(t)
	prog := cProgram(t, "confine")
	// nobody must reach the binaries: copy them out of the private work
	// directory into one it can read.
	dir, err := os.MkdirTemp("", "uk-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// As "uk" and "confine", whatever -uk.binary named the binary.
	for name, f := range map[string]string{"uk": ukBin, "confine": prog} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	forEveryPlatform(t, func(t *testing.T, platform string) {
		if platform == "kvm" {
			// /dev/kvm is root's here; uk platforms said so for root only.
			if f, err := os.Stat("/dev/kvm"); err != nil || f.Mode().Perm()&0o006 != 0o006 {
				// Not a missing package .ci/run could install but the
				// device's permissions: only ptrace runs unprivileged here.
				t.Skip("/dev/kvm is not open to other users on this machine: the KVM platform cannot run unprivileged here")
			}
		}
		pid, done := startWaiting(t, filepath.Join(dir, "uk"), filepath.Join(dir, "confine"), platform, nobody)
		defer done()
		checkPosture(t, pid, platform, true)
	})
}

// TestStubSite: a program that calls into the ptrace stub's own syscall
// site gets its syscalls trapped like any other (confine.c says what a safe
// kernel does).
func TestStubSite(t *testing.T) {
	prog := cProgram(t, "confine")
	r := runUK(t, "ptrace", prog, []string{"stubsite"})
	want := "getpid at the stub site: signal 5 (want SIGTRAP 5), result is the sandbox's pid\n"
	if r.Stdout != want || r.Code != 99 {
		t.Errorf("exit %d, stdout %q; want 99 and %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
	}
}

// TestStubPagesShown: the ptrace stub's pages, which the program can read,
// are listed in /proc/self/maps as special mappings, and the request page
// holds nothing between uk's mapping batches but its control words (on
// sigsys, a count of the stub's batches; confine.c).
func TestStubPagesShown(t *testing.T) {
	prog := cProgram(t, "confine")
	forEveryPlatform(t, func(t *testing.T, platform string) {
		r := runUK(t, platform, prog, []string{"maps"})
		want := ""
		if platform == "ptrace" || platform == "sigsys" {
			want = "7fffffff0000-7fffffff1000 r-x [uk-stub]\n" +
				"7fffffff1000-7fffffff2000 r-- [uk-stub-requests]\n" +
				"7fffffff2000-7fffffff3000 rw- [uk-stub-scratch]\n" +
				"request page: 0 bytes not zero\n"
		}
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
}

// TestIA32Syscalls: int $0x80, sysenter and a syscall in compat mode fail
// as on a kernel without IA32 emulation, and never run the 64-bit call
// their number names (confine.c).
//
// What the CPU does decides the rest. sysenter from 64-bit code is an
// invalid opcode on AMD (SIGILL); on Intel it enters the host kernel's
// 32-bit entry, which loses the program's RIP and RSP (it returns to its
// own vDSO landing pad with the stack pointer the 32-bit ABI keeps in
// EBP) before uk sees the trap: under ptrace and sigsys uk can only
// force a SIGSEGV there, and with no stack to write its frame on the
// program dies of it. A syscall in compat mode is refused with -ENOSYS
// or a SIGSEGV on AMD; Intel CPUs have no SYSCALL in compat mode, and
// raise an invalid opcode (SIGILL, ILL_ILLOPN), natively too. Under kvm
// the guest's own entries make sysenter an invalid opcode on either.
func TestIA32Syscalls(t *testing.T) {
	prog := cProgram(t, "confine")
	intel := arch.CPUVendor() == "GenuineIntel"
	forEveryPlatform(t, func(t *testing.T, platform string) {
		r := runUK(t, platform, prog, []string{"ia32"})
		const int80 = "int $0x80: SIGSEGV code 0x80 addr 0, rip at the instruction\n"
		if intel && platform != "kvm" {
			if r.Code != 128+int(unix.SIGSEGV) || r.Stdout != int80 || !strings.Contains(r.Stderr, "SIGSEGV (SI_KERNEL") {
				t.Errorf("exit %d, stdout:\n%s\nwant death by SIGSEGV (SI_KERNEL) at the sysenter after:\n%s\nstderr:\n%s", r.Code, r.Stdout, int80, clip(r.Stderr))
			}
		} else {
			want := regexp.MustCompile("^" + regexp.QuoteMeta(int80) + "sysenter: (SIGILL|SIGSEGV)\ndone\n$")
			if r.Code != 0 || !want.MatchString(r.Stdout) {
				t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
			}
		}
		r = runUK(t, platform, prog, []string{"compat"})
		want := regexp.MustCompile(`^compat-mode syscall: (returned -38 \(ENOSYS\)|SIGSEGV code 0x80)
done
$`)
		if intel {
			want = regexp.MustCompile(`^compat-mode syscall: SIGILL code 0x2
done
$`)
		}
		if r.Code != 0 || !want.MatchString(r.Stdout) {
			t.Errorf("compat: exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
}

// TestKernelBug: a Go panic in a syscall handler (UK_TEST_PANIC makes
// getppid panic) ends uk with one line naming the syscall (the stack trace
// only with --debug) and exit status 70, and leaves no stub process: this
// test is the subreaper of whatever uk leaves behind.
func TestKernelBug(t *testing.T) {
	prog := cProgram(t, "confine")
	needUK(t)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	env := append(ukTestEnv(), "UK_TEST_PANIC=getppid")
	line := regexp.MustCompile(`^uk: kernel bug: panic in syscall getppid \(110\) of process \d+ \(confine\): UK_TEST_PANIC: a stand-in bug in getppid\n$`)
	forEveryPlatform(t, func(t *testing.T, platform string) {
		r := runProcess(t, ukBin, ukRunArgv(platform, prog, runSpec{Args: []string{"ppid"}}), env, "")
		if r.Code != 70 || r.Signaled || r.Stdout != "before\n" || !line.MatchString(r.Stderr) {
			t.Errorf("exit %d (signaled %v), stdout %q, stderr:\n%s\nwant 70, \"before\\n\" and one line matching %s",
				r.Code, r.Signaled, r.Stdout, r.Stderr, line)
		}
		noStubChildren(t)
		r = runProcess(t, ukBin, ukRunArgv(platform, prog, runSpec{Args: []string{"ppid"}, Flags: []string{"--debug"}}), env, "")
		if r.Code != 70 || !strings.Contains(r.Stderr, "uk: kernel bug: panic in syscall getppid") ||
			!strings.Contains(r.Stderr, "goroutine ") || !strings.Contains(r.Stderr, "panicHook") {
			t.Errorf("--debug: exit %d, stderr:\n%s\nwant 70 and the stack trace", r.Code, clip(r.Stderr))
		}
		noStubChildren(t)
	})
}

// noStubChildren fails the test if a stub process uk left behind lives on
// (orphaned, it is this process's child: see TestKernelBug); it reaps the
// dead ones.
func noStubChildren(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var alive []int
		for _, c := range children(os.Getpid()) {
			p, err := readPosture(c)
			if err != nil || p.status["Name"] != "uk-stub" {
				continue
			}
			if strings.HasPrefix(p.status["State"], "Z") {
				unix.Wait4(c, nil, unix.WNOHANG, nil)
				continue
			}
			alive = append(alive, c)
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("stub processes %v outlived uk", alive)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
