package e2e

// Networking inside the sandbox: the interfaces Go sees (netlink), Go's
// resolver, and the loopback programs (netperf loopback, inet.c).

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

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
