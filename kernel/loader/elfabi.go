package loader

import "fmt"

// The ELF ABI numbers the parser needs. They are spelled out here rather
// than taken from debug/elf, which would bring DWARF and three decompressors
// into uk's binary (and their package initialization into every start).
const (
	elfMagic = "\x7fELF"

	// e_ident indexes and values.
	eiClass     = 4
	eiData      = 5
	eiVersion   = 6
	elfClass32  = 1
	elfClass64  = 2
	elfData2LSB = 1
	evCurrent   = 1
	etRel       = 1
	etExec      = 2
	etDyn       = 3
	etCore      = 4
	emX86_64    = 62
	ptLoad      = 1
	ptInterp    = 3
	ptPhdr      = 6
	ptGNUStack  = 0x6474e551
	pfX         = 1
	pfW         = 2
	pfR         = 4
)

// machineNames names the e_machine values a wrong-architecture binary most
// likely has, as readelf's EM_* names.
var machineNames = map[uint16]string{
	0: "EM_NONE", 2: "EM_SPARC", 3: "EM_386", 8: "EM_MIPS", 20: "EM_PPC", 21: "EM_PPC64",
	22: "EM_S390", 40: "EM_ARM", 50: "EM_IA_64", 62: "EM_X86_64", 183: "EM_AARCH64",
	243: "EM_RISCV", 258: "EM_LOONGARCH",
}

// machineName is e_machine as readelf names it, or its number.
func machineName(m uint16) string {
	if s, ok := machineNames[m]; ok {
		return s
	}
	return fmt.Sprintf("machine %d", m)
}

// typeNames are the e_type names readelf prints.
var typeNames = map[Type]string{0: "ET_NONE", etRel: "ET_REL", etExec: "ET_EXEC", etDyn: "ET_DYN", etCore: "ET_CORE"}
