package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestHostileNetwork: the buffers of TCP and UDP sockets count against
// --mem. hostile_net fills both ends of loopback connections, connections
// left in a listen backlog, and UDP receivers, all with the largest
// buffers and never reading; the sends stop (EAGAIN, ENOBUFS, ENOMEM for
// a new socket) once a share of the sandbox's memory is spent, the
// program is not OOM-killed for it, and uk stays within its stated
// footprint. Before socket buffers were charged, 100 connection pairs
// took uk to 2.5 GiB with --mem 64M, 100 backlog connections to 1.2 GiB
// and the UDP flood to 1 GiB.
func TestHostileNetwork(t *testing.T) {
	prog := cProgram(t, "hostile_net")
	const pids = 16
	forEveryPlatform(t, func(t *testing.T, platform string) {
		for _, c := range []struct {
			mode string
			n    int
			mem  int64 // MiB
		}{
			{"tcp", 100, 64},
			{"tcp", 300, 256},
			{"backlog", 200, 64},
			{"udp", 100, 64},
		} {
			name := c.mode + "/" + strconv.Itoa(c.n) + "x" + strconv.FormatInt(c.mem, 10) + "M"
			t.Run(name, func(t *testing.T) {
				flags := []string{"--mem", strconv.FormatInt(c.mem, 10) + "M", "--pids", strconv.Itoa(pids)}
				w := runUKWatched(t, platform, prog, runSpec{Args: []string{c.mode, strconv.Itoa(c.n)}, Flags: flags})
				want := "hostile_net " + c.mode + "\n" + c.mode + ": every socket full\n"
				if w.Stdout != want || w.Code != 0 {
					t.Errorf("exit %d, stdout %q; want %q\nstderr:\n%s", w.Code, w.Stdout, want, clip(w.Stderr))
				}
				if bound := memBound(c.mem, pids); w.MaxRSSKiB<<10 > bound {
					t.Errorf("uk's peak RSS %d MiB, over the bound of %d MiB for --mem %dM --pids %d", w.MaxRSSKiB>>10, bound>>20, c.mem, pids)
				}
				t.Logf("peak RSS %d MiB (bound %d MiB), %v; %s", w.MaxRSSKiB>>10, memBound(c.mem, pids)>>20, w.Elapsed, strings.TrimSpace(w.Stderr))
			})
		}
	})
}
