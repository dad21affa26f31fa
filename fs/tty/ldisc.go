package tty

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// The line discipline: Linux's n_tty input processing (receiveLocked),
// echo and erase (echo*, eraseLocked) and output processing (opost).

func iscntrl(c byte) bool { return c < 0x20 || c == 0x7f }

func isalnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isCont reports a UTF-8 continuation byte when IUTF8 is set: it takes no
// column and is erased with the character it belongs to.
func (t *Terminal) isCont(c byte) bool {
	return t.termios.Iflag&iutf8 != 0 && c&0xc0 == 0x80
}

// cc returns control character i, or -1 when disabled (_POSIX_VDISABLE
// is 0 on Linux).
func (t *Terminal) cc(i int) int {
	if c := t.termios.CC[i]; c != 0 {
		return int(c)
	}
	return -1
}

// receiveLocked processes one input character. It returns false, taking
// nothing, when the buffer has no room for it.
func (t *Terminal) receiveLocked(c byte) bool {
	tio := &t.termios
	if tio.Iflag&unix.ISTRIP != 0 {
		c &= 0x7f
	}
	if tio.Iflag&unix.IUCLC != 0 && tio.Lflag&unix.IEXTEN != 0 && c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	ic := int(c)
	if t.lnext {
		if !t.hasRoomLocked(false) {
			return false
		}
		t.lnext = false
		t.putLocked(c)
		return true
	}
	if tio.Iflag&unix.IXON != 0 {
		switch ic {
		case t.cc(VSTART):
			t.startLocked()
			return true
		case t.cc(VSTOP):
			t.stopped = true
			return true
		}
	}
	if tio.Lflag&unix.ISIG != 0 {
		switch ic {
		case t.cc(VINTR):
			t.isigLocked(unix.SIGINT, c)
			return true
		case t.cc(VQUIT):
			t.isigLocked(unix.SIGQUIT, c)
			return true
		case t.cc(VSUSP):
			t.isigLocked(unix.SIGTSTP, c)
			return true
		}
	}
	if t.stopped && !t.tcoStop && tio.Iflag&unix.IXON != 0 && tio.Iflag&unix.IXANY != 0 {
		t.startLocked()
	}
	if c == '\r' {
		if tio.Iflag&unix.IGNCR != 0 {
			return true
		}
		if tio.Iflag&unix.ICRNL != 0 {
			c = '\n'
		}
	} else if c == '\n' && tio.Iflag&unix.INLCR != 0 {
		c = '\r'
	}
	ic = int(c)
	if !t.canonical() {
		if !t.hasRoomLocked(false) {
			return false
		}
		t.putLocked(c)
		return true
	}
	iext := tio.Lflag&unix.IEXTEN != 0
	echo := tio.Lflag&unix.ECHO != 0
	switch {
	case ic == t.cc(VERASE) || ic == t.cc(VKILL) || (ic == t.cc(VWERASE) && iext):
		t.eraseLocked(c)
		return true
	case ic == t.cc(VLNEXT) && iext:
		t.lnext = true
		if echo && tio.Lflag&unix.ECHOCTL != 0 {
			t.echoRaw('^')
			t.echoRaw('\b')
		}
		return true
	case ic == t.cc(VREPRINT) && echo && iext:
		t.echoChar(c)
		t.echoRaw('\n')
		for _, b := range t.buf[t.commit:] {
			t.echoChar(b)
		}
		return true
	case c == '\n':
		if !t.hasRoomLocked(true) {
			return false
		}
		if echo || tio.Lflag&unix.ECHONL != 0 {
			t.echoRaw('\n')
		}
		t.buf = append(t.buf, c)
		t.commitLocked()
		return true
	case ic == t.cc(VEOF):
		if !t.hasRoomLocked(true) {
			return false
		}
		// The EOF character ends the line without being part of it: at
		// the start of a line, the reader gets 0 (end of file).
		t.commitLocked()
		return true
	case ic == t.cc(VEOL) || (ic == t.cc(VEOL2) && iext):
		if !t.hasRoomLocked(true) {
			return false
		}
		if echo {
			if len(t.buf) == t.commit {
				t.canonC = t.col
			}
			t.echoChar(c)
		}
		t.buf = append(t.buf, c)
		t.commitLocked()
		return true
	}
	if len(t.buf)-t.commit >= maxLine {
		return true // the line is full: drop the character
	}
	if !t.hasRoomLocked(false) {
		return false
	}
	t.putLocked(c)
	return true
}

// hasRoomLocked reports whether one more character fits. A line
// terminator may use the last byte, so that a full line can still end.
func (t *Terminal) hasRoomLocked(terminator bool) bool {
	if terminator {
		return len(t.buf) < bufCap
	}
	return len(t.buf) < bufCap-1 || (!t.canonical() && len(t.buf) < bufCap)
}

// putLocked echoes and stores an ordinary character.
func (t *Terminal) putLocked(c byte) {
	if t.termios.Lflag&unix.ECHO != 0 {
		if t.canonical() && len(t.buf) == t.commit {
			t.canonC = t.col
		}
		t.echoChar(c)
	}
	t.buf = append(t.buf, c)
	if !t.canonical() {
		t.commit = len(t.buf)
		t.notify |= vfs.EventIn | vfs.EventRdNorm
	}
}

// isigLocked handles a signal character: unless NOFLSH, pending input and
// output are discarded; the foreground group is signalled; the character
// is echoed (as ^C).
func (t *Terminal) isigLocked(sig unix.Signal, c byte) {
	if t.termios.Lflag&unix.NOFLSH == 0 {
		t.flushInputLocked()
		t.flushOutputLocked()
	}
	if t.pgrp != 0 {
		t.sigs = append(t.sigs, groupSignal{t.pgrp, sig})
	}
	if t.termios.Iflag&unix.IXON != 0 {
		t.startLocked()
	}
	if t.termios.Lflag&unix.ECHO != 0 {
		t.echoChar(c)
	}
}

// echoRaw echoes c through output processing.
func (t *Terminal) echoRaw(c byte) { t.out = t.opost(t.out, c) }

// echoChar echoes c, showing control characters as ^X with ECHOCTL.
func (t *Terminal) echoChar(c byte) {
	if t.termios.Lflag&unix.ECHOCTL != 0 && iscntrl(c) && c != '\t' {
		t.echoRaw('^')
		t.echoRaw(c ^ 0x40)
		return
	}
	t.echoRaw(c)
}

// eraseLocked handles ERASE, WERASE and KILL in canonical mode (Linux's
// eraser), echoing the visual erase ("\b \b") when ECHOE/ECHOKE ask.
func (t *Terminal) eraseLocked(c byte) {
	if len(t.buf) == t.commit {
		return
	}
	lf := t.termios.Lflag
	ic := int(c)
	erase := ic == t.cc(VERASE)
	werase := !erase && ic == t.cc(VWERASE) && ic != t.cc(VKILL)
	kill := !erase && !werase
	if kill {
		if lf&unix.ECHO == 0 {
			t.buf = t.buf[:t.commit]
			return
		}
		if lf&unix.ECHOK == 0 || lf&unix.ECHOKE == 0 || lf&unix.ECHOE == 0 {
			t.buf = t.buf[:t.commit]
			t.echoChar(c)
			if lf&unix.ECHOK != 0 {
				t.echoRaw('\n')
			}
			return
		}
	}
	seenAlnum := false
	for len(t.buf) > t.commit {
		head := len(t.buf) - 1
		for head > t.commit && t.isCont(t.buf[head]) {
			head--
		}
		ch := t.buf[head]
		if t.isCont(ch) {
			break // do not erase part of a character
		}
		if werase {
			if isalnum(ch) || ch == '_' {
				seenAlnum = true
			} else if seenAlnum {
				break
			}
		}
		t.buf = t.buf[:head]
		if lf&unix.ECHO != 0 {
			switch {
			case erase && lf&unix.ECHOE == 0:
				t.echoChar(c)
			case ch == '\t':
				t.eraseTab()
			default:
				if iscntrl(ch) && lf&unix.ECHOCTL != 0 {
					t.echoErase()
				}
				if !iscntrl(ch) || lf&unix.ECHOCTL != 0 {
					t.echoErase()
				}
			}
		}
		if erase {
			break
		}
	}
}

func (t *Terminal) echoErase() {
	t.echoRaw('\b')
	t.echoRaw(' ')
	t.echoRaw('\b')
}

// eraseTab backs up over an echoed tab: its width follows from the
// columns of what precedes it back to the previous tab or the start of
// the line.
func (t *Terminal) eraseTab() {
	n, afterTab := 0, false
	for i := len(t.buf) - 1; i >= t.commit; i-- {
		c := t.buf[i]
		if c == '\t' {
			afterTab = true
			break
		}
		if iscntrl(c) {
			if t.termios.Lflag&unix.ECHOCTL != 0 {
				n += 2
			}
		} else if !t.isCont(c) {
			n++
		}
	}
	if !afterTab {
		n += t.canonC
	}
	bs := 8 - n&7
	bs = min(bs, t.col)
	for range bs {
		t.echoRaw('\b')
	}
}

// opost appends c to dst after output processing (OPOST: ONLCR, OCRNL,
// ONOCR, ONLRET, OLCUC, XTABS) and tracks the output column.
func (t *Terminal) opost(dst []byte, c byte) []byte {
	of := t.termios.Oflag
	if of&unix.OPOST == 0 {
		return append(dst, c)
	}
	switch c {
	case '\n':
		if of&unix.ONLRET != 0 {
			t.col = 0
		}
		if of&unix.ONLCR != 0 {
			t.col = 0
			return append(dst, '\r', '\n')
		}
	case '\r':
		if of&unix.ONOCR != 0 && t.col == 0 {
			return dst
		}
		if of&unix.OCRNL != 0 {
			if of&unix.ONLRET != 0 {
				t.col = 0
			}
			return append(dst, '\n')
		}
		t.col = 0
	case '\t':
		spaces := 8 - t.col&7
		t.col += spaces
		if of&unix.TABDLY == xtabs {
			for range spaces {
				dst = append(dst, ' ')
			}
			return dst
		}
	case '\b':
		if t.col > 0 {
			t.col--
		}
	default:
		if !iscntrl(c) {
			if of&unix.OLCUC != 0 && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if !t.isCont(c) {
				t.col++
			}
		}
	}
	return append(dst, c)
}

// opostLen is the most bytes opost can produce for one character.
const opostLen = 8
