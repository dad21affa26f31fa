package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShellScripts runs the busybox sh scripts in testdata/sh natively and
// under uk and requires the same stdout and exit status: pipelines,
// command substitution, subshells, background jobs and wait, traps, kill,
// redirections (processes, pipes, signals and files working together).
func TestShellScripts(t *testing.T) {
	needBusybox(t)
	scripts, err := filepath.Glob(filepath.Join("testdata", "sh", "*.sh"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in testdata/sh: %v", err)
	}
	for _, path := range scripts {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".sh")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := runSpec{Args: []string{"sh", "-c", string(body)}}
			native := runNativeSpec(t, busybox, spec)
			forEachPlatform(t, func(t *testing.T, platform string) {
				sameAsNative(t, native, runUKSpec(t, platform, busybox, spec))
			})
		})
	}
}
