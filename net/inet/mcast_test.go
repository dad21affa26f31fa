package inet

import (
	"encoding/binary"
	"errors"
	"testing"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

func groupReq(ifindex uint32, fam uint16, group [4]byte) []byte {
	b := make([]byte, sizeofGroupReq)
	binary.LittleEndian.PutUint32(b, ifindex)
	binary.LittleEndian.PutUint16(b[8:], fam)
	copy(b[12:], group[:])
	return b
}

// TestParseMembership decodes struct ip_mreq, ip_mreqn and group_req.
func TestParseMembership(t *testing.T) {
	g := [4]byte{224, 0, 0, 1}
	cases := []struct {
		name    string
		opt     int
		val     []byte
		wantErr error
		want    membership
	}{
		{"ip_mreq", linux.IP_ADD_MEMBERSHIP, []byte{224, 0, 0, 1, 127, 0, 0, 1}, nil,
			membership{group: tcpip.AddrFrom4(g), ifaddr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1})}},
		{"ip_mreqn", linux.IP_DROP_MEMBERSHIP, []byte{224, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0}, nil,
			membership{group: tcpip.AddrFrom4(g), ifaddr: tcpip.AddrFrom4([4]byte{}), ifindex: 2}},
		{"ip_mreq short", linux.IP_ADD_MEMBERSHIP, []byte{224, 0, 0, 1}, linux.EINVAL, membership{}},
		{"group_req", linux.MCAST_JOIN_GROUP, groupReq(3, linux.AF_INET, g), nil,
			membership{group: tcpip.AddrFrom4(g), ifindex: 3}},
		{"group_req IPv6 family", linux.MCAST_LEAVE_GROUP, groupReq(3, linux.AF_INET6, g), linux.EINVAL, membership{}},
		{"group_req short", linux.MCAST_JOIN_GROUP, groupReq(3, linux.AF_INET, g)[:sizeofGroupReq-1], linux.EINVAL, membership{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMembership(tc.opt, tc.val)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err == nil && m != tc.want {
				t.Errorf("got %+v, want %+v", m, tc.want)
			}
		})
	}
}

// FuzzParseMembership: any option value decodes or is EINVAL, and a
// decoded group is the 4 bytes where the structure keeps it.
func FuzzParseMembership(f *testing.F) {
	f.Add(true, groupReq(1, linux.AF_INET, [4]byte{224, 0, 0, 1}))
	f.Add(false, []byte{224, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, groupReqForm bool, val []byte) {
		opt := linux.IP_ADD_MEMBERSHIP
		off := 0
		if groupReqForm {
			opt, off = linux.MCAST_JOIN_GROUP, 12
		}
		m, err := parseMembership(opt, val)
		if err != nil {
			if !errors.Is(err, linux.EINVAL) {
				t.Fatalf("error %v, want EINVAL", err)
			}
			return
		}
		if got := m.group.As4(); string(got[:]) != string(val[off:off+4]) {
			t.Fatalf("group %v from %x", got, val)
		}
	})
}

// TestParseMembership6 decodes struct ipv6_mreq and a group_req holding
// a sockaddr_in6.
func TestParseMembership6(t *testing.T) {
	g := [16]byte{0: 0xff, 1: 2, 15: 3}
	mreq := append(append([]byte(nil), g[:]...), 1, 0, 0, 0)
	greq := make([]byte, sizeofGroupReq)
	binary.LittleEndian.PutUint32(greq, 2)
	binary.LittleEndian.PutUint16(greq[8:], linux.AF_INET6)
	copy(greq[8+in6AddrOffset:], g[:])
	greq4 := append([]byte(nil), greq...)
	binary.LittleEndian.PutUint16(greq4[8:], linux.AF_INET)
	cases := []struct {
		name    string
		opt     int
		val     []byte
		wantErr error
		want    membership
	}{
		{"ipv6_mreq", linux.IPV6_ADD_MEMBERSHIP, mreq, nil, membership{group: tcpip.AddrFrom16(g), ifindex: 1}},
		{"ipv6_mreq short", linux.IPV6_DROP_MEMBERSHIP, mreq[:19], linux.EINVAL, membership{}},
		{"group_req", linux.MCAST_JOIN_GROUP, greq, nil, membership{group: tcpip.AddrFrom16(g), ifindex: 2}},
		{"group_req IPv4 family", linux.MCAST_JOIN_GROUP, greq4, linux.EADDRNOTAVAIL, membership{}},
		{"group_req short", linux.MCAST_LEAVE_GROUP, greq[:100], linux.EINVAL, membership{}},
	}
	for _, tc := range cases {
		m, err := parseMembership6(tc.opt, tc.val)
		if !errors.Is(err, tc.wantErr) || err == nil && m != tc.want {
			t.Errorf("%s: %+v, %v; want %+v, %v", tc.name, m, err, tc.want, tc.wantErr)
		}
	}
	if !isMulticast(tcpip.AddrFrom16(g)) || isMulticast(tcpip.AddrFrom4([4]byte{127, 0, 0, 1})) {
		t.Errorf("isMulticast wrong")
	}
}
