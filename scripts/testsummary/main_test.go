package main

import (
	"strings"
	"testing"
)

// stream is what `go test -json` printed for a package with a skipped
// test (a two-line reason), a skipped subtest, a passing test that logged a
// retry, and a failing test.
const stream = `{"Action":"start","Package":"demo"}
{"Action":"output","Package":"demo","Output":"platform matrix: running ptrace; kvm not built: none yet\n"}
{"Action":"run","Package":"demo","Test":"TestA"}
{"Action":"output","Package":"demo","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"demo","Test":"TestA","Output":"    a_test.go:3: hello\n"}
{"Action":"output","Package":"demo","Test":"TestA","Output":"    a_test.go:3: missing from this machine: gcc (why)\n"}
{"Action":"output","Package":"demo","Test":"TestA","Output":"        line two\n"}
{"Action":"output","Package":"demo","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"demo","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"demo","Test":"TestB/sub","Output":"    a_test.go:4: missing from this machine: gcc (why)\n"}
{"Action":"output","Package":"demo","Test":"TestB/sub","Output":"--- SKIP: TestB/sub (0.00s)\n"}
{"Action":"skip","Package":"demo","Test":"TestB/sub","Elapsed":0}
{"Action":"pass","Package":"demo","Test":"TestB","Elapsed":0}
{"Action":"output","Package":"demo","Test":"TestC","Output":"    a_test.go:5: RETRY: TestC: attempt 1 of 2 failed\n"}
{"Action":"output","Package":"demo","Test":"TestC","Output":"--- PASS: TestC (0.00s)\n"}
{"Action":"pass","Package":"demo","Test":"TestC","Elapsed":0}
{"Action":"output","Package":"demo","Test":"TestD","Output":"=== RUN   TestD\n"}
{"Action":"output","Package":"demo","Test":"TestD","Output":"    a_test.go:6: boom\n"}
{"Action":"output","Package":"demo","Test":"TestD","Output":"--- FAIL: TestD (0.00s)\n"}
{"Action":"fail","Package":"demo","Test":"TestD","Elapsed":0}
{"Action":"output","Package":"demo","Output":"FAIL\n"}
{"Action":"output","Package":"demo","Output":"FAIL\tdemo\t0.004s\n"}
{"Action":"fail","Package":"demo","Elapsed":0.005}
`

func TestSummary(t *testing.T) {
	var out strings.Builder
	s := newSummary(&out)
	s.read(strings.NewReader(stream))
	s.finish()
	want := `platform matrix: running ptrace; kvm not built: none yet
    a_test.go:6: boom
--- FAIL: TestD (0.00s)
FAIL
FAIL	demo	0.004s
skipped 2:
  demo TestA, demo TestB/sub: missing from this machine: gcc (why)
retried 1:
  demo TestC: TestC: attempt 1 of 2 failed
demo: platform matrix: running ptrace; kvm not built: none yet
tests: 2 passed, 1 failed, 2 skipped
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if s.failed != 1 {
		t.Errorf("failed = %d, want 1 (main exits 1 on it)", s.failed)
	}
}
