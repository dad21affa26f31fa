package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func init() { otherCPrograms = append(otherCPrograms, "holdfds") }

// TestHostFDTable checks how uk uses its own host fd table, whose every
// growth waits for an RCU grace period (4-16 ms) in a process with
// threads: a program that holds no files leaves every fd of uk below 48,
// so that a table of the smallest size (64, as a parent with few fds
// passes on) never grows; and a program that holds 250 host files, one
// host fd each in uk, makes the table grow once, ahead of need, to 4096
// entries (fdgrow.Target), where growing on demand would stop at 512
// after three or four grace periods.
func TestHostFDTable(t *testing.T) {
	prog := cProgram(t, "holdfds")
	dir := t.TempDir()
	var files []string
	for i := 0; i < 250; i++ {
		name := fmt.Sprintf("f%d", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, "/d/"+name)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		args := []string{"run", "--platform=" + platform, "--bind", dir + ":/d:ro", "--", prog}
		pid, finish := startHeld(t, ukBin, args, "held 0\n", nil)
		if top := highestFD(t, pid); top >= 48 {
			t.Errorf("uk holds fd %d with a program that holds none: want every fd below 48", top)
		}
		if rest, err := finish(); err != nil || rest != "" {
			t.Errorf("holdfds: %v %q", err, rest)
		}

		pid, finish = startHeld(t, ukBin, append(args, files...), fmt.Sprintf("held %d\n", len(files)), nil)
		// fdgrow.Target, or uk's fd limit if lower, as the kernel rounds
		// a table's size: up to a power of two.
		want := 1
		for want < min(4096, fdLimit(t, pid)) {
			want *= 2
		}
		size := 0
		for deadline := time.Now().Add(5 * time.Second); size != want && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			size = fdTableSize(t, pid)
		}
		if size != want {
			t.Errorf("uk's fd table has %d entries with %d host files held (highest fd %d): want %d, grown once ahead of need", size, len(files), highestFD(t, pid), want)
		}
		if rest, err := finish(); err != nil || rest != "" {
			t.Errorf("holdfds: %v %q", err, rest)
		}
	})
}

// highestFD is the highest fd process pid has open.
func highestFD(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	top := -1
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > top {
			top = n
		}
	}
	return top
}

// fdLimit is process pid's soft RLIMIT_NOFILE.
func fdLimit(t *testing.T, pid int) int {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &lim); err != nil {
		t.Fatal(err)
	}
	return int(min(lim.Cur, 1<<30))
}

// fdTableSize is the size of process pid's fd table (FDSize).
func fdTableSize(t *testing.T, pid int) int {
	t.Helper()
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(st["FDSize"])
	if err != nil {
		t.Fatalf("/proc/%d/status FDSize %q: %v", pid, st["FDSize"], err)
	}
	return n
}
