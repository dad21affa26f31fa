package e2e

import (
	"debug/elf"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestUnsafeOnlyInUnsafeFiles enforces the project rule that only files
// named *_unsafe.go (or *_unsafe_test.go) import "unsafe".
func TestUnsafeOnlyInUnsafeFiles(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "unsafe" && !strings.HasSuffix(path, "_unsafe.go") && !strings.HasSuffix(path, "_unsafe_test.go") {
				t.Errorf("%s imports unsafe; move that code into a *_unsafe.go file", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBinaryIsStatic builds uk as the README does and checks that it has no
// interpreter (so no libc, no cgo).
func TestBinaryIsStatic(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "uk")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("uk has a PT_INTERP: it is not statically linked")
		}
	}
	if syms, err := f.ImportedLibraries(); err == nil && len(syms) > 0 {
		t.Errorf("uk needs shared libraries: %v", syms)
	}
}
