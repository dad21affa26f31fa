package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uk/internal/testenv"
)

// TestKVMInQEMU runs scripts/kvm-in-qemu.sh: the KVM platform's tests and a
// few programs under `uk run --platform=kvm`, inside a QEMU guest with a
// software-emulated EPYC CPU whose kernel serves /dev/kvm through kvm_amd
// (hardware SVM semantics), whatever this machine's own /dev/kvm is. Each
// "KVMQEMU name PASS|FAIL detail" line of the guest becomes a subtest.
//
// It takes minutes (everything is emulated), so it runs only with
// UK_KVM_QEMU=1; it is not part of `make test` yet.
func TestKVMInQEMU(t *testing.T) {
	if os.Getenv("UK_KVM_QEMU") != "1" {
		t.Skip("set UK_KVM_QEMU=1 to run the KVM tests inside QEMU (minutes)")
	}
	for _, tool := range []string{"qemu-system-x86_64", "gcc", "cpio", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Need(t, tool, "the QEMU guest is built and booted with it")
		}
	}
	if m, _ := filepath.Glob("/lib/modules/*-amd64/kernel/arch/x86/kvm"); len(m) == 0 {
		testenv.Need(t, "linux-image-amd64", "the QEMU guest boots it and loads its kvm_amd")
	}
	out := t.TempDir()
	cmd := exec.Command("scripts/kvm-in-qemu.sh", out)
	cmd.Env = append(os.Environ(), "TIMEOUT=480")
	start := time.Now()
	b, err := cmd.CombinedOutput()
	t.Logf("kvm-in-qemu.sh took %v", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("kvm-in-qemu.sh: %v\n%s", err, tail(string(b), 6000))
	}
	f, err := os.Open(filepath.Join(out, "console.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.SplitN(s.Text(), " ", 4)
		if len(fields) < 3 || fields[0] != "KVMQEMU" {
			continue
		}
		n++
		name, result, detail := fields[1], fields[2], ""
		if len(fields) == 4 {
			detail = fields[3]
		}
		t.Run(name, func(t *testing.T) {
			if result != "PASS" {
				t.Errorf("%s in the QEMU guest: %s\n%s", result, detail, tail(string(b), 6000))
			}
		})
	}
	if n == 0 {
		t.Fatalf("no results from the guest:\n%s", tail(string(b), 6000))
	}
}
