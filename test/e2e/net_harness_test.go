package e2e

// Acceptance tests and benchmarks of uk's networking (net/inet, net/tap,
// net/netlink): real programs talk TCP, UDP and ICMP over uk's own network
// stack, on loopback inside the sandbox and over a TAP device to the host.
//
// Topology. Each test that needs a link makes its own network namespace
// "uk-<random>" and, inside it, the TAP device uktap0 with 10.99.0.1/24,
// both it and lo up; uk runs in that namespace (`ip netns exec NS uk run
// --net=tap:uktap0 --ip 10.99.0.2/24 --gateway 10.99.0.1 ...`) and so does
// the host-side peer (`ip netns exec NS netperf ...`). The native
// baseline of the same tests is a second namespace joined to the first by
// a veth pair (10.98.0.1 <-> 10.98.0.2), standing where the sandbox
// stands. Namespaces are removed at cleanup; nothing outside them is
// touched. These tests skip (through testenv.Need, a failure under
// UK_REQUIRE_ENV=1), saying what is missing, on a machine without root,
// /dev/net/tun or the `ip` command (and the lossy-link test without
// iptables).
//
// The programs: testdata/go/netperf (both ends of TCP transfers checked by
// SHA-256, HTTP, UDP echo, DNS and ICMP echo, loopback checks, the
// benchmark loops) and testdata/c/inet.c (the socket system calls on
// loopback, printed deterministically and compared with native Linux).
//
// This file holds the topology and the helpers; the tests are in
// net_tap_test.go (over the link), net_flags_test.go, net_loopback_test.go,
// net_boot_test.go and net_bench_test.go (the benchmarks).
//
// The tests, each on the native (veth) far side first where that means
// something, then under uk on every platform:
//   - TestNetTAPTransfer: 100 MiB each way, sandbox as server and client
//   - TestNetIPv6Link, TestNetUDPLink, TestNetPing, TestNetHTTPLoad: the
//     link with IPv6 only, fragmented UDP, ICMP echo both ways (raw and
//     ping sockets), HTTP load both ways
//   - TestNetBusybox: busybox ifconfig, ip, route, ping, wget, nslookup
//   - TestNetLossyLink: TCP both ways with 2% of frames dropped
//   - TestNetTwoSandboxes: two sandboxes through the host's forwarding
//   - TestNetConnectErrors: refused, no neighbour, no route
//   - TestNetHTTPFile: a file served by sendfile to a slow reader
//   - TestNetTAPErrors: a missing or busy TAP device is one line
//   - TestNetFlagErrors: bad --net, --ip, --gateway, --dns
//   - TestNetDNSFlag, TestNetDNSResolve: --dns and Go's resolver
//   - TestNetInterfaces: net.Interfaces (netlink) with and without a link
//   - TestNetLoopbackGo, TestNetInetC: loopback only (--net=none)
//   - TestNetBootUroot: u-root's ip, ping and wget in a booted image
// Benchmarks (BenchmarkNet*, skipped under -short; docs/bench/net.sh
// prints their table): TCP connect+close, UDP round trip and TCP
// throughput on loopback, TCP throughput over the link.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"uk/internal/testenv"
)

func init() {
	otherCPrograms = append(otherCPrograms, "inet")
}

// netTimeout bounds one program run of the networking tests: 100 MiB
// through a sandboxed stack takes longer than the harness's default.
var netTimeout = flag.Duration("uk.nettimeout", 120*time.Second, "kill and fail a networking test program that runs longer than this")

// runscFlag names a runsc binary for the gVisor column of the benchmarks.
var runscFlag = flag.String("uk.runsc", "", "run the networking benchmarks under this runsc binary too (gVisor)")

// transferSize is what each direction of the TAP transfer test moves.
const transferSize = 100 << 20

// The addresses of the two topologies: the host side and the far side
// (the sandbox over the TAP device, or the native peer namespace over
// veth).
const (
	tapHostIP  = "10.99.0.1"
	tapUKIP    = "10.99.0.2"
	vethHostIP = "10.98.0.1"
	vethPeerIP = "10.98.0.2"
	tapName    = "uktap0"
	// offLinkIP is an address of the host side's namespace outside the
	// TAP's subnet, reached from the sandbox only by its default route.
	offLinkIP = "10.77.0.1"
)

// needNetRoot skips the test (testenv.Need) when the machine cannot make
// network namespaces and TAP devices.
func needNetRoot(tb testing.TB) {
	tb.Helper()
	switch {
	case os.Geteuid() != 0:
		testenv.Need(tb, "root", "the networking tests make network namespaces and TAP devices")
	case !fileExists("/dev/net/tun"):
		testenv.Need(tb, "/dev/net/tun", "the networking tests attach uk to TAP devices")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		testenv.Need(tb, "the ip command", "the networking tests make namespaces, veth pairs and TAP devices with it; Debian: iproute2")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// netNS is a network namespace made for one test.
type netNS struct {
	name string
}

// ipCmd runs `ip ARGS...` and fails the test on error.
func ipCmd(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNetNS makes a fresh namespace with lo up, removed at cleanup.
func newNetNS(tb testing.TB) *netNS {
	tb.Helper()
	var rnd [4]byte
	rand.Read(rnd[:])
	ns := &netNS{name: "uk-" + hex.EncodeToString(rnd[:])}
	ipCmd(tb, "netns", "add", ns.name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			tb.Errorf("removing network namespace %s: %v\n%s", ns.name, err, out)
		}
	})
	ipCmd(tb, "-n", ns.name, "link", "set", "lo", "up")
	return ns
}

// newTAPNetNS makes a namespace holding the TAP device uktap0 with the
// host side's address, up, for uk to attach to.
func newTAPNetNS(tb testing.TB) *netNS {
	tb.Helper()
	ns := newNetNS(tb)
	ipCmd(tb, "-n", ns.name, "tuntap", "add", "dev", tapName, "mode", "tap")
	ipCmd(tb, "-n", ns.name, "addr", "add", tapHostIP+"/24", "dev", tapName)
	ipCmd(tb, "-n", ns.name, "link", "set", tapName, "up")
	return ns
}

// newVethPair makes two namespaces, host and peer, joined by a veth pair:
// the native stand-in for the sandbox on the far side of the TAP device.
func newVethPair(tb testing.TB) (host, peer *netNS) {
	tb.Helper()
	host, peer = newNetNS(tb), newNetNS(tb)
	ipCmd(tb, "-n", host.name, "link", "add", "ukveth0", "type", "veth", "peer", "name", "eth0", "netns", peer.name)
	// "brd +" sets the broadcast address, as uk's --ip does.
	ipCmd(tb, "-n", host.name, "addr", "add", vethHostIP+"/24", "brd", "+", "dev", "ukveth0")
	ipCmd(tb, "-n", host.name, "link", "set", "ukveth0", "up")
	ipCmd(tb, "-n", peer.name, "addr", "add", vethPeerIP+"/24", "brd", "+", "dev", "eth0")
	ipCmd(tb, "-n", peer.name, "link", "set", "eth0", "up")
	ipCmd(tb, "-n", peer.name, "route", "add", "default", "via", vethHostIP)
	// The carrier comes up a moment after both ends are up.
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		out, err := exec.Command("ip", "-n", peer.name, "link", "show", "eth0").Output()
		if err == nil && !bytes.Contains(out, []byte("NO-CARRIER")) {
			break
		}
		if time.Since(start) > 10*time.Second {
			tb.Fatalf("the veth pair has no carrier after 10 s: %v\n%s", err, out)
		}
	}
	return host, peer
}

// argv is `ip netns exec NS` followed by cmd.
func (ns *netNS) argv(cmd ...string) []string {
	return append([]string{"ip", "netns", "exec", ns.name}, cmd...)
}

// bgProc is a process running in the background of a test, its stdout
// watched line by line.
type bgProc struct {
	tb   testing.TB
	cmd  *exec.Cmd
	desc string

	mu      sync.Mutex
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	changed chan struct{} // closed and replaced when stdout grows or the process ends
	done    bool
	result  procResult
	exited  chan struct{}
}

// lockedWriter appends to a buffer of a bgProc under its lock.
type lockedWriter struct {
	p   *bgProc
	buf *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	w.buf.Write(b)
	close(w.p.changed)
	w.p.changed = make(chan struct{})
	return len(b), nil
}

// startBG starts argv in its own process group; it is killed, with its
// group, at cleanup if still running, and after timeout in any case.
func startBG(tb testing.TB, timeout time.Duration, argv ...string) *bgProc {
	tb.Helper()
	p := &bgProc{tb: tb, desc: strings.Join(argv, " "), changed: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), hostOnlyEnv)
	p.cmd.Stdin = nil
	p.cmd.Stdout = lockedWriter{p, &p.stdout}
	p.cmd.Stderr = lockedWriter{p, &p.stderr}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", p.desc, err)
	}
	timer := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.result.TimedOut = true
		p.mu.Unlock()
		p.kill()
	})
	go func() {
		err := p.cmd.Wait()
		timer.Stop()
		p.mu.Lock()
		r := &p.result
		r.Stdout, r.Stderr, r.Elapsed = p.stdout.String(), p.stderr.String(), time.Since(start)
		if ee, ok := err.(*exec.ExitError); ok {
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				r.Signaled, r.Code = true, 128+int(ws.Signal())
			} else {
				r.Code = ws.ExitStatus()
			}
		} else if err != nil {
			r.Code = -1
			r.Stderr += "\n(wait: " + err.Error() + ")"
		}
		p.done = true
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		p.kill()
		<-p.exited
	})
	return p
}

func (p *bgProc) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Process.Kill()
	}
}

// waitLine waits until stdout has a line matching re and returns it; it
// fails the test if the process ends first or timeout passes.
func (p *bgProc) waitLine(re *regexp.Regexp, timeout time.Duration) string {
	p.tb.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		m := re.FindString(p.stdout.String())
		done, changed := p.done, p.changed
		out, errs := p.stdout.String(), p.stderr.String()
		p.mu.Unlock()
		if m != "" {
			return m
		}
		if done {
			p.tb.Fatalf("%s ended (%s) before printing a line matching %q\nstdout:\n%s\nstderr:\n%s",
				p.desc, p.status(), re, clip(out), clip(errs))
		}
		select {
		case <-changed:
		case <-deadline:
			p.tb.Fatalf("%s printed no line matching %q within %v\nstdout:\n%s\nstderr:\n%s",
				p.desc, re, timeout, clip(out), clip(errs))
		}
	}
}

// status says how the process ended.
func (p *bgProc) status() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.result
	switch {
	case !p.done:
		return "still running"
	case r.TimedOut:
		return "timed out and killed"
	case r.Signaled:
		return fmt.Sprintf("killed by signal %d", r.Code-128)
	}
	return fmt.Sprintf("exit %d", r.Code)
}

// stderrNow is what the process has written to stderr so far.
func (p *bgProc) stderrNow() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait waits for the process to end (its own timeout bounds that) and
// returns how it ended.
func (p *bgProc) wait() procResult {
	<-p.exited
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.result
}

// checkUKRun fails the test on what must never happen to uk: a crash of
// uk itself or a Go panic on its stderr.
func checkUKRun(tb testing.TB, what string, r procResult) {
	tb.Helper()
	if r.Signaled && !r.TimedOut {
		tb.Errorf("%s: uk itself was killed by signal %d\nstderr:\n%s", what, r.Code-128, clip(r.Stderr))
	}
	if hasGoPanic(r.Stderr) {
		tb.Errorf("%s: uk panicked:\n%s", what, clip(r.Stderr))
	}
}

// farSide runs netperf on the far side of a link: under uk attached to
// the TAP device, or natively in the peer namespace of a veth pair.
type farSide struct {
	name     string
	hostNS   *netNS // where the host-side peer runs
	hostIP   string
	farIP    string
	isUK     bool
	platform string
	peerNS   *netNS // native: the peer namespace
	// v6, set by useIPv6, gives the far side only an IPv6 address
	// (uk: --ip farIP/64 and no gateway).
	v6 bool
}

// hostPort joins an address of the far side's link with a port.
func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// useIPv6 gives both ends of the link a unique local IPv6 address (no
// duplicate address detection, so they are usable at once) and makes
// them the ones f's tests use.
func (f *farSide) useIPv6(tb testing.TB) {
	tb.Helper()
	if f.isUK {
		ipCmd(tb, "-n", f.hostNS.name, "-6", "addr", "add", "fd99::1/64", "dev", tapName, "nodad")
		f.hostIP, f.farIP = "fd99::1", "fd99::2"
	} else {
		ipCmd(tb, "-n", f.hostNS.name, "-6", "addr", "add", "fd98::1/64", "dev", "ukveth0", "nodad")
		ipCmd(tb, "-n", f.peerNS.name, "-6", "addr", "add", "fd98::2/64", "dev", "eth0", "nodad")
		f.hostIP, f.farIP = "fd98::1", "fd98::2"
	}
	f.v6 = true
}

// argv is the command line that runs netperf ARGS on the far side.
func (f *farSide) argv(netperf string, args ...string) []string {
	if !f.isUK {
		return f.peerNS.argv(append([]string{netperf}, args...)...)
	}
	uk := []string{ukBin, "run", "--platform=" + f.platform, "--net=tap:" + tapName}
	if f.v6 {
		uk = append(uk, "--ip", f.farIP+"/64")
	} else {
		uk = append(uk, "--ip", f.farIP+"/24", "--gateway", f.hostIP)
	}
	uk = append(uk, "--", netperf)
	return f.hostNS.argv(append(uk, args...)...)
}

// eachFarSide runs fn as a subtest with the native (veth) far side and,
// per available platform, uk's; each gets fresh namespaces.
func eachFarSide(t *testing.T, fn func(t *testing.T, f *farSide)) {
	t.Run("native-veth", func(t *testing.T) {
		host, peer := newVethPair(t)
		fn(t, &farSide{name: "native", hostNS: host, peerNS: peer, hostIP: vethHostIP, farIP: vethPeerIP})
	})
	forEachPlatform(t, func(t *testing.T, platform string) {
		needUK(t)
		if err := ukSmoke(t, platform); err != nil {
			t.Fatalf("not running this test: %v", err)
		}
		ns := newTAPNetNS(t)
		fn(t, &farSide{name: "uk", hostNS: ns, hostIP: tapHostIP, farIP: tapUKIP, isUK: true, platform: platform})
	})
}

var (
	streamSumOnce sync.Once
	streamSum     string
)

// expectedStreamSum is the SHA-256 of the first transferSize bytes of
// netperf's data stream, computed by a native `netperf gen`.
func expectedStreamSum(tb testing.TB, netperf string) string {
	tb.Helper()
	streamSumOnce.Do(func() {
		out, err := exec.Command(netperf, "gen", strconv.Itoa(transferSize), os.DevNull).Output()
		if err != nil {
			tb.Fatalf("netperf gen: %v\n%s", err, out)
		}
		f := strings.Fields(string(out))
		if len(f) == 4 && f[0] == "size" && f[2] == "sha256" {
			streamSum = f[3]
		}
	})
	if streamSum == "" {
		tb.Fatal("netperf gen printed no sha256")
	}
	return streamSum
}

// fieldLine finds the line of out that starts with key and returns its
// fields.
func fieldLine(out, key string) []string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == key {
			return f
		}
	}
	return nil
}
