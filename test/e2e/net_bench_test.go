package e2e

import (
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"uk/internal/testenv"
)

// ---- benchmarks ----
//
// Each benchmark iteration runs one netperf measurement (which itself
// takes thousands of samples and prints their median), natively, under
// uk on each of its stub platforms (benchPlatforms) and, with -uk.runsc,
// under gVisor; the reported metric is
// the median of the iterations. `docs/bench/net.sh` runs them and prints
// a table.

// skipShortBench skips a networking benchmark under -short: each takes
// seconds per runtime.
func skipShortBench(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: networking benchmarks skipped")
	}
}

// benchMetric runs measure b.N times and reports the median of what it
// returns under unit.
func benchMetric(b *testing.B, unit string, measure func() float64) {
	b.Helper()
	vals := make([]float64, 0, b.N)
	for i := 0; i < b.N; i++ {
		vals = append(vals, measure())
	}
	slices.Sort(vals)
	b.ReportMetric(vals[len(vals)/2], unit)
	b.ReportMetric(0, "ns/op") // the framework's time includes start-up
}

// parseField runs argv, requires exit 0, and returns the number that
// follows key on its output.
func parseField(b *testing.B, argv []string, key string) float64 {
	b.Helper()
	p := startBG(b, *netTimeout, argv...)
	r := p.wait()
	if r.Code != 0 || r.TimedOut {
		b.Fatalf("%s: %s\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), p.status(), clip(r.Stdout), clip(r.Stderr))
	}
	f := strings.Fields(r.Stdout)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == key {
			v, err := strconv.ParseFloat(f[i+1], 64)
			if err == nil {
				return v
			}
		}
	}
	b.Fatalf("%s printed no %s:\n%s", strings.Join(argv, " "), key, r.Stdout)
	return 0
}

// benchRuntimes are the ways a loopback benchmark program is run.
func benchRuntimes(b *testing.B, prog string) map[string][]string {
	rts := map[string][]string{"native": {prog}}
	if ukBuildErr == nil {
		for _, pl := range benchPlatforms {
			rts["uk-"+pl] = []string{ukBin, "run", "--platform=" + pl, "--net=none", "--", prog}
		}
	}
	if *runscFlag != "" {
		// gVisor's own netstack with loopback only, as uk's --net=none.
		rts["gvisor"] = []string{*runscFlag, "--network=none", "do", prog}
	}
	return rts
}

// benchPlatforms are the uk platforms the networking benchmarks compare:
// the two that trap through a stub process (kvm's traps cost several
// times theirs on the machines measured, and it has its own benchmarks).
var benchPlatforms = []string{"ptrace", "sigsys"}

func runtimeOrder(rts map[string][]string) []string {
	var names []string
	for _, n := range []string{"native", "uk-ptrace", "uk-sigsys", "gvisor"} {
		if _, ok := rts[n]; ok {
			names = append(names, n)
		}
	}
	return names
}

// BenchmarkNetConnRate is one TCP connect+close on loopback (median).
func BenchmarkNetConnRate(b *testing.B) {
	skipShortBench(b)
	prog := goProgram(b, "netperf")
	rts := benchRuntimes(b, prog)
	for _, name := range runtimeOrder(rts) {
		b.Run(name, func(b *testing.B) {
			benchMetric(b, "ns/connect", func() float64 {
				return parseField(b, append(slices.Clone(rts[name]), "connrate", "127.0.0.1:0", "2000"), "median_ns")
			})
		})
	}
}

// BenchmarkNetUDPRR is one 64-byte UDP round trip on loopback (median).
func BenchmarkNetUDPRR(b *testing.B) {
	skipShortBench(b)
	prog := goProgram(b, "netperf")
	rts := benchRuntimes(b, prog)
	for _, name := range runtimeOrder(rts) {
		b.Run(name, func(b *testing.B) {
			benchMetric(b, "us/roundtrip", func() float64 {
				return parseField(b, append(slices.Clone(rts[name]), "udprr", "127.0.0.1:0", "5000"), "median_us")
			})
		})
	}
}

// BenchmarkNetLoopbackTput is TCP throughput over loopback inside one
// program (MiB/s).
func BenchmarkNetLoopbackTput(b *testing.B) {
	skipShortBench(b)
	prog := goProgram(b, "netperf")
	rts := benchRuntimes(b, prog)
	for _, name := range runtimeOrder(rts) {
		b.Run(name, func(b *testing.B) {
			benchMetric(b, "MiB/s", func() float64 {
				return parseField(b, append(slices.Clone(rts[name]), "tput", "-local", "127.0.0.1:0", "3"), "mibps")
			})
		})
	}
}

// BenchmarkNetTAPTput is TCP throughput between the far side of a link
// and a tput-serve on the host side, both directions (MiB/s): uk over the
// TAP device; natively a veth pair between namespaces; gVisor (with
// -uk.runsc) `runsc do` over the veth pair it makes itself.
func BenchmarkNetTAPTput(b *testing.B) {
	skipShortBench(b)
	needNetRoot(b)
	prog := goProgram(b, "netperf")
	sides := []string{"native-veth"}
	for _, pl := range benchPlatforms {
		sides = append(sides, "uk-"+pl+"-tap")
	}
	if *runscFlag != "" {
		sides = append(sides, "gvisor-veth")
	}
	for _, side := range sides {
		for _, dir := range []string{"send", "recv"} {
			b.Run(side+"/"+dir, func(b *testing.B) {
				var argv func() []string
				var srvNS *netNS
				switch side {
				case "uk-ptrace-tap", "uk-sigsys-tap":
					needUK(b)
					ns := newTAPNetNS(b)
					pl := strings.TrimSuffix(strings.TrimPrefix(side, "uk-"), "-tap")
					f := &farSide{name: "uk", hostNS: ns, hostIP: tapHostIP, farIP: tapUKIP, isUK: true, platform: pl}
					srvNS, argv = ns, func() []string { return f.argv(prog, "tput", tapHostIP+":5201", "3", dir) }
				case "native-veth":
					host, peer := newVethPair(b)
					f := &farSide{name: "native", hostNS: host, peerNS: peer, hostIP: vethHostIP, farIP: vethPeerIP}
					srvNS, argv = host, func() []string { return f.argv(prog, "tput", vethHostIP+":5201", "3", dir) }
				case "gvisor-veth":
					srvNS = newRunscNetNS(b)
					argv = func() []string {
						return srvNS.argv(*runscFlag, "--ignore-cgroups", "--network=sandbox", "do", "-ip", runscSandboxIP,
							prog, "tput", runscPeerIP+":5201", "3", dir)
					}
				}
				srv := startBG(b, time.Hour, srvNS.argv(prog, "tput-serve", ":5201")...)
				srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 10*time.Second)
				benchMetric(b, "MiB/s", func() float64 { return parseField(b, argv(), "mibps") })
			})
		}
	}
}

// The addresses of `runsc do -ip runscSandboxIP`: it gives the host end of
// its veth pair the next address.
const (
	runscSandboxIP = "192.168.10.2"
	runscPeerIP    = "192.168.10.3"
)

// newRunscNetNS makes a namespace for `runsc do --network=sandbox`, which
// makes its own veth pair and NAT rules (with iptables) towards the
// interface of the default route, so the namespace gets one: a veth pair
// of its own, going nowhere. Under `ip netns exec`, /sys is remounted
// without cgroups, hence runsc's --ignore-cgroups.
func newRunscNetNS(tb testing.TB) *netNS {
	tb.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		testenv.Need(tb, "the iptables command", "runsc do --network=sandbox makes NAT rules with it")
	}
	ns := newNetNS(tb)
	ipCmd(tb, "-n", ns.name, "link", "add", "ukdflt0", "type", "veth", "peer", "name", "ukdflt1")
	ipCmd(tb, "-n", ns.name, "addr", "add", "10.66.0.1/24", "dev", "ukdflt0")
	ipCmd(tb, "-n", ns.name, "link", "set", "ukdflt0", "up")
	ipCmd(tb, "-n", ns.name, "link", "set", "ukdflt1", "up")
	ipCmd(tb, "-n", ns.name, "route", "add", "default", "via", "10.66.0.2")
	return ns
}
