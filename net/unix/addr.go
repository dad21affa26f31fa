package unix

import (
	"bytes"
	"encoding/binary"

	linux "golang.org/x/sys/unix"
)

// SunPathMax is sizeof(sun_path); a sockaddr_un is at most 110 bytes.
const (
	SunPathMax   = 108
	sockaddrSize = 2 + SunPathMax
	familySize   = 2
)

// Address is a unix socket name. The zero value is the unnamed address
// (an unbound socket, or one end of a socketpair).
type Address struct {
	// Abstract names live in the per-kernel table; Name excludes the
	// leading NUL and may contain any bytes.
	Abstract bool
	// Name is the path (for a filesystem name) or the abstract name.
	Name string
}

// Unnamed reports whether a is the unnamed address.
func (a Address) Unnamed() bool { return !a.Abstract && a.Name == "" }

// Sockaddr encodes a as a struct sockaddr_un of the length Linux reports:
// 2 for unnamed, 2+len(path)+1 for a path, 2+1+len(name) for an abstract name.
func (a Address) Sockaddr() []byte {
	b := binary.LittleEndian.AppendUint16(make([]byte, 0, sockaddrSize), linux.AF_UNIX)
	switch {
	case a.Abstract:
		b = append(b, 0)
		b = append(b, a.Name...)
	case a.Name != "":
		b = append(b, a.Name...)
		if len(b) < sockaddrSize {
			b = append(b, 0)
		}
	}
	return b
}

// String shows a as ss(8) does: "@name" for abstract names.
func (a Address) String() string {
	if a.Abstract {
		return "@" + a.Name
	}
	return a.Name
}

// ParseAddress decodes a struct sockaddr_un passed to bind, connect or
// sendto. EINVAL for a wrong family, or a length not in (2, 110]. A path
// ends at its first NUL (the rest of sun_path is ignored, as Linux).
// autobind is true for bind's special case: exactly the family, nothing
// else (the caller decides whether that is allowed).
func ParseAddress(b []byte) (a Address, autobind bool, err error) {
	if len(b) < familySize || len(b) > sockaddrSize {
		return Address{}, false, linux.EINVAL
	}
	if binary.LittleEndian.Uint16(b) != linux.AF_UNIX {
		return Address{}, false, linux.EINVAL
	}
	if len(b) == familySize {
		return Address{}, true, nil
	}
	p := b[familySize:]
	if p[0] == 0 {
		return Address{Abstract: true, Name: string(p[1:])}, false, nil
	}
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return Address{Name: string(p)}, false, nil
}
