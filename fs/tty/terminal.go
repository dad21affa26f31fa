package tty

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Sizes of a terminal's buffers, as Linux's n_tty.
const (
	// bufCap is N_TTY_BUF_SIZE: the line discipline's read buffer.
	bufCap = 4096
	// maxLine is the longest canonical line (the terminator needs one more
	// byte).
	maxLine = bufCap - 1
	// inqCap bounds input received but not yet processed (Linux's tty flip
	// buffers): a writer on the master, or the console's host reader,
	// waits when it is full.
	inqCap = 64 << 10
)

// port is the driver side of a Terminal: where its output goes and who is
// told when its files open and close.
type port interface {
	// room is how many output bytes the port takes now without blocking;
	// negative means unbounded (the host console's writes block in the
	// host instead).
	room() int
	// write delivers processed output. Called with the terminal's output
	// lock held (so output stays in order) but not its state lock.
	write(b []byte) error
	// flushOutput discards output the other side has not consumed yet.
	flushOutput()
	// open and release count the terminal's open files (a pty master
	// sees EIO once the last slave file is closed); open may refuse.
	open() error
	release()
}

// Terminal is one tty: the console, or the slave side of a pseudo-terminal.
// It holds the termios, window size, the line discipline's buffers, and
// the tty side of job control (the session it controls and that session's
// foreground process group; 0 when none).
type Terminal struct {
	name string // "console", "pts/3"
	rdev uint64
	port port
	pty  *pty // nil for the console
	devs atomic.Pointer[Devices]

	// jobMu serializes changes of the controlling session (TIOCSCTTY,
	// TIOCNOTTY, hangup) including the JobControl calls they make.
	jobMu sync.Mutex
	// outMu keeps port writes in the order output was produced.
	outMu sync.Mutex

	mu      sync.Mutex
	termios Termios
	winsize Winsize
	inq     []byte // received, not yet processed (waits for room in buf)
	eofIn   bool   // input ends after inq (host EOF)
	buf     []byte // the line discipline's buffer: [0, commit) readable
	commit  int
	ends    []int // canonical mode: ascending offsets in buf where lines end
	lnext   bool  // the previous character was VLNEXT
	col     int   // output column (tabs, erase)
	canonC  int   // column where the line being edited started
	eof     bool  // input ended for good: reads return 0 once buf is empty
	stopped bool  // output stopped (IXON ^S, or TCOOFF when tcoStop)
	tcoStop bool
	gen     uint64 // hangup generation; files opened before a hangup are dead
	sid     int32
	pgrp    int32
	out     []byte // processed output not yet written to the port

	// Work found while holding mu, done by unlock after releasing it.
	sigs   []groupSignal
	notify vfs.EventMask
	room   bool // input buffer space was freed

	rq    vfs.Queue // readiness of the terminal's files
	roomQ vfs.Queue // writers of input waiting for room (EventOut)
}

type groupSignal struct {
	pgrp int32
	sig  unix.Signal
}

func newTerminal(name string, rdev uint64, p port) *Terminal {
	return &Terminal{name: name, rdev: rdev, port: p, termios: DefaultTermios(),
		winsize: Winsize{Row: 24, Col: 80}}
}

// Name is the terminal's name under /dev ("console", "pts/3").
func (t *Terminal) Name() string { return t.name }

// Rdev is the terminal's device number (unix.Mkdev layout): /proc's tty_nr.
func (t *Terminal) Rdev() uint64 { return t.rdev }

// Termios returns the current termios.
func (t *Terminal) Termios() Termios {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.termios
}

// SetTermios changes the termios as TCSETS does (the kernel may use it to
// start the console in another mode).
func (t *Terminal) SetTermios(tio Termios) {
	t.mu.Lock()
	t.setTermiosLocked(tio, false)
	t.unlock()
}

// Winsize returns the window size.
func (t *Terminal) Winsize() Winsize {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.winsize
}

// SetWinsize changes the window size as TIOCSWINSZ does: the foreground
// group gets SIGWINCH if it changed.
func (t *Terminal) SetWinsize(w Winsize) {
	t.mu.Lock()
	if w != t.winsize {
		t.winsize = w
		if t.pgrp != 0 {
			t.sigs = append(t.sigs, groupSignal{t.pgrp, unix.SIGWINCH})
		}
	}
	t.unlock()
}

// Session returns the session the terminal controls (0: none).
func (t *Terminal) Session() int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid
}

// ForegroundGroup returns the foreground process group (0: none): /proc's
// tpgid.
func (t *Terminal) ForegroundGroup() int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pgrp
}

func (t *Terminal) jobControl() JobControl {
	if d := t.devs.Load(); d != nil {
		return d.jobControl()
	}
	return nil
}

// unlock releases mu and then does what the locked code queued: wake
// waiters, send signals, write output.
func (t *Terminal) unlock() {
	sigs, notify, room := t.sigs, t.notify, t.room
	t.sigs, t.notify, t.room = nil, 0, false
	hasOut := len(t.out) > 0 && !t.stopped
	t.mu.Unlock()
	if hasOut {
		_ = t.drain()
	}
	if notify != 0 {
		t.rq.Notify(notify)
	}
	if room {
		t.roomQ.Notify(vfs.EventOut | vfs.EventWrNorm)
	}
	if len(sigs) > 0 {
		if jc := t.jobControl(); jc != nil {
			for _, s := range sigs {
				jc.SignalGroup(s.pgrp, s.sig)
			}
		}
	}
}

// drain writes pending output to the port, in order.
func (t *Terminal) drain() error {
	t.outMu.Lock()
	defer t.outMu.Unlock()
	var err error
	for {
		t.mu.Lock()
		if t.stopped || len(t.out) == 0 {
			t.mu.Unlock()
			return err
		}
		b := t.out
		t.out = nil
		t.mu.Unlock()
		if e := t.port.write(b); e != nil {
			err = e
		}
	}
}

// input queues bytes that arrived from the driver (host input, master
// writes) and runs them through the line discipline. It returns how many
// it took: fewer than len(data) when the input queue is full.
func (t *Terminal) input(data []byte) int {
	t.mu.Lock()
	n := min(len(data), inqCap-len(t.inq))
	if t.eofIn {
		n = 0
	}
	t.inq = append(t.inq, data[:n]...)
	t.processLocked()
	t.unlock()
	return n
}

// inputRoom reports whether input would take at least one byte now.
func (t *Terminal) inputRoom() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inq) < inqCap && !t.eofIn
}

// endInput marks the end of the driver's input (host EOF): after what is
// queued, readers get end of file.
func (t *Terminal) endInput() {
	t.mu.Lock()
	t.eofIn = true
	t.processLocked()
	t.unlock()
}

// processLocked feeds queued input to the line discipline while it has
// room.
func (t *Terminal) processLocked() {
	i := 0
	for i < len(t.inq) && t.receiveLocked(t.inq[i]) {
		i++
	}
	if i > 0 {
		t.inq = append(t.inq[:0], t.inq[i:]...)
		t.room = true
	}
	if len(t.inq) == 0 && t.eofIn && !t.eof {
		// Like ^D, the end of input first pushes a partial line.
		if t.canonical() && len(t.buf) > t.commit {
			t.commitLocked()
		}
		t.eof = true
		t.notify |= vfs.EventIn | vfs.EventRdNorm
	}
}

func (t *Terminal) canonical() bool { return t.termios.Lflag&unix.ICANON != 0 }

// commitLocked ends the line being edited at the end of buf.
func (t *Terminal) commitLocked() {
	t.commit = len(t.buf)
	t.ends = append(t.ends, len(t.buf))
	t.notify |= vfs.EventIn | vfs.EventRdNorm
}

// consumeLocked removes n read bytes from the front of buf.
func (t *Terminal) consumeLocked(n int) {
	if n == 0 {
		return
	}
	t.buf = append(t.buf[:0], t.buf[n:]...)
	t.commit -= n
	for i := range t.ends {
		t.ends[i] -= n
	}
	t.notify |= vfs.EventOut | vfs.EventWrNorm
}

// flushInputLocked discards the line discipline's buffer (not inq).
func (t *Terminal) flushInputLocked() {
	t.buf, t.commit, t.ends, t.lnext = t.buf[:0], 0, nil, false
	t.room = true
}

// flushOutputLocked discards output not yet delivered.
func (t *Terminal) flushOutputLocked() {
	t.out = t.out[:0]
	t.port.flushOutput()
}

// readable reports whether a read would return now (poll's view: in
// noncanonical mode with VTIME 0 it waits for VMIN bytes).
func (t *Terminal) readableLocked() bool {
	if t.eof {
		return true
	}
	if t.canonical() {
		return len(t.ends) > 0
	}
	amt := 1
	if t.termios.CC[VTIME] == 0 && t.termios.CC[VMIN] > 1 {
		amt = int(t.termios.CC[VMIN])
	}
	return len(t.buf) >= amt
}

// setTermiosLocked installs new settings (TCSETS*), converting the
// buffer between canonical and raw reading as Linux does.
func (t *Terminal) setTermiosLocked(n Termios, flush bool) {
	if flush {
		t.flushInputLocked()
		t.inq = t.inq[:0]
	}
	old := t.termios
	t.termios = n
	if (old.Lflag^n.Lflag)&unix.ICANON != 0 {
		t.lnext = false
		t.ends = nil
		t.commit = len(t.buf)
		if n.Lflag&unix.ICANON != 0 && len(t.buf) > 0 {
			// Data typed in raw mode becomes one line.
			t.ends = append(t.ends, len(t.buf))
		}
	}
	if n.Iflag&unix.IXON == 0 && old.Iflag&unix.IXON != 0 && !t.tcoStop {
		t.stopped = false
	}
	t.processLocked()
	t.notify |= vfs.EventIn | vfs.EventRdNorm | vfs.EventOut | vfs.EventWrNorm
}

// startLocked restarts stopped output.
func (t *Terminal) startLocked() {
	if t.stopped {
		t.stopped = false
		t.notify |= vfs.EventOut | vfs.EventWrNorm
	}
}

// hangup is tty_vhangup: every file of the terminal opened before now
// (except through /dev/console) goes dead: reads return 0, writes and
// ioctls EIO. The controlling session loses the terminal and its leader
// gets SIGHUP and SIGCONT; with exitSession (the leader is exiting) the
// foreground group gets SIGHUP too, otherwise it gets SIGHUP and SIGCONT
// when the leader later exits (Devices.LeaderExited).
func (t *Terminal) hangup(exitSession bool) {
	t.jobMu.Lock()
	defer t.jobMu.Unlock()
	t.mu.Lock()
	t.gen++
	sid, pg := t.sid, t.pgrp
	t.sid, t.pgrp = 0, 0
	t.flushInputLocked()
	t.inq = t.inq[:0]
	t.stopped, t.tcoStop = false, false
	t.notify |= vfs.EventIn | vfs.EventOut | vfs.EventErr | vfs.EventHUp | vfs.EventRdNorm | vfs.EventWrNorm
	t.unlock()
	t.roomQ.Notify(vfs.EventOut | vfs.EventHUp)
	jc := t.jobControl()
	if sid == 0 || jc == nil {
		return
	}
	jc.ClearControllingTerminal(sid, t)
	jc.SignalProcess(sid, unix.SIGHUP)
	jc.SignalProcess(sid, unix.SIGCONT)
	if pg != 0 {
		if exitSession {
			jc.SignalGroup(pg, unix.SIGHUP)
		} else if d := t.devs.Load(); d != nil {
			d.rememberHungUp(sid, pg)
		}
	}
}

// leaderExited is disassociate_ctty(1) for the session sid that t
// controls: the console is hung up; a pty's foreground group gets SIGHUP.
func (t *Terminal) leaderExited(sid int32) bool {
	t.mu.Lock()
	mine := t.sid == sid && sid != 0
	t.mu.Unlock()
	if !mine {
		return false
	}
	if t.pty == nil {
		t.hangup(true)
		return true
	}
	t.jobMu.Lock()
	defer t.jobMu.Unlock()
	t.mu.Lock()
	pg := t.pgrp
	if t.sid == sid {
		t.sid, t.pgrp = 0, 0
	}
	t.mu.Unlock()
	if jc := t.jobControl(); jc != nil {
		if pg != 0 {
			jc.SignalGroup(pg, unix.SIGHUP)
		}
		jc.ClearControllingTerminal(sid, t)
	}
	return true
}

// VHangup is vhangup(2) of the caller's controlling terminal t: the same
// hangup as TIOCVHANGUP.
func (t *Terminal) VHangup() { t.hangup(false) }
