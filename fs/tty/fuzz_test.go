package tty

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// FuzzDevptsOptions: any option string parses or fails with EINVAL, and
// what parses stays within Linux's limits.
func FuzzDevptsOptions(f *testing.F) {
	for _, s := range []string{"", "newinstance,ptmxmode=666,gid=5,mode=620", "uid=0,max=10", "rw,nosuid",
		"mode=", "gid=-1", "max=99999999", "newinstance=1", ",,", "mode=9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseDevptsOptions(s)
		if err != nil {
			if err != unix.EINVAL {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if o.mode > 0o7777 || o.ptmxMode > 0o7777 || o.max > ptyMaxLimit || o.max < 0 {
			t.Fatalf("%q: %+v", s, o)
		}
	})
}

// FuzzLineDiscipline feeds arbitrary termios settings and input (what a
// pty master or the host may send) through the line discipline and reads
// everything back: no panic, buffers stay bounded, reads never return
// more than asked.
func FuzzLineDiscipline(f *testing.F) {
	def := DefaultTermios()
	b := def.Marshal()
	f.Add(b[:], []byte("hello\n\x7f\x15\x17\x04\x03abc\r\n"))
	raw := def
	raw.Lflag = 0
	rb := raw.Marshal()
	f.Add(rb[:], []byte("\x00\xff\x13\x11\x16x"))
	f.Fuzz(func(t *testing.T, tio []byte, in []byte) {
		if len(tio) < TermiosSize {
			return
		}
		jc := newJC()
		ctx := jc.proc(1, 1, 1, vfs.RootCredentials())
		d := Register(vfs.NewDeviceRegistry(), nil, jc)
		mi, _, err := d.openPtmx(ctx, vfs.Path{}, unix.O_RDWR)
		if err != nil {
			t.Fatal(err)
		}
		p := mi.(*masterFile).p
		s := p.slave
		settings := UnmarshalTermios(tio)
		settings.CC[VTIME] = 0 // keep reads from sleeping
		s.SetTermios(settings)
		s.pgrp = 1
		for len(in) > 0 {
			n := s.input(in)
			in = in[n:]
			s.mu.Lock()
			if len(s.buf) > bufCap || s.commit > len(s.buf) || len(s.inq) > inqCap {
				t.Fatalf("buffers out of bounds: buf %d commit %d inq %d", len(s.buf), s.commit, len(s.inq))
			}
			for i, e := range s.ends {
				if e > s.commit || (i > 0 && e < s.ends[i-1]) {
					t.Fatalf("bad line ends %v (commit %d)", s.ends, s.commit)
				}
			}
			readable := s.readableLocked()
			s.mu.Unlock()
			f := &ttyFile{t: s}
			fd := vfs.NewFileDescription(f, unix.O_RDWR|unix.O_NONBLOCK, vfs.Path{}, vfs.FileOptions{})
			buf := make([]byte, 7)
			for readable {
				n, err := fd.Read(ctx, buf)
				if n > len(buf) || (err != nil && err != unix.EAGAIN) {
					t.Fatalf("read %d %v", n, err)
				}
				if n == 0 {
					break
				}
			}
			slavePort{p}.flushOutput()
			if n == 0 {
				break
			}
		}
		mi.Release()
	})
}
