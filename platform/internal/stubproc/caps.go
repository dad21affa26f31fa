package stubproc

import (
	"sync"

	"golang.org/x/sys/unix"
)

// LastCap is the host's highest capability number (CAP_LAST_CAP).
var LastCap = sync.OnceValue(func() int {
	c := 0
	for {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c+1), 0, 0, 0); err != nil {
			return c
		}
		c++
	}
})

// LockedSecurebits are the securebits a confined stub locks: uid 0 grants nothing (NOROOT), a uid
// change never adjusts capabilities, capabilities are never kept across
// one, no ambient capability can be raised.
const LockedSecurebits = 1<<0 | 1<<1 | // SECBIT_NOROOT, _LOCKED
	1<<2 | 1<<3 | // SECBIT_NO_SETUID_FIXUP, _LOCKED
	1<<5 | // SECBIT_KEEP_CAPS_LOCKED (KEEP_CAPS itself off)
	1<<6 | 1<<7 // SECBIT_NO_CAP_AMBIENT_RAISE, _LOCKED
