package socket

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func timeval(sec, usec int64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(sec))
	return binary.LittleEndian.AppendUint64(b, uint64(usec))
}

// TestParseTimeval checks SO_RCVTIMEO/SO_SNDTIMEO values as Linux's
// sock_set_timeout reads them.
func TestParseTimeval(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		want    time.Duration
		wantErr error
	}{
		{"1.5s", timeval(1, 500000), 1500 * time.Millisecond, nil},
		{"zero is no timeout", timeval(0, 0), 0, nil},
		{"negative is immediate", timeval(-1, 0), 1, nil},
		{"usec 999999", timeval(0, 999999), 999999 * time.Microsecond, nil},
		{"usec 1000000", timeval(0, 1000000), 0, unix.EDOM},
		{"usec negative", timeval(0, -1), 0, unix.EDOM},
		{"short", timeval(1, 0)[:15], 0, unix.EINVAL},
		{"huge is no timeout", timeval(1<<62, 0), 0, nil},
	}
	for _, tc := range cases {
		got, err := ParseTimeval(tc.in)
		if !errors.Is(err, tc.wantErr) || err == nil && got != tc.want {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	if got := Timeval(1500 * time.Millisecond); string(got) != string(timeval(1, 500000)) {
		t.Errorf("Timeval(1.5s) = %x", got)
	}
}

// TestParseInt: an int option needs 4 bytes; only the first 4 count.
func TestParseInt(t *testing.T) {
	if _, err := ParseInt([]byte{1, 2, 3}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("3 bytes: %v, want EINVAL", err)
	}
	if v, err := ParseInt([]byte{7, 0, 0, 0, 9, 9}); err != nil || v != 7 {
		t.Errorf("6 bytes: %d, %v; want 7", v, err)
	}
	if v, _ := ParseInt(Int(-5)); v != -5 {
		t.Errorf("round trip of -5: %d", v)
	}
}

// TestBufferSizes checks Linux's doubling, clamping and minimums for
// SO_SNDBUF/SO_RCVBUF and their FORCE forms.
func TestBufferSizes(t *testing.T) {
	cases := []struct {
		name       string
		opt        int
		v          int32
		privileged bool
		wantErr    error
		get        int
		want       int
	}{
		{"rcvbuf 10000", unix.SO_RCVBUF, 10000, false, nil, unix.SO_RCVBUF, 20000},
		{"sndbuf 1", unix.SO_SNDBUF, 1, false, nil, unix.SO_SNDBUF, MinSndBuf},
		{"rcvbuf 1", unix.SO_RCVBUF, 1, false, nil, unix.SO_RCVBUF, MinRcvBuf},
		{"rcvbuf clamped", unix.SO_RCVBUF, 1 << 30, false, nil, unix.SO_RCVBUF, 2 * MaxBuf},
		{"sndbuf negative is huge", unix.SO_SNDBUF, -256, false, nil, unix.SO_SNDBUF, 2 * MaxBuf},
		{"sndbufforce unprivileged", unix.SO_SNDBUFFORCE, 1 << 30, false, unix.EPERM, unix.SO_SNDBUF, DefaultBuf},
		{"sndbufforce past the max", unix.SO_SNDBUFFORCE, 1 << 30, true, nil, unix.SO_SNDBUF, 1<<31 - 2},
		{"sndbufforce negative", unix.SO_SNDBUFFORCE, -256, true, nil, unix.SO_SNDBUF, MinSndBuf},
	}
	for _, tc := range cases {
		o := NewOptions()
		err := o.Set(tc.opt, Int(tc.v), tc.privileged)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Set %v; want %v", tc.name, err, tc.wantErr)
			continue
		}
		got, _ := o.Get(tc.get)
		if v, _ := ParseInt(got); int(v) != tc.want {
			t.Errorf("%s: reads %d, want %d", tc.name, v, tc.want)
		}
	}
}

// TestOptionsSetGet checks the other shared options' rules.
func TestOptionsSetGet(t *testing.T) {
	o := NewOptions()
	if err := o.Set(unix.SO_KEEPALIVE, Int(7), false); err != nil {
		t.Fatalf("SO_KEEPALIVE: %v", err)
	}
	if v, _ := o.Get(unix.SO_KEEPALIVE); string(v) != string(Int(1)) {
		t.Errorf("SO_KEEPALIVE 7 reads %x, want 1", v)
	}
	if err := o.Set(unix.SO_LINGER, []byte{1, 0, 0, 0}, false); !errors.Is(err, unix.EINVAL) {
		t.Errorf("short SO_LINGER: %v", err)
	}
	if err := o.Set(unix.SO_PRIORITY, Int(7), false); !errors.Is(err, unix.EPERM) {
		t.Errorf("SO_PRIORITY 7 unprivileged: %v", err)
	}
	for _, name := range []int{unix.SO_SNDLOWAT, 9999, unix.SO_TYPE, unix.SO_DOMAIN, unix.SO_PROTOCOL,
		unix.SO_ERROR, unix.SO_ACCEPTCONN, unix.SO_PEERCRED} {
		if err := o.Set(name, Int(1), true); !errors.Is(err, unix.ENOPROTOOPT) {
			t.Errorf("Set of option %d: %v, want ENOPROTOOPT", name, err)
		}
	}
	if _, ok := o.Get(9999); ok {
		t.Errorf("unknown option read")
	}
	o.Set(unix.SO_RCVLOWAT, Int(-1), false)
	if v, _ := o.Get(unix.SO_RCVLOWAT); string(v) != string(Int(1<<31-1)) {
		t.Errorf("SO_RCVLOWAT -1 reads %x, want INT_MAX", v)
	}
}

// TestWantsSIGPIPE: EPIPE raises SIGPIPE unless marked otherwise.
func TestWantsSIGPIPE(t *testing.T) {
	if !WantsSIGPIPE(unix.EPIPE) || WantsSIGPIPE(ErrPipeNoSignal) || WantsSIGPIPE(unix.EAGAIN) {
		t.Errorf("WantsSIGPIPE: EPIPE %v, no-signal EPIPE %v, EAGAIN %v",
			WantsSIGPIPE(unix.EPIPE), WantsSIGPIPE(ErrPipeNoSignal), WantsSIGPIPE(unix.EAGAIN))
	}
}

// FuzzParseTimeval: any value parses or is EINVAL/EDOM, never negative.
func FuzzParseTimeval(f *testing.F) {
	f.Add(timeval(1, 500000))
	f.Add(timeval(-1, 0))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseTimeval(b)
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EDOM) {
			t.Fatalf("error %v", err)
		}
		if d < 0 {
			t.Fatalf("negative timeout %v from %x", d, b)
		}
	})
}
