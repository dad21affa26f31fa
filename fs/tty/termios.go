package tty

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// TermiosSize is the size of the kernel's struct termios on x86-64: what
// TCGETS and TCSETS copy (glibc's user-space struct is larger).
const TermiosSize = 36

// termios2Size is struct termios2 (termios plus c_ispeed, c_ospeed):
// TCGETS2/TCSETS2, which newer glibc uses for tcsetattr.
const termios2Size = 44

// NCCS is the number of control characters in the kernel's termios.
const NCCS = 19

// Termios is the kernel's struct termios: the modes of a terminal.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	CC                         [NCCS]uint8
}

// Control character indexes in Termios.CC (Linux x86-64 values).
const (
	VINTR    = 0
	VQUIT    = 1
	VERASE   = 2
	VKILL    = 3
	VEOF     = 4
	VTIME    = 5
	VMIN     = 6
	VSWTC    = 7
	VSTART   = 8
	VSTOP    = 9
	VSUSP    = 10
	VEOL     = 11
	VREPRINT = 12
	VDISCARD = 13
	VWERASE  = 14
	VLNEXT   = 15
	VEOL2    = 16
)

// Flag bits x/sys/unix spells differently or not at all.
const (
	xtabs = unix.TABDLY // TAB3: expand tabs to spaces on output
	iutf8 = 0x4000      // IUTF8: erase whole UTF-8 characters
)

// DefaultTermios is Linux's tty_std_termios: cooked mode with echo and
// signals, CR→NL on input, NL→CRNL on output, 38400 baud 8N1.
func DefaultTermios() Termios {
	t := Termios{
		Iflag: unix.ICRNL | unix.IXON,
		Oflag: unix.OPOST | unix.ONLCR,
		Cflag: unix.B38400 | unix.CS8 | unix.CREAD | unix.HUPCL,
		Lflag: unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK |
			unix.ECHOCTL | unix.ECHOKE | unix.IEXTEN,
	}
	// ^C ^\ ^? ^U ^D, TIME 0, MIN 1, SWTC 0, ^Q ^S ^Z, EOL 0, ^R ^O ^W ^V.
	copy(t.CC[:], "\003\034\177\025\004\000\001\000\021\023\032\000\022\017\027\026\000")
	return t
}

// Marshal encodes t as the kernel's struct termios.
func (t *Termios) Marshal() [TermiosSize]byte {
	var b [TermiosSize]byte
	binary.LittleEndian.PutUint32(b[0:], t.Iflag)
	binary.LittleEndian.PutUint32(b[4:], t.Oflag)
	binary.LittleEndian.PutUint32(b[8:], t.Cflag)
	binary.LittleEndian.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:], t.CC[:])
	return b
}

// UnmarshalTermios decodes the kernel's struct termios (b must hold at
// least TermiosSize bytes).
func UnmarshalTermios(b []byte) Termios {
	var t Termios
	t.Iflag = binary.LittleEndian.Uint32(b[0:])
	t.Oflag = binary.LittleEndian.Uint32(b[4:])
	t.Cflag = binary.LittleEndian.Uint32(b[8:])
	t.Lflag = binary.LittleEndian.Uint32(b[12:])
	t.Line = b[16]
	copy(t.CC[:], b[17:TermiosSize])
	return t
}

// FromUnix converts the host's termios (x/sys/unix layout, which has the
// same first fields).
func FromUnix(u *unix.Termios) Termios {
	t := Termios{Iflag: u.Iflag, Oflag: u.Oflag, Cflag: u.Cflag, Lflag: u.Lflag, Line: u.Line}
	copy(t.CC[:], u.Cc[:])
	return t
}

// Winsize is struct winsize (TIOCGWINSZ/TIOCSWINSZ).
type Winsize struct {
	Row, Col, Xpixel, Ypixel uint16
}

func (w Winsize) marshal() [8]byte {
	var b [8]byte
	binary.LittleEndian.PutUint16(b[0:], w.Row)
	binary.LittleEndian.PutUint16(b[2:], w.Col)
	binary.LittleEndian.PutUint16(b[4:], w.Xpixel)
	binary.LittleEndian.PutUint16(b[6:], w.Ypixel)
	return b
}

func unmarshalWinsize(b []byte) Winsize {
	return Winsize{
		Row: binary.LittleEndian.Uint16(b[0:]), Col: binary.LittleEndian.Uint16(b[2:]),
		Xpixel: binary.LittleEndian.Uint16(b[4:]), Ypixel: binary.LittleEndian.Uint16(b[6:]),
	}
}

// Terminal ioctl numbers (x86-64).
const (
	TCGETS      = 0x5401
	TCSETS      = 0x5402
	TCSETSW     = 0x5403
	TCSETSF     = 0x5404
	TCSBRK      = 0x5409
	TCXONC      = 0x540a
	TCFLSH      = 0x540b
	TIOCEXCL    = 0x540c
	TIOCNXCL    = 0x540d
	TIOCSCTTY   = 0x540e
	TIOCGPGRP   = 0x540f
	TIOCSPGRP   = 0x5410
	TIOCOUTQ    = 0x5411
	TIOCSTI     = 0x5412
	TIOCGWINSZ  = 0x5413
	TIOCSWINSZ  = 0x5414
	FIONREAD    = 0x541b // TIOCINQ
	TIOCNOTTY   = 0x5422
	TIOCSETD    = 0x5423
	TIOCGETD    = 0x5424
	TCSBRKP     = 0x5425
	TIOCSBRK    = 0x5427
	TIOCCBRK    = 0x5428
	TIOCGSID    = 0x5429
	TCGETS2     = 0x802c542a
	TCSETS2     = 0x402c542b
	TCSETSW2    = 0x402c542c
	TCSETSF2    = 0x402c542d
	TIOCGPTN    = 0x80045430
	TIOCSPTLCK  = 0x40045431
	TIOCGDEV    = 0x80045432
	TIOCVHANGUP = 0x5437
	TIOCGPKT    = 0x80045438
	TIOCGPTLCK  = 0x80045439
	TIOCGEXCL   = 0x80045440
	TIOCGPTPEER = 0x5441
	TIOCPKT     = 0x5420
)
