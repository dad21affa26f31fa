package tty

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The expected echoes below were recorded from Linux 6.18 ptys with the
// same input (python: write to the master, read the master).

func TestCanonicalEditing(t *testing.T) {
	tests := []struct {
		name, in, echo string
		reads          []string // successive slave reads (size 100)
	}{
		{"line", "hello\n", "hello\r\n", []string{"hello\n"}},
		{"erase-tab-werase-kill", "ab\tc\x7f\x7f\x7fd\x17e\x15f\n",
			"ab\tc\b \b\b\b\b\b\b\b\b \bd\b \b\b \be\b \bf\r\n", []string{"f\n"}},
		{"eof", "abc\x04\x04", "abc", []string{"abc", ""}},
		{"werase", "foo bar  \x17\n", "foo bar  \b \b\b \b\b \b\b \b\b \b\r\n", []string{"foo \n"}},
		{"kill", "foo \x15x\n", "foo \b \b\b \b\b \b\b \bx\r\n", []string{"x\n"}},
		{"cr", "a\rb\n", "a\r\nb\r\n", []string{"a\n", "b\n"}},
		{"ctl-echo", "\x01\x7f\n", "^A\b \b\b \b\r\n", []string{"\n"}},
		{"erase-empty", "\x7f\x15x\n", "x\r\n", []string{"x\n"}},
		{"lnext", "\x16\x03\n", "^\b^C\r\n", []string{"\x03\n"}},
		{"reprint", "ab\x12\n", "ab^R\r\nab\r\n", []string{"ab\n"}},
		{"eof-mid-line", "ab\x04cd\n", "abcd\r\n", []string{"ab", "cd\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pp := newPair(t)
			pp.type_(t, tc.in)
			if got := pp.masterOut(t); got != tc.echo {
				t.Errorf("echo %q, want %q", got, tc.echo)
			}
			for _, want := range tc.reads {
				if got := pp.mustRead(t, 100); got != want {
					t.Errorf("read %q, want %q", got, want)
				}
			}
		})
	}
}

func TestCanonicalPartialReads(t *testing.T) {
	pp := newPair(t)
	pp.type_(t, "abcdef\nxy\n")
	for _, want := range []string{"abc", "def", "\n", "xy\n"} {
		if got := pp.mustRead(t, 3); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	var n [4]byte
	_ = n
	pp.type_(t, "12\n3")
	if _, err := pp.slave.Ioctl(pp.ctx, FIONREAD, 0x300); err != nil {
		t.Fatal(err)
	}
	if b := pp.ctx.Mem(0x300, 4); b[0] != 3 {
		t.Fatalf("FIONREAD = %v, want 3 (the complete line)", b)
	}
}

func TestLineLimit(t *testing.T) {
	pp := newPair(t)
	pp.setTermios(t, func(tio *Termios) { tio.Lflag &^= unix.ECHO })
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'a'
	}
	pp.type_(t, string(long)+"\n")
	got := pp.mustRead(t, 8192)
	if len(got) != maxLine+1 || got[len(got)-1] != '\n' {
		t.Fatalf("line of %d bytes (last %q), want %d ending in newline", len(got), got[len(got)-1], maxLine+1)
	}
}

func TestNoncanonical(t *testing.T) {
	pp := newPair(t)
	pp.setTermios(t, func(tio *Termios) { tio.Lflag &^= unix.ICANON })
	pp.type_(t, "a\nb\x01\t\x7f")
	if got := pp.masterOut(t); got != "a^Jb^A\t^?" {
		t.Errorf("echo %q", got)
	}
	if got := pp.mustRead(t, 100); got != "a\nb\x01\t\x7f" {
		t.Errorf("read %q", got)
	}
	// Raw data becomes one line when canonical mode comes back.
	pp.type_(t, "xy")
	pp.setTermios(t, func(tio *Termios) { tio.Lflag |= unix.ICANON })
	pp.type_(t, "z\n")
	if got := pp.mustRead(t, 100); got != "xy" {
		t.Errorf("pushed line %q", got)
	}
	if got := pp.mustRead(t, 100); got != "z\n" {
		t.Errorf("next line %q", got)
	}
}

func TestRawMode(t *testing.T) {
	pp := newPair(t)
	pp.setTermios(t, func(tio *Termios) {
		tio.Iflag &^= unix.ICRNL | unix.IXON
		tio.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
		tio.Oflag &^= unix.OPOST
	})
	in := "\x03\x04\r\x1a\x13\x7f"
	pp.type_(t, in)
	if got := pp.mustRead(t, 100); got != in {
		t.Errorf("raw read %q", got)
	}
	if s := pp.jc.takeSent(); len(s) != 0 {
		t.Errorf("signals in raw mode: %v", s)
	}
	pp.slave.Write(pp.ctx, []byte("a\nb"))
	if got := pp.masterOut(t); got != "a\nb" {
		t.Errorf("output without OPOST %q", got)
	}
}

func TestInputTranslation(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Termios)
		in   string
		want string
	}{
		{"icrnl", func(*Termios) {}, "a\r", "a\n"},
		{"igncr", func(tio *Termios) { tio.Iflag |= unix.IGNCR }, "a\r\n", "a\n"},
		{"inlcr", func(tio *Termios) { tio.Iflag = tio.Iflag&^unix.ICRNL | unix.INLCR; tio.Lflag &^= unix.ICANON }, "a\n", "a\r"},
		{"istrip", func(tio *Termios) { tio.Iflag |= unix.ISTRIP }, "\xe1\n", "a\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pp := newPair(t)
			pp.setTermios(t, tc.set)
			pp.type_(t, tc.in)
			if got := pp.mustRead(t, 100); got != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOutputProcessing(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Termios)
		in   string
		want string
	}{
		{"onlcr", func(*Termios) {}, "a\nb\n", "a\r\nb\r\n"},
		{"no-onlcr", func(tio *Termios) { tio.Oflag &^= unix.ONLCR }, "a\nb", "a\nb"},
		{"ocrnl", func(tio *Termios) { tio.Oflag |= unix.OCRNL }, "a\r", "a\n"},
		{"onocr", func(tio *Termios) { tio.Oflag |= unix.ONOCR }, "\ra\r", "a\r"},
		{"xtabs", func(tio *Termios) { tio.Oflag |= unix.TABDLY }, "ab\tc", "ab      c"},
		{"olcuc", func(tio *Termios) { tio.Oflag |= unix.OLCUC }, "ab1", "AB1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pp := newPair(t)
			pp.setTermios(t, tc.set)
			if n, err := pp.slave.Write(pp.ctx, []byte(tc.in)); n != len(tc.in) || err != nil {
				t.Fatalf("write: %d %v", n, err)
			}
			if got := pp.masterOut(t); got != tc.want {
				t.Errorf("output %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEchoFlags(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Termios)
		in   string
		echo string
	}{
		{"noecho", func(tio *Termios) { tio.Lflag &^= unix.ECHO }, "ab\n", ""},
		{"echonl", func(tio *Termios) { tio.Lflag = tio.Lflag&^unix.ECHO | unix.ECHONL }, "ab\n", "\r\n"},
		{"noechoctl", func(tio *Termios) { tio.Lflag &^= unix.ECHOCTL }, "\x01\n", "\x01\r\n"},
		{"noechoe", func(tio *Termios) { tio.Lflag &^= unix.ECHOE }, "ab\x7f\n", "ab^?\r\n"},
		{"echok", func(tio *Termios) { tio.Lflag &^= unix.ECHOKE }, "ab\x15\n", "ab^U\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pp := newPair(t)
			pp.setTermios(t, tc.set)
			pp.type_(t, tc.in)
			if got := pp.masterOut(t); got != tc.echo {
				t.Errorf("echo %q, want %q", got, tc.echo)
			}
		})
	}
}

func TestVMinVTime(t *testing.T) {
	pp := newPair(t)
	set := func(vmin, vtime uint8) {
		pp.setTermios(t, func(tio *Termios) {
			tio.Lflag &^= unix.ICANON | unix.ECHO
			tio.CC[VMIN], tio.CC[VTIME] = vmin, vtime
		})
	}
	// MIN 0, TIME 0: poll.
	set(0, 0)
	if got, err := pp.read(t, 10); got != "" || err != nil {
		t.Fatalf("MIN=0 TIME=0 empty: %q %v", got, err)
	}
	// MIN 0, TIME 1: 0 after ~100 ms.
	set(0, 1)
	start := time.Now()
	if got, err := pp.read(t, 10); got != "" || err != nil {
		t.Fatalf("MIN=0 TIME=1: %q %v", got, err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
		t.Fatalf("MIN=0 TIME=1 returned after %v", d)
	}
	// MIN 3, TIME 0: waits for 3 bytes.
	set(3, 0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		pp.type_(t, "a")
		time.Sleep(20 * time.Millisecond)
		pp.type_(t, "bc")
	}()
	if got := pp.mustRead(t, 10); got != "abc" {
		t.Fatalf("MIN=3: %q", got)
	}
	// MIN smaller than the request but more data: all of it.
	pp.type_(t, "12345")
	if got := pp.mustRead(t, 10); got != "12345" {
		t.Fatalf("MIN=3 with 5 ready: %q", got)
	}
	// A request smaller than MIN returns when it is full.
	pp.type_(t, "xy")
	if got := pp.mustRead(t, 2); got != "xy" {
		t.Fatalf("MIN=3 read of 2: %q", got)
	}
	// MIN 5, TIME 1: inter-byte timer after the first byte.
	set(5, 1)
	pp.type_(t, "q")
	start = time.Now()
	if got := pp.mustRead(t, 10); got != "q" {
		t.Fatalf("MIN=5 TIME=1: %q", got)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("inter-byte timer fired after %v", d)
	}
	// O_NONBLOCK with MIN > 0 and nothing typed: EAGAIN.
	pp.slave.SetStatusFlags(unix.O_NONBLOCK)
	if _, err := pp.read(t, 10); err != unix.EAGAIN {
		t.Fatalf("nonblocking empty read: %v", err)
	}
}

func TestBlockingReadInterrupted(t *testing.T) {
	pp := newPair(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(pp.ctx.Interrupt)
	}()
	if _, err := pp.read(t, 10); err != unix.EINTR {
		t.Fatalf("interrupted read: %v", err)
	}
}

func TestCanonicalNonblocking(t *testing.T) {
	pp := newPair(t)
	pp.slave.SetStatusFlags(unix.O_NONBLOCK)
	pp.type_(t, "partial")
	if _, err := pp.read(t, 10); err != unix.EAGAIN {
		t.Fatalf("read of an unfinished line: %v", err)
	}
	pp.type_(t, "\n")
	if got, err := pp.read(t, 100); got != "partial\n" || err != nil {
		t.Fatalf("read %q %v", got, err)
	}
}

func TestFlowControl(t *testing.T) {
	pp := newPair(t)
	pp.type_(t, "\x13") // ^S
	pp.slave.SetStatusFlags(unix.O_NONBLOCK)
	if _, err := pp.slave.Write(pp.ctx, []byte("x")); err != unix.EAGAIN {
		t.Fatalf("write while stopped: %v", err)
	}
	pp.type_(t, "\x11") // ^Q
	if n, err := pp.slave.Write(pp.ctx, []byte("x")); n != 1 || err != nil {
		t.Fatalf("write after ^Q: %d %v", n, err)
	}
	if got := pp.masterOut(t); got != "x" {
		t.Fatalf("output %q", got)
	}
	pp.type_(t, "a\n")
	if got := pp.mustRead(t, 10); got != "a\n" {
		t.Fatalf("^S/^Q must not be input: %q", got)
	}
}

func TestUTF8Erase(t *testing.T) {
	pp := newPair(t)
	pp.setTermios(t, func(tio *Termios) { tio.Iflag |= iutf8 })
	pp.type_(t, "aé\x7f\n")
	if got := pp.masterOut(t); got != "aé\b \b\r\n" {
		t.Errorf("echo %q", got)
	}
	if got := pp.mustRead(t, 10); got != "a\n" {
		t.Errorf("read %q", got)
	}
}
