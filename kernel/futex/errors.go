package futex

import "errors"

// ErrInterrupted is returned by a wait that ended because its interrupt
// channel fired (a signal arrived) before it was woken or timed out. Linux
// returns ERESTARTSYS for an untimed wait and ERESTART_RESTARTBLOCK with
// the absolute deadline saved for a timed FUTEX_WAIT (so a restart waits
// until the same deadline); FUTEX_WAIT_BITSET and futex_waitv use
// absolute timeouts and simply return ERESTARTSYS. A woken wait always
// wins over an interrupt or a timeout that happen at the same time.
var ErrInterrupted = errors.New("futex: wait interrupted")
