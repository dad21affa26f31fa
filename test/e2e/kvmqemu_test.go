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

// TestKVMInQEMU runs scripts/kvm-in-qemu.sh: the KVM platform's tests
// (conformance, kicks, compat syscalls, a multi-threaded stress with
// shootdowns) and a subset of the suite under `uk run --platform=kvm`
// (busybox applets and C programs compared with ptrace in the same guest,
// among them the security program stale.c, and `threads -quick`, the Go
// program's goroutines, signals and asynchronous preemption, 10 times in a
// row), inside a QEMU guest with a software-emulated EPYC CPU whose kernel
// serves /dev/kvm through kvm_amd (hardware SVM semantics), whatever this
// machine's own /dev/kvm is. Each "KVMQEMU name PASS|FAIL detail" line of
// the guest becomes a subtest.
//
// Everything is emulated, so it takes minutes: under one to build and
// pack, two to four in the guest (30-70 s of it the ten Go runs), and the
// script's TIMEOUT bounds the guest at 7. The full Go threads
// program is not in this subset: on one emulated CPU a run takes from 40 s
// to minutes (GOARGS= scripts/kvm-in-qemu.sh runs it by hand). It runs in
// `make test` on every machine; .ci/run installs what it needs
// (qemu-system-x86, linux-image-amd64, cpio, xz-utils).
func TestKVMInQEMU(t *testing.T) {
	for _, tool := range []string{"qemu-system-x86_64", "gcc", "cpio", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Need(t, tool, "the QEMU guest is built and booted with it")
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testenv.Need(t, "busybox-static", "the QEMU guest's shell and applets")
	}
	if m, _ := filepath.Glob("/lib/modules/*-amd64/kernel/arch/x86/kvm"); len(m) == 0 {
		testenv.Need(t, "linux-image-amd64", "the QEMU guest boots it and loads its kvm_amd")
	}
	out := t.TempDir()
	cmd := exec.Command("scripts/kvm-in-qemu.sh", out)
	cmd.Env = append(os.Environ(), "TIMEOUT=420")
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
		// A line may start with what the console printed before it
		// (the first one follows the firmware's "Booting from ROM..").
		line := s.Text()
		if i := strings.Index(line, "KVMQEMU "); i > 0 {
			line = line[i:]
		}
		fields := strings.SplitN(line, " ", 4)
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
			} else {
				t.Log(strings.TrimSpace(detail))
			}
		})
	}
	if n == 0 {
		t.Fatalf("no results from the guest:\n%s", tail(string(b), 6000))
	}
}
