package e2e

// The host terminal (testdata/c/tty.c): a program's terminal settings and
// window size never reach the host's terminal, and `uk boot`, which puts
// it into raw mode, puts it back however uk ends.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"
)

func init() { otherCPrograms = append(otherCPrograms, "tty") }

// hostPTY is a pseudo-terminal standing for the user's terminal.
type hostPTY struct {
	master, slave *os.File
}

// newHostPTY opens a pseudo-terminal (boot_test.go's openPTY) in a known
// state: cooked, 24x80.
func newHostPTY(t *testing.T) *hostPTY {
	t.Helper()
	m, s, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	p := &hostPTY{master: m, slave: s}
	t.Cleanup(func() { m.Close(); s.Close() })
	// A known state: cooked, 24x80.
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag |= unix.ICANON | unix.ECHO | unix.ISIG
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatal(err)
	}
	return p
}

// state is the terminal's settings and window size, comparable.
func (p *hostPTY) state(t *testing.T) string {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	w, err := unix.IoctlGetWinsize(int(p.slave.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("iflag %#x oflag %#x cflag %#x lflag %#x cc %v, %dx%d",
		tio.Iflag, tio.Oflag, tio.Cflag, tio.Lflag, tio.Cc, w.Row, w.Col)
}

// raw reports whether the terminal is in raw mode now.
func (p *hostPTY) raw(t *testing.T) bool {
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&(unix.ICANON|unix.ECHO) == 0
}

// start runs uk with argv on the terminal and returns once the program
// printed "set".
func (p *hostPTY) start(t *testing.T, env []string, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(ukBin, argv...)
	cmd.Env = append(ukTestEnv(), env...)
	cmd.Stdin, cmd.Stdout = p.slave, p.slave
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	got := make(chan string, 1)
	go func() {
		var out []byte
		buf := make([]byte, 256)
		for !bytes.Contains(out, []byte("set")) && !bytes.Contains(out, []byte("FAIL")) {
			n, err := p.master.Read(buf)
			if err != nil {
				break
			}
			out = append(out, buf[:n]...)
		}
		got <- string(out)
	}()
	select {
	case out := <-got:
		if !strings.Contains(out, "set") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("uk %q printed %q\nstderr:\n%s", argv, out, stderr.String())
		}
	case <-time.After(*runTimeout):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("uk %q: no \"set\" within %v\nstderr:\n%s", argv, *runTimeout, stderr.String())
	}
	return cmd
}

// waitRestored waits (briefly: the guard may restore a moment after uk
// died) for the terminal to be back to want.
func (p *hostPTY) waitRestored(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for p.state(t) != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.state(t); got != want {
		t.Errorf("host terminal after uk ended:\n  got  %s\n  want %s", got, want)
	}
}

// TestHostTerminalRun: under `uk run`, a program's tcsetattr and
// TIOCSWINSZ on its stdio stay inside the sandbox, during the run and
// after it, whether uk exits or is killed.
func TestHostTerminalRun(t *testing.T) {
	prog := cProgram(t, "tty")
	forEachPlatform(t, func(t *testing.T, platform string) {
		for _, end := range []string{"exit", "SIGKILL"} {
			t.Run(end, func(t *testing.T) {
				p := newHostPTY(t)
				before := p.state(t)
				cmd := p.start(t, nil, "run", "--platform="+platform, "--", prog, "set")
				if got := p.state(t); got != before {
					t.Errorf("host terminal while the program runs:\n  got  %s\n  want %s", got, before)
				}
				if end == "exit" {
					p.master.Write([]byte("x\n"))
				} else {
					cmd.Process.Signal(syscall.SIGKILL)
				}
				cmd.Wait()
				p.waitRestored(t, before)
			})
		}
	})
}

// TestHostTerminalBoot: `uk boot` puts the host terminal into raw mode and
// back, on a clean end (init exits on the forwarded SIGTERM, SIGINT or
// SIGHUP) and when uk is killed (the guard restores it).
func TestHostTerminalBoot(t *testing.T) {
	prog := cProgram(t, "tty")
	init, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	w := cpio.Newc.Writer(&img)
	if err := cpio.WriteRecords(w, []cpio.Record{cpio.StaticFile("init", string(init), 0o755)}); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(t.TempDir(), "tty.cpio")
	if err := os.WriteFile(image, img.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGKILL} {
			t.Run(unix.SignalName(sig), func(t *testing.T) {
				p := newHostPTY(t)
				before := p.state(t)
				cmd := p.start(t, nil, "boot", "--platform="+platform, image)
				if !p.raw(t) {
					t.Errorf("uk boot left the host terminal cooked: %s", p.state(t))
				}
				cmd.Process.Signal(sig)
				err := cmd.Wait()
				if sig != syscall.SIGKILL && err != nil {
					t.Errorf("uk boot after %v: %v (want a clean exit: init ends on it)", sig, err)
				}
				p.waitRestored(t, before)
			})
		}
		// A kernel bug: uk panics in init's getppid and exits 70 without
		// running its deferred restore; the guard puts the terminal back.
		t.Run("panic", func(t *testing.T) {
			p := newHostPTY(t)
			before := p.state(t)
			cmd := p.start(t, []string{"UK_TEST_PANIC=getppid"}, "boot", "--platform="+platform, image)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 70 {
				t.Errorf("uk boot with a panicking getppid: %v, want exit status 70", err)
			}
			p.waitRestored(t, before)
		})
	})
}
