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
