package e2e

// Networking in a booted u-root image: ip, ping and wget from its init
// script over a TAP link.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

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
