package loader

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// padReader is data followed by zeros up to size, so that a corpus entry can
// be the first few KiB of a real binary and still describe the whole file.
type padReader struct {
	data []byte
	size int64
}

func (r padReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		o := off + int64(n)
		if o < int64(len(r.data)) {
			n += copy(p[n:], r.data[o:])
		} else {
			p[n] = 0
			n++
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// FuzzParseELF feeds arbitrary headers to ParseELF: it must never panic,
// only return *FormatError, and whatever it accepts must satisfy the
// invariants the loader relies on.
func FuzzParseELF(f *testing.F) {
	f.Add(base().build(), uint32(0))
	f.Add([]byte("\x7fELF"), uint32(60))
	f.Fuzz(func(t *testing.T, data []byte, pad uint32) {
		size := int64(len(data)) + int64(pad)
		e, err := ParseELF(padReader{data, size}, size)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			return
		}
		checkInvariants(t, e, size)
	})
}

func checkInvariants(t *testing.T, e *ELF, size int64) {
	t.Helper()
	if e.Type != TypeExec && e.Type != TypeDyn {
		t.Fatalf("type %v", e.Type)
	}
	if e.Phentsize != elfPhdrSize || e.Phnum == 0 || e.Phnum > elfMaxPhnum || e.Phoff+uint64(e.Phnum)*elfPhdrSize > uint64(size) {
		t.Fatalf("bad program header table %d×%d at %#x", e.Phnum, e.Phentsize, e.Phoff)
	}
	if len(e.Segments) == 0 {
		t.Fatal("no segments")
	}
	for i, s := range e.Segments {
		if s.Filesz > s.Memsz || s.Off+s.Filesz < s.Off || s.Off+s.Filesz > uint64(size) {
			t.Fatalf("segment %d file range bad: %+v", i, s)
		}
		if s.End() < s.Vaddr || s.End() > elfUserLimit {
			t.Fatalf("segment %d address range bad: %+v", i, s)
		}
		if (s.Vaddr-s.Off)%elfPageSize != 0 {
			t.Fatalf("segment %d incongruent: %+v", i, s)
		}
		if i > 0 && s.Vaddr < e.Segments[i-1].End() {
			t.Fatalf("segment %d overlaps: %+v", i, s)
		}
		if s.Prot&^(ProtRead|ProtWrite|ProtExec) != 0 {
			t.Fatalf("segment %d prot %#x", i, s.Prot)
		}
	}
	if len(e.Interp) >= elfMaxInterp {
		t.Fatalf("interp of %d bytes", len(e.Interp))
	}
	if a := e.MaxAlign(); a < elfPageSize || a&(a-1) != 0 {
		t.Fatalf("MaxAlign %#x", a)
	}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzParseELF from crafted
// headers and the first 1 KiB of real binaries (the rest is described by the
// pad argument). Run with UK_WRITE_FUZZ_CORPUS=1; normally skipped.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("UK_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set UK_WRITE_FUZZ_CORPUS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseELF")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte, pad uint32) {
		s := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint32(%d)\n", data, pad)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	interp := append([]byte("/lib64/ld-linux-x86-64.so.2"), 0)
	dyn := base()
	dyn.typ = uint16(elf.ET_DYN)
	dyn.phdrs[0].vaddr, dyn.phdrs[1].vaddr = 0, 0x3000
	dyn.phdrs = append(dyn.phdrs,
		phdr{typ: elf.PT_INTERP, off: 0x300, filesz: uint64(len(interp))},
		phdr{typ: elf.PT_PHDR, off: 64, vaddr: 64, filesz: 5 * 56, memsz: 5 * 56})
	dyn.extra = map[uint64][]byte{0x300: interp}
	dyn.size = 0x400
	write("crafted-exec", base().build()[:0x400], 0x2100-0x400)
	write("crafted-dyn-interp", dyn.build(), 0x2100-0x400)
	elf32 := base()
	elf32.class = byte(elf.ELFCLASS32)
	write("crafted-32bit", elf32.build()[:64], 0)

	files := map[string]string{
		"real-busybox": "/bin/busybox",
	}
	files["real-static"] = buildC(t, "static", "-static", "-O2")
	files["real-static-pie"] = buildC(t, "static-pie", "-static-pie", "-O2")
	files["real-dynamic"] = buildC(t, "dynamic", "-O2")
	if exe, err := os.Executable(); err == nil {
		files["real-go"] = exe
	}
	for name, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := min(len(b), 1024)
		write(name, b[:n], uint32(len(b)-n))
	}
}

// TestFuzzCorpusParses checks that the committed seeds other than the
// deliberately bad ones are accepted, so the fuzzer starts from inputs that
// reach every check.
func TestFuzzCorpusParses(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParseELF")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var data string
		var pad uint32
		lines := strings.Split(string(b), "\n")
		if len(lines) < 3 || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: unexpected corpus format", ent.Name())
		}
		if data, err = strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")); err != nil {
			t.Fatalf("%s: %v", ent.Name(), err)
		}
		if _, err := fmt.Sscanf(lines[2], "uint32(%d)", &pad); err != nil {
			t.Fatalf("%s: %v", ent.Name(), err)
		}
		size := int64(len(data)) + int64(pad)
		e, err := ParseELF(padReader{[]byte(data), size}, size)
		if strings.Contains(ent.Name(), "32bit") {
			if err == nil {
				t.Errorf("%s parsed", ent.Name())
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", ent.Name(), err)
			continue
		}
		checkInvariants(t, e, size)
	}
}
