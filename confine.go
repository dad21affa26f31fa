package main

import (
	"fmt"
	"io"
	"os"

	"uk/internal/hostfilter"
)

// confineSelf ends start-up: from here on uk runs with no capabilities,
// no_new_privs and its seccomp allowlist (internal/hostfilter), so it can
// no longer open host files, fork, exec or reach the host's network. It
// must come after everything that needs those: the platform and its
// master stub (which forks every later stub; it waits for ps), the
// program or image copied in, the TAP device, the console. And before the
// program's first instruction: the program never runs beside an
// unconfined uk. With --debug it says how the stubs are confined and
// lists the filter. hostFS says that host directories are served
// (--bind; --rootfs DIR is seen here).
func confineSelf(c *commonFlags, ps *platformStart, hostFS bool) error {
	<-ps.done
	if ps.err != nil {
		return nil // StartInit reports it
	}
	var debug io.Writer
	if c.debug {
		debug = os.Stderr
		if p, ok := ps.p.(interface{ Confinement() string }); ok {
			fmt.Fprintf(debug, "uk: stubs: %s\n", p.Confinement())
		}
	}
	if st, err := os.Stat(c.rootfs); c.rootfs != "" && err == nil && st.IsDir() {
		hostFS = true
	}
	o := hostfilter.Options{Platform: ps.p.Name(), HostFS: hostFS}
	if err := hostfilter.Confine(o, debug); err != nil {
		return fmt.Errorf("confining uk: %w", err)
	}
	return nil
}
