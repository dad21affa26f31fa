package tap

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
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

// TestDeliverLargeFrameCopiesOnce: a 64 KiB frame (a GSO segment from the
// host) reaches the stack without being copied again whole, or allocated
// outside the buffer pools, by the IP input.
func TestDeliverLargeFrameCopiesOnce(t *testing.T) {
	mac := tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
	l, err := newLink(nil, mac, 1500)
	if err != nil {
		t.Fatal(err)
	}
	s := stack.New(stack.Options{NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol}, HandleLocal: true})
	defer s.Destroy()
	if err := s.CreateNIC(1, l); err != nil {
		t.Fatal(err)
	}
	l.Wait() // a link without a device has no reader
	local := tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: local.WithPrefix()}, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}

	const ipLen = 65535 // the largest, as the host sends a full GSO segment
	frame := make([]byte, vnetHdrSize+header.EthernetMinimumSize+ipLen)
	header.Ethernet(frame[vnetHdrSize:]).Encode(&header.EthernetFields{SrcAddr: "\x02\x00\x00\x00\x00\x02", DstAddr: mac, Type: header.IPv4ProtocolNumber})
	ip := header.IPv4(frame[vnetHdrSize+header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{TotalLength: ipLen, TTL: 64, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), DstAddr: local})
	ip.SetChecksum(^ip.CalculateChecksum())
	header.UDP(ip[header.IPv4MinimumSize:]).Encode(&header.UDPFields{SrcPort: 9, DstPort: 9, Length: ipLen - header.IPv4MinimumSize})

	before := s.Stats().IP.PacketsDelivered.Value()
	const frames = 100
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < frames; i++ {
		l.deliver(frame)
	}
	runtime.ReadMemStats(&m1)
	if got := s.Stats().IP.PacketsDelivered.Value() - before; got != frames {
		t.Fatalf("%d of %d frames delivered", got, frames)
	}
	// A frame copied whole outside the pools is 64 KiB and more; the
	// pools themselves (which the race detector makes drop some of what
	// is put back) account for a few KiB.
	if per := (m1.TotalAlloc - m0.TotalAlloc) / frames; per > 48<<10 {
		t.Errorf("delivering a %d-byte frame allocated %d bytes", len(frame), per)
	}
}

// TestReadLoopDeliversFrames: frames read from the device reach a socket
// intact whatever their length: a short one (all in the head), one whose
// body is copied out of the read view, and long ones whose body view goes
// to the stack as it was read; a frame for another host in between is
// dropped and its view read into again.
func TestReadLoopDeliversFrames(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	mac := tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
	l, err := newLink(os.NewFile(uintptr(fds[0]), "socketpair"), mac, 1500)
	if err != nil {
		t.Fatal(err)
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol},
		HandleLocal:        true,
	})
	defer func() {
		l.Close() // the owner stops the link; then the stack can go
		s.Destroy()
	}()
	if err := s.CreateNIC(1, l); err != nil {
		t.Fatal(err)
	}
	local := tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: local.WithPrefix()}, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	var wq waiter.Queue
	ep, terr := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	defer ep.Close()
	ep.SocketOptions().SetReceiveBufferSize(1<<20, true)
	if terr := ep.Bind(tcpip.FullAddress{Port: 9}); terr != nil {
		t.Fatal(terr)
	}
	we, ready := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)

	frame := func(dst tcpip.LinkAddress, payload []byte) []byte {
		ipLen := header.IPv4MinimumSize + header.UDPMinimumSize + len(payload)
		f := make([]byte, vnetHdrSize+header.EthernetMinimumSize+ipLen)
		header.Ethernet(f[vnetHdrSize:]).Encode(&header.EthernetFields{SrcAddr: "\x02\x00\x00\x00\x00\x02", DstAddr: dst, Type: header.IPv4ProtocolNumber})
		ip := header.IPv4(f[vnetHdrSize+header.EthernetMinimumSize:])
		ip.Encode(&header.IPv4Fields{TotalLength: uint16(ipLen), TTL: 64, Protocol: uint8(header.UDPProtocolNumber),
			SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), DstAddr: local})
		ip.SetChecksum(^ip.CalculateChecksum())
		u := header.UDP(ip[header.IPv4MinimumSize:])
		u.Encode(&header.UDPFields{SrcPort: 7, DstPort: 9, Length: uint16(header.UDPMinimumSize + len(payload))})
		copy(u.Payload(), payload)
		return f
	}
	var want [][]byte
	// The last frame is read after the stack took the view of the one
	// before it, which it must not land in.
	for i, n := range []int{100, 10000, 65535 - header.IPv4MinimumSize - header.UDPMinimumSize, 40000} {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i*31 + j*7)
		}
		if i == 2 {
			// Another host's frame first, into the same read view.
			if _, err := unix.Write(fds[1], frame("\x02\x00\x00\x00\x00\x09", p)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := unix.Write(fds[1], frame(mac, p)); err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	for i, p := range want {
		var got bytes.Buffer
		for {
			_, terr := ep.Read(&got, tcpip.ReadOptions{})
			if terr == nil {
				break
			}
			if _, ok := terr.(*tcpip.ErrWouldBlock); !ok {
				t.Fatal(terr)
			}
			select {
			case <-ready:
			case <-time.After(10 * time.Second):
				t.Fatalf("datagram %d (%d bytes) never arrived", i, len(p))
			}
		}
		if !bytes.Equal(got.Bytes(), p) {
			t.Errorf("datagram %d: got %d bytes, want %d (equal: %v)", i, got.Len(), len(p), bytes.Equal(got.Bytes(), p))
		}
	}
	if n := s.Stats().IP.PacketsReceived.Value(); n != uint64(len(want)) {
		t.Errorf("%d packets reached IP, want %d (the other host's frame is dropped)", n, len(want))
	}
}

// TestAppendPacket: the writer's vector holds what AsSlices says, headers
// and payload in order, for a packet whose headers share a view with
// reserved room before them.
func TestAppendPacket(t *testing.T) {
	payload := buffer.MakeWithData(bytes.Repeat([]byte{7}, 3000))
	payload.Append(buffer.NewViewWithData(bytes.Repeat([]byte{9}, 100)))
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: 64 + header.EthernetMinimumSize + header.IPv4MinimumSize + header.TCPMinimumSize,
		Payload:            payload,
	})
	defer pkt.DecRef()
	copy(pkt.TransportHeader().Push(header.TCPMinimumSize), bytes.Repeat([]byte{3}, header.TCPMinimumSize))
	copy(pkt.NetworkHeader().Push(header.IPv4MinimumSize), bytes.Repeat([]byte{2}, header.IPv4MinimumSize))
	copy(pkt.LinkHeader().Push(header.EthernetMinimumSize), bytes.Repeat([]byte{1}, header.EthernetMinimumSize))
	want := bytes.Join(pkt.AsSlices(), nil)
	iov := appendPacket([][]byte{[]byte("hdr")}, pkt)
	if got := bytes.Join(iov[1:], nil); !bytes.Equal(got, want) || string(iov[0]) != "hdr" {
		t.Fatalf("vector of %d bytes in %d slices, want the %d bytes of AsSlices after the header", len(got), len(iov)-1, len(want))
	}
	if len(want) != header.EthernetMinimumSize+header.IPv4MinimumSize+header.TCPMinimumSize+3100 {
		t.Fatalf("AsSlices has %d bytes", len(want))
	}
}
