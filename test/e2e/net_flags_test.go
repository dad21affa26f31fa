package e2e

// The networking flags: a missing or busy TAP device, bad --net, --ip,
// --gateway and --dns values, and --dns in the sandbox's resolv.conf.

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

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
