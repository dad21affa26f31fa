package e2e

import (
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"uk/internal/testenv"
)

// pythonTree builds a root for `uk run --rootfs` holding the host's Python:
// the interpreter, the shared libraries it needs and its standard library
// (copied: about 60 MB).
func pythonTree(t *testing.T) (root, python string) {
	t.Helper()
	py, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		testenv.Need(t, "/usr/bin/python3", "Python's multiprocessing is a real program that shares memory across fork")
	}
	version := filepath.Base(py) // python3.11
	stdlib := filepath.Join("/usr/lib", version)
	if _, err := os.Stat(filepath.Join(stdlib, "multiprocessing")); err != nil {
		testenv.Need(t, stdlib+"/multiprocessing", "the standard library of the host's Python")
	}
	root = t.TempDir()
	// Copies, never hard links: a test must not be able to write through
	// to the host's own libraries (a rewrite of a linked loader crashed
	// every program starting on the host while it ran).
	link := func(src, dst string) {
		if _, err := os.Lstat(dst); err == nil {
			return
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link(py, filepath.Join(root, "usr/bin/python3"))
	// The loader, and the libraries of the interpreter and of its
	// extension modules (ctypes needs libffi), as Debian's loader finds
	// them in its multiarch directory.
	seen := map[string]bool{}
	var addLibs func(bin string)
	addLibs = func(bin string) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		libs, _ := f.ImportedLibraries()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				b := make([]byte, p.Filesz)
				p.ReadAt(b, 0)
				interp := strings.TrimRight(string(b), "\x00")
				if src, err := filepath.EvalSymlinks(interp); err == nil {
					link(src, filepath.Join(root, interp))
				}
			}
		}
		for _, l := range libs {
			if seen[l] {
				continue
			}
			seen[l] = true
			src, err := filepath.EvalSymlinks(filepath.Join("/lib/x86_64-linux-gnu", l))
			if err != nil {
				continue // a module whose library is absent is one Python cannot import natively either
			}
			link(src, filepath.Join(root, "lib/x86_64-linux-gnu", l))
			addLibs(src)
		}
	}
	addLibs(py)
	dynload, _ := filepath.Glob(filepath.Join(stdlib, "lib-dynload", "*.so"))
	for _, m := range dynload {
		addLibs(m)
	}
	err = filepath.WalkDir(stdlib, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "test" || name == "__pycache__" || name == "idlelib" || name == "tkinter") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			link(p, filepath.Join(root, p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"tmp", "dev/shm", "etc"} {
		os.MkdirAll(filepath.Join(root, d), 0o1777)
	}
	return root, "/usr/bin/python3"
}

// TestPythonMultiprocessing runs the host's Python multiprocessing under
// uk: its locks and queues live in shared file mappings made in /dev/shm
// and unlinked at once, shared with the pool's forked workers (SIGBUS before
// mappings owned their pages).
func TestPythonMultiprocessing(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		testenv.Need(t, "python3", "Python's multiprocessing is a real program that shares memory across fork")
	}
	root, python := pythonTree(t)
	needRootfsFlag(t)
	const script = `import multiprocessing as m
print(sum(m.Pool(2).map(abs, range(-100, 100))))
q = m.Queue(); l = m.Lock()
p = m.Process(target=q.put, args=(42,)); p.start(); print(q.get()); p.join()
with l: print("locked")
v = m.Value('i', 0)
def inc(v):
    with v.get_lock(): v.value += 1
ps = [m.Process(target=inc, args=(v,)) for _ in range(4)]
[p.start() for p in ps]; [p.join() for p in ps]
print(v.value)
`
	const want = "10000\n42\nlocked\n4\n"
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUKCommand(t, []string{"run", "--platform=" + platform, "--rootfs", root, "--", python, "-c", script}, "")
		if r.Stdout != want || r.Code != 0 {
			t.Errorf("python3 multiprocessing under uk: exit %d, stdout %q, want %q\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
}
