package inet

import (
	"fmt"
	"io"
	"time"

	gvlog "gvisor.dev/gvisor/pkg/log"
)

// tcpip reports protocol oddities (a bad segment, a full queue) through
// gVisor's log package, whose default target is the process's stderr:
// under uk that is the sandboxed program's terminal, where such lines
// would be mixed into the program's own output. They go to uk's
// diagnostics stream instead (--debug), or nowhere.

// SetDiagnostics sends the protocol stack's log lines to w (nil: drop
// them). It must be called before the first stack is made to take effect
// for all of them.
func SetDiagnostics(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	gvlog.SetTarget(diagEmitter{w})
}

func init() { SetDiagnostics(nil) }

// diagEmitter writes one line per log statement.
type diagEmitter struct{ w io.Writer }

// Emit implements gvisor's log.Emitter.
func (e diagEmitter) Emit(_ int, level gvlog.Level, _ time.Time, format string, v ...any) {
	fmt.Fprintf(e.w, "uk: netstack %s: %s\n", level, fmt.Sprintf(format, v...))
}
