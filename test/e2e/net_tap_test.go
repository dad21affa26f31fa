package e2e

// The networking tests over a TAP link to the host (see net_harness_test.go
// for the topology and the helpers): transfers, UDP, HTTP, IPv6, busybox,
// connect errors, two sandboxes, a lossy link, ping.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"uk/internal/testenv"
)

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
