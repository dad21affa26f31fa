package kernel

import "fmt"

// flagString renders a flag word for --strace.
func flagString(k ArgKind, v uint64) string {
	return fmt.Sprintf("%#x", v)
}
