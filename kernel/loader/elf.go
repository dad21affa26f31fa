// Package loader turns an executable file into a fresh address space, a
// stack and an auxiliary vector, as Linux's binfmt_elf does.
//
// This file parses the ELF header and program headers of an executable or an
// interpreter. The input is untrusted (any file the application can exec), so
// the parser reads only the 64-byte header and at most 64 KiB of program
// headers itself instead of using debug/elf (which allocates according to
// header fields and has panicked on hostile input), and it validates every
// number the loader later trusts: offsets lie inside the file, no vaddr+memsz
// sum overflows, every segment fits below the user address limit, and file
// offsets are congruent with addresses modulo the page size so that each
// segment can be mapped directly from the file.
package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// Sizes fixed by the x86-64 ELF ABI.
const (
	elfHeaderSize = 64 // sizeof(Elf64_Ehdr)
	elfPhdrSize   = 56 // sizeof(Elf64_Phdr)

	// elfMaxPhdrBytes caps the program header table like Linux's
	// load_elf_phdrs: more than 64 KiB of headers is rejected.
	elfMaxPhdrBytes = 65536
	// elfMaxPhnum is the largest program header count accepted.
	elfMaxPhnum = elfMaxPhdrBytes / elfPhdrSize

	// elfMaxInterp is Linux's PATH_MAX, the limit binfmt_elf puts on
	// PT_INTERP.
	elfMaxInterp = 4096

	// elfUserLimit is Linux's TASK_SIZE for 4-level paging on x86-64: the
	// first address above user space. No byte of a segment may lie at or
	// above it (for ET_DYN: the whole image must fit below it).
	elfUserLimit = 0x7ffffffff000

	elfPageSize = 4096
)

// Type is the ELF file type the loader accepts (e_type).
type Type uint16

// Accepted ELF types.
const (
	// TypeExec is ET_EXEC: a position-dependent executable whose segment
	// addresses are absolute.
	TypeExec Type = etExec
	// TypeDyn is ET_DYN: a position-independent executable or shared object
	// (ld.so); segment addresses are relative to a load bias the loader
	// chooses.
	TypeDyn Type = etDyn
)

// String names the type as readelf does.
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("ET_%#x", uint16(t))
}

// Prot is a set of memory protections in unix.PROT_READ/PROT_WRITE/PROT_EXEC
// bits (not ELF's PF_* bits, which are in a different order), so it can go
// straight to mmap-like interfaces.
type Prot uint32

// Protection bits of a Prot.
const (
	ProtRead  Prot = unix.PROT_READ
	ProtWrite Prot = unix.PROT_WRITE
	ProtExec  Prot = unix.PROT_EXEC
)

// String renders the protections as "rwx" with dashes, like /proc/PID/maps.
func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Segment is one PT_LOAD program header, validated.
//
// Invariants (checked by ParseELF): Filesz <= Memsz; Off+Filesz <= file size;
// Vaddr+Memsz <= the user address limit (for ET_DYN: relative to the first
// segment's page); Vaddr ≡ Off (mod 4096).
type Segment struct {
	Vaddr  uint64 // address of the first byte (relative to the load bias for ET_DYN)
	Memsz  uint64 // bytes in memory; the part past Filesz is zero-filled (bss)
	Off    uint64 // file offset of the first byte
	Filesz uint64 // bytes taken from the file
	Prot   Prot   // protections from p_flags
	Align  uint64 // p_align as written in the file (may be 0, 1 or not a power of two)
}

// End returns the address just past the segment in memory (Vaddr+Memsz; it
// cannot overflow for a parsed segment).
func (s *Segment) End() uint64 { return s.Vaddr + s.Memsz }

// ELF is what the loader needs from an executable or an interpreter.
type ELF struct {
	Type  Type   // TypeExec or TypeDyn
	Entry uint64 // e_entry (relative to the load bias for ET_DYN); not validated, as Linux

	// The program header table in the file, for AT_PHENT and AT_PHNUM.
	Phoff     uint64
	Phentsize uint16 // always 56
	Phnum     uint16 // 1..1170

	// PhdrAddr is where the program headers are in memory, for AT_PHDR
	// (relative to the load bias for ET_DYN): PT_PHDR's p_vaddr if there is
	// one (ld.so computes the main program's load bias from it), otherwise
	// derived from the PT_LOAD whose file range covers the whole table. It
	// is 0 when no loaded segment contains the headers.
	PhdrAddr uint64

	// Segments are the PT_LOAD headers in file order, which is ascending
	// address order; they do not overlap byte-wise (they may share a page).
	// There is at least one.
	Segments []Segment

	// Interp is the PT_INTERP path without its NUL, "" if there is none.
	Interp string

	// GNUStack is true when the file has a PT_GNU_STACK header.
	// ExecStack is true when that header asks for an executable stack
	// (PF_X). On x86-64 Linux, a 64-bit program without PT_GNU_STACK also
	// gets a non-executable stack, so ExecStack alone decides.
	GNUStack  bool
	ExecStack bool
}

// MaxAlign returns the largest p_align among the PT_LOAD segments that is a
// power of two, and at least the page size. Linux aligns an ET_DYN load bias
// to it (so 2 MiB-aligned segments can use huge pages); values that are not a
// power of two are ignored, as Linux does.
func (e *ELF) MaxAlign() uint64 {
	a := uint64(elfPageSize)
	for _, s := range e.Segments {
		if s.Align > a && s.Align&(s.Align-1) == 0 && s.Align <= elfUserLimit {
			a = s.Align
		}
	}
	return a
}

// FormatError says why a file is not an executable uk can run. Its message is
// one line meant for a user ("not an ELF file"); at the syscall boundary it
// is ENOEXEC, as Linux's execve reports.
type FormatError struct {
	Reason string
}

// Error returns the reason the file is not a loadable ELF program.
func (e *FormatError) Error() string { return e.Reason }

// Errno is the errno execve returns for this error: ENOEXEC.
func (e *FormatError) Errno() unix.Errno { return unix.ENOEXEC }

// Is makes errors.Is(err, unix.ENOEXEC) true for a FormatError.
func (e *FormatError) Is(target error) bool { return target == unix.ENOEXEC }

func elfErrorf(format string, args ...any) error {
	return &FormatError{Reason: fmt.Sprintf(format, args...)}
}

// readFull reads exactly len(buf) bytes at off, turning a short read into a
// FormatError naming what was truncated.
func readFull(r io.ReaderAt, buf []byte, off int64, what string) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return elfErrorf("truncated ELF: %s beyond end of file", what)
	}
	return fmt.Errorf("reading ELF %s: %w", what, err)
}

// ParseELF reads and validates the ELF header and program headers of an
// x86-64 executable or interpreter of size bytes. It returns a *FormatError
// (ENOEXEC) for anything that is not a loadable x86-64 ELF, and a wrapped I/O
// error if r fails otherwise. It never reads more than 64 KiB of headers plus
// the interpreter path, whatever the file says.
func ParseELF(r io.ReaderAt, size int64) (*ELF, error) {
	var hdr [elfHeaderSize]byte
	if size < 4 {
		return nil, elfErrorf("not an ELF file")
	}
	n := min(size, elfHeaderSize)
	if err := readFull(r, hdr[:n], 0, "ELF header"); err != nil {
		return nil, err
	}
	if string(hdr[:4]) != elfMagic {
		return nil, elfErrorf("not an ELF file")
	}
	if n < elfHeaderSize {
		return nil, elfErrorf("truncated ELF: header beyond end of file")
	}
	switch hdr[eiClass] {
	case elfClass64:
	case elfClass32:
		return nil, elfErrorf("32-bit ELF is not supported (uk runs x86-64 programs only)")
	default:
		return nil, elfErrorf("invalid ELF class %d", hdr[eiClass])
	}
	le := binary.LittleEndian
	machine := le.Uint16(hdr[18:])
	if hdr[eiData] != elfData2LSB {
		return nil, elfErrorf("not an x86-64 ELF (big-endian or invalid data encoding %d)", hdr[eiData])
	}
	if machine != emX86_64 {
		return nil, elfErrorf("not an x86-64 ELF (machine %s)", machineName(machine))
	}
	if v := hdr[eiVersion]; v != evCurrent {
		return nil, elfErrorf("invalid ELF version %d", v)
	}
	e := &ELF{
		Type:      Type(le.Uint16(hdr[16:])),
		Entry:     le.Uint64(hdr[24:]),
		Phoff:     le.Uint64(hdr[32:]),
		Phentsize: le.Uint16(hdr[54:]),
		Phnum:     le.Uint16(hdr[56:]),
	}
	switch e.Type {
	case etExec, etDyn:
	case etRel:
		return nil, elfErrorf("unsupported ELF type: relocatable object (ET_REL), link it first")
	case etCore:
		return nil, elfErrorf("unsupported ELF type: core dump (ET_CORE)")
	default:
		return nil, elfErrorf("unsupported ELF type %#x", uint16(e.Type))
	}
	if e.Phentsize != elfPhdrSize {
		return nil, elfErrorf("invalid ELF program header size %d (want %d)", e.Phentsize, elfPhdrSize)
	}
	if e.Phnum == 0 {
		return nil, elfErrorf("no program headers")
	}
	if e.Phnum > elfMaxPhnum {
		return nil, elfErrorf("too many program headers (%d, at most %d)", e.Phnum, elfMaxPhnum)
	}
	tableSize := uint64(e.Phnum) * elfPhdrSize
	if e.Phoff > uint64(size) || tableSize > uint64(size)-e.Phoff {
		return nil, elfErrorf("truncated ELF: program headers beyond end of file")
	}
	table := make([]byte, tableSize)
	if err := readFull(r, table, int64(e.Phoff), "program headers"); err != nil {
		return nil, err
	}

	var (
		phdrVaddr             uint64
		havePhdr, haveInterp  bool
		interpOff, interpSize uint64
	)
	for i := 0; i < int(e.Phnum); i++ {
		p := table[i*elfPhdrSize:]
		typ := le.Uint32(p[0:])
		flags := le.Uint32(p[4:])
		off := le.Uint64(p[8:])
		vaddr := le.Uint64(p[16:])
		filesz := le.Uint64(p[32:])
		memsz := le.Uint64(p[40:])
		align := le.Uint64(p[48:])
		switch typ {
		case ptLoad:
			s, err := checkSegment(e, off, vaddr, filesz, memsz, size)
			if err != nil {
				return nil, err
			}
			s.Align = align
			s.Prot = protOf(flags)
			e.Segments = append(e.Segments, s)
		case ptInterp:
			// Linux uses the first PT_INTERP and ignores later ones.
			if haveInterp {
				continue
			}
			haveInterp = true
			if filesz < 2 {
				return nil, elfErrorf("invalid interpreter path: empty")
			}
			if filesz > elfMaxInterp {
				return nil, elfErrorf("interpreter path too long (%d bytes, at most %d)", filesz, elfMaxInterp)
			}
			if off > uint64(size) || filesz > uint64(size)-off {
				return nil, elfErrorf("truncated ELF: interpreter path beyond end of file")
			}
			interpOff, interpSize = off, filesz
		case ptPhdr:
			if !havePhdr {
				havePhdr, phdrVaddr = true, vaddr
			}
		case ptGNUStack:
			// As Linux: the first PT_GNU_STACK decides.
			if !e.GNUStack {
				e.GNUStack = true
				e.ExecStack = flags&pfX != 0
			}
		}
	}
	if len(e.Segments) == 0 {
		return nil, elfErrorf("no loadable segments")
	}
	if havePhdr {
		e.PhdrAddr = phdrVaddr
	} else {
		for _, s := range e.Segments {
			// tableSize <= Filesz - (Phoff - Off) without overflow.
			if s.Off <= e.Phoff && e.Phoff-s.Off <= s.Filesz && tableSize <= s.Filesz-(e.Phoff-s.Off) {
				e.PhdrAddr = s.Vaddr + (e.Phoff - s.Off)
				break
			}
		}
	}
	if haveInterp {
		buf := make([]byte, interpSize)
		if err := readFull(r, buf, int64(interpOff), "interpreter path"); err != nil {
			return nil, err
		}
		if buf[len(buf)-1] != 0 {
			return nil, elfErrorf("invalid interpreter path: not NUL-terminated")
		}
		path := buf[:len(buf)-1]
		for _, c := range path {
			if c == 0 {
				return nil, elfErrorf("invalid interpreter path: embedded NUL")
			}
		}
		e.Interp = string(path)
	}
	return e, nil
}

// checkSegment validates one PT_LOAD against the file size and the segments
// before it.
func checkSegment(e *ELF, off, vaddr, filesz, memsz uint64, size int64) (Segment, error) {
	idx := len(e.Segments)
	if filesz > memsz {
		return Segment{}, elfErrorf("invalid segment %d: file size %#x larger than memory size %#x", idx, filesz, memsz)
	}
	if off > uint64(size) || filesz > uint64(size)-off {
		return Segment{}, elfErrorf("truncated ELF: segment %d beyond end of file", idx)
	}
	if vaddr >= elfUserLimit || memsz > elfUserLimit-vaddr {
		return Segment{}, elfErrorf("segment %d overflows the user address space (vaddr %#x, size %#x)", idx, vaddr, memsz)
	}
	if (vaddr-off)%elfPageSize != 0 {
		return Segment{}, elfErrorf("invalid segment %d: file offset %#x and address %#x differ modulo the page size", idx, off, vaddr)
	}
	if idx > 0 {
		prev := &e.Segments[idx-1]
		if vaddr < prev.Vaddr {
			return Segment{}, elfErrorf("PT_LOAD segments not in ascending address order (segment %d at %#x after %#x)", idx, vaddr, prev.Vaddr)
		}
		if vaddr < prev.End() {
			return Segment{}, elfErrorf("PT_LOAD segments overlap (segment %d at %#x inside segment %d ending at %#x)", idx, vaddr, idx-1, prev.End())
		}
	}
	return Segment{Vaddr: vaddr, Memsz: memsz, Off: off, Filesz: filesz}, nil
}

func protOf(f uint32) Prot {
	var p Prot
	if f&pfR != 0 {
		p |= ProtRead
	}
	if f&pfW != 0 {
		p |= ProtWrite
	}
	if f&pfX != 0 {
		p |= ProtExec
	}
	return p
}
