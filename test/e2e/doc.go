// Package e2e holds uk's end-to-end tests: real programs (C programs from
// testdata/c, static Go programs from testdata/go, busybox, python, a
// u-root initramfs) run natively and under `uk run` / `uk boot` on every
// platform this machine has, and the two runs compared.
//
// The harness (harness_test.go) builds uk once per `go test` run from the
// repository root and runs every test from there, so all paths (testdata/,
// scripts/, and a relative -uk.binary) are relative to the root. Its flags: -uk.binary, -uk.timeout,
// -uk.nettimeout, -uk.runsc, -uk.update-golden, -uk.fuzztime, -uk.fuzzseed,
// -uk.fuzzv; for instance
//
//	go test -count=1 -run TestCPrograms ./test/e2e -uk.timeout=1m
//
// The tests by topic: run_test.go (the C programs), fs_test.go, boot_test.go,
// shell_test.go, net_*_test.go, socket_test.go, vdso*_test.go, gotest_test.go,
// python_test.go, sandbox_test.go, workload_test.go (the CI workload
// suite: host toolchains from --rootfs /, compared with native runs), hostile_test.go, confine_test.go (how uk
// and its stubs are confined, read from the host), tty_test.go (the host
// terminal), sysfuzz_test.go,
// rules_test.go (the project's rules), bench_test.go and fs_bench_test.go
// (the benchmarks `make bench` runs).
package e2e
