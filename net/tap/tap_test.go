package tap

import (
	"encoding/binary"
	"strings"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

func TestOpenMissingDevice(t *testing.T) {
	_, err := Open("uk-no-such-tap")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "no such network device") {
		t.Fatalf("Open of a missing device: %v; want one line saying the device does not exist", err)
	}
	if _, err := Open("a-name-longer-than-fifteen"); err == nil || !strings.Contains(err.Error(), "1 to 15 characters") {
		t.Fatalf("Open of a too-long name: %v", err)
	}
}

func TestVnetHeader(t *testing.T) {
	newPkt := func(payload int) *stack.PacketBuffer {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
			ReserveHeaderBytes: header.EthernetMinimumSize + header.IPv4MinimumSize + header.TCPMinimumSize,
			Payload:            buffer.MakeWithData(make([]byte, payload)),
		})
		pkt.TransportHeader().Push(header.TCPMinimumSize)
		pkt.NetworkHeader().Push(header.IPv4MinimumSize)
		pkt.LinkHeader().Push(header.EthernetMinimumSize)
		return pkt
	}
	plain := newPkt(100)
	defer plain.DecRef()
	if h := vnetHeader(plain); h != [vnetHdrSize]byte{} {
		t.Errorf("non-GSO packet: header %x, want zeros", h)
	}

	big := newPkt(20000)
	defer big.DecRef()
	big.GSOOptions = stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: 16, MSS: 1448, L3HdrLen: header.IPv4MinimumSize}
	h := vnetHeader(big)
	if h[0] != vnetFlagNeedsCsum || h[1] != vnetGSOTCPv4 {
		t.Errorf("flags %d gso type %d", h[0], h[1])
	}
	if got, want := binary.LittleEndian.Uint16(h[2:]), uint16(14+20+20); got != want {
		t.Errorf("hdr_len %d, want %d", got, want)
	}
	if got := binary.LittleEndian.Uint16(h[4:]); got != 1448 {
		t.Errorf("gso_size %d", got)
	}
	if got := binary.LittleEndian.Uint16(h[6:]); got != 14+20 {
		t.Errorf("csum_start %d", got)
	}
	if got := binary.LittleEndian.Uint16(h[8:]); got != 16 {
		t.Errorf("csum_offset %d", got)
	}

	// A GSO-eligible segment that fits one MSS needs only the checksum.
	small := newPkt(500)
	defer small.DecRef()
	small.GSOOptions = stack.GSO{Type: stack.GSOTCPv6, NeedsCsum: true, CsumOffset: 16, MSS: 1448, L3HdrLen: header.IPv6MinimumSize}
	if h := vnetHeader(small); h[1] != vnetGSONone || h[0] != vnetFlagNeedsCsum {
		t.Errorf("one-MSS segment: %x", h)
	}
}
