// Command testsummary runs `go test -json ...`, prints what plain `go test`
// would (a line per package, and the output of each failed test), and ends
// with what a plain run hides: every skipped test grouped by its reason,
// every retried attempt (a test's "RETRY:" log line), the platform matrix
// the end-to-end package (test/e2e) ran ("platform matrix: ..."), and one count line:
//
//	tests: 812 passed, 0 failed, 3 skipped
//
// It exits with go test's exit status (1 if go test exited 0 but a test
// failed), so `make test` fails exactly when go test does.
//
// Usage: go run ./scripts/testsummary -- go test -json [flags] [packages]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testsummary -- go test -json [flags] [packages]")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = os.Stdin
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	s := newSummary(os.Stdout)
	s.read(out)
	err = cmd.Wait()
	s.finish()
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if code <= 0 {
			code = 1 // killed by a signal
		}
	default:
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		code = 2
	}
	if code == 0 && s.failed > 0 {
		code = 1
	}
	os.Exit(code)
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output events
	Test       string
	Output     string
}

type testKey struct{ pkg, test string }

type skip struct{ pkg, test, reason string }

type summary struct {
	w                     io.Writer
	buf                   map[testKey][]string // output of tests still running
	passed, failed, skips int
	skipped               []skip
	retries               []string
	notes                 []string // "platform matrix: ..." lines
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, buf: map[testKey][]string{}}
}

// read consumes the event stream; lines that are not JSON pass through.
func (s *summary) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.w, "%s\n", line)
			continue
		}
		s.event(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(s.w, "testsummary: reading go test's output:", err)
		s.failed++
	}
}

// runLine matches the progress lines of a verbose run, which a plain go
// test does not print.
var runLine = regexp.MustCompile(`^=== (RUN|PAUSE|CONT|NAME)\b`)

func (s *summary) event(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.w, e.Output)
	case "output":
		if e.Test == "" {
			if strings.HasPrefix(e.Output, "platform matrix:") {
				s.notes = append(s.notes, fmt.Sprintf("%s: %s", e.Package, strings.TrimSpace(e.Output)))
			}
			if e.Output != "PASS\n" && !runLine.MatchString(e.Output) {
				fmt.Fprint(s.w, e.Output)
			}
			return
		}
		if _, after, ok := strings.Cut(e.Output, "RETRY:"); ok {
			s.retries = append(s.retries, fmt.Sprintf("%s %s: %s", e.Package, e.Test, strings.TrimSpace(after)))
		}
		s.buf[k] = append(s.buf[k], e.Output)
	case "pass":
		if e.Test == "" {
			s.dropPackage(e.Package)
			return
		}
		s.passed++
		delete(s.buf, k)
	case "fail":
		if e.Test == "" {
			// Tests of a failed package that never ended (a panic, the
			// timeout) show what they printed.
			s.flushPackage(e.Package)
			return
		}
		s.failed++
		s.print(k)
	case "skip":
		if e.Test == "" {
			return // a package without tests
		}
		s.skips++
		s.skipped = append(s.skipped, skip{e.Package, e.Test, skipReason(s.buf[k])})
		delete(s.buf, k)
	}
}

// print writes a failed test's output without the progress lines.
func (s *summary) print(k testKey) {
	for _, l := range s.buf[k] {
		if !runLine.MatchString(l) {
			fmt.Fprint(s.w, l)
		}
	}
	delete(s.buf, k)
}

func (s *summary) flushPackage(pkg string) {
	var keys []testKey
	for k := range s.buf {
		if k.pkg == pkg {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].test < keys[j].test })
	for _, k := range keys {
		fmt.Fprintf(s.w, "(output of %s, which did not finish)\n", k.test)
		s.print(k)
	}
}

func (s *summary) dropPackage(pkg string) {
	for k := range s.buf {
		if k.pkg == pkg {
			delete(s.buf, k)
		}
	}
}

// logPrefix is the "    file_test.go:123: " that t.Log and t.Skip put
// first.
var logPrefix = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason is what t.Skip said: the last line with a log prefix before
// the test's "--- SKIP" line (the first line of a multi-line message).
func skipReason(out []string) string {
	reason := "(no reason given)"
	for _, l := range out {
		if strings.HasPrefix(l, "--- SKIP: ") {
			break
		}
		if loc := logPrefix.FindStringIndex(l); loc != nil {
			reason = strings.TrimSpace(l[loc[1]:])
		}
	}
	return reason
}

// finish prints the skips, the retries, the platform matrix and the counts.
func (s *summary) finish() {
	var b bytes.Buffer
	if len(s.skipped) > 0 {
		// Group by reason: one line for the 40 tests that all lack gcc.
		byReason := map[string][]string{}
		var reasons []string
		for _, sk := range s.skipped {
			if byReason[sk.reason] == nil {
				reasons = append(reasons, sk.reason)
			}
			byReason[sk.reason] = append(byReason[sk.reason], strings.TrimPrefix(sk.pkg+" ", "uk ")+sk.test)
		}
		fmt.Fprintf(&b, "skipped %d:\n", len(s.skipped))
		for _, r := range reasons {
			names := byReason[r]
			list := strings.Join(names, ", ")
			if len(names) > 3 {
				list = fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
			}
			fmt.Fprintf(&b, "  %s: %s\n", list, clip(r, 200))
		}
	}
	if len(s.retries) > 0 {
		fmt.Fprintf(&b, "retried %d:\n", len(s.retries))
		for _, r := range s.retries {
			fmt.Fprintf(&b, "  %s\n", clip(r, 200))
		}
	}
	for _, n := range s.notes {
		fmt.Fprintln(&b, n)
	}
	fmt.Fprintf(&b, "tests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skips)
	s.w.Write(b.Bytes())
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
