package inet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	linux "golang.org/x/sys/unix"
)

func sin(port uint16, a [4]byte) []byte {
	b := make([]byte, sizeofSockaddrIn)
	binary.LittleEndian.PutUint16(b, linux.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], a[:])
	return b
}

func sin6(port uint16, a [16]byte, scope uint32) []byte {
	b := make([]byte, sizeofSockaddrIn6)
	binary.LittleEndian.PutUint16(b, linux.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[8:], a[:])
	binary.LittleEndian.PutUint32(b[24:], scope)
	return b
}

func TestParseAddr(t *testing.T) {
	lo6 := [16]byte{15: 1}
	ll6 := [16]byte{0: 0xfe, 1: 0x80, 15: 7}
	cases := []struct {
		name    string
		fam     int
		in      []byte
		wantErr error
		wantAF  int
		port    uint16
		addrLen int // 0: the unspecified (empty) address
		nic     int32
	}{
		{"v4", linux.AF_INET, sin(80, [4]byte{127, 0, 0, 1}), nil, linux.AF_INET, 80, 4, 0},
		{"v4 any", linux.AF_INET, sin(0, [4]byte{}), nil, linux.AF_INET, 0, 0, 0},
		{"v4 short", linux.AF_INET, sin(80, [4]byte{127, 0, 0, 1})[:15], linux.EINVAL, linux.AF_INET, 0, 0, 0},
		{"empty", linux.AF_INET, nil, linux.EINVAL, 0, 0, 0, 0},
		{"unspec", linux.AF_INET, []byte{0, 0, 1, 2}, nil, linux.AF_UNSPEC, 0, 0, 0},
		{"v6 on v4", linux.AF_INET, sin6(1, lo6, 0), linux.EAFNOSUPPORT, linux.AF_INET6, 0, 0, 0},
		{"v4 on v6", linux.AF_INET6, sin(1, [4]byte{1, 2, 3, 4}), linux.EINVAL, linux.AF_INET, 0, 0, 0},
		{"v6", linux.AF_INET6, sin6(443, lo6, 3), nil, linux.AF_INET6, 443, 16, 0},
		{"v6 rfc2133", linux.AF_INET6, sin6(443, lo6, 0)[:24], nil, linux.AF_INET6, 443, 16, 0},
		{"v6 short", linux.AF_INET6, sin6(443, lo6, 0)[:23], linux.EINVAL, linux.AF_INET6, 0, 0, 0},
		{"v6 link-local scope", linux.AF_INET6, sin6(1, ll6, 2), nil, linux.AF_INET6, 1, 16, 2},
		{"unix family", linux.AF_INET, []byte{1, 0, '/', 0}, linux.EAFNOSUPPORT, linux.AF_UNIX, 0, 0, 0},
	}
	for _, c := range cases {
		fa, af, err := parseAddr(c.fam, c.in)
		if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.wantErr)
			continue
		}
		if af != c.wantAF {
			t.Errorf("%s: family %d, want %d", c.name, af, c.wantAF)
		}
		if err != nil {
			continue
		}
		if fa.Port != c.port || fa.Addr.Len() != c.addrLen || int32(fa.NIC) != c.nic {
			t.Errorf("%s: got port %d addr %v nic %d", c.name, fa.Port, fa.Addr, fa.NIC)
		}
	}
}

func TestEncodeAddrRoundTrip(t *testing.T) {
	for _, in := range [][]byte{
		sin(8080, [4]byte{10, 0, 2, 15}),
		sin6(22, [16]byte{0: 0x20, 1: 0x01, 15: 9}, 0),
		sin6(1, [16]byte{0: 0xfe, 1: 0x80, 15: 1}, 2),
	} {
		fam := int(binary.LittleEndian.Uint16(in))
		fa, _, err := parseAddr(fam, in)
		if err != nil {
			t.Fatal(err)
		}
		if out := encodeAddr(fam, fa); !bytes.Equal(out, in) {
			t.Errorf("round trip %x -> %x", in, out)
		}
	}
	// An AF_INET6 socket sees IPv4 peers as v4-mapped addresses.
	fa, _, _ := parseAddr(linux.AF_INET, sin(7, [4]byte{1, 2, 3, 4}))
	want := sin6(7, [16]byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4}, 0)
	if out := encodeAddr(linux.AF_INET6, fa); !bytes.Equal(out, want) {
		t.Errorf("v4-mapped: %x, want %x", out, want)
	}
}

func FuzzParseAddr(f *testing.F) {
	f.Add(linux.AF_INET, sin(80, [4]byte{127, 0, 0, 1}))
	f.Add(linux.AF_INET6, sin6(80, [16]byte{15: 1}, 0))
	f.Add(linux.AF_INET6, []byte{10, 0})
	f.Fuzz(func(t *testing.T, fam int, b []byte) {
		if fam != linux.AF_INET {
			fam = linux.AF_INET6
		}
		fa, af, err := parseAddr(fam, b)
		if err != nil || af == linux.AF_UNSPEC {
			return
		}
		out := encodeAddr(fam, fa)
		fb, _, err := parseAddr(fam, out)
		if err != nil || fb != fa {
			t.Fatalf("re-parse of %x: %v %v, want %v", out, fb, err, fa)
		}
	})
}
