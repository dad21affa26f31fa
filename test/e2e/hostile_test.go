package e2e

// Hostile programs: each tries to take more of the host than a sandbox may
// (threads and PIDs, memory, time inside one syscall) and each test asserts
// containment: the program gets Linux's error (EAGAIN, EMFILE, ENOMEM, an
// OOM kill), uk stays alive, and what uk holds on the host stays within the
// bounds README.md states. The programs run only under uk, with --pids and
// --mem set, except where a mode is harmless natively.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// watched is a uk run observed from the host while it ran.
type watched struct {
	procResult
	// PeakHostTasks is the most host threads seen at once in uk and its
	// child processes (the ptrace stubs).
	PeakHostTasks int
	// MaxRSSKiB is the peak resident set of uk or of any child it reaped
	// (getrusage of the wait).
	MaxRSSKiB int64
}

// runUKWatched runs prog under uk as spec says, sampling the host threads
// of uk's process tree every few milliseconds.
func runUKWatched(t *testing.T, platform, prog string, spec runSpec) watched {
	t.Helper()
	needUK(t)
	if err := ukSmoke(t, platform); err != nil {
		t.Fatalf("not running this test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ukBin, ukRunArgv(platform, prog, spec)...)
	cmd.Env = ukTestEnv()
	cmd.Stdin = strings.NewReader(spec.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	peak := make(chan int, 1)
	go func() {
		best := 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			best = max(best, hostTasksOf(cmd.Process.Pid))
			select {
			case <-done:
				peak <- best
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	w := watched{procResult: procResult{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}}
	w.PeakHostTasks = <-peak
	w.TimedOut = ctx.Err() == context.DeadlineExceeded
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		w.MaxRSSKiB = ru.Maxrss
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			w.Signaled, w.Code = true, 128+int(ws.Signal())
		} else {
			w.Code = ws.ExitStatus()
		}
	default:
		t.Fatalf("running uk: %v", err)
	}
	if w.TimedOut {
		t.Fatalf("uk run of %s %q timed out after %v\nstdout:\n%s\nstderr:\n%s", prog, spec.Args, *runTimeout, clip(w.Stdout), clip(w.Stderr))
	}
	if w.Signaled {
		t.Errorf("uk itself was killed by signal %d\nstderr:\n%s", w.Code-128, clip(w.Stderr))
	}
	if hasGoPanic(w.Stderr) {
		t.Errorf("uk panicked:\n%s", clip(w.Stderr))
	}
	return w
}

// hostTasksOf counts the host threads of pid and of its children.
func hostTasksOf(pid int) int {
	n := threadsOf(pid)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		if ppidOf(p) == pid {
			n += threadsOf(p)
		}
	}
	return n
}

func threadsOf(pid int) int {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		return 0
	}
	return len(ents)
}

func ppidOf(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	// The command name may hold spaces and parentheses: fields start
	// after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return -1
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// createdCount reads the "created N" line of a hostile program.
func createdCount(t *testing.T, out string) int {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "created "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("bad line %q", line)
			}
			return n
		}
	}
	t.Fatalf("no \"created N\" line in:\n%s", out)
	return 0
}

// TestHostileTasks: threads, forks, unreaped zombies and a fork bomb all
// stop at --pids with EAGAIN; uk stays alive, its host threads stay within
// three per task, and once the tasks go, clone works again.
func TestHostileTasks(t *testing.T) {
	prog := cProgram(t, "hostile_tasks")
	const pids = 64
	forEveryPlatform(t, func(t *testing.T, platform string) {
		for _, c := range []struct {
			mode, after string
		}{
			{"threads", "after join: 0"},
			{"forks", "after wait: 0"},
			{"zombies", "after reaping: 0"},
			{"bomb", ""},
		} {
			t.Run(c.mode, func(t *testing.T) {
				w := runUKWatched(t, platform, prog, runSpec{Args: []string{c.mode}, Flags: []string{"--pids", strconv.Itoa(pids)}})
				if w.Code != 0 {
					t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", w.Code, w.Stdout, clip(w.Stderr))
				}
				if c.mode == "bomb" {
					if !strings.Contains(w.Stdout, "bomb: EAGAIN seen") {
						t.Errorf("the fork bomb never saw EAGAIN:\n%s", w.Stdout)
					}
				} else {
					// The main thread (and, for uk run, the kernel's init
					// process) take a place each.
					if n := createdCount(t, w.Stdout); n < pids-3 || n >= pids {
						t.Errorf("created %d tasks with --pids %d", n, pids)
					}
					if !strings.Contains(w.Stdout, "stopped by EAGAIN\n") || !strings.Contains(w.Stdout, c.after+"\n") {
						t.Errorf("want EAGAIN at the limit and %q after:\n%s", c.after, w.Stdout)
					}
				}
				// Each task: uk's thread and a stub's; plus a stub
				// process per address space, and Go's own threads.
				if limit := 3*pids + 64; w.PeakHostTasks > limit {
					t.Errorf("uk's process tree peaked at %d host threads; want at most %d for --pids %d", w.PeakHostTasks, limit, pids)
				}
				t.Logf("%s: peak %d host threads, %v", c.mode, w.PeakHostTasks, w.Elapsed)
			})
		}
	})
}

// TestHostileTwoBombs: two sandboxes running fork bombs at once, each at
// its --pids, leave the host able to start a process, and each stays
// within three host threads per task.
func TestHostileTwoBombs(t *testing.T) {
	prog := cProgram(t, "hostile_tasks")
	const pids = 256
	forEveryPlatform(t, func(t *testing.T, platform string) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				w := runUKWatched(t, platform, prog, runSpec{Args: []string{"bomb"}, Flags: []string{"--pids", strconv.Itoa(pids)}})
				if w.Code != 0 || !strings.Contains(w.Stdout, "bomb: EAGAIN seen") {
					t.Errorf("exit %d, stdout %q; want the bomb to see EAGAIN\nstderr:\n%s", w.Code, w.Stdout, clip(w.Stderr))
				}
				if limit := 3*pids + 64; w.PeakHostTasks > limit {
					t.Errorf("peak %d host threads; want at most %d", w.PeakHostTasks, limit)
				}
				t.Logf("peak %d host threads, %v", w.PeakHostTasks, w.Elapsed)
			})
		}
		t.Run("host", func(t *testing.T) {
			t.Parallel()
			time.Sleep(time.Second) // both bombs at their limits
			start := time.Now()
			if out, err := exec.Command("/bin/sh", "-c", "echo ok").Output(); err != nil || string(out) != "ok\n" {
				t.Errorf("the host could not run a shell during the bombs: %v %q", err, out)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("a host shell took %v during the bombs", d)
			}
		})
	})
}

// TestHostileNproc: RLIMIT_NPROC limits an unprivileged user's tasks as on
// Linux (natively when the test runs as root, which setuid needs).
func TestHostileNproc(t *testing.T) {
	prog := cProgram(t, "hostile_tasks")
	const want = "created 2\nstopped by EAGAIN\n"
	if os.Geteuid() == 0 {
		if r := runNative(t, prog, "nproc"); r.Stdout != want || r.Code != 0 {
			t.Fatalf("natively: exit %d, stdout %q; want %q", r.Code, r.Stdout, want)
		}
	}
	forEveryPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, prog, runSpec{Args: []string{"nproc"}, Flags: []string{"--pids", "64"}})
		if r.Stdout != want || r.Code != 0 {
			t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
}

// oomLine is uk's report of an OOM kill.
var oomLine = regexp.MustCompile(`(?m)^uk: out of memory: killed process (\d+) \((.*)\)$`)

// victimPID reads the "victim N" line of hostile_oom.
func victimPID(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "victim "); ok {
			return v
		}
	}
	t.Fatalf("no \"victim N\" line in:\n%s", out)
	return ""
}

// TestHostileOOM: when --mem runs out, the process holding the most memory
// is SIGKILLed with one line on uk's stderr, not whoever faults next: a hog
// dies and its parent then gets the memory back; a bystander that faults
// while a bigger process sits on memory survives, and the bigger one dies.
// The parent's own memory is intact in both. The pages a process's shared
// mappings keep count as its own, and a process with oom_score_adj -1000
// is never chosen.
func TestHostileOOM(t *testing.T) {
	prog := cProgram(t, "hostile_oom")
	forEveryPlatform(t, func(t *testing.T, platform string) {
		for _, c := range []struct {
			name string
			args []string
			want string
		}{
			{"hog", []string{"hog", "80"}, "hog: killed by SIGKILL\nparent memory intact\nparent took 80 MiB after\n"},
			{"bystander", []string{"bystander", "70", "70"}, "second child: exit 0\nfirst child: killed by SIGKILL\nparent memory intact\n"},
			// The parent has more private memory than the child, whose
			// pages are a shared anonymous region's: they count.
			{"shared", []string{"shared", "48"}, "shared hog: killed by SIGKILL\nparent memory intact\n"},
			// The parent holds more, but is exempt (oom_score_adj -1000,
			// inherited and then raised by the child); the child's memfd
			// counts for nobody and goes with it.
			{"exempt", []string{"exempt", "48", "40"}, "parent oom_score_adj -1000, oom_score 0\n" +
				"child inherits -1000, sets 0: oom_score 666 and up\nchild: killed by SIGKILL\nparent memory intact\nparent took 40 MiB after\n"},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := runUKWatched(t, platform, prog, runSpec{Args: c.args, Flags: []string{"--mem", "128M", "--pids", "16"}})
				victim := victimPID(t, w.Stdout)
				if got := strings.Replace(w.Stdout, "victim "+victim+"\n", "", 1); got != c.want || w.Code != 0 {
					t.Errorf("exit %d, stdout after the victim line %q; want %q\nstderr:\n%s", w.Code, got, c.want, clip(w.Stderr))
				}
				kills := oomLine.FindAllStringSubmatch(w.Stderr, -1)
				if len(kills) != 1 || kills[0][1] != victim || kills[0][2] != "hostile_oom" {
					t.Errorf("want exactly one line \"uk: out of memory: killed process %s (hostile_oom)\"; stderr:\n%s", victim, clip(w.Stderr))
				}
				t.Logf("%s: peak RSS %d MiB, %v", c.name, w.MaxRSSKiB>>10, w.Elapsed)
			})
		}
	})
}

// TestHostileWork: no system call does work proportional to a number the
// program chose. A million descriptors (most received 253 at a time with
// SCM_RIGHTS, the rest by dup) fill the table in seconds, the fastest
// hundred of the last thousand dups within 50 times the fastest hundred
// of the first (the linear lowest-free search took minutes);
// RLIMIT_NOFILE stops at nr_open. On a file of 2^50 bytes, SEEK_DATA,
// SEEK_HOLE, fallocate and hole punching answer at once, as on Linux's
// tmpfs (compared with a native run on /dev/shm). A process looping in
// mincore of 2 TiB, move_pages of 2^38 entries or KEYCTL_CAPABILITIES
// zeroing 2 TiB dies within a second of SIGKILL (the syscall fuzzer
// found mincore deaf to it for minutes). A program opening a host file
// until it cannot still forks and makes pipes after: uk keeps part of its
// own fd limit from the sandbox's host files (ENFILE).
func TestHostileWork(t *testing.T) {
	prog := cProgram(t, "hostile_work")
	native := runNative(t, prog, "sparse")
	checkNative(t, native, 0)
	if !strings.Contains(native.Stdout, "all in under a second: yes") {
		t.Fatalf("natively the sparse file calls are slow:\n%s", native.Stdout)
	}
	forEveryPlatform(t, func(t *testing.T, platform string) {
		t.Run("fds", func(t *testing.T) {
			const want = "RLIMIT_NOFILE past nr_open: EPERM\nopen 1048576\nstopped by EMFILE\nlast/first: under 50\ndup into a hole: 10\n"
			w := runUKWatched(t, platform, prog, runSpec{Args: []string{"fill", "1048576"}})
			if w.Stdout != want || w.Code != 0 {
				t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", w.Code, w.Stdout, want, clip(w.Stderr))
			}
			if w.Elapsed > 20*time.Second {
				t.Errorf("a million descriptors took %v", w.Elapsed)
			}
			t.Logf("%v, peak RSS %d MiB; %s", w.Elapsed, w.MaxRSSKiB>>10, strings.TrimSpace(w.Stderr))
		})
		t.Run("sparse", func(t *testing.T) {
			r := runUKSpec(t, platform, prog, runSpec{Args: []string{"sparse"}})
			sameAsNative(t, native, r)
		})
		t.Run("hostfds", func(t *testing.T) {
			// uk with a limit of 4096 host fds, a quarter of which it
			// keeps for itself; the program opens a host file (itself,
			// through a bind mount: a host fd each) until it cannot.
			const want = "opens stopped by ENFILE\nfork after them: works\npipe after them: works\n"
			dir, name := filepath.Split(prog)
			spec := runSpec{Args: []string{"hostfds", "/hostfiles/" + name}, Flags: []string{"--bind", dir + ":/hostfiles:ro"}}
			argv := append([]string{"-c", `ulimit -n 4096 && exec "$0" "$@"`, ukBin}, ukRunArgv(platform, prog, spec)...)
			r := runProcess(t, "/bin/sh", argv, ukTestEnv(), "")
			if r.Stdout != want || r.Code != 0 {
				t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
			}
			t.Log(strings.TrimSpace(r.Stderr))
		})
		t.Run("killed", func(t *testing.T) {
			const want = "mincore: killed within a second: yes\nmove_pages: killed within a second: yes\nkeyctl: killed within a second: yes\n"
			r := runUKSpec(t, platform, prog, runSpec{Args: []string{"killed"}})
			if r.Stdout != want || r.Code != 0 {
				t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
			}
		})
	})
}

// memBound is what uk may hold beyond --mem (README.md, "Resource
// limits"): 64 MiB, and 64 KiB per task --pids allows.
func memBound(memMiB, pids int64) int64 { return (memMiB+64)<<20 + pids*64<<10 }

// TestHostileMemory: a program cannot make uk hold more than --mem plus
// the stated bound however it asks. writev of 2 GiB made of one 2 MiB
// buffer repeated (from three threads, then blocked on a full pipe) is
// copied through bounded buffers; pipes grown to 1 MiB and unix sockets
// with 1 GiB send buffers fill only until the sandbox's memory is spent
// (ENOMEM, ENOBUFS); a 512 MiB datagram is ENOBUFS; open files, huge
// descriptor tables, socket filters, AIO rings and the contents open
// /proc files keep are charged too (ENOMEM), and so are the markers of
// pages a userfaultfd poisoned, which no page bounds, epoll interests,
// Landlock rules in rulesets and in the layers stacked from them,
// unix sockets passed over themselves and closed (collected, as Linux's
// unix_gc, while a socket in flight on an open queue survives), and the
// names a
// tmpfs directory keeps (entries, symbolic links' targets). Before these bounds the
// writev run took uk past 17 GiB and the sockets run past 13 GiB.
func TestHostileMemory(t *testing.T) {
	prog := cProgram(t, "hostile_mem")
	const pids = 16
	forEveryPlatform(t, func(t *testing.T, platform string) {
		for _, c := range []struct {
			name   string
			args   []string
			mem    int64 // MiB
			pids   int64
			stdout string
		}{
			{"writev", []string{"writev", "3"}, 256, pids, "hostile_mem writev\none writev to /dev/null: 2046 MiB\nwriters still alive\n"},
			{"pipes", []string{"pipes", "1500"}, 256, pids, "hostile_mem pipes\npipes: stopped by ENOMEM\n"},
			{"sockets", []string{"sockets", "200"}, 256, pids, "hostile_mem sockets\nsockets: stopped by ENOBUFS\n"},
			{"dgram", []string{"dgram"}, 256, pids, "hostile_mem dgram\n512 MiB datagram: ENOBUFS\n"},
			{"files", []string{"files"}, 16, pids, "hostile_mem files\nfiles: stopped by ENOMEM\n"},
			{"tables", []string{"tables", "64"}, 256, 80, "hostile_mem tables\ntables: ENOMEM once memory was spent\n"},
			{"filters", []string{"filters"}, 16, pids, "hostile_mem filters\nfilters: setsockopt stopped by ENOMEM\n"},
			{"mqueues", []string{"mqueues"}, 64, pids, "hostile_mem mqueues\nmqueues: stopped by ENOMEM\n"},
			{"sysv", []string{"sysv"}, 16, pids, "hostile_mem sysv\nmsgsnd: stopped by ENOMEM\nsemget: stopped by ENOMEM\n"},
			{"aio", []string{"aio"}, 16, pids, "hostile_mem aio\naio: stopped by ENOMEM\n"},
			{"procfiles", []string{"procfiles"}, 128, pids, "hostile_mem procfiles\nprocfiles: stopped by ENOMEM\n"},
			{"poison", []string{"poison"}, 16, pids, "hostile_mem poison\npoison: stopped by ENOMEM\n"},
			{"epoll", []string{"epoll"}, 16, pids, "hostile_mem epoll\nepoll: stopped by ENOMEM\n"},
			{"cycles", []string{"cycles"}, 16, pids, "hostile_mem cycles\ncycles: 20000 made\nthe socket in flight on an open queue: works\n"},
			{"landlock", []string{"landlock"}, 16, pids, "hostile_mem landlock\nlandlock: layers stopped by ENOMEM\n"},
			{"names", []string{"names"}, 16, pids, "hostile_mem names\nsymlinks: stopped by ENOSPC\nhard links: stopped by ENOSPC\nsymlinks again after removing them: as many\n"},
		} {
			t.Run(c.name, func(t *testing.T) {
				flags := []string{"--mem", strconv.FormatInt(c.mem, 10) + "M", "--pids", strconv.FormatInt(c.pids, 10)}
				w := runUKWatched(t, platform, prog, runSpec{Args: c.args, Flags: flags})
				if w.Stdout != c.stdout || w.Code != 0 {
					t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", w.Code, w.Stdout, c.stdout, clip(w.Stderr))
				}
				if bound := memBound(c.mem, c.pids); w.MaxRSSKiB<<10 > bound {
					t.Errorf("uk's peak RSS %d MiB, over the bound of %d MiB for --mem %dM --pids %d", w.MaxRSSKiB>>10, bound>>20, c.mem, c.pids)
				}
				t.Logf("%s: peak RSS %d MiB (bound %d MiB), %v; %s", c.name, w.MaxRSSKiB>>10, memBound(c.mem, c.pids)>>20, w.Elapsed, strings.TrimSpace(w.Stderr))
			})
		}
	})
}
