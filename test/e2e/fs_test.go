package e2e

// Integration tests of the sandbox's filesystem: the file syscalls (errno
// values included) compared with native Linux, busybox applets over a small
// tree compared with native runs and with golden outputs, /proc and /sys,
// and a dynamically linked program run from --rootfs.

import (
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var updateGolden = flag.Bool("uk.update-golden", false, "rewrite testdata/fs/*.golden from native runs")

func init() {
	// The file-system C programs are run by the tests in this file.
	otherCPrograms = append(otherCPrograms, "fs_ops", "fs_bench")
}

var (
	fsProbeOnce sync.Once
	fsProbeErr  error
)

// needFS fails the test unless `uk run` gives programs a filesystem with
// /proc/self/fd inside. The probe runs once; the tests that need the
// sandbox's filesystem then all fail with its one clear message.
func needFS(t testing.TB) {
	t.Helper()
	needBusybox(t)
	needUK(t)
	fsProbeOnce.Do(func() {
		r := runUKCommand(t, []string{"run", "--", busybox, "test", "-d", "/proc/self/fd"}, "")
		if r.Code != 0 {
			fsProbeErr = fmt.Errorf("`uk run -- busybox test -d /proc/self/fd` exits %d: the sandbox's filesystem (or its /proc) is broken\nstderr:\n%s", r.Code, clip(r.Stderr))
		}
	})
	if fsProbeErr != nil {
		t.Fatal(fsProbeErr)
	}
}

var (
	rootfsProbeOnce sync.Once
	rootfsProbeErr  error
)

// needRootfsFlag fails the test unless `uk run --rootfs DIR` works.
func needRootfsFlag(t testing.TB) {
	t.Helper()
	needFS(t)
	rootfsProbeOnce.Do(func() {
		dir, err := os.MkdirTemp(workDir, "probe-root-")
		if err != nil {
			rootfsProbeErr = err
			return
		}
		if err := copyFileMode(busybox, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
			rootfsProbeErr = err
			return
		}
		r := runUKCommand(t, []string{"run", "--rootfs", dir, "--", "/bin/busybox", "true"}, "")
		if r.Code != 0 {
			rootfsProbeErr = fmt.Errorf("`uk run --rootfs DIR -- /bin/busybox true` exits %d: --rootfs is broken\nstderr:\n%s", r.Code, clip(r.Stderr))
		}
	})
	if rootfsProbeErr != nil {
		t.Fatal(rootfsProbeErr)
	}
}

var (
	shProbeOnce sync.Once
	shProbeErr  error
)

// needShell fails the test unless busybox sh can run a pipeline under uk
// (fork and exec).
func needShell(t testing.TB) {
	t.Helper()
	needFS(t)
	shProbeOnce.Do(func() {
		r := runUKCommand(t, []string{"run", "--", busybox, "sh", "-c", "echo x | cat"}, "")
		if r.Code != 0 || r.Stdout != "x\n" {
			shProbeErr = fmt.Errorf("`busybox sh -c 'echo x | cat'` under uk: exit %d, stdout %q (needs fork/exec)\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
	})
	if shProbeErr != nil {
		t.Fatal(shProbeErr)
	}
}

// copyFileMode copies a host file, creating parent directories.
func copyFileMode(src, dst string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestFSOps runs testdata/c/fs_ops.c natively in a host temp dir and under
// uk in /tmp of the sandbox: every result and errno must be the same.
func TestFSOps(t *testing.T) {
	prog := cProgram(t, "fs_ops")
	native := runNative(t, prog, filepath.Join(t.TempDir(), "w"))
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		needFS(t)
		uk := runUK(t, platform, prog, []string{"/tmp/w"})
		sameAsNative(t, native, uk)
	})
}

// fsTree writes the small tree the busybox tests work on into dir/tree,
// with fixed contents, modes and times, plus bin/busybox, etc/passwd,
// etc/group and empty proc, dev and tmp for a --rootfs image.
func fsTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"tree/a/one.txt":        "alpha\nbeta\ngamma\n",
		"tree/a/two.txt":        "one two three\nfour five\n",
		"tree/a/b/deep.txt":     "deep line 1\ndeep line 2\nmatch here\n",
		"tree/a/b/c/leaf.dat":   strings.Repeat("0123456789", 500),
		"tree/numbers":          "5\n3\n10\n1\n7\n3\n",
		"tree/words":            "pear\napple\nfig\nbanana\napple\n",
		"tree/other/match.txt":  "no\nmatch here too\n",
		"tree/other/empty":      "",
		"tree/csv":              "id,name,qty\n1,bolt,10\n2,nut,25\n3,washer,5\n",
		"tree/old.txt":          "line1\nline2\nline3\n",
		"tree/new.txt":          "line1\nline2 changed\nline3\nline4\n",
		"etc/passwd":            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":             "root:x:0:\nnobody:x:65534:\n",
		"tree/scratch/.keep":    "",
		"tree/a/b/c/.hidden":    "h\n",
		"tree/other/spaces in":  "sp\n",
		"tree/other/UPPER.TXT":  "Upper\n",
		"tree/other/zz.last":    "z\n",
		"tree/other/mode600":    "private\n",
		"tree/other/mode755.sh": "#!/bin/sh\necho hi\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"proc", "dev", "tmp", "sys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(filepath.Join(dir, "tmp"), 0o1777))
	must(os.Chmod(filepath.Join(dir, "tree/other/mode600"), 0o600))
	must(os.Chmod(filepath.Join(dir, "tree/other/mode755.sh"), 0o755))
	must(os.Symlink("a/one.txt", filepath.Join(dir, "tree/link-to-one")))
	must(os.Symlink("../a", filepath.Join(dir, "tree/other/up-a")))
	must(copyFileMode(busybox, filepath.Join(dir, "bin/busybox"), 0o755))
	stamp := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.Walk(filepath.Join(dir, "tree"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		// Symlinks too (without following them): `ls -l` shows their
		// time, and the native and uk trees are made moments apart.
		ts := []unix.Timespec{unix.NsecToTimespec(stamp.UnixNano()), unix.NsecToTimespec(stamp.UnixNano())}
		unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
		return nil
	})
}

// busyboxScripts are run with `busybox sh -c 'cd TREE && SCRIPT'`; their
// output must not depend on where the tree is or on the filesystem type
// (no directory sizes, inode numbers or block counts).
var busyboxScripts = []struct{ name, script string }{
	{"ls", "ls -1 a; ls -1a a/b/c; ls -1R other | head -20"},
	{"ls-l-files", "ls -l a/one.txt a/two.txt other/mode600 other/mode755.sh link-to-one"},
	{"find", "find . | sort"},
	{"find-type", "find . -type f -name '*.txt' | sort; find . -type l | sort; find . -type d | sort"},
	{"find-size", "find . -type f -size +1k | sort; find . -empty | sort"},
	{"tar", "tar cf scratch/t.tar a other && mkdir scratch/x && tar xf scratch/t.tar -C scratch/x && find scratch/x | sort && diff -r a scratch/x/a && echo same && tar tf scratch/t.tar | sort"},
	{"gzip", "cp a/b/c/leaf.dat scratch/l && gzip scratch/l && ls scratch && gunzip scratch/l.gz && md5sum scratch/l a/b/c/leaf.dat | sed 's/ .*//' | uniq | wc -l; gzip -c words | gunzip -c"},
	{"sort", "sort words; sort -n numbers; sort -u words; sort -rn numbers | head -2; sort -t, -k3 -n csv"},
	{"grep", "grep -r match . | sort; grep -c line a/b/deep.txt; grep -l -r alpha . | sort; grep -v e words; grep -n apple words"},
	{"sed", "sed 's/line/LINE/' old.txt; sed -n 2p words; sed '1d' csv; cp old.txt scratch/e && sed -i 's/2/two/' scratch/e && cat scratch/e"},
	{"awk", "awk -F, 'NR>1 {s+=$3} END {print s}' csv; awk '{print NR\": \"$0}' words; awk 'length($0) > 4' words"},
	{"diff", "diff old.txt new.txt; echo status $?; diff old.txt old.txt && echo same"},
	{"cp-a", "cp -a a scratch/acopy && diff -r a scratch/acopy && echo same && ls -l scratch/acopy/one.txt && cp -r other scratch/o2 && ls scratch/o2 | sort"},
	{"ln-mv-rm", "ln -s ../words scratch/w && readlink scratch/w && cat scratch/w | head -1 && ln words scratch/hard && stat -c '%h %n' words && mv scratch/hard scratch/moved && ls scratch && rm -r scratch/moved scratch/w && ls -a scratch"},
	{"chmod-stat", "chmod 640 words && stat -c '%a %A %s %F %h %n' words a/one.txt other/mode600 link-to-one && chmod u+x,g-r numbers && stat -c '%a %n' numbers && stat -L -c '%F %s' link-to-one && stat -c '%F' a"},
	{"head-tail-wc", "head -2 words; tail -1 words; tail -c 5 a/one.txt; wc a/one.txt a/two.txt csv; wc -l < words; wc -c a/b/c/leaf.dat"},
	{"md5sum", "md5sum a/one.txt a/two.txt a/b/c/leaf.dat; sha1sum words; cat a/*.txt | md5sum"},
	{"mkdir-rmdir", "mkdir -p scratch/p/q/r && find scratch/p | sort && rmdir scratch/p/q/r && rm -rf scratch/p && ls scratch; mkdir scratch/p2; touch scratch/p2/f; rmdir scratch/p2; echo rmdir $?"},
	{"redirect", "echo hello > scratch/r && echo world >> scratch/r && cat scratch/r && cat < words | wc -l && (echo sub; pwd | sed 's#.*/##') && cd a && pwd | sed 's#.*/##'"},
	{"xargs-test", "find a -name '*.txt' | sort | xargs cat | wc -l; test -f words && echo file; test -d a && echo dir; test -L link-to-one && echo link; test -e missing || echo missing"},
	{"touch-dd", "touch -d '2021-01-02 03:04:05' scratch/t && stat -c '%y %s' scratch/t | cut -c1-19; dd if=/dev/zero of=scratch/z bs=1k count=8 2>/dev/null && stat -c %s scratch/z; truncate -s 100 scratch/z && wc -c < scratch/z"},
}

// TestBusyboxTree runs busybox applets over a small tree natively and under
// uk with --rootfs, and requires the same output; the native output must
// also be the golden output in testdata/fs/busybox.golden, so that a
// script that stopped doing what it should (an applet missing, a typo that
// makes both runs print the same error) fails. After changing a script or
// the tree, or with another busybox, regenerate the file from native runs
// with `go test -run TestBusyboxTree ./test/e2e -uk.update-golden` and review its diff.
func TestBusyboxTree(t *testing.T) {
	needBusybox(t)
	golden := readGolden(t)
	var mu sync.Mutex
	nativeOut := map[string]string{}
	ukRoot := t.TempDir()
	fsTree(t, ukRoot)
	env := []string{"TZ=UTC0", "LC_ALL=C"}
	for _, sc := range busyboxScripts {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			fsTree(t, dir)
			native := runNativeSpec(t, busybox, runSpec{Args: []string{"sh", "-c", "cd \"$1\" && " + sc.script, "sh", filepath.Join(dir, "tree")}, Env: env})
			got := fmt.Sprintf("exit %d\n%s", native.Code, native.Stdout)
			mu.Lock()
			nativeOut[sc.name] = got
			mu.Unlock()
			if g, ok := golden[sc.name]; !*updateGolden && !ok {
				t.Errorf("%s has no output for %q; regenerate it with -uk.update-golden", goldenPath, sc.name)
			} else if !*updateGolden && g != got {
				t.Errorf("native output differs from %s (another busybox version, or the script or tree changed: regenerate with -uk.update-golden and review the diff); %s",
					goldenPath, firstDiff(g, got))
			}
			forEachPlatform(t, func(t *testing.T, platform string) {
				needRootfsFlag(t)
				needShell(t)
				uk := runUKSpec(t, platform, "/bin/busybox", runSpec{
					Args:  []string{"sh", "-c", "cd \"$1\" && " + sc.script, "sh", "/tree"},
					Env:   env,
					Flags: []string{"--rootfs", ukRoot},
				})
				sameAsNative(t, native, uk)
			})
		})
	}
	if *updateGolden {
		writeGolden(t, nativeOut)
		return
	}
	for name := range golden {
		if !slices.ContainsFunc(busyboxScripts, func(sc struct{ name, script string }) bool { return sc.name == name }) {
			t.Errorf("%s has output for %q, which is not a script any more; regenerate it with -uk.update-golden", goldenPath, name)
		}
	}
}

const goldenPath = "testdata/fs/busybox.golden"

// readGolden parses the golden file: "=== NAME" headers, then the output.
func readGolden(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		if *updateGolden {
			return nil
		}
		t.Fatalf("%v (make it with `go test -run TestBusyboxTree ./test/e2e -uk.update-golden`)", err)
	}
	out := map[string]string{}
	var name string
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(line, "=== ") {
			if name != "" {
				out[name] = b.String()
			}
			name = strings.TrimSpace(strings.TrimPrefix(line, "=== "))
			b.Reset()
			continue
		}
		b.WriteString(line)
	}
	if name != "" {
		out[name] = b.String()
	}
	return out
}

func writeGolden(t *testing.T, outs map[string]string) {
	var names []string
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "=== %s\n%s", n, outs[n])
		if !strings.HasSuffix(outs[n], "\n") {
			b.WriteString("\n")
		}
	}
	if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBusyboxDfDu checks the applets whose numbers depend on the
// filesystem type: they must work and show the sandbox's mounts.
func TestBusyboxDfDu(t *testing.T) {
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		needFS(t)
		r := runUK(t, platform, busybox, []string{"df"})
		if r.Code != 0 || !strings.Contains(r.Stdout, "/dev/shm") {
			t.Errorf("df: exit %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
		r = runUK(t, platform, busybox, []string{"du", "-s", "/etc"})
		if r.Code != 0 || !strings.HasSuffix(strings.TrimSpace(r.Stdout), "/etc") {
			t.Errorf("du -s /etc: exit %d, stdout %q\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
	})
}

// TestProcSys checks what programs read from /proc and /sys in the
// default sandbox: exact contents where uk decides them, the layout of
// native Linux (field counts, key sets, headers) where the host's kernel
// is the reference.
func TestProcSys(t *testing.T) {
	needBusybox(t)
	uuid := `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$`
	mapsLine := `(?m)\A([0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2,}:[0-9a-f]{2,} [0-9]+ *( \S.*)?\n)+\z`
	nativeFDs := runNative(t, busybox, "ls", "/proc/self/fd")
	if nativeFDs.Code != 0 || nativeFDs.Stdout != "0\n1\n2\n3\n" {
		t.Fatalf("native `busybox ls /proc/self/fd`: exit %d, stdout %q; the harness must start programs with fds 0-2 only", nativeFDs.Code, nativeFDs.Stdout)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		needFS(t)
		for _, tc := range []struct {
			args []string
			want []string // substrings of stdout
			re   string   // a regexp stdout must match, if set
		}{
			{args: []string{"cat", "/proc/self/status"}, want: []string{"Name:\tbusybox\n", "Pid:\t", "Uid:\t0\t0\t0\t0\n"}},
			{args: []string{"cat", "/proc/self/stat"}, want: []string{" (busybox) R "}},
			{args: []string{"cat", "/proc/self/maps"}, want: []string{"[stack]\n", "[heap]\n", "r-xp"}, re: mapsLine},
			{args: []string{"cat", "/proc/self/mounts"}, want: []string{"proc /proc proc rw,nosuid,nodev,noexec", "devtmpfs /dev devtmpfs", "sysfs /sys sysfs"}},
			{args: []string{"cat", "/proc/mounts"}, want: []string{"tmpfs /dev/shm tmpfs"}},
			{args: []string{"cat", "/proc/self/mountinfo"}, want: []string{" / / rw", " - proc proc rw"}},
			{args: []string{"readlink", "/proc/self/exe"}, re: `^/bin/busybox\n$`},
			{args: []string{"readlink", "/proc/self/cwd"}, re: `^/\n$`},
			// As natively: 0-2 and the directory ls reads.
			{args: []string{"ls", "/proc/self/fd"}, re: `^0\n1\n2\n3\n$`},
			// argv[0] is the path the harness runs, natively too.
			{args: []string{"cat", "/proc/self/cmdline"}, re: `^/bin/busybox\x00cat\x00/proc/self/cmdline\x00$`},
			{args: []string{"cat", "/proc/cpuinfo"}, want: []string{"processor\t: 0\n", "flags\t\t:"}},
			{args: []string{"cat", "/proc/filesystems"}, want: []string{"nodev\tproc\n", "nodev\ttmpfs\n"}},
			{args: []string{"cat", "/proc/version"}, re: `^Linux version \d+\.\d+\.\d+\S* `},
			{args: []string{"cat", "/proc/sys/kernel/osrelease"}, re: `^\d+\.\d+\.\d+\S*\n$`},
			{args: []string{"cat", "/proc/sys/kernel/hostname"}, re: `^uk\n$`},
			{args: []string{"cat", "/proc/sys/kernel/pid_max"}, re: `^4194304\n$`},
			{args: []string{"cat", "/proc/sys/fs/pipe-max-size"}, re: `^1048576\n$`},
			{args: []string{"cat", "/proc/sys/kernel/random/boot_id"}, re: uuid},
			{args: []string{"cat", "/proc/self/oom_score_adj"}, re: `^0\n$`},
			{args: []string{"cat", "/sys/devices/system/cpu/online"}, re: `^0(-[1-9][0-9]*)?\n$`},
			{args: []string{"cat", "/sys/kernel/mm/transparent_hugepage/enabled"}, want: []string{"[madvise]"}},
			// One thread, whose id is the process's.
			{args: []string{"ls", "/proc/self/task"}, re: `^[1-9][0-9]*\n$`},
			{args: []string{"cat", "/etc/passwd"}, want: []string{"nobody:x:65534:65534"}},
			{args: []string{"stat", "-c", "%a", "/tmp"}, re: `^1777\n$`},
		} {
			r := runUK(t, platform, busybox, tc.args)
			if r.Code != 0 {
				t.Errorf("busybox %q: exit %d, stdout %q\nstderr:\n%s", tc.args, r.Code, clip(r.Stdout), clip(r.Stderr))
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("busybox %q: stdout %q; want it to contain %q", tc.args, clip(r.Stdout), w)
					break
				}
			}
			if tc.re != "" && !regexp.MustCompile(tc.re).MatchString(r.Stdout) {
				t.Errorf("busybox %q: stdout %q; want it to match %q", tc.args, clip(r.Stdout), tc.re)
			}
		}
		compareProcLayout(t, platform)
		r := runUK(t, platform, busybox, []string{"cat", "/sys/no/such/file"})
		if r.Code == 0 {
			t.Errorf("cat of a missing /sys path succeeded")
		}
		r = runUK(t, platform, busybox, []string{"uname", "-r"})
		if rel := runUK(t, platform, busybox, []string{"cat", "/proc/sys/kernel/osrelease"}); r.Code != 0 || rel.Stdout != r.Stdout {
			t.Errorf("/proc/sys/kernel/osrelease says %q, uname -r %q (exit %d)", rel.Stdout, r.Stdout, r.Code)
		}
		r = runUK(t, platform, cProgram(t, "fd"), nil)
		if r.Code != 0 {
			t.Errorf("fd.c (reads /proc/self/exe) under the sandbox fs: exit %d\n%s", r.Code, clip(r.Stdout))
		}
	})
	t.Run("shell", func(t *testing.T) {
		forEachPlatform(t, func(t *testing.T, platform string) {
			needShell(t)
			r := runUK(t, platform, busybox, []string{"sh", "-c",
				"echo 500 > /proc/self/oom_score_adj && read v < /proc/self/oom_score_adj && echo $v; cd /proc/self && cat comm; readlink /proc/self/fd/1 > /dev/null && echo ok"})
			if r.Code != 0 || r.Stdout != "500\nbusybox\nok\n" {
				t.Errorf("proc from a shell: exit %d, stdout %q\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
			}
			// The task directory holds the process's own id.
			r = runUK(t, platform, busybox, []string{"sh", "-c", "test \"$(ls /proc/$$/task)\" = $$ && echo same"})
			if r.Code != 0 || r.Stdout != "same\n" {
				t.Errorf("/proc/PID/task of a shell: exit %d, stdout %q\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
			}
		})
	})
}

// procGaps are the keys of the host kernel's "Key: value" files that uk
// does not provide yet. Each is a known difference from Linux, listed here
// so that any other difference (a key uk dropped, misspelt, reordered or
// invented) fails TestProcSys; a key the host lacks too is never required.
// Shrink these lists as uk grows.
var procGaps = map[string][]string{
	"/proc/self/status": {"Kthread", "HugetlbPages", "CoreDumping", "THP_enabled", "untag_mask", "SpeculationIndirectBranch"},
	"/proc/meminfo": {"Zswap", "Zswapped", "SecPageTables", "Percpu", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped",
		"FileHugePages", "FilePmdMapped", "Balloon", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap1G"},
	"/proc/cpuinfo": {"microcode", "cpu MHz", "bogomips", "TLB size"},
}

// compareProcLayout compares the layout of /proc files under uk with the
// same files read by the same busybox natively: the number of fields of
// /proc/self/stat, the keys of /proc/self/status, /proc/meminfo and the
// first processor of /proc/cpuinfo, and the header and columns of
// /proc/net/dev.
func compareProcLayout(t *testing.T, platform string) {
	t.Helper()
	read := func(path string) (native, uk string) {
		t.Helper()
		n := runNative(t, busybox, "cat", path)
		if n.Code != 0 {
			t.Fatalf("native `busybox cat %s`: exit %d\n%s", path, n.Code, n.Stderr)
		}
		u := runUK(t, platform, busybox, []string{"cat", path})
		if u.Code != 0 {
			t.Errorf("`busybox cat %s` under uk: exit %d\nstderr:\n%s", path, u.Code, clip(u.Stderr))
		}
		return n.Stdout, u.Stdout
	}

	n, u := read("/proc/self/stat")
	nf, err := statFields(n)
	if err != nil {
		t.Fatalf("native /proc/self/stat: %v", err)
	}
	if uf, err := statFields(u); err != nil {
		t.Errorf("/proc/self/stat under uk: %v", err)
	} else if len(uf) != len(nf) {
		t.Errorf("/proc/self/stat has %d fields under uk, %d natively:\n uk:     %q\n native: %q", len(uf), len(nf), u, n)
	}

	for _, path := range []string{"/proc/self/status", "/proc/meminfo", "/proc/cpuinfo"} {
		n, u := read(path)
		compareKeys(t, path, procKeys(n), procKeys(u), procGaps[path])
	}

	n, u = read("/proc/net/dev")
	nl, ul := strings.SplitAfter(n, "\n"), strings.SplitAfter(u, "\n")
	if len(nl) < 3 || len(ul) < 3 {
		t.Errorf("/proc/net/dev: want a two-line header and an interface line; uk %q, native %q", u, n)
		return
	}
	if ul[0] != nl[0] || ul[1] != nl[1] {
		t.Errorf("/proc/net/dev header differs from native Linux:\n uk:     %q%q\n native: %q%q", ul[0], ul[1], nl[0], nl[1])
	}
	cols := func(line string) int {
		_, rest, _ := strings.Cut(line, ":")
		return len(strings.Fields(rest))
	}
	want := cols(nl[2])
	for _, l := range ul[2:] {
		if l == "" {
			continue
		}
		if !strings.Contains(l, ":") || cols(l) != want {
			t.Errorf("/proc/net/dev line %q has %d counters; native Linux has %d", l, cols(l), want)
		}
	}
}

// statFields splits a /proc/PID/stat line into its fields (the command, in
// parentheses, is one field) and checks that the state is R and that every
// field after it is a decimal number.
func statFields(s string) ([]string, error) {
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 1 || closing < open || !strings.HasSuffix(s, "\n") {
		return nil, fmt.Errorf("not a stat line: %q", s)
	}
	fields := append([]string{strings.TrimSpace(s[:open]), s[open : closing+1]}, strings.Fields(s[closing+1:])...)
	if len(fields) < 3 || fields[2] != "R" {
		return nil, fmt.Errorf("state is not R (the reading process runs): %q", s)
	}
	num := regexp.MustCompile(`^-?[0-9]+$`)
	for i, f := range fields {
		if i != 1 && i != 2 && !num.MatchString(f) {
			return nil, fmt.Errorf("field %d is %q, not a number: %q", i+1, f, s)
		}
	}
	return fields, nil
}

// procKeys returns the keys of a "Key: value" file in order: the text before
// the first colon of each line, up to the first empty line (the first
// processor of /proc/cpuinfo).
func procKeys(s string) []string {
	var keys []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		k, _, _ := strings.Cut(line, ":")
		keys = append(keys, strings.TrimSpace(k))
	}
	return keys
}

// compareKeys fails t unless uk's keys are the host's, in the host's order,
// less some of mayLack.
func compareKeys(t *testing.T, path string, host, uk, mayLack []string) {
	t.Helper()
	if len(uk) == 0 {
		t.Errorf("%s under uk has no keys", path)
		return
	}
	i := 0
	for _, k := range uk {
		j := slices.Index(host[i:], k)
		if j < 0 {
			if slices.Contains(host, k) {
				t.Errorf("%s: key %q is out of order under uk (native order: %q; uk: %q)", path, k, host, uk)
			} else {
				t.Errorf("%s: key %q under uk is not in native Linux's %s (native keys: %q)", path, k, path, host)
			}
			continue
		}
		i += j + 1
	}
	for _, k := range host {
		if !slices.Contains(uk, k) && !slices.Contains(mayLack, k) {
			t.Errorf("%s: native Linux has key %q, uk does not (and procGaps does not list it as a known gap)", path, k)
		}
	}
}

// TestDynamicProgram runs an ordinary (dynamically linked) gcc program
// from a --rootfs that holds it with its ld.so and libraries copied from
// the host.
func TestDynamicProgram(t *testing.T) {
	prog := cProgramDynamic(t, "args")
	native := runNativeSpec(t, prog, runSpec{Args: []string{"x", "y z"}})
	checkNative(t, native, 0)
	root := t.TempDir()
	if err := copyFileMode(prog, filepath.Join(root, "bin/args"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, lib := range sharedDeps(t, prog) {
		if err := copyFileMode(lib, filepath.Join(root, lib), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		needRootfsFlag(t)
		uk := runUKSpec(t, platform, "/bin/args", runSpec{Args: []string{"x", "y z"}, Flags: []string{"--rootfs", root}})
		// argv[0] differs (host path natively); compare the rest.
		if uk.Code != 0 || dropArgv0(uk.Stdout) != dropArgv0(native.Stdout) {
			t.Errorf("dynamic program: exit %d, stdout:\n%s\nnative:\n%s\nstderr:\n%s", uk.Code, uk.Stdout, native.Stdout, clip(uk.Stderr))
		}
	})
}

// dropArgv0 removes the lines that differ between a host path and a
// sandbox path or between two loads: argv[0] and the interpreter base.
func dropArgv0(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "argv[0]") && !strings.HasPrefix(l, "AT_BASE:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// sharedDeps lists the interpreter and the libraries a dynamic ELF needs,
// found in the usual multiarch directories (no ldd: it would run prog).
func sharedDeps(t *testing.T, prog string) []string {
	t.Helper()
	dirs := []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	seen := map[string]bool{}
	var out []string
	var visit func(path string)
	visit = func(path string) {
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				b := make([]byte, p.Filesz)
				p.ReadAt(b, 0)
				interp := strings.TrimRight(string(b), "\x00")
				if !seen[interp] {
					seen[interp] = true
					out = append(out, interp)
				}
			}
		}
		libs, _ := f.ImportedLibraries()
		for _, l := range libs {
			for _, d := range dirs {
				p := filepath.Join(d, l)
				if _, err := os.Stat(p); err == nil {
					if !seen[p] {
						seen[p] = true
						out = append(out, p)
						visit(p)
					}
					break
				}
			}
		}
	}
	visit(prog)
	return out
}
