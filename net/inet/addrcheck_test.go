package inet

import (
	"errors"
	"testing"

	linux "golang.org/x/sys/unix"
)

// TestParseAddrFor checks each call's order of sockaddr checks (length
// before family) on the paths that need no endpoint.
func TestParseAddrFor(t *testing.T) {
	lo4 := sin(80, [4]byte{127, 0, 0, 1})
	lo6 := sin6(80, [16]byte{15: 1}, 0)
	fam47 := append([]byte{47, 0}, lo6[2:]...)
	short47 := []byte{47, 0, 0}
	padded4 := append(append([]byte(nil), lo4...), make([]byte, 12)...)
	unspec := append([]byte{0, 0}, lo4[2:]...)
	cases := []struct {
		name    string
		fam     int
		typ     int
		use     addrUse
		in      []byte
		wantErr error
		wantAF  int
	}{
		{"v4 bind", linux.AF_INET, linux.SOCK_STREAM, useBind, lo4, nil, linux.AF_INET},
		{"v4 bind short foreign", linux.AF_INET, linux.SOCK_STREAM, useBind, short47, linux.EINVAL, 47},
		{"v4 bind long foreign", linux.AF_INET, linux.SOCK_STREAM, useBind, fam47, linux.EAFNOSUPPORT, 47},
		{"v4 connect unspec short", linux.AF_INET, linux.SOCK_STREAM, useConnect, []byte{0, 0}, nil, linux.AF_UNSPEC},
		{"v4 connect one byte", linux.AF_INET, linux.SOCK_STREAM, useConnect, []byte{2}, linux.EINVAL, 0},
		{"v4 send v6", linux.AF_INET, linux.SOCK_DGRAM, useSend, lo6, linux.EAFNOSUPPORT, linux.AF_INET6},
		{"v4 send unspec", linux.AF_INET, linux.SOCK_DGRAM, useSend, unspec, nil, linux.AF_UNSPEC},
		{"v4 send unspec short", linux.AF_INET, linux.SOCK_DGRAM, useSend, unspec[:8], linux.EINVAL, linux.AF_UNSPEC},
		{"v6 bind sockaddr_in", linux.AF_INET6, linux.SOCK_STREAM, useBind, lo4, linux.EINVAL, linux.AF_INET},
		{"v6 bind padded sockaddr_in", linux.AF_INET6, linux.SOCK_STREAM, useBind, padded4, linux.EAFNOSUPPORT, linux.AF_INET},
		{"v6 bind rfc2133", linux.AF_INET6, linux.SOCK_STREAM, useBind, lo6[:24], nil, linux.AF_INET6},
		{"v6 connect 23 bytes", linux.AF_INET6, linux.SOCK_STREAM, useConnect, lo6[:23], linux.EINVAL, linux.AF_INET6},
		{"v6 tcp connect padded sockaddr_in", linux.AF_INET6, linux.SOCK_STREAM, useConnect, padded4, linux.EAFNOSUPPORT, linux.AF_INET},
		{"v6 send foreign", linux.AF_INET6, linux.SOCK_DGRAM, useSend, fam47, linux.EINVAL, 47},
		{"v6 send unspec", linux.AF_INET6, linux.SOCK_DGRAM, useSend, []byte{0, 0}, nil, linux.AF_UNSPEC},
	}
	for _, tc := range cases {
		s := &Socket{family: tc.fam, typ: tc.typ}
		_, af, err := s.parseAddrFor(tc.use, tc.in)
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if af != tc.wantAF {
			t.Errorf("%s: family %d, want %d", tc.name, af, tc.wantAF)
		}
	}
}
