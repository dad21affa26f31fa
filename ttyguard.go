package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"uk/internal/hostfilter"
)

// The terminal guard. `uk boot` puts a host terminal into raw mode (the
// sandbox's line discipline does the cooking) and puts it back when it
// ends: on its normal exit paths itself (cmdBoot's deferred restore,
// which also runs when a host SIGTERM, SIGINT or SIGHUP, forwarded to
// init, ends the sandbox). A crash of uk runs none of that — a Go panic
// outside a syscall handler, a fatal runtime error, a seccomp SIGSYS, a
// SIGKILL — and would leave the user's shell in raw mode. So before raw
// mode, uk starts a guard: a second uk process (this binary, exec'd once
// at start with the hidden command ttyGuardCmd) that holds the terminal,
// receives the terminal's original settings over a pipe and waits on it.
// uk keeps the pipe's write end until it dies; a clean exit first tells
// the guard to stand down. EOF without that message means uk died: the
// guard restores the settings and exits. The guard ignores the signals a
// terminal or a user would send, takes no capabilities and runs under the
// same seccomp allowlist as uk (fewer entries: no platform, no host
// files).

// ttyGuardCmd is the hidden command that runs the guard.
const ttyGuardCmd = "__ttyguard"

// ttyGuard is uk's end of a running guard; nil when there is none.
type ttyGuard struct{ w int }

// termiosBytes encodes t for the pipe.
func termiosBytes(t *unix.Termios) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, t)
	return b.Bytes()
}

// startTTYGuard starts the guard for the terminal on fd, saving its
// current settings; it returns nil when fd is not a terminal (nothing to
// guard). Call it before changing the terminal.
func startTTYGuard(fd int) (*ttyGuard, error) {
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, nil
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("terminal guard: %w", err)
	}
	attr := &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{uintptr(fd), uintptr(2), uintptr(2), uintptr(p[0])},
	}
	_, err = syscall.ForkExec("/proc/self/exe", []string{"uk", ttyGuardCmd}, attr)
	unix.Close(p[0])
	if err != nil {
		unix.Close(p[1])
		return nil, fmt.Errorf("terminal guard: %w", err)
	}
	if _, err := unix.Write(p[1], termiosBytes(saved)); err != nil {
		unix.Close(p[1])
		return nil, fmt.Errorf("terminal guard: %w", err)
	}
	return &ttyGuard{w: p[1]}, nil
}

// disarm tells the guard that uk has put the terminal back itself and is
// exiting cleanly: restoring again after the user's shell has taken the
// terminal over would undo the shell's own settings.
func (g *ttyGuard) disarm() {
	if g != nil {
		unix.Write(g.w, []byte{'d'})
	}
}

// runTTYGuard is the guard process: fd 0 is the terminal, fd 3 the pipe
// from uk.
func runTTYGuard() int {
	signal.Ignore(unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGTSTP, unix.SIGTTIN,
		unix.SIGTTOU, unix.SIGPIPE, unix.SIGWINCH)
	const pipe = 3
	var saved unix.Termios
	want := len(termiosBytes(&saved))
	buf := make([]byte, want)
	for n := 0; n < want; {
		m, err := unix.Read(pipe, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return 0 // uk died before it changed anything
		}
		n += m
	}
	binary.Read(bytes.NewReader(buf), binary.LittleEndian, &saved)
	if err := hostfilter.Confine(hostfilter.Options{}, nil); err != nil {
		fmt.Fprintf(os.Stderr, "uk: terminal guard: %v\n", err)
		// Guard anyway: restoring the terminal is what it is for.
	}
	var b [1]byte
	for {
		n, err := unix.Read(pipe, b[:])
		if err == unix.EINTR {
			continue
		}
		if n == 1 {
			return 0 // disarmed: uk restored the terminal itself
		}
		break // EOF: uk is gone
	}
	for {
		err := unix.IoctlSetTermios(0, unix.TCSETS, &saved)
		if err != unix.EINTR {
			return 0
		}
	}
}
