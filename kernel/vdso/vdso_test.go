package vdso

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"uk/arch"
	"uk/internal/testenv"
)

// The names glibc and Go's runtime look up, all with version LINUX_2.6.
var exported = []string{
	"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu", "__vdso_clock_getres",
	"clock_gettime", "gettimeofday", "time", "getcpu", "clock_getres",
}

func openImage(t *testing.T) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(Image))
	if err != nil {
		t.Fatalf("Image is not an ELF file: %v", err)
	}
	return f
}

func TestImageHeader(t *testing.T) {
	f := openImage(t)
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_DYN {
		t.Errorf("class %v machine %v type %v", f.Class, f.Machine, f.Type)
	}
	if r, _ := arch.PageRoundUp(uint64(len(Image))); r != ImageSize {
		t.Errorf("ImageSize = %d, but len(Image) = %d rounds to %d: update the constant", ImageSize, len(Image), r)
	}
	l := Layout()
	if l.ParamOffset+ParamPageSize != l.ImageOffset || l.ImageOffset+l.ImageSize != l.Size || l.Size != MapSize {
		t.Errorf("inconsistent layout %+v", l)
	}
}

func TestImageSegments(t *testing.T) {
	f := openImage(t)
	var loads, dynamic, ehframe int
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads++
			// Mapped straight from Image: vaddr 0, offset 0, no bss, r-x.
			if p.Vaddr != 0 || p.Off != 0 || p.Filesz != p.Memsz || p.Flags != elf.PF_R|elf.PF_X {
				t.Errorf("PT_LOAD %+v, want vaddr 0 offset 0 filesz==memsz r-x", p.ProgHeader)
			}
			if p.Memsz > ImageSize || p.Filesz > uint64(len(Image)) {
				t.Errorf("PT_LOAD larger than the image: %+v", p.ProgHeader)
			}
		case elf.PT_DYNAMIC:
			dynamic++
		case elf.PT_GNU_EH_FRAME:
			ehframe++
			if p.Filesz == 0 {
				t.Error("empty PT_GNU_EH_FRAME")
			}
		case elf.PT_INTERP, elf.PT_TLS:
			t.Errorf("unexpected %v", p.Type)
		}
	}
	if loads != 1 || dynamic != 1 || ehframe != 1 {
		t.Errorf("%d PT_LOAD, %d PT_DYNAMIC, %d PT_GNU_EH_FRAME; want one each", loads, dynamic, ehframe)
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type == elf.SHT_NOBITS && s.Size > 0 {
			t.Errorf("section %s is bss: the image must be its own memory", s.Name)
		}
		if (s.Name == ".data" || s.Name == ".got" || s.Name == ".got.plt" || s.Name == ".bss") && s.Size > 0 {
			t.Errorf("writable section %s of %d bytes", s.Name, s.Size)
		}
	}
}

func TestImageDynamic(t *testing.T) {
	f := openImage(t)
	if so, err := f.DynString(elf.DT_SONAME); err != nil || len(so) != 1 || so[0] != "linux-vdso.so.1" {
		t.Errorf("SONAME %v %v, want linux-vdso.so.1", so, err)
	}
	if need, _ := f.DynString(elf.DT_NEEDED); len(need) != 0 {
		t.Errorf("DT_NEEDED %v", need)
	}
	for _, tag := range []elf.DynTag{elf.DT_HASH, elf.DT_GNU_HASH, elf.DT_SYMTAB, elf.DT_STRTAB, elf.DT_VERSYM, elf.DT_VERDEF} {
		if v, err := f.DynValue(tag); err != nil || len(v) != 1 {
			t.Errorf("%v: %v %v, want one entry", tag, v, err)
		}
	}
	// No relocations of any kind: the image is used as mapped.
	for _, tag := range []elf.DynTag{elf.DT_RELA, elf.DT_REL, elf.DynTag(36) /* DT_RELR */, elf.DT_JMPREL, elf.DT_TEXTREL} {
		if v, _ := f.DynValue(tag); len(v) != 0 {
			t.Errorf("image has %v", tag)
		}
	}
	for _, s := range f.Sections {
		if s.Type == elf.SHT_RELA || s.Type == elf.SHT_REL {
			t.Errorf("relocation section %s", s.Name)
		}
	}
}

func TestImageSymbols(t *testing.T) {
	f := openImage(t)
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	byName := map[string]elf.Symbol{}
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF && s.Section < elf.SHN_LORESERVE {
			byName[s.Name] = s
		}
	}
	for _, name := range exported {
		s, ok := byName[name]
		if !ok {
			t.Errorf("%s not exported", name)
			continue
		}
		if s.Version != "LINUX_2.6" {
			t.Errorf("%s has version %q, want LINUX_2.6", name, s.Version)
		}
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value < text.Addr || s.Value >= text.Addr+text.Size {
			t.Errorf("%s: %+v is not a function in .text", name, s)
		}
		want := elf.STB_GLOBAL
		if name[0] != '_' {
			want = elf.STB_WEAK
		}
		if elf.ST_BIND(s.Info) != want {
			t.Errorf("%s binding %v, want %v", name, elf.ST_BIND(s.Info), want)
		}
		if name[0] != '_' && byName["__vdso_"+name].Value != s.Value {
			t.Errorf("%s is not an alias of __vdso_%s", name, name)
		}
	}
	if len(byName) != len(exported) {
		t.Errorf("exports %d functions, want %d: %v", len(byName), len(exported), byName)
	}
}

// TestImageRebuild: gen.sh from the committed sources reproduces the
// committed image where the toolchain matches; with another gcc it only
// checks that the sources still build.
func TestImageRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, tool := range []string{"gcc", "readelf", "nm"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Need(t, tool, "gen.sh rebuilds the vDSO image with it; Debian: gcc, binutils")
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"gen.sh", "src/vdso.c", "src/vdso.h", "src/vdso.lds", "src/vdso.map"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "src"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("sh", filepath.Join(dir, "gen.sh")).CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "vdso.so"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, Image) {
		ver, _ := exec.Command("gcc", "-dumpfullversion").Output()
		t.Logf("gen.sh with gcc %s builds a different image than the committed vdso.so (different toolchain?); run go generate ./kernel/vdso if the sources changed", bytes.TrimSpace(ver))
	}
}
