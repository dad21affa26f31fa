package platformtest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// CheckReleaseThen checks an address space's ReleaseThen (release), whose
// stub process is pid: it calls back only once the stub is gone (reaped:
// no /proc entry), and a second release of the same space calls back too.
func CheckReleaseThen(t *testing.T, release func(done func()), pid int) {
	t.Helper()
	done := make(chan error, 1)
	release(func() {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			done <- fmt.Errorf("stub %d still exists when ReleaseThen calls back", pid)
			return
		}
		done <- nil
	})
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReleaseThen never called back")
	}
	again := make(chan struct{})
	release(func() { close(again) })
	select {
	case <-again:
	case <-time.After(5 * time.Second):
		t.Fatal("a second ReleaseThen never called back")
	}
}
