package kernel

import (
	"fmt"

	"uk/arch"
)

// flagString renders a flag word for --strace with Linux's names.
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
	}
	return fmt.Sprintf("%#x", v)
}
