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
	"path/filepath"
	"regexp"
	"slices"
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

// TestNetTAPTransfer moves transferSize bytes each way between a program
// in the sandbox and one on the host side of the TAP device, with the
// sandbox as the TCP server and as the client; every byte is checked by
// SHA-256 at the receiver and acknowledged to the sender.
func TestNetTAPTransfer(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	want := expectedStreamSum(t, netperf)
	eachFarSide(t, func(t *testing.T, f *farSide) {
		for i, tc := range []struct {
			name      string
			farServes bool
			farSends  bool
		}{
			{"server-in-sandbox/host-sends", true, false},
			{"server-in-sandbox/sandbox-sends", true, true},
			{"client-in-sandbox/sandbox-sends", false, true},
			{"client-in-sandbox/host-sends", false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				farMode := []string{"recv"}
				hostMode := []string{"send", strconv.Itoa(transferSize)}
				if tc.farSends {
					farMode, hostMode = hostMode, farMode
				}
				port := strconv.Itoa(5001 + i)
				var farProc, hostProc *bgProc
				if tc.farServes {
					farProc = startBG(t, *netTimeout, f.argv(netperf, append([]string{"serve-tcp", f.farIP + ":" + port}, farMode...)...)...)
					farProc.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
					hostProc = startBG(t, *netTimeout, f.hostNS.argv(append([]string{netperf, "client-tcp", f.farIP + ":" + port}, hostMode...)...)...)
				} else {
					hostProc = startBG(t, *netTimeout, f.hostNS.argv(append([]string{netperf, "serve-tcp", f.hostIP + ":" + port}, hostMode...)...)...)
					hostProc.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
					farProc = startBG(t, *netTimeout, f.argv(netperf, append([]string{"client-tcp", f.hostIP + ":" + port}, farMode...)...)...)
				}
				far, host := farProc.wait(), hostProc.wait()
				if f.isUK {
					checkUKRun(t, "uk", far)
				}
				sender, receiver := host, far
				if tc.farSends {
					sender, receiver = far, host
				}
				report := fmt.Sprintf("\nfar side (%s):\n%s%s\nhost side:\n%s%s", farProc.status(),
					clip(far.Stdout), clip(far.Stderr), clip(host.Stdout), clip(host.Stderr))
				if far.TimedOut || host.TimedOut {
					t.Fatalf("timed out after %v%s", *netTimeout, report)
				}
				if far.Code != 0 || host.Code != 0 {
					t.Errorf("exit status: far side %d, host side %d; want 0 and 0%s", far.Code, host.Code, report)
				}
				n := strconv.Itoa(transferSize)
				if got := fieldLine(sender.Stdout, "sent"); !slices.Equal(got, []string{"sent", n, "sha256", want}) {
					t.Errorf("sender: %q, want sent %s sha256 %s%s", got, n, want, report)
				}
				if got := fieldLine(sender.Stdout, "ack"); !slices.Equal(got, []string{"ack", n, "sha256", want}) {
					t.Errorf("sender's ack from the receiver: %q, want ack %s sha256 %s%s", got, n, want, report)
				}
				if got := fieldLine(receiver.Stdout, "received"); !slices.Equal(got, []string{"received", n, "sha256", want}) {
					t.Errorf("receiver: %q, want received %s sha256 %s%s", got, n, want, report)
				}
				if s := fieldLine(sender.Stdout, "seconds"); len(s) == 4 {
					t.Logf("%s: %s MiB/s (sender's view)", f.name, s[3])
				}
			})
		}
	})
}

// TestNetUDPLink echoes UDP datagrams of many sizes over the link, the
// larger ones fragmented to the MTU and reassembled, with the echo server
// on either side.
func TestNetUDPLink(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	sizes := regexp.MustCompile(`(?m)^udp size \d+ ok`)
	eachFarSide(t, func(t *testing.T, f *farSide) {
		for _, farServes := range []bool{true, false} {
			name := "echo-in-sandbox"
			if !farServes {
				name = "echo-on-host"
			}
			t.Run(name, func(t *testing.T) {
				var srv *bgProc
				var client []string
				if farServes {
					srv = startBG(t, *netTimeout, f.argv(netperf, "udp-echo", f.farIP+":5300")...)
					client = f.hostNS.argv(netperf, "udp-check", f.farIP+":5300")
				} else {
					srv = startBG(t, *netTimeout, f.hostNS.argv(netperf, "udp-echo", f.hostIP+":5300")...)
					client = f.argv(netperf, "udp-check", f.hostIP+":5300")
				}
				srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
				r := startBG(t, *netTimeout, client...).wait()
				if f.isUK && !farServes {
					checkUKRun(t, "uk", r)
				}
				if n := len(sizes.FindAllString(r.Stdout, -1)); r.Code != 0 || n != 8 {
					t.Errorf("udp-check: exit %d, %d sizes echoed, want 0 and 8\nstdout:\n%s\nstderr:\n%s\necho server (%s) stderr:\n%s",
						r.Code, n, clip(r.Stdout), clip(r.Stderr), srv.status(), clip(srv.stderrNow()))
				}
			})
		}
	})
}

// TestNetHTTPLoad: 400 HTTP GETs of a 256 KiB body, 32 at a time, every
// body checked: from the host side to a server in the sandbox, and from
// the sandbox to a server on the host side.
func TestNetHTTPLoad(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	eachFarSide(t, func(t *testing.T, f *farSide) {
		for _, farServes := range []bool{true, false} {
			name := "server-in-sandbox"
			srvArgv := f.argv(netperf, "http-serve", "/", f.farIP+":8080")
			url := "http://" + f.farIP + ":8080/stream/262144"
			cliArgv := f.hostNS.argv(netperf, "http-get", url, "400", "32")
			if !farServes {
				name = "client-in-sandbox"
				srvArgv = f.hostNS.argv(netperf, "http-serve", "/", f.hostIP+":8080")
				url = "http://" + f.hostIP + ":8080/stream/262144"
				cliArgv = f.argv(netperf, "http-get", url, "400", "32")
			}
			t.Run(name, func(t *testing.T) {
				srv := startBG(t, *netTimeout, srvArgv...)
				srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
				r := startBG(t, *netTimeout, cliArgv...).wait()
				if f.isUK && !farServes {
					checkUKRun(t, "uk", r)
				}
				if r.Code != 0 || !strings.HasPrefix(r.Stdout, "http-get ok 400 ") {
					t.Errorf("http-get: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, clip(r.Stdout), clip(r.Stderr))
				}
				if s := fieldLine(r.Stdout, "http-get"); len(s) == 7 {
					t.Logf("%s: 400 requests in %s s", f.name, s[6])
				}
				srv.kill()
				if res := srv.wait(); f.isUK && farServes && hasGoPanic(res.Stderr) {
					t.Errorf("uk panicked:\n%s", clip(res.Stderr))
				}
			})
		}
	})
}

// TestNetHTTPFile: the host side fetches a file (netperf's own binary,
// which uk run puts into the sandbox at its host path) from net/http's
// file server in the sandbox, reading slowly: the server sends with
// sendfile into a connection that is full again and again.
func TestNetHTTPFile(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	out, err := exec.Command(netperf, "sha256", netperf).Output()
	if err != nil {
		t.Fatalf("netperf sha256: %v", err)
	}
	want := strings.TrimSpace(string(out))
	eachFarSide(t, func(t *testing.T, f *farSide) {
		srv := startBG(t, *netTimeout, f.argv(netperf, "http-serve", filepath.Dir(netperf), f.farIP+":8080")...)
		srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
		url := "http://" + f.farIP + ":8080/" + filepath.Base(netperf)
		for _, rate := range []string{"0", "20000000"} {
			r := startBG(t, *netTimeout, f.hostNS.argv(netperf, "http-fetch", "-rate", rate, url)...).wait()
			if got := strings.TrimSpace(r.Stdout); r.Code != 0 || got != want {
				t.Errorf("http-fetch -rate %s %s: exit %d, %q; want %q\nstderr:\n%s", rate, url, r.Code, got, want, clip(r.Stderr))
			}
		}
		srv.kill()
		if res := srv.wait(); f.isUK && hasGoPanic(res.Stderr) {
			t.Errorf("uk panicked:\n%s", clip(res.Stderr))
		}
	})
}

// TestNetIPv6Link: TCP both ways and UDP echo with fragments over the
// link with only IPv6 addresses on it (neighbour discovery instead of
// ARP; IPv6 fragments are made by the sender alone), and TCP to the host
// side's link-local address with a zone (%eth0).
func TestNetIPv6Link(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	const size = 32 << 20
	listening := regexp.MustCompile(`(?m)^listening .*$`)
	received := regexp.MustCompile(`(?m)^received 33554432 sha256 [0-9a-f]{64}$`)
	eachFarSide(t, func(t *testing.T, f *farSide) {
		f.useIPv6(t)
		t.Run("tcp-server-in-sandbox", func(t *testing.T) {
			srv := startBG(t, *netTimeout, f.argv(netperf, "serve-tcp", hostPort(f.farIP, 5400), "recv")...)
			srv.waitLine(listening, 30*time.Second)
			cl := startBG(t, *netTimeout, f.hostNS.argv(netperf, "client-tcp", hostPort(f.farIP, 5400), "send", strconv.Itoa(size))...).wait()
			r := srv.wait()
			checkUKRun(t, "far side", r)
			if r.Code != 0 || cl.Code != 0 || !received.MatchString(r.Stdout) {
				t.Errorf("far side (exit %d):\n%s%s\nhost side (exit %d):\n%s%s", r.Code, r.Stdout, clip(r.Stderr), cl.Code, cl.Stdout, clip(cl.Stderr))
			}
		})
		t.Run("tcp-client-in-sandbox", func(t *testing.T) {
			srv := startBG(t, *netTimeout, f.hostNS.argv(netperf, "serve-tcp", hostPort(f.hostIP, 5401), "recv")...)
			srv.waitLine(listening, 30*time.Second)
			cl := startBG(t, *netTimeout, f.argv(netperf, "client-tcp", hostPort(f.hostIP, 5401), "send", strconv.Itoa(size))...).wait()
			checkUKRun(t, "far side", cl)
			r := srv.wait()
			if r.Code != 0 || cl.Code != 0 || !received.MatchString(r.Stdout) {
				t.Errorf("host side (exit %d):\n%s%s\nfar side (exit %d):\n%s%s", r.Code, r.Stdout, clip(r.Stderr), cl.Code, cl.Stdout, clip(cl.Stderr))
			}
		})
		// The host side's link-local address, with the zone: the far
		// side's socket must carry the scope id to eth0.
		t.Run("tcp-link-local", func(t *testing.T) {
			dev := tapName
			if !f.isUK {
				dev = "ukveth0"
			}
			ll := linkLocal(t, f.hostNS, dev)
			srv := startBG(t, *netTimeout, f.hostNS.argv(netperf, "serve-tcp", "[::]:5403", "recv")...)
			srv.waitLine(listening, 30*time.Second)
			cl := startBG(t, *netTimeout, f.argv(netperf, "client-tcp", "["+ll+"%eth0]:5403", "send", strconv.Itoa(size))...).wait()
			checkUKRun(t, "far side", cl)
			r := srv.wait()
			if r.Code != 0 || cl.Code != 0 || !received.MatchString(r.Stdout) {
				t.Errorf("host side (exit %d):\n%s%s\nfar side (exit %d):\n%s%s", r.Code, r.Stdout, clip(r.Stderr), cl.Code, cl.Stdout, clip(cl.Stderr))
			}
		})
		t.Run("udp-echo-in-sandbox", func(t *testing.T) {
			srv := startBG(t, *netTimeout, f.argv(netperf, "udp-echo", hostPort(f.farIP, 5402))...)
			srv.waitLine(listening, 30*time.Second)
			r := startBG(t, *netTimeout, f.hostNS.argv(netperf, "udp-check", hostPort(f.farIP, 5402))...).wait()
			if n := strings.Count(r.Stdout, " ok "); r.Code != 0 || n != 8 {
				t.Errorf("udp-check: exit %d, %d sizes echoed, want 0 and 8\nstdout:\n%s\nstderr:\n%s", r.Code, n, r.Stdout, clip(r.Stderr))
			}
		})
	})
}

// busyboxNetScript is run by busybox sh on the far side: the networking
// applets of Debian's busybox-static, a C program's view of the same
// things (interface ioctls and /proc/net/dev for ifconfig, netlink for
// ip, /proc/net/route for route, ICMP for ping, its own HTTP and DNS
// clients). HOST is replaced by the host side's address.
const busyboxNetScript = `
echo "== ifconfig"; busybox ifconfig eth0
echo "== ip addr"; busybox ip addr show dev eth0
echo "== ip route"; busybox ip route
echo "== route"; busybox route -n
echo "== ping"; busybox ping -c 2 HOST
echo "== wget"; busybox wget -q -O /tmp/uk-wget-blob http://HOST:8080/stream/1000000 && busybox sha256sum /tmp/uk-wget-blob; rm -f /tmp/uk-wget-blob
echo "== nslookup"; busybox nslookup uk-test.example HOST
echo "== end"
`

// TestNetBusybox runs busybox's networking applets on the far side of the
// link and checks what each prints, with the host side serving HTTP and
// DNS.
func TestNetBusybox(t *testing.T) {
	needNetRoot(t)
	needBusybox(t)
	netperf := goProgram(t, "netperf")
	out, err := exec.Command(netperf, "gen", "1000000", os.DevNull).Output()
	if err != nil {
		t.Fatalf("netperf gen: %v", err)
	}
	blobSum := strings.Fields(string(out))[3]
	eachFarSide(t, func(t *testing.T, f *farSide) {
		startBG(t, *netTimeout, f.hostNS.argv(netperf, "http-serve", "/", ":8080")...).
			waitLine(regexp.MustCompile(`(?m)^listening .*$`), 10*time.Second)
		startBG(t, *netTimeout, f.hostNS.argv(netperf, "dns-serve", f.hostIP+":53", "uk-test.example", f.hostIP)...).
			waitLine(regexp.MustCompile(`(?m)^listening .*$`), 10*time.Second)
		script := strings.ReplaceAll(busyboxNetScript, "HOST", f.hostIP)
		argv := f.argv(busybox, "sh", "-c", script)
		r := startBG(t, *netTimeout, argv...).wait()
		if f.isUK {
			checkUKRun(t, "uk", r)
		}
		report := fmt.Sprintf("\nstdout:\n%s\nstderr:\n%s", clip(r.Stdout), clip(r.Stderr))
		if r.Code != 0 || !strings.Contains(r.Stdout, "== end") {
			t.Errorf("busybox sh: exit %d, want 0 and the whole script run%s", r.Code, report)
		}
		host, far := regexp.QuoteMeta(f.hostIP), regexp.QuoteMeta(f.farIP)
		subnet := regexp.QuoteMeta(strings.TrimSuffix(f.farIP, ".2"))
		for _, c := range []struct{ section, want string }{
			{"ifconfig", `inet addr:` + far + `\s+Bcast:` + subnet + `\.255\s+Mask:255\.255\.255\.0`},
			{"ifconfig", `UP BROADCAST RUNNING MULTICAST\s+MTU:1500`},
			{"ifconfig", `HWaddr ([0-9A-F]{2}:){5}[0-9A-F]{2}`},
			{"ip addr", `inet ` + far + `/24 brd ` + subnet + `\.255 scope global eth0`},
			{"ip route", `(?m)^default via ` + host + ` dev eth0`},
			{"ip route", `(?m)^` + subnet + `\.0/24 dev eth0 `},
			{"route", `(?m)^0\.0\.0\.0\s+` + host + `\s+0\.0\.0\.0\s+UG\s`},
			{"route", `(?m)^` + subnet + `\.0\s+0\.0\.0\.0\s+255\.255\.255\.0\s+U\s`},
			{"ping", `2 packets transmitted, 2 packets received, 0% packet loss`},
			{"wget", `(?m)^` + blobSum + `\s`},
			{"nslookup", `Name:\s+uk-test\.example\s+Address:\s+` + host + `\s`},
		} {
			m := regexp.MustCompile(`(?s)== ` + c.section + `\n(.*?)== `).FindStringSubmatch(r.Stdout)
			if m == nil || !regexp.MustCompile(c.want).MatchString(m[1]) {
				t.Errorf("busybox %s: output does not match %q%s", c.section, c.want, report)
			}
		}
	})
}

// TestNetConnectErrors: how connects over the link fail. A closed port
// on the host side answers with RST (ECONNREFUSED); an address on the
// link that nobody has gets no ARP reply (EHOSTUNREACH, after Linux's
// three probes); an address off the link with no default route has no
// route at all (ENETUNREACH, at once).
func TestNetConnectErrors(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	eachFarSide(t, func(t *testing.T, f *farSide) {
		subnet := strings.TrimSuffix(f.farIP, ".2")
		check := func(what string, argv []string, want string, within time.Duration) {
			t.Helper()
			r := startBG(t, *netTimeout, argv...).wait()
			if f.isUK {
				checkUKRun(t, "uk", r)
			}
			fields := fieldLine(r.Stdout, "dial")
			if r.Code != 0 || len(fields) != 5 || fields[2] != want {
				t.Errorf("%s: exit %d, stdout %q; want \"dial error %s ...\"\nstderr:\n%s", what, r.Code, r.Stdout, want, clip(r.Stderr))
				return
			}
			if secs, _ := strconv.ParseFloat(fields[4], 64); secs > within.Seconds() {
				t.Errorf("%s: %s after %s s, want within %v", what, want, fields[4], within)
			}
		}
		check("connect to a closed port", f.argv(netperf, "dial", f.hostIP+":1"), "ECONNREFUSED", 5*time.Second)
		check("connect to a silent neighbour", f.argv(netperf, "dial", subnet+".77:80"), "EHOSTUNREACH", 20*time.Second)
		// Without a default route.
		var argv []string
		if f.isUK {
			argv = f.hostNS.argv(ukBin, "run", "--platform="+f.platform, "--net=tap:"+tapName, "--ip", f.farIP+"/24", "--", netperf, "dial", "10.55.0.1:80")
		} else {
			ipCmd(t, "-n", f.peerNS.name, "route", "del", "default")
			argv = f.argv(netperf, "dial", "10.55.0.1:80")
		}
		check("connect off the link without a default route", argv, "ENETUNREACH", 5*time.Second)
	})
}

// TestNetTwoSandboxes: two sandboxes on two TAP devices of one namespace,
// on different subnets, the host side forwarding between them: a TCP
// transfer and an HTTP fetch from one sandbox to the other go through
// both default routes.
func TestNetTwoSandboxes(t *testing.T) {
	needNetRoot(t)
	needUK(t)
	netperf := goProgram(t, "netperf")
	forEachPlatform(t, func(t *testing.T, platform string) {
		ns := newTAPNetNS(t)
		ipCmd(t, "-n", ns.name, "tuntap", "add", "dev", "uktap1", "mode", "tap")
		ipCmd(t, "-n", ns.name, "addr", "add", "10.99.1.1/24", "dev", "uktap1")
		ipCmd(t, "-n", ns.name, "link", "set", "uktap1", "up")
		if out, err := exec.Command("ip", ns.argv("sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward")[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("enabling forwarding in %s: %v\n%s", ns.name, err, out)
		}
		sandbox := func(tap, ip, gw string, args ...string) []string {
			return ns.argv(append([]string{ukBin, "run", "--platform=" + platform, "--net=tap:" + tap,
				"--ip", ip + "/24", "--gateway", gw, "--", netperf}, args...)...)
		}
		const size = 16 << 20
		srv := startBG(t, *netTimeout, sandbox(tapName, tapUKIP, tapHostIP, "serve-tcp", tapUKIP+":5500", "recv")...)
		srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
		cl := startBG(t, *netTimeout, sandbox("uktap1", "10.99.1.2", "10.99.1.1", "client-tcp", tapUKIP+":5500", "send", strconv.Itoa(size))...).wait()
		r := srv.wait()
		checkUKRun(t, "server sandbox", r)
		checkUKRun(t, "client sandbox", cl)
		if r.Code != 0 || cl.Code != 0 || !regexp.MustCompile(`(?m)^received 16777216 sha256 `).MatchString(r.Stdout) {
			t.Errorf("transfer between sandboxes: server exit %d:\n%s%s\nclient exit %d:\n%s%s",
				r.Code, r.Stdout, clip(r.Stderr), cl.Code, cl.Stdout, clip(cl.Stderr))
		}

		web := startBG(t, *netTimeout, sandbox(tapName, tapUKIP, tapHostIP, "http-serve", "/", ":8080")...)
		web.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
		get := startBG(t, *netTimeout, sandbox("uktap1", "10.99.1.2", "10.99.1.1", "http-get", "http://"+tapUKIP+":8080/stream/1048576", "20", "4")...).wait()
		checkUKRun(t, "client sandbox", get)
		if get.Code != 0 || !strings.HasPrefix(get.Stdout, "http-get ok 20 ") {
			t.Errorf("HTTP between sandboxes: exit %d\nstdout:\n%s\nstderr:\n%s", get.Code, clip(get.Stdout), clip(get.Stderr))
		}
	})
}

// TestNetLossyLink: TCP over a link that loses 2% of the frames each way
// (iptables drops them at random on the host side) still delivers every
// byte, in both directions: the sandbox's stack must retransmit. Only
// 4 MiB: tcpip's sender recovers slowly when ACKs are lost too (16 MiB
// with 3% loss both ways took 7-29 s under uk and 7-12 s under gVisor's
// runsc, against a tenth of a second for Linux).
func TestNetLossyLink(t *testing.T) {
	needNetRoot(t)
	if _, err := exec.LookPath("iptables"); err != nil {
		testenv.Need(t, "the iptables command", "its statistic match drops the lossy link's frames; Debian: iptables")
	}
	netperf := goProgram(t, "netperf")
	const size = 4 << 20
	out, err := exec.Command(netperf, "gen", strconv.Itoa(size), os.DevNull).Output()
	if err != nil {
		t.Fatalf("netperf gen: %v", err)
	}
	want := strings.Fields(string(out))[3]
	eachFarSide(t, func(t *testing.T, f *farSide) {
		dev := tapName
		if !f.isUK {
			dev = "ukveth0"
		}
		for _, rule := range [][]string{
			{"-A", "INPUT", "-i", dev},
			{"-A", "OUTPUT", "-o", dev},
		} {
			argv := append(f.hostNS.argv("iptables"), rule...)
			argv = append(argv, "-m", "statistic", "--mode", "random", "--probability", "0.02", "-j", "DROP")
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			}
		}
		for i, farSends := range []bool{true, false} {
			name := "sandbox-sends"
			if !farSends {
				name = "sandbox-receives"
			}
			t.Run(name, func(t *testing.T) {
				port := strconv.Itoa(5600 + i)
				farMode, hostMode := []string{"recv"}, []string{"send", strconv.Itoa(size)}
				if farSends {
					farMode, hostMode = hostMode, farMode
				}
				srv := startBG(t, *netTimeout, f.argv(netperf, append([]string{"serve-tcp", f.farIP + ":" + port}, farMode...)...)...)
				srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
				cl := startBG(t, *netTimeout, f.hostNS.argv(append([]string{netperf, "client-tcp", f.farIP + ":" + port}, hostMode...)...)...).wait()
				r := srv.wait()
				if f.isUK {
					checkUKRun(t, "uk", r)
				}
				receiver := r
				if farSends {
					receiver = cl
				}
				got := fieldLine(receiver.Stdout, "received")
				if r.Code != 0 || cl.Code != 0 || !slices.Equal(got, []string{"received", strconv.Itoa(size), "sha256", want}) {
					t.Errorf("far side (%s):\n%s%s\nhost side (exit %d):\n%s%s", srv.status(), r.Stdout, clip(r.Stderr), cl.Code, cl.Stdout, clip(cl.Stderr))
				}
				if s := fieldLine(receiver.Stdout, "seconds"); len(s) == 4 {
					t.Logf("%s: %s MiB/s with 2%% loss each way", f.name, s[3])
				}
			})
		}
	})
}

// linkLocal returns the IPv6 link-local address of dev in ns, waiting for
// Linux to make it (when the link gets a carrier).
func linkLocal(tb testing.TB, ns *netNS, dev string) string {
	tb.Helper()
	re := regexp.MustCompile(`inet6 (fe80::[0-9a-f:]+)/64`)
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		out, err := exec.Command("ip", "-n", ns.name, "-6", "-o", "addr", "show", "dev", dev, "scope", "link").Output()
		if m := re.FindSubmatch(out); err == nil && m != nil {
			return string(m[1])
		}
		if time.Since(start) > 10*time.Second {
			tb.Fatalf("%s in %s has no IPv6 link-local address after 10 s: %v\n%s", dev, ns.name, err, out)
		}
	}
}

// TestNetTAPErrors: a TAP device that does not exist, or that another
// sandbox holds, is refused with one line naming it.
func TestNetTAPErrors(t *testing.T) {
	needNetRoot(t)
	needUK(t)
	netperf := goProgram(t, "netperf")
	forEachPlatform(t, func(t *testing.T, platform string) {
		ns := newTAPNetNS(t)
		check := func(what string, r procResult, name string) {
			t.Helper()
			checkUKRun(t, what, r)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if r.Code == 0 || r.TimedOut || len(lines) != 1 || !strings.Contains(lines[0], name) {
				t.Errorf("%s: exit %d (timed out %v), stderr %q; want a non-zero exit and one line naming %s",
					what, r.Code, r.TimedOut, r.Stderr, name)
			}
		}
		missing := startBG(t, 30*time.Second, ns.argv(ukBin, "run", "--platform="+platform, "--net=tap:uknosuchtap", "--", netperf, "sha256", "/dev/null")...)
		check("missing TAP device", missing.wait(), "uknosuchtap")

		holder := startBG(t, 60*time.Second, ns.argv(ukBin, "run", "--platform="+platform, "--net=tap:"+tapName,
			"--ip", tapUKIP+"/24", "--", netperf, "serve-tcp", tapUKIP+":5100", "recv")...)
		holder.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
		busy := startBG(t, 30*time.Second, ns.argv(ukBin, "run", "--platform="+platform, "--net=tap:"+tapName, "--", netperf, "sha256", "/dev/null")...)
		check("TAP device held by another sandbox", busy.wait(), tapName)
	})
}

// TestNetFlagErrors: a bad network flag is refused before anything runs,
// with one line on stderr that names the flag.
func TestNetFlagErrors(t *testing.T) {
	needUK(t)
	prog := cProgram(t, "hi")
	for _, tc := range []struct {
		flags []string
		names string // what the line must mention
	}{
		{[]string{"--net=bogus"}, "--net"},
		{[]string{"--net=tap:"}, "--net"},
		{[]string{"--net=tap:uknosuchtap", "--ip", "10.99.0.2"}, "--ip"},
		{[]string{"--ip", "10.99.0.2/24"}, "--ip"},
		{[]string{"--net=tap:uknosuchtap", "--gateway", "10.99.0.1"}, "--gateway"},
		{[]string{"--net=tap:uknosuchtap", "--ip", "10.99.0.2/24", "--gateway", "not-an-address"}, "--gateway"},
		{[]string{"--dns", "not-an-address"}, "--dns"},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			r := runUKCommand(t, append(append([]string{"run"}, tc.flags...), "--", prog), "")
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if r.Code == 0 || r.Stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], tc.names) {
				t.Errorf("uk run %s: exit %d, stdout %q, stderr %q; want a non-zero exit, no output and one line naming %s",
					strings.Join(tc.flags, " "), r.Code, r.Stdout, r.Stderr, tc.names)
			}
		})
	}
}

// TestNetDNSFlag: --dns becomes the nameserver of the sandbox's
// /etc/resolv.conf, and --ip/--gateway need no action inside.
func TestNetDNSFlag(t *testing.T) {
	needNetRoot(t)
	needUK(t)
	needBusybox(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		ns := newTAPNetNS(t)
		p := startBG(t, 30*time.Second, ns.argv(ukBin, "run", "--platform="+platform, "--net=tap:"+tapName,
			"--ip", tapUKIP+"/24", "--gateway", tapHostIP, "--dns", tapHostIP, "--", busybox, "cat", "/etc/resolv.conf")...)
		r := p.wait()
		checkUKRun(t, "uk", r)
		if r.Code != 0 || !regexp.MustCompile(`(?m)^nameserver 10\.99\.0\.1$`).MatchString(r.Stdout) {
			t.Errorf("cat /etc/resolv.conf with --dns %s: exit %d, stdout %q; want a line \"nameserver %s\"\nstderr:\n%s",
				tapHostIP, r.Code, r.Stdout, tapHostIP, clip(r.Stderr))
		}
	})
}

// TestNetPing sends ICMP echo requests both ways over the link (netperf
// ping): from the far side to the host side on a raw socket and on a
// ping socket, and from the host side to the far side while a program
// runs there.
func TestNetPing(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	replies := regexp.MustCompile(`(?m)^reply \d+ bytes 64 from `)
	eachFarSide(t, func(t *testing.T, f *farSide) {
		if !f.isUK {
			// Linux lets no group use ping sockets by default; the
			// setting is the namespace's own.
			out, err := exec.Command("ip", f.peerNS.argv("sh", "-c", "echo 0 2147483647 >/proc/sys/net/ipv4/ping_group_range")[1:]...).CombinedOutput()
			if err != nil {
				t.Fatalf("allowing ping sockets in the peer namespace: %v\n%s", err, out)
			}
		}
		for _, mode := range [][]string{{"ping"}, {"ping", "-dgram"}} {
			out := startBG(t, *netTimeout, f.argv(netperf, append(mode, f.hostIP, "3")...)...).wait()
			if f.isUK {
				checkUKRun(t, "uk", out)
			}
			if n := len(replies.FindAllString(out.Stdout, -1)); out.Code != 0 || n != 3 {
				t.Errorf("far side: %s %s: exit %d, %d replies, want 0 and 3\nstdout:\n%s\nstderr:\n%s",
					strings.Join(mode, " "), f.hostIP, out.Code, n, clip(out.Stdout), clip(out.Stderr))
			}
		}

		srv := startBG(t, *netTimeout, f.argv(netperf, "http-serve", "/", f.farIP+":8081")...)
		srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 30*time.Second)
		in := startBG(t, *netTimeout, f.hostNS.argv(netperf, "ping", f.farIP, "3")...).wait()
		if n := len(replies.FindAllString(in.Stdout, -1)); in.Code != 0 || n != 3 {
			t.Errorf("host side pings %s: exit %d, %d replies, want 0 and 3\nstdout:\n%s\nstderr:\n%s",
				f.farIP, in.Code, n, clip(in.Stdout), clip(in.Stderr))
		}
	})
}

// loIfaceLine is what `netperf ifaces` prints for loopback, natively and
// in the sandbox.
const loIfaceLine = "iface lo index 1 flags up,loopback,running mtu 65536 hw none addrs 127.0.0.1/8,::1/128"

// TestNetInterfaces checks Go's net.Interfaces (netlink RTM_GETLINK and
// RTM_GETADDR) in the sandbox: only loopback with --net=none; with the
// TAP device an eth0 with its own MAC, up with --ip, and down without an
// address without it. The native run is the peer namespace of a veth
// pair, whose eth0 must look the same but for the address.
func TestNetInterfaces(t *testing.T) {
	needNetRoot(t)
	netperf := goProgram(t, "netperf")
	ethUp := func(ip string) *regexp.Regexp {
		return regexp.MustCompile(`^iface eth0 index \d+ flags up,broadcast,multicast,running mtu 1500 hw ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) addrs ` +
			regexp.QuoteMeta(ip) + `/24,fe80::[0-9a-f:]+/64$`)
	}
	check := func(t *testing.T, what string, r procResult, eth *regexp.Regexp) string {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		want := 1
		if eth != nil {
			want = 2
		}
		if r.Code != 0 || len(lines) != want || lines[0] != loIfaceLine || (eth != nil && !eth.MatchString(lines[1])) {
			wantEth := ""
			if eth != nil {
				wantEth = "\nthen matching " + eth.String()
			}
			t.Errorf("%s: exit %d, stdout:\n%s\nwant exit 0 and\n%s%s\nstderr:\n%s", what, r.Code, r.Stdout, loIfaceLine, wantEth, clip(r.Stderr))
			return ""
		}
		if eth == nil {
			return ""
		}
		if m := eth.FindStringSubmatch(lines[1]); len(m) > 1 {
			return m[1]
		}
		return ""
	}
	t.Run("native", func(t *testing.T) {
		lo := newNetNS(t)
		check(t, "fresh namespace", startBG(t, 30*time.Second, lo.argv(netperf, "ifaces")...).wait(), nil)
		_, peer := newVethPair(t)
		// Linux brings the carrier up and the link-local address out
		// of duplicate address detection a moment after the link.
		var r procResult
		for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(100 * time.Millisecond) {
			r = startBG(t, 30*time.Second, peer.argv(netperf, "ifaces")...).wait()
			if strings.Contains(r.Stdout, "running mtu 1500") && strings.Contains(r.Stdout, "fe80::") {
				break
			}
		}
		check(t, "veth peer namespace", r, ethUp(vethPeerIP))
	})
	forEachPlatform(t, func(t *testing.T, platform string) {
		needUK(t)
		r := runUK(t, platform, netperf, []string{"ifaces"}, "--net=none")
		check(t, "--net=none", r, nil)

		ns := newTAPNetNS(t)
		uk := func(flags ...string) procResult {
			argv := append([]string{ukBin, "run", "--platform=" + platform, "--net=tap:" + tapName}, flags...)
			r := startBG(t, 30*time.Second, ns.argv(append(argv, "--", netperf, "ifaces")...)...).wait()
			checkUKRun(t, "uk", r)
			return r
		}
		mac := check(t, "--net=tap --ip", uk("--ip", tapUKIP+"/24", "--gateway", tapHostIP), ethUp(tapUKIP))
		tapMAC, err := exec.Command("ip", ns.argv("cat", "/sys/class/net/"+tapName+"/address")[1:]...).Output()
		if err != nil {
			t.Fatalf("reading the TAP device's MAC: %v", err)
		}
		if mac != "" && mac == strings.TrimSpace(string(tapMAC)) {
			t.Errorf("eth0 in the sandbox has the host TAP device's MAC %s; it must have its own", mac)
		}
		check(t, "--net=tap without --ip", uk(), regexp.MustCompile(
			`^iface eth0 index \d+ flags broadcast,multicast mtu 1500 hw (?:[0-9a-f]{2}:){5}[0-9a-f]{2} addrs $`))
	})
}

// TestNetDNSResolve: Go's resolver in the sandbox reads the nameserver
// --dns wrote into /etc/resolv.conf and asks it over the link (netperf
// dns-serve on the host side answers one name). Natively the same two
// lookups go to the server on loopback, which checks the programs.
func TestNetDNSResolve(t *testing.T) {
	netperf := goProgram(t, "netperf")
	const name = "uk-test.example"
	want := map[string]string{
		name:             "resolved " + name + " " + tapHostIP + "\n",
		"nosuch.example": "notfound nosuch.example\n",
	}
	t.Run("native", func(t *testing.T) {
		srv := startBG(t, *netTimeout, netperf, "dns-serve", "127.0.0.1:0", name, tapHostIP)
		addr := strings.Fields(srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 10*time.Second))[1]
		for q, w := range want {
			r := runNative(t, netperf, "resolve", "-server", addr, q)
			if r.Code != 0 || r.Stdout != w {
				t.Errorf("resolve %s: exit %d, stdout %q; want 0, %q\nstderr:\n%s", q, r.Code, r.Stdout, w, clip(r.Stderr))
			}
		}
	})
	needNetRoot(t)
	forEachPlatform(t, func(t *testing.T, platform string) {
		needUK(t)
		ns := newTAPNetNS(t)
		srv := startBG(t, *netTimeout, ns.argv(netperf, "dns-serve", tapHostIP+":53", name, tapHostIP)...)
		srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 10*time.Second)
		for q, w := range want {
			r := startBG(t, *netTimeout, ns.argv(ukBin, "run", "--platform="+platform, "--net=tap:"+tapName,
				"--ip", tapUKIP+"/24", "--gateway", tapHostIP, "--dns", tapHostIP, "--", netperf, "resolve", q)...).wait()
			checkUKRun(t, "uk", r)
			if r.Code != 0 || r.Stdout != w {
				t.Errorf("resolve %s in the sandbox: exit %d, stdout %q; want 0, %q\nstderr:\n%s", q, r.Code, r.Stdout, w, clip(r.Stderr))
			}
		}
	})
}

// TestNetLoopbackGo runs `netperf loopback` (TCP echo and bulk, net/http
// client and server, UDP, a refused connect, a proxy joining two
// connections with io.Copy and a download into a file with io.Copy, both
// splice(2) in Go, over 127.0.0.1 and [::1]) natively and under uk with
// only loopback (--net=none).
func TestNetLoopbackGo(t *testing.T) {
	prog := goProgram(t, "netperf")
	native := runNativeSpec(t, prog, runSpec{Args: []string{"loopback"}})
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		uk := runUKSpec(t, platform, prog, runSpec{Args: []string{"loopback"}, Flags: []string{"--net=none"}})
		sameAsNative(t, native, uk)
	})
}

// TestNetInetC runs testdata/c/inet.c (the socket system calls on
// loopback) natively and under uk and compares.
func TestNetInetC(t *testing.T) {
	prog := cProgram(t, "inet")
	native := runNative(t, prog)
	checkNative(t, native, 0)
	forEachPlatform(t, func(t *testing.T, platform string) {
		uk := runUK(t, platform, prog, nil, "--net=none")
		sameAsNative(t, native, uk)
	})
}

// netBootImage is the image of TestNetBootUroot: the default commands,
// netperf (for its sha256) and testdata/net/uinit.sh run by init.
const netBootImage = "testdata/initramfs/out/uroot-net.cpio"

// blobSize is the size of the file the booted image fetches with wget.
const blobSize = 8 << 20

// TestNetBootUroot boots a u-root image whose uinit script configures eth0
// with u-root's ip, pings the host side, fetches a file from an HTTP
// server there with wget and prints its SHA-256.
func TestNetBootUroot(t *testing.T) {
	needNetRoot(t)
	needUKBoot(t)
	netperf := goProgram(t, "netperf")
	// The image's inputs are hashed with the -files paths: a stable path
	// keeps the cached image valid across test runs.
	stable := filepath.Join("testdata", "initramfs", "out", "netperf")
	if err := copyFile(netperf, stable); err != nil {
		t.Fatal(err)
	}
	image := initramfsImage(t, netBootImage,
		"-uinitcmd", "gosh /etc/uinit-net.sh",
		"-files", "testdata/net/uinit.sh:etc/uinit-net.sh",
		"-files", stable+":bin/netperf")

	dir := t.TempDir()
	out, err := exec.Command(netperf, "gen", strconv.Itoa(blobSize), filepath.Join(dir, "blob")).Output()
	if err != nil {
		t.Fatalf("netperf gen: %v", err)
	}
	want := strings.TrimSpace(string(out)) // "size N sha256 HEX"

	forEachPlatform(t, func(t *testing.T, platform string) {
		for _, variant := range []struct {
			name  string
			flags []string
		}{
			// The script's ip commands configure eth0.
			{"configured-inside", nil},
			// uk configures it (the script's ip commands then fail
			// with EEXIST, harmlessly).
			{"configured-by-flags", []string{"--ip", tapUKIP + "/24", "--gateway", tapHostIP}},
		} {
			t.Run(variant.name, func(t *testing.T) { bootNetImage(t, platform, image, dir, want, variant.flags) })
		}
	})
}

// bootNetImage is one boot of TestNetBootUroot's image, with the HTTP
// server serving dir on the host side, and its checks.
func bootNetImage(t *testing.T, platform, image, dir, want string, flags []string) {
	netperf := goProgram(t, "netperf")
	ns := newTAPNetNS(t)
	ipCmd(t, "-n", ns.name, "addr", "add", offLinkIP+"/32", "dev", "lo")
	srv := startBG(t, 5*time.Minute, ns.argv(netperf, "http-serve", dir, ":8080")...)
	srv.waitLine(regexp.MustCompile(`(?m)^listening .*$`), 10*time.Second)
	argv := append([]string{ukBin, "boot", "--platform=" + platform, "--net=tap:" + tapName}, flags...)
	boot := startBG(t, 2*bootTimeout, ns.argv(append(argv, image)...)...)
	r := boot.wait()
	checkUKRun(t, "uk boot", r)
	console := strings.ReplaceAll(r.Stdout+r.Stderr, "\r", "")
	report := fmt.Sprintf("\n---- console ----\n%s\n---- end ----", clipTail(console))
	if r.TimedOut {
		t.Fatalf("uk boot did not power off within %v%s", 2*bootTimeout, report)
	}
	if r.Code != 0 {
		t.Errorf("uk boot exited %d; want 0 from the power-off%s", r.Code, report)
	}
	section := func(name string) string {
		re := regexp.MustCompile(`(?s)NET: ` + regexp.QuoteMeta(name) + `\n(.*?)(NET: |\z)`)
		if m := re.FindStringSubmatch(console); m != nil {
			return m[1]
		}
		t.Errorf("no %q section on the console", "NET: "+name)
		return ""
	}
	if s := section("ip addr"); !strings.Contains(s, tapUKIP+"/24") {
		t.Errorf("ip addr shows no %s/24 on eth0:\n%s%s", tapUKIP, s, report)
	}
	// u-root's ip (netlink v1.3.0) shows a default route as
	// 0.0.0.0/0 and never its gateway, on Linux too: the fetch
	// from offLinkIP below is what proves the route.
	if s := section("ip route"); !regexp.MustCompile(`(?m)^(default via 10\.99\.0\.1|0\.0\.0\.0/0) dev eth0`).MatchString(s) {
		t.Errorf("ip route shows no default route on eth0:\n%s%s", s, report)
	}
	replies := regexp.MustCompile(`(?m)^\d+ bytes from 10\.99\.0\.1: icmp_seq=\d+ time=`).FindAllString(section("ping"), -1)
	if len(replies) != 3 {
		t.Errorf("ping -c 3 %s: %d replies, want 3%s", tapHostIP, len(replies), report)
	}
	if s := strings.TrimSpace(section("sha256")); s != want {
		t.Errorf("the file wget fetched: %q, want %q%s", s, want, report)
	}
	if s := strings.TrimSpace(section("sha256 via gateway")); s != want {
		t.Errorf("the file wget fetched through the default route: %q, want %q%s", s, want, report)
	}
	if !strings.Contains(console, "NET: powering off") {
		t.Errorf("the script did not reach its end%s", report)
	}
}

// copyFile copies src to dst (mode 0755) unless dst already has the same
// contents, so that its modification does not change needlessly.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// ---- benchmarks ----
//
// Each benchmark iteration runs one netperf measurement (which itself
// takes thousands of samples and prints their median), natively, under
// uk on ptrace and, with -uk.runsc, under gVisor; the reported metric is
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
		rts["uk"] = []string{ukBin, "run", "--platform=ptrace", "--net=none", "--", prog}
	}
	if *runscFlag != "" {
		// gVisor's own netstack with loopback only, as uk's --net=none.
		rts["gvisor"] = []string{*runscFlag, "--network=none", "do", prog}
	}
	return rts
}

func runtimeOrder(rts map[string][]string) []string {
	var names []string
	for _, n := range []string{"native", "uk", "gvisor"} {
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
	sides := []string{"native-veth", "uk-tap"}
	if *runscFlag != "" {
		sides = append(sides, "gvisor-veth")
	}
	for _, side := range sides {
		for _, dir := range []string{"send", "recv"} {
			b.Run(side+"/"+dir, func(b *testing.B) {
				var argv func() []string
				var srvNS *netNS
				switch side {
				case "uk-tap":
					needUK(b)
					ns := newTAPNetNS(b)
					f := &farSide{name: "uk", hostNS: ns, hostIP: tapHostIP, farIP: tapUKIP, isUK: true, platform: "ptrace"}
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
