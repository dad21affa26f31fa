package kernel

import (
	"fmt"

	"uk/arch"
)

// flagString renders a flag word or a request number for --strace with
// Linux's names.
func flagString(k ArgKind, v uint64) string {
	switch k {
	case ArgOpenFlags:
		return arch.OpenFlags(v)
	case ArgProt:
		return arch.MmapProt(v)
	case ArgMapFlags:
		return arch.MmapFlags(v)
	case ArgCloneFlags:
		return arch.CloneFlags(v)
	case ArgAtFlags:
		return arch.AtFlags(v)
	case ArgIoctlReq:
		return arch.IoctlRequest(uint64(uint32(v))) // the kernel takes an unsigned int
	case ArgPrctlOpt:
		return arch.PrctlOption(uint64(uint32(v))) // an int option
	case ArgArchPrctlCode:
		return arch.ArchPrctlCode(uint64(uint32(v)))
	case ArgFcntlCmd:
		return arch.FcntlCommand(uint64(uint32(v)))
	}
	return fmt.Sprintf("%#x", v)
}
