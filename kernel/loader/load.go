package loader

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/kernel/mm"
	"uk/platform"
)

// Auxiliary vector keys (Linux include/uapi/linux/auxvec.h).
const (
	atNull        = 0
	atPhdr        = 3
	atPhent       = 4
	atPhnum       = 5
	atPagesz      = 6
	atBase        = 7
	atFlags       = 8
	atEntry       = 9
	atUID         = 11
	atEUID        = 12
	atGID         = 13
	atEGID        = 14
	atPlatform    = 15
	atHwcap       = 16
	atClktck      = 17
	atSecure      = 23
	atRandom      = 25
	atHwcap2      = 26
	atExecfn      = 31
	atSysinfoEhdr = 33
	atMinsigstksz = 51
)

// dynBase is where a position-independent main program is placed, as
// Linux's ELF_ET_DYN_BASE (2/3 of the 47-bit user range).
const dynBase = 0x555555554000

// Args is what a program starts with.
type Args struct {
	Argv, Envv []string
	// ExecFn is the path the program was started by (AT_EXECFN).
	ExecFn string
	// Credentials for the auxv.
	UID, EUID, GID, EGID uint32
	// SysinfoEhdr is the address of the vDSO, 0 if none.
	SysinfoEhdr uint64
	// OpenInterp opens the PT_INTERP path inside the sandbox; nil means
	// dynamic programs are refused.
	OpenInterp func(path string) (io.ReaderAt, int64, error)
}

// Result is where a loaded program starts.
type Result struct {
	Entry, SP uint64
	// Phdr and Base for diagnostics.
	Base uint64
}

// Load maps the executable exe (parsed as e) and, if it asks for one, its
// interpreter into m, builds the initial stack and returns the registers'
// starting values.
func Load(m *mm.MM, exe io.ReaderAt, e *ELF, a Args) (*Result, error) {
	if e.Interp != "" && a.OpenInterp == nil {
		return nil, &FormatError{Reason: fmt.Sprintf("dynamically linked program (interpreter %s) needs a root filesystem with its loader", e.Interp)}
	}
	bias := uint64(0)
	if e.Type == TypeDyn {
		bias = dynBase &^ (e.MaxAlign() - 1)
	}
	end, err := mapImage(m, exe, e, bias)
	if err != nil {
		return nil, err
	}
	m.SetBrkStart(end)
	entry := e.Entry + bias
	var interpBase uint64
	if e.Interp != "" {
		r, size, err := a.OpenInterp(e.Interp)
		if err != nil {
			return nil, err
		}
		ie, err := ParseELF(r, size)
		if err != nil {
			return nil, fmt.Errorf("interpreter %s: %w", e.Interp, err)
		}
		if ie.Interp != "" || ie.Type != TypeDyn {
			return nil, &FormatError{Reason: "interpreter " + e.Interp + " is not a shared object"}
		}
		span := ie.Segments[len(ie.Segments)-1].End() - arch.PageRoundDown(ie.Segments[0].Vaddr)
		base, err := m.Mmap(mm.MmapOpts{Length: span + ie.MaxAlign(), Prot: 0})
		if err != nil {
			return nil, err
		}
		m.Munmap(base, span+ie.MaxAlign())
		base = (base + ie.MaxAlign() - 1) &^ (ie.MaxAlign() - 1)
		if _, err := mapImage(m, r, ie, base); err != nil {
			return nil, err
		}
		interpBase = base
		entry = ie.Entry + base
	}
	var phdr uint64
	if e.PhdrAddr != 0 {
		phdr = e.PhdrAddr + bias
	}
	auxv := [][2]uint64{
		{atPhdr, phdr}, {atPhent, uint64(e.Phentsize)}, {atPhnum, uint64(e.Phnum)},
		{atPagesz, arch.PageSize}, {atBase, interpBase}, {atFlags, 0}, {atEntry, e.Entry + bias},
		{atUID, uint64(a.UID)}, {atEUID, uint64(a.EUID)}, {atGID, uint64(a.GID)}, {atEGID, uint64(a.EGID)},
		{atHwcap, hwcap()}, {atClktck, 100}, {atSecure, 0}, {atHwcap2, 0}, {atMinsigstksz, minSigStackSize()},
	}
	if a.SysinfoEhdr != 0 {
		auxv = append(auxv, [2]uint64{atSysinfoEhdr, a.SysinfoEhdr})
	}
	sp, err := buildStack(m, a, auxv, e.ExecStack)
	if err != nil {
		return nil, err
	}
	return &Result{Entry: entry, SP: sp, Base: bias}, nil
}

// hwcap is AT_HWCAP.
func hwcap() uint64 { return arch.HWCAP() }

// minSigStackSize is AT_MINSIGSTKSZ: the largest signal frame this CPU's
// XSAVE area can need, as Linux computes it. Not the MINSIGSTKSZ constant
// (2048), which programs know already and which is too small for AVX-512
// state; glibc's sysconf(_SC_MINSIGSTKSZ) and _SC_SIGSTKSZ build on this.
func minSigStackSize() uint64 { return arch.HostXSave().MinSigStackSize() }

func protOfSegment(p Prot) platform.Access {
	return mm.ProtFromLinux(uint64(p))
}

// MapIdentifier is implemented by executables that can name their
// mappings as /proc/PID/maps shows them: path, device, inode.
type MapIdentifier interface {
	MapIdentity() (name string, dev, ino uint64)
}

// MappableFile is implemented by executables whose pages live in the
// memory file (tmpfs): their segments are mapped, not copied.
type MappableFile interface {
	Mappable() memmap.Mappable
}

// mapImage maps every PT_LOAD of e at bias: private mappings of the file's
// own pages when it has them (copied only when written, as Linux maps an
// ELF), else anonymous memory the file's bytes are copied into. It returns
// the end of the highest segment (where the heap starts).
func mapImage(m *mm.MM, r io.ReaderAt, e *ELF, bias uint64) (uint64, error) {
	var obj memmap.Mappable
	if mf, ok := r.(MappableFile); ok {
		obj = mf.Mappable()
	}
	var id fileIdentity
	if mi, ok := r.(MapIdentifier); ok {
		id.name, id.dev, id.ino = mi.MapIdentity()
	}
	var end uint64
	for i := range e.Segments {
		s := &e.Segments[i]
		start := arch.PageRoundDown(s.Vaddr + bias)
		stop, _ := arch.PageRoundUp(s.Vaddr + bias + s.Memsz)
		if stop == start {
			continue
		}
		if stop > end {
			end = stop
		}
		if obj != nil && s.Filesz > 0 && (s.Memsz == s.Filesz || s.Prot&ProtWrite != 0) {
			if err := mapSegmentFromFile(m, obj, id, s, bias, start, stop); err != nil {
				return 0, err
			}
			continue
		}
		// Mapped writable for the copy, then given its real rights.
		if _, err := m.Mmap(mm.MmapOpts{Addr: start, Length: stop - start, Prot: platform.Read | platform.Write, Fixed: true}); err != nil {
			return 0, fmt.Errorf("map segment at %#x: %w", start, err)
		}
		if s.Filesz > 0 {
			buf := make([]byte, s.Filesz)
			if _, err := r.ReadAt(buf, int64(s.Off)); err != nil && err != io.EOF {
				return 0, fmt.Errorf("read segment: %w", err)
			}
			if err := m.CopyOut(s.Vaddr+bias, buf); err != nil {
				return 0, fmt.Errorf("copy segment to %#x: %w", s.Vaddr+bias, err)
			}
		}
		if err := m.Mprotect(start, stop-start, protOfSegment(s.Prot), false); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// fileIdentity is what /proc/PID/maps shows for a file mapping.
type fileIdentity struct {
	name     string
	dev, ino uint64
}

// mapSegmentFromFile maps the file part of segment s privately from obj,
// zeroes what follows the file data in its last page (the start of .bss,
// which the private copy holds), and maps the rest of .bss anonymous.
func mapSegmentFromFile(m *mm.MM, obj memmap.Mappable, id fileIdentity, s *Segment, bias, start, stop uint64) error {
	prot := protOfSegment(s.Prot)
	fileEnd := s.Vaddr + bias + s.Filesz
	fileStop, _ := arch.PageRoundUp(fileEnd)
	if _, err := m.Mmap(mm.MmapOpts{Addr: start, Length: fileStop - start, Prot: prot, Fixed: true, CopyWhole: true,
		Object: obj, Pgoff: arch.PageRoundDown(s.Off) >> arch.PageShift, Name: id.name, Dev: id.dev, Ino: id.ino}); err != nil {
		return fmt.Errorf("map segment at %#x: %w", start, err)
	}
	if s.Memsz > s.Filesz && fileEnd < fileStop {
		if err := m.CopyOut(fileEnd, make([]byte, fileStop-fileEnd)); err != nil {
			return fmt.Errorf("clear .bss at %#x: %w", fileEnd, err)
		}
	}
	if stop > fileStop {
		if _, err := m.Mmap(mm.MmapOpts{Addr: fileStop, Length: stop - fileStop, Prot: prot, Fixed: true}); err != nil {
			return fmt.Errorf("map .bss at %#x: %w", fileStop, err)
		}
	}
	return nil
}

// stackSize is the initial size of the stack VMA; it grows down on faults.
const stackSize = 128 << 10

// buildStack creates the stack VMA below the layout's top and writes
// strings, auxv, envp, argv and argc as the x86-64 ABI specifies. It returns
// the initial stack pointer (pointing at argc).
func buildStack(m *mm.MM, a Args, auxv [][2]uint64, execStack bool) (uint64, error) {
	l := m.Layout()
	top := l.StackTop
	prot := platform.Read | platform.Write
	if execStack {
		prot |= platform.Exec
	}
	if _, err := m.Mmap(mm.MmapOpts{Addr: top - stackSize, Length: stackSize, Prot: prot, Fixed: true, GrowsDown: true, Name: "[stack]"}); err != nil {
		return 0, err
	}
	sp := top
	push := func(b []byte) (uint64, error) {
		sp -= uint64(len(b))
		return sp, m.CopyOut(sp, b)
	}
	pushString := func(s string) (uint64, error) { return push(append([]byte(s), 0)) }

	execfn, err := pushString(a.ExecFn)
	if err != nil {
		return 0, err
	}
	envAddrs := make([]uint64, len(a.Envv))
	envEnd := sp
	for i := len(a.Envv) - 1; i >= 0; i-- {
		if envAddrs[i], err = pushString(a.Envv[i]); err != nil {
			return 0, err
		}
	}
	envStart := sp
	argAddrs := make([]uint64, len(a.Argv))
	argEnd := sp
	for i := len(a.Argv) - 1; i >= 0; i-- {
		if argAddrs[i], err = pushString(a.Argv[i]); err != nil {
			return 0, err
		}
	}
	argStart := sp
	platformStr, err := pushString("x86_64")
	if err != nil {
		return 0, err
	}
	var random [16]byte
	rand.Read(random[:])
	randAddr, err := push(random[:])
	if err != nil {
		return 0, err
	}
	m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd = argStart, argEnd, envStart, envEnd

	auxv = append(auxv, [2]uint64{atExecfn, execfn}, [2]uint64{atPlatform, platformStr},
		[2]uint64{atRandom, randAddr}, [2]uint64{atNull, 0})
	words := 1 + len(argAddrs) + 1 + len(envAddrs) + 1 + 2*len(auxv)
	sp = (sp - uint64(words)*8) &^ 15
	buf := make([]byte, 0, words*8)
	put := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	put(uint64(len(a.Argv)))
	for _, p := range argAddrs {
		put(p)
	}
	put(0)
	for _, p := range envAddrs {
		put(p)
	}
	put(0)
	for _, kv := range auxv {
		put(kv[0])
		put(kv[1])
	}
	m.Auxv = append([]byte(nil), buf[len(buf)-16*len(auxv):]...)
	if err := m.CopyOut(sp, buf); err != nil {
		return 0, err
	}
	return sp, nil
}

// Errno maps a load error to what execve returns.
func Errno(err error) unix.Errno {
	if fe, ok := err.(*FormatError); ok {
		return fe.Errno()
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.ENOEXEC
}
