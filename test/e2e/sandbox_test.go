package e2e

// uk run as a CI sandbox: the host's own tree as the root (--rootfs /),
// --bind of directories the tests make, --tmpfs, and the limits
// (--timeout, --cpu-time, --chdir, --user).
//
// Safety: no test here may change a host file it does not own. Writes in
// a --rootfs view go to new names only (and a leak is removed and
// reported); everything else writes into directories under t.TempDir().

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uk/internal/testenv"
)

// needPython3 returns the host's python3 (a real file, for --rootfs /).
func needPython3(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "/bin/python3"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Need(t, "/usr/bin/python3", "the host's Python runs from --rootfs /")
	return ""
}

// hostSh is the host's /bin/sh, dynamically linked: run from --rootfs /.
const hostSh = "/bin/sh"

// TestRootfsHostTree runs the host's own shell and tools with the host's
// root as the sandbox's, and compares with native runs; the standard
// mounts exist whatever the tree has.
func TestRootfsHostTree(t *testing.T) {
	script := `echo hi from $(basename $0); ls /usr/bin/env; cat /etc/os-release | head -1; ` +
		`printf '%s\n' a b c | sort -r | tr '\n' ' '; echo; ` +
		`wc -c < /bin/sh > /dev/null && echo read-ok`
	native := runNativeSpec(t, hostSh, runSpec{Args: []string{"-c", script}})
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, hostSh, runSpec{Args: []string{"-c", script}, Flags: []string{"--rootfs", "/"}})
		sameAsNative(t, native, r)
		// The sandbox's own /proc, /dev (with shm and pts), /sys and a
		// writable /tmp.
		check := `test -r /proc/self/status && test -c /dev/null && test -d /dev/shm && test -d /dev/pts && ` +
			`test -d /sys && echo x > /tmp/f && cat /tmp/f && grep -c ' /tmp tmpfs' /proc/mounts`
		r = runUKSpec(t, platform, hostSh, runSpec{Args: []string{"-c", check}, Flags: []string{"--rootfs", "/"}})
		if r.Code != 0 || r.Stdout != "x\n1\n" {
			t.Errorf("standard mounts: exit %d, stdout %q, stderr %s", r.Code, r.Stdout, clip(r.Stderr))
		}
	})
}

// TestRootfsWritesStayInSandbox: a new file in a host directory seen
// through --rootfs / exists in the sandbox only.
func TestRootfsWritesStayInSandbox(t *testing.T) {
	name := fmt.Sprintf("/etc/uk-sandbox-test-%d", os.Getpid())
	t.Cleanup(func() {
		if _, err := os.Lstat(name); err == nil {
			os.Remove(name)
			t.Errorf("%s leaked to the host", name)
		}
	})
	forEachPlatform(t, func(t *testing.T, platform string) {
		script := fmt.Sprintf(`echo private > %[1]s && cat %[1]s && chmod 600 /etc/passwd && stat -c %%a /etc/passwd`, name)
		r := runUKSpec(t, platform, hostSh, runSpec{Args: []string{"-c", script}, Flags: []string{"--rootfs", "/"}})
		if r.Code != 0 || r.Stdout != "private\n600\n" {
			t.Errorf("exit %d, stdout %q, stderr %s", r.Code, r.Stdout, clip(r.Stderr))
		}
		if st, err := os.Stat("/etc/passwd"); err != nil || st.Mode().Perm() == 0o600 {
			t.Errorf("host /etc/passwd mode %v, %v after the sandbox's chmod", st.Mode(), err)
		}
	})
}

// TestRootfsOverlayCopy: on a tree the test owns, a sandbox that edits,
// removes and renames host files leaves the tree as it was.
func TestRootfsOverlayCopy(t *testing.T) {
	needBusybox(t)
	root := t.TempDir()
	for _, d := range []string{"bin", "etc", "data/sub"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTestFile(t, busybox, filepath.Join(root, "bin/busybox"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "data/sub/f"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `cd /data && echo more >> sub/f && cat sub/f && mv sub moved && rm moved/f && ls -a moved && ` +
		`mkdir new && echo n > new/x && ls /data`
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, "/bin/busybox", runSpec{Args: []string{"sh", "-c", script}, Flags: []string{"--rootfs", root}})
		if want := "host\nmore\n.\n..\nmoved\nnew\n"; r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q, want %q; stderr %s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
		if got, err := os.ReadFile(filepath.Join(root, "data/sub/f")); err != nil || string(got) != "host\n" {
			t.Errorf("host data/sub/f = %q, %v", got, err)
		}
		if ents, _ := os.ReadDir(filepath.Join(root, "data")); len(ents) != 1 || ents[0].Name() != "sub" {
			t.Errorf("host data/ holds %v, want [sub]", ents)
		}
	})
}

func copyTestFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestBind: a read-write bind's results are on the host; a read-only one
// refuses writes with EROFS; a shared writable mapping reaches the host.
func TestBind(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		out, in := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(in, "input"), []byte("in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := `cat /in/input > /out/copy && mkdir /out/d && echo r > /out/d/result && mv /out/d/result /out/d/final && ` +
			`ln -s final /out/d/link && (echo x > /in/nope) 2>&1; rm /in/input 2>&1; ls /in`
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", script},
			Flags: []string{"--bind", out + ":/out", "--bind", in + ":/in:ro"}})
		if !strings.Contains(r.Stdout, "Read-only file system") || !strings.HasSuffix(r.Stdout, "input\n") {
			t.Errorf("writes to a :ro bind: stdout %q (want EROFS twice and input kept), stderr %s", r.Stdout, clip(r.Stderr))
		}
		for name, want := range map[string]string{"copy": "in\n", "d/final": "r\n", "d/link": "r\n"} {
			if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(got) != want {
				t.Errorf("host %s = %q, %v; want %q", name, got, err, want)
			}
		}
		if target, err := os.Readlink(filepath.Join(out, "d/link")); err != nil || target != "final" {
			t.Errorf("host symlink d/link -> %q, %v", target, err)
		}
		if ents, _ := os.ReadDir(in); len(ents) != 1 {
			t.Errorf("the read-only bind changed on the host: %v", ents)
		}
	})
}

// TestBindModes: what the sandbox creates in a bind has the mode its
// program asked for less the program's umask, and only that: uk's own
// umask (022 here) cleared group and other write bits a second time.
func TestBindModes(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		out := t.TempDir()
		script := `umask 0 && mkdir /out/d0 && echo > /out/f0 && mkfifo /out/p0 && ` +
			`umask 027 && mkdir /out/d27 && echo > /out/f27`
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", script},
			Flags: []string{"--bind", out + ":/out"}})
		if r.Code != 0 {
			t.Fatalf("exit %d, stderr %s", r.Code, clip(r.Stderr))
		}
		for name, want := range map[string]os.FileMode{"d0": 0o777, "f0": 0o666, "p0": 0o666, "d27": 0o750, "f27": 0o640} {
			st, err := os.Lstat(filepath.Join(out, name))
			if err != nil || st.Mode().Perm() != want {
				t.Errorf("host %s: %v, %v; want mode %v", name, st.Mode(), err, want)
			}
		}
	})
}

func init() { otherCPrograms = append(otherCPrograms, "map_big_file") }

// TestMappedFileBiggerThanMemory: a program reads, twice, a 160 MiB file of
// a read-only bind through a private mapping under --mem 96M. The file's
// page cache cannot all stay: its clean pages go back under pressure (the
// OOM path reclaims mapped caches before it kills) and are read again, as
// Linux evicts and rereads page cache. Before, the program was OOM-killed.
func TestMappedFileBiggerThanMemory(t *testing.T) {
	prog := cProgram(t, "map_big_file")
	dir := t.TempDir()
	const pages = 160 << 20 >> 12
	buf := make([]byte, pages*4096)
	var want uint64
	for i := 0; i < pages; i++ {
		b := byte(i % 251)
		for j := i * 4096; j < (i+1)*4096; j += 512 {
			buf[j] = b // a non-zero byte in every 512: the pages are real
		}
		want += 2 * uint64(b)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, prog, runSpec{Args: []string{"/d/big"},
			Flags: []string{"--mem", "96M", "--bind", dir + ":/d:ro"}})
		if wantOut := fmt.Sprintf("pages %d sum %d\n", pages, want); r.Code != 0 || r.Stdout != wantOut {
			t.Errorf("exit %d, stdout %q; want 0, %q\nstderr:\n%s", r.Code, r.Stdout, wantOut, clip(r.Stderr))
		}
	})
}

// TestRunFindsProgram: `uk run` finds PROG as a shell does. Without
// --rootfs a bare name is looked up in uk's PATH on the host; with
// --rootfs in the sandbox's PATH (--env may change it, a bind may hold
// the program), and a relative path starts at --chdir. argv[0] stays what
// the user typed, as natively.
func TestRunFindsProgram(t *testing.T) {
	needBusybox(t)
	bin := t.TempDir()
	script := "#!/bin/sh\necho script $0 $1\n"
	if err := os.WriteFile(filepath.Join(bin, "ukscript"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "noexec"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		cases := []struct {
			prog  string
			args  []string
			flags []string
			want  string
		}{
			{"busybox", []string{"echo", "host-path"}, nil, "host-path\n"},
			{"sh", []string{"-c", "echo $0"}, []string{"--rootfs", "/"}, "sh\n"},
			{"ukscript", []string{"a"}, []string{"--rootfs", "/", "--bind", bin + ":/b:ro", "--env", "PATH=/usr/bin:/b"},
				"script /b/ukscript a\n"},
			{"./ukscript", []string{"b"}, []string{"--rootfs", "/", "--bind", bin + ":/b:ro", "--chdir", "/b"},
				"script /b/ukscript b\n"},
		}
		for _, tc := range cases {
			r := runUKSpec(t, platform, tc.prog, runSpec{Args: tc.args, Flags: tc.flags})
			if r.Code != 0 || r.Stdout != tc.want {
				t.Errorf("uk run %v -- %s %q: exit %d, stdout %q (want %q), stderr %s", tc.flags, tc.prog, tc.args,
					r.Code, r.Stdout, tc.want, clip(r.Stderr))
			}
		}
		// Not found, or found but not executable: one line, status 1.
		for _, tc := range []struct {
			prog  string
			flags []string
			want  string
		}{
			{"uk-no-such-program", nil, "not found in PATH"},
			{"uk-no-such-program", []string{"--rootfs", "/"}, "not found in the sandbox's PATH"},
			{"noexec", []string{"--rootfs", "/", "--bind", bin + ":/b:ro", "--env", "PATH=/b"}, "not executable"},
		} {
			r := runUKSpec(t, platform, tc.prog, runSpec{Flags: tc.flags})
			if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("uk run %v -- %s: exit %d, stderr %q; want status 1 and one line with %q", tc.flags, tc.prog,
					r.Code, r.Stderr, tc.want)
			}
		}
	})
}

// TestBindSharedMapping: what a MAP_SHARED writable mapping of a file in a
// read-write bind writes is on the host after the program ends.
func TestBindSharedMapping(t *testing.T) {
	py := needPython3(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		dir := t.TempDir()
		f := filepath.Join(dir, "shared")
		if err := os.WriteFile(f, []byte("aaaaaaaa"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := `import mmap, os
fd = os.open("/w/shared", os.O_RDWR)
m = mmap.mmap(fd, 0)
m[2:4] = b"ZZ"
print(os.pread(fd, 8, 0))
m.close()`
		r := runUKSpec(t, platform, py, runSpec{Args: []string{"-c", script}, Flags: []string{"--rootfs", "/", "--bind", dir + ":/w"}})
		if r.Code != 0 || r.Stdout != "b'aaZZaaaa'\n" {
			t.Errorf("exit %d, stdout %q, stderr %s", r.Code, r.Stdout, clip(r.Stderr))
		}
		if got, _ := os.ReadFile(f); string(got) != "aaZZaaaa" {
			t.Errorf("host file %q after the shared mapping's write", got)
		}
	})
}

// TestBindEscapes plants symlinks in a bound directory that point out of
// it (to a secret beside it, by absolute path and through ..), and races
// renames against .. walks inside the sandbox: nothing outside the bind is
// read, written or created.
func TestBindEscapes(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		base := t.TempDir()
		bound := filepath.Join(base, "bound")
		secret := filepath.Join(base, "secret")
		if err := os.MkdirAll(filepath.Join(bound, "a/b/c"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(secret, []byte("TOP SECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for name, target := range map[string]string{
			"abs": secret, "rel": "../secret", "deep": "a/../../secret", "dir": base, "shadow": "/etc/shadow",
			"newfile": filepath.Join(base, "created"), "a/b/up": "../../../../secret",
		} {
			if err := os.Symlink(target, filepath.Join(bound, name)); err != nil {
				t.Fatal(err)
			}
		}
		// Paths that leave /b resolve in the sandbox's own root, where
		// the writes below may make a /secret of its own: only the host's
		// text is a leak.
		script := `cd /b; for l in abs rel deep dir/secret shadow a/b/up ../secret ../../secret a/b/c/../../../../secret; do cat $l 2>/dev/null; done; ` +
			`echo pwned > newfile 2>/dev/null; echo pwned > abs 2>/dev/null; echo pwned > rel 2>/dev/null; ` +
			`(i=0; while [ $i -lt 25 ]; do mv a/b x 2>/dev/null; mv x a/b 2>/dev/null; i=$((i+1)); done) & ` +
			`i=0; while [ $i -lt 25 ]; do cat a/b/c/../../../../secret x/c/../../../secret 2>/dev/null; i=$((i+1)); done; wait; ` +
			`echo done`
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", script}, Flags: []string{"--bind", bound + ":/b"}})
		if strings.Contains(r.Stdout, "SECRET") || !strings.HasSuffix(r.Stdout, "done\n") {
			t.Errorf("the sandbox read outside its bind, or did not finish:\n%s\nstderr:\n%s", clip(r.Stdout), clip(r.Stderr))
		}
		if got, err := os.ReadFile(secret); err != nil || string(got) != "TOP SECRET\n" {
			t.Errorf("host secret = %q, %v", got, err)
		}
		if ents, _ := os.ReadDir(base); len(ents) != 2 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("beside the bind the host now has %v, want [bound secret]", names)
		}
	})
}

// TestTimeout: at the deadline every process is killed (children that
// would write later never do) and uk exits 124 with one line. The
// sandbox stops as one: a subshell whose sleep was killed first must not
// run on to print "Killed" and write its file (it did in one CI run, when
// uk killed the processes one after another); a dozen of them make that
// race likely enough to be seen.
func TestTimeout(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		out := t.TempDir()
		script := `for i in 1 2 3 4 5 6 7 8 9 10 11 12; do (sleep 3; echo late > /out/late$i) & done; ` +
			`(while :; do :; done) & while :; do :; done`
		start := time.Now()
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", script},
			Flags: []string{"--timeout", "1s", "--bind", out + ":/out"}})
		took := time.Since(start)
		if r.Code != 124 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "--timeout 1s") {
			t.Errorf("exit %d, stderr %q; want 124 and one line naming --timeout", r.Code, r.Stderr)
		}
		if took > 2*time.Second+500*time.Millisecond {
			t.Errorf("uk ended %v after start with --timeout 1s", took)
		}
		time.Sleep(3 * time.Second)
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("%d children outlived the timeout and wrote to /out (%s first)", len(ents), ents[0].Name())
		}
	})
}

// TestCPUTime: --cpu-time ends a busy loop, counted across processes.
func TestCPUTime(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		start := time.Now()
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", `(while :; do :; done) & while :; do :; done`},
			Flags: []string{"--cpu-time", "1s"}})
		if r.Code != 152 || !strings.Contains(r.Stderr, "--cpu-time 1s") {
			t.Errorf("exit %d, stderr %q; want 152 and a line naming --cpu-time", r.Code, r.Stderr)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("a 1s CPU limit took %v of wall time to trip", took)
		}
	})
}

// TestRunIdentity: --user, --chdir and --tmpfs, and the one-line errors
// of their mistakes.
func TestRunIdentity(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", `id -u; id -g; pwd; touch /scratch/f && ls /scratch; touch /etc/x 2>/dev/null || echo denied`},
			Flags: []string{"--user", "1000:100", "--chdir", "/tmp", "--tmpfs", "/scratch"}})
		if want := "1000\n100\n/tmp\nf\ndenied\n"; r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q, want %q; stderr %s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
	for _, flags := range [][]string{{"--user", "x"}, {"--chdir", "/nonexistent"}, {"--bind", "/nonexistent:/x"}, {"--bind", "/tmp"}, {"--tmpfs", "rel"}, {"--timeout", "soon"}} {
		r := runUKCommand(t, append(append([]string{"run"}, flags...), "--", busybox, "true"), "")
		if r.Code == 0 || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "uk: ") {
			t.Errorf("uk run %q: exit %d, stderr %q; want non-zero and one line", flags, r.Code, r.Stderr)
		}
	}
}

// TestRootfsStartup: with --rootfs / uk starts about as fast as without a
// tree (the host tree is not copied).
func TestRootfsStartup(t *testing.T) {
	needBusybox(t)
	if _, err := exec.LookPath("true"); err != nil {
		testenv.Need(t, "true", "the host's /bin/true starts from --rootfs /")
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		best := func(flags ...string) time.Duration {
			var min time.Duration
			for i := 0; i < 5; i++ {
				prog, args := busybox, []string{"true"}
				if len(flags) > 0 {
					prog, args = "/bin/true", nil
				}
				r := runUKSpec(t, platform, prog, runSpec{Args: args, Flags: flags})
				if r.Code != 0 {
					t.Fatalf("exit %d: %s", r.Code, clip(r.Stderr))
				}
				if min == 0 || r.Elapsed < min {
					min = r.Elapsed
				}
			}
			return min
		}
		plain, host := best(), best("--rootfs", "/")
		t.Logf("uk run -- busybox true: %v; uk run --rootfs / -- /bin/true: %v", plain, host)
		if host > 3*plain+50*time.Millisecond {
			t.Errorf("--rootfs / starts in %v, busybox alone in %v", host, plain)
		}
	})
}

// TestRealPrograms runs what real jobs met: bash reporting a crash (no
// "(core dumped)": uk writes no core). java -version (the vsyscall page,
// getcpu) and GNU sort of 10 MB (sysinfo) are in the workload suite
// (workload_test.go).
func TestRealPrograms(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		testenv.Need(t, "/bin/bash", "bash reports how its child died")
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, "/bin/bash", runSpec{Args: []string{"-c", `sh -c 'kill -SEGV $$'; echo status $?`},
			Flags: []string{"--rootfs", "/"}})
		if r.Stdout != "status 139\n" || strings.Contains(r.Stderr, "core dumped") || !strings.Contains(r.Stderr, "Segmentation fault") {
			t.Errorf("bash: stdout %q, stderr %q; want status 139 and no core dump", r.Stdout, r.Stderr)
		}
	})
}

// runReport is --report's JSON as documented (README); the e2e tests read
// it as any consumer would, from the field names, not from uk's own type
// (runflags.go), so a renamed field fails here.
type runReport struct {
	ExitStatus   int            `json:"exit_status"`
	Signal       string         `json:"signal,omitempty"`
	Limit        string         `json:"limit,omitempty"`
	WallSec      float64        `json:"wall_seconds"`
	CPUSec       float64        `json:"cpu_seconds"`
	PeakMemory   int64          `json:"peak_memory_bytes"`
	TasksCreated int64          `json:"tasks_created"`
	ENOSYS       map[string]int `json:"enosys"`
	OOMKills     []struct {
		PID  int32  `json:"pid"`
		Comm string `json:"comm"`
	} `json:"oom_kills"`
	OOMKillsTotal int `json:"oom_kills_total"`
}

// TestReport: --report's JSON says how the run ended, what it used, which
// limit tripped, which unimplemented syscalls were called how often, and
// which processes the OOM killer killed (the job itself: limit "mem").
func TestReport(t *testing.T) {
	needBusybox(t)
	enosys := cProgram(t, "enosys")
	oom := cProgram(t, "hostile_oom")
	forEachPlatform(t, func(t *testing.T, platform string) {
		dir := t.TempDir()
		read := func(name string) runReport {
			t.Helper()
			var rep runReport
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				err = json.Unmarshal(b, &rep)
			}
			if err != nil {
				t.Fatalf("--report %s: %v", name, err)
			}
			return rep
		}
		runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", "busybox true; exit 3"},
			Flags: []string{"--report", filepath.Join(dir, "a.json")}})
		if rep := read("a.json"); rep.ExitStatus != 3 || rep.Limit != "" || rep.TasksCreated < 2 ||
			rep.PeakMemory <= 0 || rep.WallSec <= 0 || rep.Signal != "" || len(rep.ENOSYS) != 0 {
			t.Errorf("a normal run's report: %+v", rep)
		}
		runUKSpec(t, platform, enosys, runSpec{Flags: []string{"--report", filepath.Join(dir, "b.json")}})
		if rep := read("b.json"); rep.ENOSYS["syscall_387"] != 2 || rep.ENOSYS["syscall_400"] != 1 || rep.ENOSYS["syscall_1000"] != 1 {
			t.Errorf("the unimplemented syscalls are not reported: %+v", rep.ENOSYS)
		}
		runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", "while :; do :; done"},
			Flags: []string{"--report", filepath.Join(dir, "c.json"), "--timeout", "1s"}})
		if rep := read("c.json"); rep.ExitStatus != 124 || rep.Limit != "timeout" || rep.CPUSec <= 0.3 {
			t.Errorf("a timed-out run's report: %+v", rep)
		}
		runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", "kill -KILL $$"},
			Flags: []string{"--report", filepath.Join(dir, "d.json")}})
		if rep := read("d.json"); rep.ExitStatus != 137 || rep.Signal != "SIGKILL" || len(rep.OOMKills) != 0 {
			t.Errorf("a killed run's report: %+v", rep)
		}
		// A child OOM-killed: the job goes on, and the report names it.
		r := runUKSpec(t, platform, oom, runSpec{Args: []string{"hog", "40"},
			Flags: []string{"--report", filepath.Join(dir, "e.json"), "--mem", "128M"}})
		victim := victimPID(t, r.Stdout)
		if rep := read("e.json"); rep.ExitStatus != 0 || rep.Limit != "" || rep.OOMKillsTotal != 1 || len(rep.OOMKills) != 1 ||
			fmt.Sprint(rep.OOMKills[0].PID) != victim || rep.OOMKills[0].Comm != "hostile_oom" {
			t.Errorf("a run with an OOM-killed child (%s): %+v", victim, rep)
		}
		// The job itself OOM-killed: limit "mem".
		runUKSpec(t, platform, oom, runSpec{Args: []string{"self"},
			Flags: []string{"--report", filepath.Join(dir, "f.json"), "--mem", "64M"}})
		if rep := read("f.json"); rep.ExitStatus != 137 || rep.Limit != "mem" || rep.Signal != "SIGKILL" || rep.OOMKillsTotal != 1 {
			t.Errorf("an OOM-killed job's report: %+v", rep)
		}
	})
}
