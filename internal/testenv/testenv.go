// Package testenv is the one place where a test decides what to do when the
// machine lacks something the test needs (gcc, busybox, root, /dev/net/tun,
// the Go module proxy, an invariant TSC): a missing environment, never a
// misbehaving uk.
//
// A test that finds uk itself wrong — a probe of uk failing, a platform of
// uk refusing to start, a program failing to build — must fail, never skip;
// only a missing piece of the machine may skip, through Need. With
// UK_REQUIRE_ENV=1 (set by .ci/run, which installs everything) Need fails
// instead, naming what is missing, so that a machine missing a piece cannot
// turn the suite green by skipping what it cannot run.
package testenv

import (
	"os"
	"testing"
)

// RequireVar is the environment variable that turns every environment skip
// into a failure.
const RequireVar = "UK_REQUIRE_ENV"

// Required reports whether UK_REQUIRE_ENV asks for a complete environment
// (any value but "" and "0").
func Required() bool {
	v := os.Getenv(RequireVar)
	return v != "" && v != "0"
}

// SkipPrefix starts the message of every environment skip; scripts/testsummary
// groups skips by what follows it.
const SkipPrefix = "missing from this machine: "

// Need skips tb because the machine lacks what (a command, a device, a
// privilege), saying why the test needs it; under UK_REQUIRE_ENV=1 it fails
// tb instead. Call it only for a missing environment, never for something
// uk does.
func Need(tb testing.TB, what, reason string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s%s (%s); %s=1 makes a missing environment a failure", SkipPrefix, what, reason, RequireVar)
	}
	tb.Skipf("%s%s (%s)", SkipPrefix, what, reason)
}
