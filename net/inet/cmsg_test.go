package inet

import (
	"encoding/binary"
	"errors"
	"testing"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"uk/net/socket"
)

func intData(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

// TestCheckCmsgs checks the IP-level control messages of a datagram
// sendmsg against what Linux's ip_cmsg_send, ip6_datagram_send_ctl and
// udp_cmsg_send accept.
func TestCheckCmsgs(t *testing.T) {
	ext := func(n int) []byte { b := make([]byte, n); b[1] = byte(n/8 - 1); return b }
	cases := []struct {
		name    string
		m       socket.Cmsg
		wantErr error
		ttl     int // 0: no TTL override
		hop     int // 0: no hop limit override
	}{
		{"IP_TTL 64", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: intData(64)}, nil, 64, 0},
		{"IP_TTL 255", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: intData(255)}, nil, 255, 0},
		{"IP_TTL 0", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: intData(0)}, linux.EINVAL, 0, 0},
		{"IP_TTL 256", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: intData(256)}, linux.EINVAL, 0, 0},
		{"IP_TTL short", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: []byte{64}}, linux.EINVAL, 0, 0},
		{"IP_TOS byte", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TOS, Data: []byte{0x10}}, nil, 0, 0},
		{"IP_TOS int", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TOS, Data: intData(0x10)}, nil, 0, 0},
		{"IP_TOS 256", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TOS, Data: intData(256)}, linux.EINVAL, 0, 0},
		{"IP_TOS 2 bytes", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TOS, Data: []byte{1, 2}}, linux.EINVAL, 0, 0},
		{"IP_PKTINFO", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_PKTINFO, Data: make([]byte, 12)}, nil, 0, 0},
		{"IP_PKTINFO short", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_PKTINFO, Data: make([]byte, 8)}, linux.EINVAL, 0, 0},
		{"IP_RETOPTS 40", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_RETOPTS, Data: make([]byte, 40)}, nil, 0, 0},
		{"IP_RETOPTS 41", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_RETOPTS, Data: make([]byte, 41)}, linux.EINVAL, 0, 0},
		{"IP_PROTOCOL 0", socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_PROTOCOL, Data: intData(0)}, linux.EINVAL, 0, 0},
		{"IP unknown", socket.Cmsg{Level: linux.SOL_IP, Type: 12345, Data: intData(1)}, linux.EINVAL, 0, 0},
		{"IPV6_HOPLIMIT 7", socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_HOPLIMIT, Data: intData(7)}, nil, 0, 7},
		{"IPV6_HOPLIMIT -1", socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_HOPLIMIT, Data: intData(-1)}, nil, 0, 0},
		{"IPV6_HOPLIMIT 256", socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_HOPLIMIT, Data: intData(256)}, linux.EINVAL, 0, 0},
		{"IPV6_TCLASS -2", socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_TCLASS, Data: intData(-2)}, linux.EINVAL, 0, 0},
		{"IPV6_PKTINFO", socket.Cmsg{Level: linux.SOL_IPV6, Type: ipv6PacketInfo, Data: make([]byte, 20)}, nil, 0, 0},
		{"IPV6_PKTINFO short", socket.Cmsg{Level: linux.SOL_IPV6, Type: ipv6PacketInfo, Data: make([]byte, 19)}, linux.EINVAL, 0, 0},
		{"IPV6_HOPOPTS 8", socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_HOPOPTS, Data: ext(8)}, nil, 0, 0},
		{"IPV6_HOPOPTS shorter than it says", socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_HOPOPTS, Data: append(ext(16), 0)[:8]}, linux.EINVAL, 0, 0},
		{"IPV6 unknown", socket.Cmsg{Level: linux.SOL_IPV6, Type: 12345, Data: intData(1)}, linux.EINVAL, 0, 0},
		{"UDP_SEGMENT", socket.Cmsg{Level: linux.SOL_UDP, Type: linux.UDP_SEGMENT, Data: []byte{0, 5}}, nil, 0, 0},
		{"UDP_SEGMENT int", socket.Cmsg{Level: linux.SOL_UDP, Type: linux.UDP_SEGMENT, Data: intData(5)}, linux.EINVAL, 0, 0},
		{"UDP unknown", socket.Cmsg{Level: linux.SOL_UDP, Type: 1, Data: []byte{0, 5}}, linux.EINVAL, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fam := linux.AF_INET
			if tc.m.Level == linux.SOL_IPV6 {
				fam = linux.AF_INET6
			}
			s := &Socket{family: fam, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}
			cm, err := s.sendControl([]socket.Cmsg{tc.m})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := int(cm.TTL); cm.HasTTL != (tc.ttl != 0) || got != tc.ttl {
				t.Errorf("TTL override %v %d, want %d", cm.HasTTL, got, tc.ttl)
			}
			if got := int(cm.HopLimit); cm.HasHopLimit != (tc.hop != 0) || got != tc.hop {
				t.Errorf("hop limit override %v %d, want %d", cm.HasHopLimit, got, tc.hop)
			}
		})
	}
}

// TestSendControlIgnoresOtherLevels: levels a socket's family does not
// own pass unchecked, as in Linux (SOL_IPV6 on IPv4, SOL_UDP on ping).
func TestSendControlIgnoresOtherLevels(t *testing.T) {
	bad := intData(1)
	cases := []struct {
		name string
		s    *Socket
		m    socket.Cmsg
	}{
		{"SOL_IPV6 on IPv4", &Socket{family: linux.AF_INET, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}, socket.Cmsg{Level: linux.SOL_IPV6, Type: 9999, Data: bad}},
		{"SOL_IP on IPv6", &Socket{family: linux.AF_INET6, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}, socket.Cmsg{Level: linux.SOL_IP, Type: 9999, Data: bad}},
		{"SOL_UDP on ping", &Socket{family: linux.AF_INET, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_ICMP}, socket.Cmsg{Level: linux.SOL_UDP, Type: 9999, Data: bad}},
		{"SOL_TCP on UDP", &Socket{family: linux.AF_INET, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}, socket.Cmsg{Level: linux.SOL_TCP, Type: 9999, Data: bad}},
	}
	for _, tc := range cases {
		if _, err := tc.s.sendControl([]socket.Cmsg{tc.m}); err != nil {
			t.Errorf("%s: %v, want nil", tc.name, err)
		}
	}
}

// FuzzSendControl feeds arbitrary control messages to the checks: they
// must not panic, and an accepted override is in range.
func FuzzSendControl(f *testing.F) {
	f.Add(int32(linux.SOL_IP), int32(linux.IP_TTL), intData(64))
	f.Add(int32(linux.SOL_IPV6), int32(linux.IPV6_HOPOPTS), []byte{0, 1, 0, 0, 0, 0, 0, 0})
	f.Add(int32(linux.SOL_UDP), int32(linux.UDP_SEGMENT), []byte{1, 0})
	f.Fuzz(func(t *testing.T, level, typ int32, data []byte) {
		for _, fam := range []int{linux.AF_INET, linux.AF_INET6} {
			s := &Socket{family: fam, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}
			cm, err := s.sendControl([]socket.Cmsg{{Level: level, Type: typ, Data: data}})
			if err != nil && !errors.Is(err, linux.EINVAL) {
				t.Fatalf("error %v: only EINVAL is expected", err)
			}
			if err == nil && cm.HasTTL && cm.TTL == 0 {
				t.Fatalf("accepted a TTL of 0")
			}
		}
	})
}

// TestRecvControl checks the receive side's messages and their order.
func TestRecvControl(t *testing.T) {
	s := &Socket{family: linux.AF_INET, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}
	cm := tcpip.ReceivableControlMessages{
		HasIPPacketInfo: true,
		PacketInfo: tcpip.IPPacketInfo{NIC: 1, LocalAddr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}),
			DestinationAddr: tcpip.AddrFrom4([4]byte{127, 0, 0, 2})},
		HasTTL: true, TTL: 64, HasTOS: true, TOS: 0x10,
	}
	got := s.recvControl(cm)
	if len(got) != 3 || got[0].Type != linux.IP_PKTINFO || got[1].Type != linux.IP_TTL || got[2].Type != linux.IP_TOS {
		t.Fatalf("messages %+v, want IP_PKTINFO, IP_TTL, IP_TOS", got)
	}
	want := []byte{1, 0, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2}
	if string(got[0].Data) != string(want) {
		t.Errorf("in_pktinfo %v, want %v", got[0].Data, want)
	}
	if string(got[1].Data) != string(intData(64)) || string(got[2].Data) != "\x10" {
		t.Errorf("TTL %v TOS %v", got[1].Data, got[2].Data)
	}
	s6 := &Socket{family: linux.AF_INET6, typ: linux.SOCK_DGRAM, protocol: linux.IPPROTO_UDP}
	got = s6.recvControl(tcpip.ReceivableControlMessages{HasHopLimit: true, HopLimit: 9, HasTClass: true, TClass: 3})
	if len(got) != 2 || got[0].Type != ipv6HopLimitCmsg || got[1].Type != linux.IPV6_TCLASS {
		t.Fatalf("IPv6 messages %+v", got)
	}
	if st := (&Socket{family: linux.AF_INET, typ: linux.SOCK_STREAM}).recvControl(cm); len(st) != 0 {
		t.Errorf("TCP got IP messages %+v", st)
	}
}
