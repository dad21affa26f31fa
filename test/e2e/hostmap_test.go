package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func init() { otherCPrograms = append(otherCPrograms, "hostmap") }

// hostmapFile writes hostmap.c's file (3 pages and 100 bytes, byte i is
// (i*7+3) % 251) into a new directory and returns the directory.
func hostmapFile(t *testing.T) string {
	dir := t.TempDir()
	b := make([]byte, 3*4096+100)
	for i := range b {
		b[i] = byte((i*7 + 3) % 251)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), b, 0o444); err != nil {
		t.Fatal(err)
	}
	return dir
}

// hostmapCopies writes n copies of dir's f (f0, f1, ...) with mode perm
// and returns their paths under /d, where the tests bind dir.
func hostmapCopies(t *testing.T, dir string, n int, perm os.FileMode) []string {
	orig, err := os.ReadFile(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%d", i)
		if err := os.WriteFile(filepath.Join(dir, name), orig, perm); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "/d/"+name)
	}
	return paths
}

// TestHostFileMappings: a file of a read-only tree, which the stub
// platforms map straight from the host, behaves in every mapping as
// natively (hostmap.c: private copies on write that stay the process's,
// fork, MADV_DONTNEED, mprotect, a shared mapping that cannot become
// writable, mremap, SIGBUS past the end, write(2) from the mapping), and
// the host file is unchanged afterwards. Through a read-only bind and
// through --rootfs.
func TestHostFileMappings(t *testing.T) {
	prog := cProgram(t, "hostmap")
	dir := hostmapFile(t)
	file := filepath.Join(dir, "f")
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A root of the program and the file, for --rootfs.
	root := t.TempDir()
	exe, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if os.WriteFile(filepath.Join(root, "hostmap"), exe, 0o755) != nil || os.WriteFile(filepath.Join(root, "f"), orig, 0o444) != nil {
		t.Fatal("cannot make the root")
	}
	native := runNative(t, prog, file)
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		sameAsNative(t, native, runUKSpec(t, platform, prog, runSpec{Args: []string{"/d/f"}, Flags: []string{"--bind", dir + ":/d:ro"}}))
		sameAsNative(t, native, runUKSpec(t, platform, "/hostmap", runSpec{Args: []string{"/f"}, Flags: []string{"--rootfs", root}}))
		if now, err := os.ReadFile(file); err != nil || string(now) != string(orig) {
			t.Errorf("the host file changed: %v", err)
		}
	})
}

// TestHostFileMappingsWritable: a file of a writable bind is mapped from
// the host while nothing may write it; hostmap.c's checks hold there too,
// and a writer that opens it later, writing through write(2) and through a
// shared writable mapping, is seen by a shared read-only mapping made
// before (hostmap coherent), as natively; the host file has the writes.
func TestHostFileMappingsWritable(t *testing.T) {
	prog := cProgram(t, "hostmap")
	dir := hostmapFile(t)
	file := filepath.Join(dir, "f")
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	native := runNative(t, prog, file)
	checkNative(t, native, 0)
	nativeCoherent := runNative(t, prog, "coherent", file)
	checkNative(t, nativeCoherent, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		if err := os.WriteFile(file, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		sameAsNative(t, native, runUKSpec(t, platform, prog, runSpec{Args: []string{"/d/f"}, Flags: []string{"--bind", dir + ":/d"}}))
		sameAsNative(t, nativeCoherent, runUKSpec(t, platform, prog, runSpec{Args: []string{"coherent", "/d/f"}, Flags: []string{"--bind", dir + ":/d"}}))
		if now, err := os.ReadFile(file); err != nil || string(now[:2]) != "ZY" || string(now[2:]) != string(orig[2:]) {
			t.Errorf("the host file after hostmap coherent: %q..., %v; want ZY and the rest as it was", now[:min(len(now), 8)], err)
		}
	})
}

// TestHostFileMappedFromHost: on the stub platforms the mapping of a
// file of a read-only bind, or of a writable one that nothing writes, is
// the host file's own (the stub's /proc/PID/maps names it), not a copy in
// the memory file; KVM maps the memory file only.
func TestHostFileMappedFromHost(t *testing.T) {
	prog := cProgram(t, "hostmap")
	dir := hostmapFile(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		for _, bind := range []string{dir + ":/d:ro", dir + ":/d"} {
			mapped := hostMappings(t, platform, bind, prog, filepath.Join(dir, "f"))
			switch {
			case platform == "kvm" && len(mapped) > 0:
				t.Errorf("kvm, --bind %s: the host file is mapped on the host: %q", bind, mapped)
			case platform != "kvm" && len(mapped) == 0:
				t.Errorf("%s, --bind %s: no stub maps the host file %s: the program reads a copy", platform, bind, filepath.Join(dir, "f"))
			}
			t.Logf("%s, --bind %s: %q", platform, bind, mapped)
		}
	})
}

// hostMappings runs `hostmap /d/f hold` under uk with --bind bind and
// returns the lines of the /proc/PID/maps of uk's descendants that map
// file while it holds.
func hostMappings(t *testing.T, platform, bind, prog, file string) []string {
	pid, finish := startHeld(t, ukBin, []string{"run", "--platform=" + platform, "--bind", bind, "--", prog, "/d/f", "hold"}, "mapped\n", nil)
	var mapped []string
	for _, p := range descendants(pid) {
		maps, _ := os.ReadFile("/proc/" + p + "/maps")
		for _, l := range strings.Split(string(maps), "\n") {
			if strings.HasSuffix(l, file) {
				mapped = append(mapped, p+": "+l)
			}
		}
	}
	if rest, err := finish(); err != nil || strings.Contains(rest, "FAIL") {
		t.Errorf("hostmap hold: %v\n%s", err, rest)
	}
	return mapped
}

// descendants returns the pids of every process below pid.
func descendants(pid int) []string {
	var out []string
	for _, c := range children(pid) {
		out = append(out, strconv.Itoa(c))
		out = append(out, descendants(c)...)
	}
	return out
}

// TestHostFileScratchScribbled is the hostile side of installing host
// files in stubs: a thread of the program writes junk over the stub's
// scratch page, where the stub receives a file's fd and the msghdr that
// says where, while the program maps 40 files (an install each). It may
// break its own installs (then its stub is killed, and it with it), but
// never make a mapping show another file, nor hurt uk: the shell around it
// runs on and says how it ended. On kvm, where guest memory holds no stub
// page, the scribble itself is a SIGSEGV.
func TestHostFileScratchScribbled(t *testing.T) {
	needBusybox(t)
	prog := cProgram(t, "hostmap")
	dir := hostmapFile(t)
	files := hostmapCopies(t, dir, 40, 0o444)
	script := "/p/" + filepath.Base(prog) + " scribble " + strings.Join(files, " ") + "; echo status $?"
	forEachPlatform(t, func(t *testing.T, platform string) {
		for run := 0; run < 3; run++ {
			r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", script},
				Flags: []string{"--bind", dir + ":/d:ro", "--bind", filepath.Dir(prog) + ":/p:ro"}})
			ok := r.Stdout == "scribble ok 40\nstatus 0\n" || r.Stdout == "status 137\n"
			if platform == "kvm" {
				// No stub, no scratch page: the scribble is a SIGSEGV,
				// as natively.
				ok = r.Stdout == "status 139\n"
			}
			if r.Code != 0 || !ok {
				t.Fatalf("exit %d, stdout %q; want the program's success or its kill (137), then the shell's status\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
			}
			t.Logf("run %d: %q", run, r.Stdout)
		}
	})
}

// TestHostFileScratchAcrossExec: a program that clears its stub's
// scratch page (where a host-file install's msghdr goes) and then execs
// another leaves the next program nothing to trip on: the exec reuses the
// stub, and the new program's installs (its own binary, two files) work.
// On kvm the clearing itself is a SIGSEGV, as natively.
func TestHostFileScratchAcrossExec(t *testing.T) {
	needBusybox(t)
	prog := cProgram(t, "hostmap")
	dir := hostmapFile(t)
	files := hostmapCopies(t, dir, 2, 0o444)
	p := "/p/" + filepath.Base(prog)
	script := p + " scribble-exec " + p + " many " + strings.Join(files, " ") + "; echo status $?"
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKSpec(t, platform, busybox, runSpec{Args: []string{"sh", "-c", script},
			Flags: []string{"--bind", dir + ":/d:ro", "--bind", filepath.Dir(prog) + ":/p:ro"}})
		want := "many ok 2\nstatus 0\n"
		if platform == "kvm" {
			want = "status 139\n"
		}
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
}

// TestHostFileManyFiles: a process that maps more files than a stub
// holds host fds for (48) gets the rest from the memory file's copies,
// all reading right, from a read-only and from a writable bind.
func TestHostFileManyFiles(t *testing.T) {
	prog := cProgram(t, "hostmap")
	dir := hostmapFile(t)
	args := append([]string{"many"}, hostmapCopies(t, dir, 70, 0o644)...)
	forEachPlatform(t, func(t *testing.T, platform string) {
		for _, bind := range []string{dir + ":/d:ro", dir + ":/d"} {
			r := runUKSpec(t, platform, prog, runSpec{Args: args, Flags: []string{"--bind", bind}})
			if r.Code != 0 || r.Stdout != "many ok 70\n" {
				t.Errorf("--bind %s: exit %d, stdout %q; want 0, many ok 70\nstderr:\n%s", bind, r.Code, r.Stdout, clip(r.Stderr))
			}
		}
	})
}
