package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"uk/internal/testenv"
)

// phdr is a program header for building test ELFs.
type phdr struct {
	typ    elf.ProgType
	flags  elf.ProgFlag
	off    uint64
	vaddr  uint64
	filesz uint64
	memsz  uint64
	align  uint64
}

// testELF describes a crafted ELF; build renders it.
type testELF struct {
	class     byte
	data      byte
	version   byte
	typ       uint16
	machine   uint16
	entry     uint64
	phoff     uint64
	phentsize uint16
	phnum     int // -1: len(phdrs)
	phdrs     []phdr
	size      int // total file size; 0: enough for headers and extra
	extra     map[uint64][]byte
}

// base is a valid static ET_EXEC: headers at 64 inside a text segment at
// 0x400000, and a data+bss segment.
func base() testELF {
	return testELF{
		class: byte(elf.ELFCLASS64), data: byte(elf.ELFDATA2LSB), version: 1,
		typ: uint16(elf.ET_EXEC), machine: uint16(elf.EM_X86_64),
		entry: 0x401000, phoff: 64, phentsize: 56, phnum: -1,
		phdrs: []phdr{
			{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, off: 0, vaddr: 0x400000, filesz: 0x2000, memsz: 0x2000, align: 0x1000},
			{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, off: 0x2000, vaddr: 0x403000, filesz: 0x100, memsz: 0x5000, align: 0x1000},
			{typ: elf.PT_GNU_STACK, flags: elf.PF_R | elf.PF_W},
		},
		size: 0x2100,
	}
}

func (t testELF) build() []byte {
	n := t.phnum
	if n < 0 {
		n = len(t.phdrs)
	}
	size := t.size
	if end := int(t.phoff) + 56*len(t.phdrs); t.phoff < 1<<20 && end > size {
		size = end
	}
	for off, b := range t.extra {
		if int(off)+len(b) > size {
			size = int(off) + len(b)
		}
	}
	if size < 64 {
		size = 64
	}
	f := make([]byte, size)
	copy(f, elf.ELFMAG)
	f[elf.EI_CLASS] = t.class
	f[elf.EI_DATA] = t.data
	f[elf.EI_VERSION] = t.version
	le := binary.LittleEndian
	le.PutUint16(f[16:], t.typ)
	le.PutUint16(f[18:], t.machine)
	le.PutUint32(f[20:], 1)
	le.PutUint64(f[24:], t.entry)
	le.PutUint64(f[32:], t.phoff)
	le.PutUint16(f[52:], 64)
	le.PutUint16(f[54:], t.phentsize)
	le.PutUint16(f[56:], uint16(n))
	for i, p := range t.phdrs {
		o := int(t.phoff) + 56*i
		if t.phoff >= 1<<20 || o+56 > len(f) {
			break
		}
		le.PutUint32(f[o:], uint32(p.typ))
		le.PutUint32(f[o+4:], uint32(p.flags))
		le.PutUint64(f[o+8:], p.off)
		le.PutUint64(f[o+16:], p.vaddr)
		le.PutUint64(f[o+24:], p.vaddr)
		le.PutUint64(f[o+32:], p.filesz)
		le.PutUint64(f[o+40:], p.memsz)
		le.PutUint64(f[o+48:], p.align)
	}
	for off, b := range t.extra {
		copy(f[off:], b)
	}
	return f
}

func parseBytes(b []byte) (*ELF, error) { return ParseELF(bytes.NewReader(b), int64(len(b))) }

func TestParseELFValid(t *testing.T) {
	e, err := parseBytes(base().build())
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{Vaddr: 0x400000, Memsz: 0x2000, Off: 0, Filesz: 0x2000, Prot: ProtRead | ProtExec, Align: 0x1000},
		{Vaddr: 0x403000, Memsz: 0x5000, Off: 0x2000, Filesz: 0x100, Prot: ProtRead | ProtWrite, Align: 0x1000},
	}
	if len(e.Segments) != len(want) {
		t.Fatalf("segments = %+v", e.Segments)
	}
	for i := range want {
		if e.Segments[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, e.Segments[i], want[i])
		}
	}
	if e.Type != TypeExec || e.Entry != 0x401000 || e.Phoff != 64 || e.Phentsize != 56 || e.Phnum != 3 {
		t.Errorf("header = %+v", e)
	}
	if e.PhdrAddr != 0x400040 {
		t.Errorf("PhdrAddr = %#x, want 0x400040 (derived from the first PT_LOAD)", e.PhdrAddr)
	}
	if !e.GNUStack || e.ExecStack || e.Interp != "" {
		t.Errorf("GNUStack=%v ExecStack=%v Interp=%q", e.GNUStack, e.ExecStack, e.Interp)
	}
	if e.Segments[0].Prot.String() != "r-x" || e.Segments[1].End() != 0x408000 {
		t.Errorf("prot %v end %#x", e.Segments[0].Prot, e.Segments[1].End())
	}
}

func TestParseELFFeatures(t *testing.T) {
	interp := append([]byte("/lib64/ld-linux-x86-64.so.2"), 0)
	tests := []struct {
		name  string
		mod   func(*testELF)
		check func(*testing.T, *ELF)
	}{
		{"interp", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_INTERP, off: 0x300, filesz: uint64(len(interp))})
			e.extra = map[uint64][]byte{0x300: interp}
		}, func(t *testing.T, e *ELF) {
			if e.Interp != "/lib64/ld-linux-x86-64.so.2" {
				t.Errorf("Interp = %q", e.Interp)
			}
		}},
		{"first interp wins", func(e *testELF) {
			e.phdrs = append(e.phdrs,
				phdr{typ: elf.PT_INTERP, off: 0x300, filesz: 3},
				phdr{typ: elf.PT_INTERP, off: 0x400, filesz: 1 << 40})
			e.extra = map[uint64][]byte{0x300: []byte("/x\x00")}
		}, func(t *testing.T, e *ELF) {
			if e.Interp != "/x" {
				t.Errorf("Interp = %q", e.Interp)
			}
		}},
		{"pt_phdr preferred", func(e *testELF) {
			e.phdrs = append([]phdr{{typ: elf.PT_PHDR, vaddr: 0x400040, off: 64, filesz: 56 * 4, memsz: 56 * 4}}, e.phdrs...)
		}, func(t *testing.T, e *ELF) {
			if e.PhdrAddr != 0x400040 {
				t.Errorf("PhdrAddr = %#x", e.PhdrAddr)
			}
		}},
		{"phdrs not mapped", func(e *testELF) {
			e.phoff = 0x2100
			e.size = 0x2100 + 56*3
		}, func(t *testing.T, e *ELF) {
			if e.PhdrAddr != 0 {
				t.Errorf("PhdrAddr = %#x, want 0", e.PhdrAddr)
			}
		}},
		{"phdrs in second segment", func(e *testELF) {
			e.phoff = 0x2010
			e.phdrs[0].filesz, e.phdrs[0].memsz = 0x1000, 0x1000
		}, func(t *testing.T, e *ELF) {
			if e.PhdrAddr != 0x403010 {
				t.Errorf("PhdrAddr = %#x", e.PhdrAddr)
			}
		}},
		{"exec stack", func(e *testELF) {
			e.phdrs[2].flags = elf.PF_R | elf.PF_W | elf.PF_X
		}, func(t *testing.T, e *ELF) {
			if !e.ExecStack || !e.GNUStack {
				t.Error("want executable stack")
			}
		}},
		{"no gnu stack", func(e *testELF) {
			e.phdrs = e.phdrs[:2]
		}, func(t *testing.T, e *ELF) {
			if e.ExecStack || e.GNUStack {
				t.Error("want no PT_GNU_STACK")
			}
		}},
		{"dyn with relative addresses and 2M align", func(e *testELF) {
			e.typ = uint16(elf.ET_DYN)
			e.entry = 0x1000
			e.phdrs[0].vaddr, e.phdrs[0].align = 0, 0x200000
			e.phdrs[1].vaddr, e.phdrs[1].align = 0x3000, 3
		}, func(t *testing.T, e *ELF) {
			if e.Type != TypeDyn || e.MaxAlign() != 0x200000 || e.PhdrAddr != 0x40 {
				t.Errorf("type %v maxalign %#x phdr %#x", e.Type, e.MaxAlign(), e.PhdrAddr)
			}
		}},
		{"segments share a page", func(e *testELF) {
			e.phdrs[0].filesz, e.phdrs[0].memsz = 0x1f80, 0x1f80
			e.phdrs[1].vaddr, e.phdrs[1].off = 0x401f80, 0x1f80
		}, nil},
		{"zero-size segment", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_LOAD, vaddr: 0x500000, off: 0})
		}, func(t *testing.T, e *ELF) {
			if len(e.Segments) != 3 {
				t.Errorf("%d segments", len(e.Segments))
			}
		}},
		{"segment up to the user limit", func(e *testELF) {
			e.phdrs[1].vaddr = elfUserLimit - 0x1000 + 0x2000%0x1000
			e.phdrs[1].memsz = 0x1000
		}, nil},
		{"unknown program header types ignored", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: 0x6fffffff, off: 1 << 63, filesz: 1 << 63})
		}, nil},
		{"max phnum", func(e *testELF) {
			for len(e.phdrs) < elfMaxPhnum {
				e.phdrs = append(e.phdrs, phdr{typ: elf.PT_NOTE})
			}
		}, func(t *testing.T, e *ELF) {
			if e.Phnum != elfMaxPhnum {
				t.Errorf("Phnum = %d", e.Phnum)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := base()
			tc.mod(&te)
			e, err := parseBytes(te.build())
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

func TestParseELFErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*testELF)
		raw  []byte // used instead of the built file when set
		want string
	}{
		{"empty", nil, []byte{}, "not an ELF file"},
		{"script", nil, []byte("#!/bin/sh\necho hi\n"), "not an ELF file"},
		{"short magic", nil, []byte("\x7fEL"), "not an ELF file"},
		{"truncated header", nil, []byte("\x7fELF\x02\x01\x01"), "truncated ELF: header beyond end of file"},
		{"32-bit", func(e *testELF) { e.class = byte(elf.ELFCLASS32) }, nil, "32-bit ELF is not supported (uk runs x86-64 programs only)"},
		{"bad class", func(e *testELF) { e.class = 7 }, nil, "invalid ELF class 7"},
		{"big endian", func(e *testELF) { e.data = byte(elf.ELFDATA2MSB) }, nil, "not an x86-64 ELF (big-endian or invalid data encoding 2)"},
		{"aarch64", func(e *testELF) { e.machine = uint16(elf.EM_AARCH64) }, nil, "not an x86-64 ELF (machine EM_AARCH64)"},
		{"version", func(e *testELF) { e.version = 2 }, nil, "invalid ELF version 2"},
		{"relocatable", func(e *testELF) { e.typ = uint16(elf.ET_REL) }, nil, "unsupported ELF type: relocatable object (ET_REL), link it first"},
		{"core", func(e *testELF) { e.typ = uint16(elf.ET_CORE) }, nil, "unsupported ELF type: core dump (ET_CORE)"},
		{"bad type", func(e *testELF) { e.typ = 0xfe00 }, nil, "unsupported ELF type 0xfe00"},
		{"phentsize", func(e *testELF) { e.phentsize = 32 }, nil, "invalid ELF program header size 32 (want 56)"},
		{"no phdrs", func(e *testELF) { e.phnum = 0 }, nil, "no program headers"},
		{"too many phdrs", func(e *testELF) { e.phnum = elfMaxPhnum + 1 }, nil, "too many program headers (1171, at most 1170)"},
		{"phdrs past eof", func(e *testELF) { e.phnum = 200 }, nil, "truncated ELF: program headers beyond end of file"},
		{"phoff huge", func(e *testELF) { e.phoff = 1<<64 - 8 }, nil, "truncated ELF: program headers beyond end of file"},
		{"no loads", func(e *testELF) { e.phdrs = e.phdrs[2:] }, nil, "no loadable segments"},
		{"filesz > memsz", func(e *testELF) { e.phdrs[1].memsz = 0x10 }, nil, "invalid segment 1: file size 0x100 larger than memory size 0x10"},
		{"segment past eof", func(e *testELF) { e.phdrs[1].filesz = 0x200 }, nil, "truncated ELF: segment 1 beyond end of file"},
		{"segment offset overflow", func(e *testELF) { e.phdrs[1].off = 1<<64 - 0x100 + 0x2000%0x1000 }, nil, "truncated ELF: segment 1 beyond end of file"},
		{"vaddr+memsz overflow", func(e *testELF) {
			e.phdrs[1].vaddr = 1<<64 - 0x1000
			e.phdrs[1].memsz = 0x2000
		}, nil, "segment 1 overflows the user address space (vaddr 0xfffffffffffff000, size 0x2000)"},
		{"kernel address", func(e *testELF) {
			e.phdrs[1].vaddr = 0xffffffff80000000
		}, nil, "segment 1 overflows the user address space (vaddr 0xffffffff80000000, size 0x5000)"},
		{"just past user limit", func(e *testELF) {
			e.phdrs[1].vaddr = elfUserLimit - 0x1000
			e.phdrs[1].memsz = 0x1001
		}, nil, "segment 1 overflows the user address space (vaddr 0x7fffffffe000, size 0x1001)"},
		{"incongruent", func(e *testELF) { e.phdrs[1].vaddr = 0x403100 }, nil, "invalid segment 1: file offset 0x2000 and address 0x403100 differ modulo the page size"},
		{"descending", func(e *testELF) { e.phdrs[1].vaddr = 0x300000 }, nil, "PT_LOAD segments not in ascending address order (segment 1 at 0x300000 after 0x400000)"},
		{"overlap", func(e *testELF) { e.phdrs[1].vaddr = 0x401000 }, nil, "PT_LOAD segments overlap (segment 1 at 0x401000 inside segment 0 ending at 0x402000)"},
		{"interp empty", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_INTERP, off: 0x300, filesz: 1})
		}, nil, "invalid interpreter path: empty"},
		{"interp too long", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_INTERP, off: 0x300, filesz: 4097})
		}, nil, "interpreter path too long (4097 bytes, at most 4096)"},
		{"interp past eof", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_INTERP, off: 0x20f0, filesz: 0x20})
		}, nil, "truncated ELF: interpreter path beyond end of file"},
		{"interp not terminated", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_INTERP, off: 0x300, filesz: 4})
			e.extra = map[uint64][]byte{0x300: []byte("/abc")}
		}, nil, "invalid interpreter path: not NUL-terminated"},
		{"interp embedded nul", func(e *testELF) {
			e.phdrs = append(e.phdrs, phdr{typ: elf.PT_INTERP, off: 0x300, filesz: 5})
			e.extra = map[uint64][]byte{0x300: []byte("/a\x00b\x00")}
		}, nil, "invalid interpreter path: embedded NUL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.raw
			if b == nil {
				te := base()
				tc.mod(&te)
				b = te.build()
			}
			_, err := parseBytes(b)
			if err == nil {
				t.Fatalf("parsed, want error %q", tc.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if !errors.Is(err, unix.ENOEXEC) || fe.Errno() != unix.ENOEXEC {
				t.Errorf("error %v is not ENOEXEC", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// failingReader fails every read with an I/O error.
type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, unix.EIO }

func TestParseELFReadError(t *testing.T) {
	_, err := ParseELF(failingReader{}, 4096)
	var fe *FormatError
	if err == nil || errors.As(err, &fe) || !errors.Is(err, unix.EIO) {
		t.Fatalf("err = %v, want a wrapped EIO", err)
	}
}

// TestParseELFShortFile: size claims more than the reader has.
func TestParseELFShortFile(t *testing.T) {
	b := base().build()
	_, err := ParseELF(bytes.NewReader(b[:100]), int64(len(b)))
	if err == nil || err.Error() != "truncated ELF: program headers beyond end of file" {
		t.Fatalf("err = %v", err)
	}
}

// buildC compiles a C hello world with the given gcc flags. A missing gcc
// is a missing environment (testenv.Need); a failed build fails the test.
func buildC(t *testing.T, name string, flags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Need(t, "gcc", "real ELF files are built with it; Debian: gcc libc6-dev")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := append(append([]string{}, flags...), "-o", out, src)
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", flags, err, b)
	}
	return out
}

func parseFile(t *testing.T, path string) *ELF {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseELF(f, st.Size())
	if err != nil {
		t.Fatalf("ParseELF(%s): %v", path, err)
	}
	crossCheck(t, path, e)
	return e
}

// crossCheck compares the parse with debug/elf's on a trusted file.
func crossCheck(t *testing.T, path string, e *ELF) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if uint16(e.Type) != uint16(f.Type) || e.Entry != f.Entry {
		t.Errorf("%s: type %v entry %#x, debug/elf %v %#x", path, e.Type, e.Entry, f.Type, f.Entry)
	}
	var loads []*elf.Prog
	var phdrVaddr uint64
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads = append(loads, p)
		case elf.PT_PHDR:
			phdrVaddr = p.Vaddr
		}
	}
	if len(loads) != len(e.Segments) {
		t.Fatalf("%s: %d segments, debug/elf %d", path, len(e.Segments), len(loads))
	}
	for i, p := range loads {
		s := e.Segments[i]
		if s.Vaddr != p.Vaddr || s.Memsz != p.Memsz || s.Off != p.Off || s.Filesz != p.Filesz || s.Align != p.Align || s.Prot != protOf(uint32(p.Flags)) {
			t.Errorf("%s: segment %d = %+v, debug/elf %+v", path, i, s, p.ProgHeader)
		}
	}
	if phdrVaddr != 0 && e.PhdrAddr != phdrVaddr {
		t.Errorf("%s: PhdrAddr %#x, PT_PHDR %#x", path, e.PhdrAddr, phdrVaddr)
	}
	if e.PhdrAddr == 0 {
		t.Errorf("%s: program headers not found in memory", path)
	}
	if !e.GNUStack || e.ExecStack {
		t.Errorf("%s: GNUStack %v ExecStack %v, want a non-executable PT_GNU_STACK", path, e.GNUStack, e.ExecStack)
	}
}

func TestParseRealStatic(t *testing.T) {
	e := parseFile(t, buildC(t, "static", "-static", "-O2"))
	if e.Type != TypeExec || e.Interp != "" {
		t.Errorf("type %v interp %q, want ET_EXEC without interpreter", e.Type, e.Interp)
	}
}

func TestParseRealStaticPIE(t *testing.T) {
	e := parseFile(t, buildC(t, "static-pie", "-static-pie", "-O2"))
	if e.Type != TypeDyn || e.Interp != "" {
		t.Errorf("type %v interp %q, want ET_DYN without interpreter", e.Type, e.Interp)
	}
	if e.Segments[0].Vaddr != 0 {
		t.Errorf("first segment at %#x, want 0", e.Segments[0].Vaddr)
	}
}

func TestParseRealDynamic(t *testing.T) {
	e := parseFile(t, buildC(t, "dynamic", "-O2"))
	if e.Type != TypeDyn || e.Interp != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("type %v interp %q, want ET_DYN with /lib64/ld-linux-x86-64.so.2", e.Type, e.Interp)
	}
	// The interpreter itself: ET_DYN, no PT_INTERP.
	ld, err := filepath.EvalSymlinks(e.Interp)
	if err != nil {
		t.Fatalf("the interpreter of a program gcc just built: %v", err)
	}
	i := parseFile(t, ld)
	if i.Type != TypeDyn || i.Interp != "" {
		t.Errorf("ld.so: type %v interp %q", i.Type, i.Interp)
	}
}

func TestParseRealBusybox(t *testing.T) {
	const path = "/bin/busybox"
	if _, err := os.Stat(path); err != nil {
		testenv.Need(t, "/bin/busybox", err.Error()+"; Debian: busybox-static")
	}
	e := parseFile(t, path)
	if e.Interp != "" {
		t.Errorf("busybox-static has interpreter %q", e.Interp)
	}
}

// TestParseRealGo parses this test binary, a Go executable.
func TestParseRealGo(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := parseFile(t, exe)
	if e.Type != TypeExec {
		t.Errorf("Go binary type %v", e.Type)
	}
}

// The names the loader prints are readelf's, for the values it spells out
// itself instead of importing debug/elf; debug/elf is the reference here.
func TestELFNamesMatchDebugELF(t *testing.T) {
	for _, typ := range []elf.Type{elf.ET_NONE, elf.ET_REL, elf.ET_EXEC, elf.ET_DYN, elf.ET_CORE} {
		if got, want := Type(typ).String(), typ.String(); got != want {
			t.Errorf("Type(%d) = %q, want %q", typ, got, want)
		}
	}
	for _, m := range []elf.Machine{elf.EM_386, elf.EM_ARM, elf.EM_AARCH64, elf.EM_RISCV, elf.EM_X86_64, elf.EM_PPC64, elf.EM_S390, elf.EM_MIPS} {
		if got, want := machineName(uint16(m)), m.String(); got != want {
			t.Errorf("machineName(%d) = %q, want %q", m, got, want)
		}
	}
	consts := []struct {
		name      string
		ours, std uint64
	}{
		{"ELFCLASS64", elfClass64, uint64(elf.ELFCLASS64)}, {"ELFCLASS32", elfClass32, uint64(elf.ELFCLASS32)},
		{"ELFDATA2LSB", elfData2LSB, uint64(elf.ELFDATA2LSB)}, {"EI_CLASS", eiClass, elf.EI_CLASS},
		{"EI_DATA", eiData, elf.EI_DATA}, {"EI_VERSION", eiVersion, elf.EI_VERSION},
		{"PT_LOAD", ptLoad, uint64(elf.PT_LOAD)}, {"PT_INTERP", ptInterp, uint64(elf.PT_INTERP)},
		{"PT_PHDR", ptPhdr, uint64(elf.PT_PHDR)}, {"PT_GNU_STACK", ptGNUStack, uint64(elf.PT_GNU_STACK)},
		{"PF_R", pfR, uint64(elf.PF_R)}, {"PF_W", pfW, uint64(elf.PF_W)}, {"PF_X", pfX, uint64(elf.PF_X)},
	}
	for _, c := range consts {
		if c.ours != c.std {
			t.Errorf("%s = %#x, debug/elf says %#x", c.name, c.ours, c.std)
		}
	}
}
