package e2e

// The CI workload suite: what a CI job runs (python3, perl, git, gcc,
// make, sort, tar, sha256sum, find, go build/test, java, node), each run
// from the host's own userland (--rootfs /) in a work directory bound
// read-write at its own path, and compared with the same command run
// natively: stdout and exit status must be equal, and what the job left
// in the work directory is checked on the host afterwards.
//
// Each workload is small (seconds natively): the whole table is meant to
// stay within a few minutes per platform on a loaded 2-CPU machine.
// docs/bench/workloads.sh times the same jobs for docs/BENCHMARKS.md.
//
// Safety: every write goes to a t.TempDir(); the host tree is only read
// (--rootfs / is a read-only view with a private writable layer).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"uk/internal/testenv"
)

// workload is one CI job of the suite.
type workload struct {
	name string
	// tools are the commands (looked up in the sandbox's PATH) the job
	// runs; a missing one is a missing environment (testenv.Need).
	tools []string
	// files are written into the work directory before each run.
	files map[string]string
	// setup prepares more of the work directory on the host (inputs too
	// big to spell out, a class compiled with javac).
	setup func(tb testing.TB, dir string)
	// script is run by the host's /bin/sh in the work directory, with
	// HOME set to it.
	script string
	// env adds K=V (after HOME); "$W" in a value is the work directory.
	env []string
	// check looks at what the job left in the work directory, on the
	// host (it runs after the native run too, so a check that the native
	// job fails is caught as a broken test, not blamed on uk).
	check func(t *testing.T, dir, stdout string)
	// limit bounds one run (native or under uk); 0 is 60 s.
	limit time.Duration
	// shared is the directory the runs share ("$C" in env; bound at its
	// own path): the host's Go build cache for the go workload, as a CI
	// job binds its runner's cache. Nil: a fresh temporary one.
	shared func() string
}

// workloadPath is the PATH of the jobs: the sandbox's default plus Go's.
const workloadPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin"

// lookTool finds name in workloadPath as the jobs will (the test's own
// PATH may hold shims, such as pyenv's, that the jobs do not see).
func lookTool(name string) (string, bool) {
	for _, d := range filepath.SplitList(workloadPath) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// workloads is the suite. Every script prints only what does not depend
// on the work directory's name or the time, so that native and sandboxed
// runs compare byte for byte.
var workloads = []workload{
	{
		name:   "python3",
		tools:  []string{"python3"},
		files:  map[string]string{"w.py": pythonWorkload},
		script: `printf '0123456789' > data && python3 w.py`,
		check: func(t *testing.T, dir, stdout string) {
			var res map[string]any
			b, err := os.ReadFile(filepath.Join(dir, "result.json"))
			if err == nil {
				err = json.Unmarshal(b, &res)
			}
			if err != nil || fmt.Sprint(res["pool"]) != "[0 1 4 9 16 25 36 49 64 81]" || res["http"] != "hello from http.server" {
				t.Errorf("result.json on the host: %v, %v", res, err)
			}
			if db, err := os.ReadFile(filepath.Join(dir, "w.db")); err != nil || !bytes.HasPrefix(db, []byte("SQLite format 3\x00")) {
				t.Errorf("w.db on the host is not an SQLite database: %v", err)
			}
			// The shared mapping wrote through to the host file, the
			// private one did not.
			if d, _ := os.ReadFile(filepath.Join(dir, "data")); string(d) != "SH23456789" {
				t.Errorf("data on the host after the mappings: %q, want SH23456789", d)
			}
		},
	},
	{
		name:   "perl",
		tools:  []string{"perl"},
		files:  map[string]string{"w.pl": perlWorkload},
		script: `perl w.pl`,
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "perl.out")); err != nil || !strings.HasPrefix(string(b), "0=") {
				t.Errorf("perl.out on the host: %q, %v", b, err)
			}
		},
	},
	{
		name:  "git",
		tools: []string{"git"},
		env: []string{"GIT_AUTHOR_DATE=2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z",
			"GIT_CONFIG_NOSYSTEM=1"},
		script: `git init -q -b main r && cd r && git config user.email ci@uk && git config user.name ci && ` +
			`seq 1 500 > f && git add f && git commit -qm one && echo two >> f && mkdir d && echo x > d/x && git add d && git commit -qam two && ` +
			`git log --format='%H %s' && git diff --stat HEAD~1 && git gc -q && git count-objects -v | grep -c pack`,
		check: func(t *testing.T, dir, stdout string) {
			fsck := exec.Command("git", "-C", filepath.Join(dir, "r"), "fsck", "--strict")
			if out, err := fsck.CombinedOutput(); err != nil {
				t.Errorf("git fsck on the host: %v\n%s", err, out)
			}
			out, err := exec.Command("git", "-C", filepath.Join(dir, "r"), "log", "--format=%H %s").Output()
			if err != nil || !strings.HasPrefix(stdout, string(out)) {
				t.Errorf("git log on the host: %q, %v; the job printed %q", out, err, stdout)
			}
		},
	},
	{
		name:   "gcc",
		tools:  []string{"gcc"},
		files:  map[string]string{"m.c": cWorkload},
		script: `gcc -O2 -Wall -Werror -o m m.c -lm && ./m`,
		check:  checkRunsOnHost("m", "sum 5000050000"),
	},
	{
		name:  "make",
		tools: []string{"make", "gcc"},
		files: map[string]string{
			"Makefile": "OBJS = a.o b.o c.o d.o main.o\nprog: $(OBJS)\n\tgcc -o $@ $(OBJS)\n%.o: %.c\n\tgcc -O1 -c -o $@ $<\n" +
				"main.c:\n\tprintf '#include <stdio.h>\\nint a(void); int b(void); int c(void); int d(void);\\nint main(void) { printf(\"make %%d\\\\n\", a() + b() + c() + d()); return 0; }\\n' > $@\n",
			"a.c": "int a(void) { return 1; }\n", "b.c": "int b(void) { return 20; }\n",
			"c.c": "int c(void) { return 300; }\n", "d.c": "int d(void) { return 4000; }\n",
		},
		script: `make -s -j2 && ./prog && make -s -j2 && echo rebuilt nothing`,
		check:  checkRunsOnHost("prog", "make 4321"),
	},
	{
		name:  "sort",
		tools: []string{"sort", "sha256sum"},
		setup: func(t testing.TB, dir string) {
			// 10 MB of lines in a scrambled order (deterministic).
			var b bytes.Buffer
			for i := 0; b.Len() < 10<<20; i++ {
				fmt.Fprintf(&b, "%08d line %d of the input\n", (i*7919)%1000003, i)
			}
			writeFile(t, filepath.Join(dir, "in.txt"), b.Bytes())
		},
		script: `sort -o sorted in.txt && sha256sum sorted && sort -t' ' -k3,3n in.txt | tail -n1 && wc -l < sorted`,
		check: func(t *testing.T, dir, stdout string) {
			b, err := os.ReadFile(filepath.Join(dir, "sorted"))
			lines := strings.SplitAfter(string(b), "\n")
			if err != nil || len(b) < 10<<20 || !sort.StringsAreSorted(lines[:len(lines)-1]) {
				t.Errorf("sorted on the host: %d bytes, %v, or not in order", len(b), err)
			}
		},
	},
	{
		name:  "tar",
		tools: []string{"tar", "gzip", "diff"},
		setup: func(t testing.TB, dir string) {
			for i := 0; i < 200; i++ {
				p := filepath.Join(dir, "src", fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%03d", i))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFile(t, p, bytes.Repeat([]byte(fmt.Sprintf("file %d\n", i)), 1+i*37))
			}
			if err := os.Symlink("d0/f000", filepath.Join(dir, "src", "link")); err != nil {
				t.Fatal(err)
			}
		},
		script: `tar czf a.tgz src && mkdir x && tar xzf a.tgz -C x && diff -r src x/src && echo same && tar tzf a.tgz | sort | sha256sum && readlink x/src/link`,
		check: func(t *testing.T, dir, stdout string) {
			out, err := exec.Command("tar", "tzf", filepath.Join(dir, "a.tgz")).Output()
			if err != nil || strings.Count(string(out), "\n") != 212 {
				t.Errorf("tar tzf a.tgz on the host: %d entries, %v; want 212", strings.Count(string(out), "\n"), err)
			}
		},
	},
	{
		name:  "sha256sum",
		tools: []string{"sha256sum"},
		setup: func(t testing.TB, dir string) {
			for i, n := range []int{0, 1, 4096, 1 << 20, 8 << 20} {
				writeFile(t, filepath.Join(dir, fmt.Sprintf("in%d", i)), bytes.Repeat([]byte{byte('a' + i)}, n))
			}
		},
		script: `sha256sum in* | tee sums && sha256sum -c --quiet sums && echo ok`,
		check: func(t *testing.T, dir, stdout string) {
			c := exec.Command("sha256sum", "-c", "--quiet", "sums")
			c.Dir = dir
			if out, err := c.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c of the job's sums on the host: %v\n%s", err, out)
			}
		},
	},
	{
		name:  "find",
		tools: []string{"find", "sha256sum"},
		script: `find /usr/include /usr/share/perl5 /etc/ssl > list && sort list | sha256sum && wc -l < list && ` +
			`find /usr/include -name 'std*.h' -type f | sort | head -n3 && find /usr/lib -maxdepth 2 -type l | wc -l`,
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "list")); err != nil || !bytes.Contains(b, []byte("/usr/include/stdio.h\n")) {
				t.Errorf("the list on the host: %v, or no stdio.h", err)
			}
		},
	},
	{
		name:  "go",
		tools: []string{"go"},
		files: map[string]string{
			"go.mod":          "module example.com/w\n\ngo 1.21\n",
			"main.go":         "package main\n\nimport (\n\t\"fmt\"\n\t\"sync\"\n\n\t\"example.com/w/lib\"\n)\n\nfunc main() {\n\tvar wg sync.WaitGroup\n\tout := make([]int, 8)\n\tfor i := range out {\n\t\twg.Add(1)\n\t\tgo func(i int) { defer wg.Done(); out[i] = lib.Fib(i + 20) }(i)\n\t}\n\twg.Wait()\n\tfmt.Println(\"fib\", out)\n}\n",
			"lib/lib.go":      "// Package lib is the workload's library.\npackage lib\n\n// Fib is the n-th Fibonacci number.\nfunc Fib(n int) int {\n\tif n < 2 {\n\t\treturn n\n\t}\n\treturn Fib(n-1) + Fib(n-2)\n}\n",
			"lib/lib_test.go": "package lib\n\nimport \"testing\"\n\nfunc TestFib(t *testing.T) {\n\tif Fib(20) != 6765 {\n\t\tt.Fatal(Fib(20))\n\t}\n}\n",
		},
		// GOCACHE is a bound directory: the host's own build cache, as a
		// CI job binds its runner's (with a fresh one the standard
		// library alone takes a minute to compile natively here). The
		// module itself is compiled in each run (its directory differs).
		env: []string{"GOCACHE=$C/gocache", "GOPATH=$W/gopath", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local",
			"CGO_ENABLED=0", "GOPROXY=off", "GOTELEMETRY=off"},
		script: `go build -o app . && ./app && go vet ./... && go test -count=1 ./... | awk '{print $1, $2}'`,
		check:  checkRunsOnHost("app", "fib [6765 10946 17711 28657 46368 75025 121393 196418]"),
		limit:  2 * time.Minute,
		shared: func() string {
			out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "env", "GOCACHE").Output()
			if dir := strings.TrimSpace(string(out)); err == nil && filepath.IsAbs(dir) && os.MkdirAll(dir, 0o755) == nil {
				return dir
			}
			return ""
		},
	},
	{
		name:  "java",
		tools: []string{"java", "javac"},
		files: map[string]string{"Hello.java": javaWorkload},
		setup: func(t testing.TB, dir string) {
			// The class is compiled on the host (a JRE has no javac).
			c := exec.Command("javac", "-d", dir, filepath.Join(dir, "Hello.java"))
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("javac on the host: %v\n%s", err, out)
			}
		},
		script: `java -version 2>&1 | head -n1 && java -Xmx256m -cp . Hello`,
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "hello.out")); err != nil || string(b) != "sum 499999500000\n" {
				t.Errorf("hello.out on the host: %q, %v", b, err)
			}
		},
		limit: 2 * time.Minute,
	},
	{
		// A C project's memcheck job: valgrind runs the program on its
		// own JIT, finds an overflow and a leak, and fails the job.
		name:   "valgrind",
		tools:  []string{"valgrind", "gcc"},
		files:  map[string]string{"leak.c": valgrindWorkload},
		script: `gcc -g -O0 -o leak leak.c && valgrind -q --leak-check=full --error-exitcode=3 ./leak > out.txt 2> vg.txt; echo "valgrind exit $?"; cat out.txt; echo "vgdb warnings: $(grep -c 'vgdb might block' vg.txt)"; grep -o 'Invalid write of size [0-9]*\|[0-9]* bytes in [0-9]* blocks are definitely lost' vg.txt`,
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "vg.txt")); err != nil || !strings.Contains(string(b), "leak.c:") {
				t.Errorf("vg.txt on the host names no line of leak.c: %q, %v", b, err)
			}
		},
		limit: 2 * time.Minute,
	},
	{
		// A browser test's first step: headless Chromium (no sandbox of
		// its own, as in containers) loads a page, runs its script and
		// writes the resulting DOM, from its zygote, renderer, GPU and
		// network processes.
		name:   "chromium",
		tools:  []string{"chromium"},
		files:  map[string]string{"p.html": chromiumPage},
		script: `chromium --headless --no-sandbox --disable-gpu --user-data-dir="$PWD/profile" --dump-dom "file://$PWD/p.html" 2>/dev/null > dom.html; echo "exit $?"; grep -o 'sum [0-9]*' dom.html`,
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "dom.html")); err != nil || !strings.Contains(string(b), ">sum 5050<") {
				t.Errorf("dom.html on the host: %q, %v", b, err)
			}
		},
		limit: 2 * time.Minute,
	},
	{
		// Tracing a job's programs: strace follows a shell and its
		// children through ptrace's syscall stops (pids stripped, as
		// they differ).
		name:   "strace",
		tools:  []string{"strace", "gcc"},
		files:  map[string]string{"hello.c": "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"hello %d\\n\", (int)getuid()); return 0; }\n"},
		script: `gcc -O1 -o hello hello.c && strace -f -q -e trace=write,exit_group,getuid -e signal=none -o trace.txt /bin/sh -c './hello; ./hello' && sed 's/^[0-9]* *//' trace.txt`,
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "trace.txt")); err != nil || strings.Count(string(b), "+++ exited with 0 +++") != 3 {
				t.Errorf("trace.txt on the host: %q, %v", b, err)
			}
		},
	},
	{
		// Debugging a failing test: gdb stops at a breakpoint (an int3
		// it pokes into the text), walks the stack, reads a variable
		// and a register, and runs the program to its end; then a
		// hardware watchpoint (debug registers) stops it at each change
		// of a variable and at the end of its scope.
		name:  "gdb",
		tools: []string{"gdb", "gcc"},
		files: map[string]string{"g.c": "#include <stdio.h>\nint add(int a, int b) { return a + b; }\nint main(void) { int s = 0; for (int i = 0; i < 3; i++) s = add(s, i); printf(\"sum %d\\n\", s); return 0; }\n"},
		env:   []string{"DEBUGINFOD_URLS="},
		script: `gcc -g -O0 -static -o g g.c && gdb -q -nx -batch -ex 'break add' -ex run -ex bt -ex 'p a' -ex continue -ex 'p b' -ex 'info registers rip' -ex delete -ex continue ./g 2>&1 | sed 's/process [0-9]*/process N/' && ` +
			`gdb -q -nx -batch -ex 'break main' -ex run -ex 'watch s' -ex continue -ex continue -ex continue -ex continue ./g 2>&1 | sed 's/process [0-9]*/process N/'`,
		check: checkRunsOnHost("g", "sum 3"),
	},
	{
		name:   "node",
		tools:  []string{"node"},
		script: `node -e "$(cat w.js)"`,
		files:  map[string]string{"w.js": nodeWorkload},
		check: func(t *testing.T, dir, stdout string) {
			if b, err := os.ReadFile(filepath.Join(dir, "node.out")); err != nil || !strings.HasPrefix(string(b), "gz ") {
				t.Errorf("node.out on the host: %q, %v", b, err)
			}
		},
	},
}

// checkRunsOnHost checks that the program the job built in the work
// directory runs on the host and prints want.
func checkRunsOnHost(prog, want string) func(t *testing.T, dir, stdout string) {
	return func(t *testing.T, dir, stdout string) {
		out, err := exec.Command(filepath.Join(dir, prog)).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s, built in the job, run on the host: %q, %v; want %q", prog, out, err, want)
		}
	}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// need fails (or skips, through testenv.Need) when a tool of the job is
// missing.
func (w *workload) need(tb testing.TB) {
	tb.Helper()
	for _, tool := range w.tools {
		if _, ok := lookTool(tool); !ok {
			testenv.Need(tb, tool, "the "+w.name+" workload runs the host's "+tool+" (.ci/run installs it)")
		}
	}
}

// sharedDir is $C, the directory the job's runs share.
func (w *workload) sharedDir(tb testing.TB) string {
	if w.shared != nil {
		if d := w.shared(); d != "" {
			return d
		}
	}
	return tb.TempDir()
}

// prepare makes a fresh work directory with the job's inputs and returns
// it with the job's environment and its /bin/sh arguments.
func (w *workload) prepare(tb testing.TB, shared string) (dir string, env, args []string) {
	tb.Helper()
	dir = tb.TempDir()
	for name, text := range w.files {
		writeFile(tb, filepath.Join(dir, name), []byte(text))
	}
	if w.setup != nil {
		w.setup(tb, dir)
	}
	env = []string{"PATH=" + workloadPath, "HOME=" + dir}
	for _, kv := range w.env {
		env = append(env, strings.NewReplacer("$W", dir, "$C", shared).Replace(kv))
	}
	return dir, env, []string{"-c", `cd "$1" && ` + w.script, "sh", dir}
}

// timeLimit bounds one run of the job.
func (w *workload) timeLimit() time.Duration {
	if w.limit == 0 {
		return time.Minute
	}
	return w.limit
}

// ukWorkloadFlags are the `uk run` flags of a job: the host's root, the
// work and shared directories bound read-write at their own paths.
func ukWorkloadFlags(dir, shared string) []string {
	return []string{"--rootfs", "/", "--bind", dir + ":" + dir, "--bind", shared + ":" + shared}
}

// TestWorkloads runs each workload natively and then under uk on every
// platform, from --rootfs / with the work directory bound read-write at
// its own path, and compares the two.
func TestWorkloads(t *testing.T) {
	if _, err := os.Stat(hostSh); err != nil {
		testenv.Need(t, hostSh, "the jobs are shell scripts of the host's")
	}
	for _, w := range workloads {
		w := w
		t.Run(w.name, func(t *testing.T) {
			w.need(t)
			shared := w.sharedDir(t)
			dir, env, args := w.prepare(t, shared)
			native := runProcessFor(t, w.timeLimit(), hostSh, args, append(append([]string(nil), nativeEnv...), env...), "")
			if native.TimedOut {
				t.Fatalf("native run: timed out after %v", w.timeLimit())
			}
			checkNative(t, native, 0)
			w.check(t, dir, native.Stdout)
			forEachPlatform(t, func(t *testing.T, platform string) {
				dir, env, args := w.prepare(t, shared)
				r := runUKFor(t, w.timeLimit(), platform, hostSh, runSpec{Args: args, Env: env, Flags: ukWorkloadFlags(dir, shared)})
				sameAsNative(t, native, r)
				if r.Code == 0 && r.Stdout == native.Stdout {
					w.check(t, dir, r.Stdout)
				}
				t.Logf("native %v, uk %v", native.Elapsed.Round(time.Millisecond), r.Elapsed.Round(time.Millisecond))
			})
		})
	}
}

// BenchmarkWorkloads times each job (one run an iteration, its wall time
// from start to exit) natively, under uk on each platform of the matrix,
// and under gVisor's `runsc --network=none do` with -uk.runsc (which reads
// the host's root the same way: a read-only view with a private writable
// layer). A fresh work directory is made outside the timer for every
// run. docs/bench/workloads.sh runs it with -benchtime=1x -count=5 and
// prints the medians as docs/BENCHMARKS.md's table.
func BenchmarkWorkloads(b *testing.B) {
	for _, w := range workloads {
		w := w
		b.Run(w.name, func(b *testing.B) {
			w.need(b)
			shared := w.sharedDir(b)
			type runner struct {
				name string
				run  func(dir string, env, args []string) procResult
			}
			runners := []runner{{"native", func(dir string, env, args []string) procResult {
				return runProcessFor(b, w.timeLimit(), hostSh, args, append(append([]string(nil), nativeEnv...), env...), "")
			}}}
			for _, p := range testPlatforms {
				p := p
				runners = append(runners, runner{"uk-" + p, func(dir string, env, args []string) procResult {
					spec := runSpec{Args: args, Env: env, Flags: ukWorkloadFlags(dir, shared)}
					return runProcessFor(b, w.timeLimit(), ukBin, ukRunArgv(p, hostSh, spec), os.Environ(), "")
				}})
			}
			if *runscFlag != "" {
				runners = append(runners, runner{"runsc", func(dir string, env, args []string) procResult {
					argv := append([]string{"--network=none", "do", hostSh}, args...)
					return runProcessFor(b, w.timeLimit(), *runscFlag, argv, append(append([]string(nil), nativeEnv...), env...), "")
				}})
			}
			for _, r := range runners {
				b.Run(r.name, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						dir, env, args := w.prepare(b, shared)
						b.StartTimer()
						res := r.run(dir, env, args)
						b.StopTimer()
						if res.Code != 0 || res.TimedOut {
							b.Fatalf("%s: exit %d (timed out: %v)\nstdout:\n%s\nstderr:\n%s", r.name, res.Code, res.TimedOut, clip(res.Stdout), clip(res.Stderr))
						}
						b.StartTimer()
					}
				})
			}
		})
	}
}

// runUKFor is runUKSpec with its own time limit (a JVM or a Go build
// under uk takes longer than the test programs' -uk.timeout).
func runUKFor(t *testing.T, limit time.Duration, platform, prog string, spec runSpec) procResult {
	t.Helper()
	needUK(t)
	if err := ukSmoke(t, platform); err != nil {
		t.Fatalf("not running this test: %v", err)
	}
	r := runProcessFor(t, limit, ukBin, ukRunArgv(platform, prog, spec), ukTestEnv(), "")
	if r.TimedOut {
		t.Fatalf("uk run: timed out after %v and was killed\nstdout:\n%s\nstderr:\n%s", limit, clip(r.Stdout), clip(r.Stderr))
	}
	if r.Signaled {
		t.Errorf("uk itself was killed by signal %d (%s)\nstderr:\n%s", r.Code-128, syscall.Signal(r.Code-128), clip(r.Stderr))
	}
	if hasGoPanic(r.Stderr) {
		t.Errorf("uk panicked:\n%s", clip(r.Stderr))
	}
	return r
}

// The jobs' programs.

const pythonWorkload = `
import hashlib, http.server, json, mmap, multiprocessing as mp, os, sqlite3, subprocess, threading, urllib.request

def square(x):
    return x * x

def producer(q):
    for i in range(5):
        q.put(i * 10)
    q.put(None)

class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from http.server"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

if __name__ == "__main__":
    out = {}
    sums = []
    lock = threading.Lock()
    def work(n):
        s = sum(range(n))
        with lock:
            sums.append(s)
    ths = [threading.Thread(target=work, args=(i * 1000,)) for i in range(8)]
    for t in ths: t.start()
    for t in ths: t.join()
    out["threads"] = sorted(sums)
    p = subprocess.run(["sh", "-c", "echo from child; exit 3"], capture_output=True, text=True)
    out["subprocess"] = [p.stdout.strip(), p.returncode]
    with mp.Pool(2) as pool:
        out["pool"] = pool.map(square, range(10))
    q = mp.Queue()
    pr = mp.Process(target=producer, args=(q,))
    pr.start()
    items = []
    while (x := q.get()) is not None:
        items.append(x)
    pr.join()
    out["queue"] = [items, pr.exitcode]
    db = sqlite3.connect("w.db")
    db.execute("create table t (k integer, v text)")
    db.executemany("insert into t values (?, ?)", [(i, str(i) * 3) for i in range(1000)])
    db.commit()
    out["sqlite"] = list(db.execute("select count(*), sum(k), max(v) from t").fetchone())
    db.close()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    # A short poll: shutdown() waits for serve_forever to see its flag,
    # up to one poll interval (0.5 s by default), and whether it does
    # depends on how the threads happen to be scheduled, which made the
    # job take 0.2 or 0.75 s natively from one run to the next.
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    with urllib.request.urlopen("http://127.0.0.1:%d/" % srv.server_address[1]) as r:
        out["http"] = r.read().decode()
    srv.shutdown()
    with open("data", "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        m[0:2] = b"SH"
        m.flush()
        c = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        c[2:4] = b"XY"
        out["mmap"] = [c[:4].decode(), m[:4].decode()]
    out["sha"] = hashlib.sha256(b"uk" * 1000).hexdigest()[:16]
    with open("result.json", "w") as f:
        json.dump(out, f, sort_keys=True)
    print(json.dumps(out, sort_keys=True))
`

const perlWorkload = `use strict;
use warnings;
use List::Util qw(sum max);
use Digest::MD5 qw(md5_hex);
use POSIX qw(floor);
my %h;
$h{$_ % 7} += $_ for 1 .. 200000;
open(my $f, ">", "perl.out") or die "perl.out: $!";
print $f join(",", map { "$_=$h{$_}" } sort keys %h), "\n";
close $f;
my $s = join "", map { chr(65 + $_ % 26) } 1 .. 5000;
(my $t = $s) =~ s/([AEIOU])/lc $1/ge;
printf "%d %s %s\n", length $t, substr($t, 0, 26), md5_hex($t);
my @w = sort { $a <=> $b } map { ($_ * 7919) % 10007 } 1 .. 10000;
print sum(@w), " ", max(@w), " ", floor(sum(@w) / @w), "\n";
my $pid = fork();
die "fork: $!" unless defined $pid;
exit 7 if $pid == 0;
waitpid($pid, 0);
print "child ", $? >> 8, "\n";
print scalar(my @l = split /\n/, ` + "`ls -1 /usr/bin | head -n 5`" + `), "\n";
`

const cWorkload = `#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(void) {
	long long sum = 0;
	for (int i = 1; i <= 100000; i++) sum += i;
	printf("sum %lld\n", sum);
	int v[1000];
	for (int i = 0; i < 1000; i++) v[i] = (i * 7919) % 1009;
	qsort(v, 1000, sizeof v[0], cmp);
	char buf[64];
	snprintf(buf, sizeof buf, "%d %d %.4f", v[0], v[999], sqrt(2.0));
	if (strlen(buf) == 0) return 1;
	fprintf(stderr, "%s\n", buf);
	return 0;
}
`

const javaWorkload = `import java.io.FileWriter;
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.*;

public class Hello {
    public static void main(String[] args) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Long>> parts = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            final long from = p * 250000L, to = from + 250000L;
            parts.add(pool.submit(() -> LongStream.range(from, to).sum()));
        }
        long sum = 0;
        for (Future<Long> f : parts) sum += f.get();
        pool.shutdown();
        Map<Integer, Integer> m = new TreeMap<>();
        for (int i = 0; i < 10000; i++) m.merge(i % 7, i, Integer::sum);
        System.out.println("threads " + sum + " " + m);
        System.out.println(String.format("%.3f %s", Math.PI, String.join(",", List.of("a", "b", "c"))));
        try (FileWriter w = new FileWriter("hello.out")) {
            w.write("sum " + sum + "\n");
        }
    }
}
`

const valgrindWorkload = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
	char *p = malloc(10);
	strcpy(p, "123456789");
	printf("%s\n", p);
	p = malloc(20);
	p[20] = 1;
	return 0;
}
`

const chromiumPage = `<html><body><p id="out">not run</p><script>
let s = 0;
for (let i = 1; i <= 100; i++) s += i;
document.getElementById("out").textContent = "sum " + s;
</script></body></html>
`

const nodeWorkload = `
const fs = require("fs"), crypto = require("crypto"), zlib = require("zlib"), cp = require("child_process");
const data = Buffer.alloc(1 << 20, "node");
const gz = zlib.gzipSync(data);
const back = zlib.gunzipSync(gz);
const h = crypto.createHash("sha256").update(back).digest("hex");
fs.writeFileSync("node.out", "gz " + gz.length + " " + h + "\n");
console.log(h.slice(0, 16), back.length, cp.execSync("echo from child").toString().trim());
new Promise(r => setTimeout(r, 50)).then(() => console.log("timer", [3, 1, 2].sort().join(",")));
`
