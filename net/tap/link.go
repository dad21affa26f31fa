package tap

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The virtio-net header the TAP device puts before every frame once it is
// opened with IFF_VNET_HDR (struct virtio_net_hdr, little-endian). It lets
// the host and the stack pass each other TCP segments of up to 64 KiB with
// the checksum left to the receiver: one read or write per 64 KiB instead
// of one per 1500-byte frame.
const (
	vnetHdrSize = 10

	vnetFlagNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	vnetGSONone       = 0 // VIRTIO_NET_HDR_GSO_NONE
	vnetGSOTCPv4      = 1 // VIRTIO_NET_HDR_GSO_TCPV4
	vnetGSOTCPv6      = 4 // VIRTIO_NET_HDR_GSO_TCPV6

	// gsoMaxSize is the largest segment the stack hands the link, below
	// the 64 KiB an IP packet can hold.
	gsoMaxSize = 65000
	// readSize holds the largest frame the host may send: a 64 KiB IP
	// packet, its Ethernet header and the virtio-net header.
	readSize = vnetHdrSize + header.EthernetMinimumSize + 65535
)

// link is the tcpip link endpoint of a TAP device opened with
// IFF_VNET_HDR and TSO offloads. It implements stack.LinkEndpoint and
// stack.GSOEndpoint.
type link struct {
	// file is the device as Go's poller sees it (nil for a link without
	// one, in tests): the reader waits for frames there, parked, rather
	// than in a poll of its own, and closing it wakes the reader. conn
	// is its raw access: every read and write holds the descriptor, so
	// that a write racing Close cannot reach a number already reused.
	file *os.File
	conn syscall.RawConn
	mac  tcpip.LinkAddress

	mu         sync.Mutex // guards the fields below
	mtu        uint32
	dispatcher stack.NetworkDispatcher
	onClose    func()
	closed     bool

	wg sync.WaitGroup

	// wmu guards iov, the writer's vector, kept between calls: a packet
	// costs no allocation to write.
	wmu sync.Mutex
	iov [][]byte
}

// newLink makes the link endpoint of the TAP device open as f, whose
// descriptor must be non-blocking (Go's poller has it then); the link
// owns f. A nil f makes a link that neither reads nor writes (tests).
func newLink(f *os.File, mac tcpip.LinkAddress, mtu uint32) (*link, error) {
	l := &link{mac: mac, mtu: mtu}
	if f == nil {
		return l, nil
	}
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	l.file, l.conn = f, conn
	return l, nil
}

var _ stack.LinkEndpoint = (*link)(nil)
var _ stack.GSOEndpoint = (*link)(nil)

// MTU implements stack.LinkEndpoint.
func (l *link) MTU() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mtu
}

// SetMTU implements stack.LinkEndpoint.
func (l *link) SetMTU(mtu uint32) {
	l.mu.Lock()
	l.mtu = mtu
	l.mu.Unlock()
}

// MaxHeaderLength implements stack.LinkEndpoint.
func (*link) MaxHeaderLength() uint16 { return header.EthernetMinimumSize }

// LinkAddress implements stack.LinkEndpoint.
func (l *link) LinkAddress() tcpip.LinkAddress { return l.mac }

// SetLinkAddress implements stack.LinkEndpoint; the sandbox's MAC is fixed
// when the device is opened.
func (*link) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.LinkEndpoint. Received checksums are not
// verified: frames come from the host's own stack over the TAP, never from
// a wire, and GSO frames carry partial checksums the host did not finish.
func (*link) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired | stack.CapabilityRXChecksumOffload
}

// GSOMaxSize implements stack.GSOEndpoint.
func (*link) GSOMaxSize() uint32 { return gsoMaxSize }

// SupportedGSO implements stack.GSOEndpoint: the host segments.
func (*link) SupportedGSO() stack.SupportedGSO { return stack.HostGSOSupported }

// ARPHardwareType implements stack.LinkEndpoint.
func (*link) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

// AddHeader implements stack.LinkEndpoint.
func (l *link) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: pkt.EgressRoute.LocalLinkAddress,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

// ParseHeader implements stack.LinkEndpoint.
func (*link) ParseHeader(pkt *stack.PacketBuffer) bool {
	b, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	if !ok {
		return false
	}
	pkt.NetworkProtocolNumber = header.Ethernet(b).Type()
	return true
}

// Attach implements stack.LinkEndpoint: the first dispatcher starts the
// reader; nil detaches.
func (l *link) Attach(d stack.NetworkDispatcher) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.dispatcher == nil && d != nil && !l.closed && l.conn != nil
	l.dispatcher = d
	if start {
		l.wg.Add(1)
		go l.readLoop()
	}
}

// IsAttached implements stack.LinkEndpoint.
func (l *link) IsAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dispatcher != nil
}

// Wait implements stack.LinkEndpoint.
func (l *link) Wait() { l.wg.Wait() }

// SetOnCloseAction implements stack.LinkEndpoint.
func (l *link) SetOnCloseAction(f func()) {
	l.mu.Lock()
	l.onClose = f
	l.mu.Unlock()
}

// Close implements stack.LinkEndpoint: the reader stops and the device is
// released.
func (l *link) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	f := l.onClose
	l.mu.Unlock()
	if l.file != nil {
		// Wakes the reader (its read returns os.ErrClosed); the
		// descriptor closes once no read or write holds it.
		l.file.Close()
	}
	l.wg.Wait()
	if f != nil {
		f()
	}
}

// WritePackets implements stack.LinkEndpoint: one writev per packet, the
// virtio-net header first. A full host queue drops the packet, as a busy
// NIC would; TCP retransmits.
func (l *link) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	if l.conn == nil {
		return 0, &tcpip.ErrClosedForSend{}
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	n := 0
	var werr error
	// The callback answers true whatever the write did: a full queue
	// drops the packet rather than wait for room.
	err := l.conn.Write(func(fd uintptr) bool {
		for _, pkt := range pkts.AsSlice() {
			hdr := vnetHeader(pkt)
			l.iov = appendPacket(append(l.iov[:0], hdr[:]), pkt)
			_, err := unix.Writev(int(fd), l.iov)
			clear(l.iov) // keep no packet's memory alive
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				werr = err
				return true
			}
			n++
		}
		return true
	})
	if n == 0 && (err != nil || werr != nil) {
		return 0, &tcpip.ErrClosedForSend{}
	}
	return n, nil
}

// appendPacket appends the slices of pkt's bytes, from its first header
// on, to iov: what pkt.AsSlices returns, without making a slice for each
// packet.
func appendPacket(iov [][]byte, pkt *stack.PacketBuffer) [][]byte {
	views, off := pkt.AsViewList()
	for v := views.Front(); v != nil; v = v.Next() {
		b := v.AsSlice()
		if off >= len(b) {
			off -= len(b)
			continue
		}
		iov = append(iov, b[off:])
		off = 0
	}
	return iov
}

// vnetHeader is the virtio-net header of an outgoing packet: for a GSO
// segment, where the checksum goes and the MSS the host cuts it to.
func vnetHeader(pkt *stack.PacketBuffer) [vnetHdrSize]byte {
	var h [vnetHdrSize]byte
	gso := pkt.GSOOptions
	if gso.Type == stack.GSONone {
		return h
	}
	binary.LittleEndian.PutUint16(h[2:], uint16(pkt.HeaderSize()))
	if gso.NeedsCsum {
		h[0] = vnetFlagNeedsCsum
		binary.LittleEndian.PutUint16(h[6:], header.EthernetMinimumSize+gso.L3HdrLen)
		binary.LittleEndian.PutUint16(h[8:], gso.CsumOffset)
	}
	if pkt.Data().Size() > int(gso.MSS) {
		switch gso.Type {
		case stack.GSOTCPv4:
			h[1] = vnetGSOTCPv4
		case stack.GSOTCPv6:
			h[1] = vnetGSOTCPv6
		}
		binary.LittleEndian.PutUint16(h[4:], gso.MSS)
	}
	return h
}

// readLoop delivers the frames the host sends until the link closes.
// Each frame is read in two parts: its virtio-net header and head into a
// buffer of the loop's own, its body straight into a pooled view that a
// long frame hands to the stack as it is (a GSO frame is not copied
// again), and a short one copies from and keeps for the next read.
//
// The reads go through Go's poller: when the device has nothing, the
// goroutine parks until the scheduler's epoll says it has, instead of
// blocking a thread of its own in poll(2), which cost a poll, a thread
// wake-up and a hand-off of the processor for each frame. Woken by the
// scheduler, the reader takes the ACKs that queued meanwhile in one go,
// and the stack answers them with fewer, larger segments (sending over
// the link: 27,000 ACKs where there were 66,000 for as many bytes, and a
// fifth less CPU per byte).
func (l *link) readLoop() {
	defer l.wg.Done()
	head := make([]byte, vnetHdrSize+frameHead)
	var body *buffer.View
	defer func() {
		if body != nil {
			body.Release()
		}
	}()
	iov := make([][]byte, 2)
	var n int
	var rerr error
	read := func(fd uintptr) bool {
		n, rerr = unix.Readv(int(fd), iov)
		return !errors.Is(rerr, unix.EAGAIN)
	}
	for {
		if body == nil {
			body = buffer.NewViewSize(readSize - len(head))
		}
		iov[0], iov[1] = head, body.AsSlice()
		if err := l.conn.Read(read); err != nil {
			return // closed
		}
		if rerr != nil {
			if errors.Is(rerr, unix.EINTR) {
				continue
			}
			return
		}
		if l.deliverParts(head, body, n) {
			body = nil // the stack has it
		}
	}
}

// bodyKeep is the least body a frame hands to the stack in the view it
// was read into: a view holds a 64 KiB chunk, and the stack counts a
// segment's memory by its bytes, so a shorter body is copied out (at
// most twice what is counted is held).
const bodyKeep = 32 << 10

// deliverParts delivers a frame of n bytes read into head and then body,
// and reports whether the stack took body.
func (l *link) deliverParts(head []byte, body *buffer.View, n int) bool {
	if n <= len(head) {
		l.deliver(head[:n])
		return false
	}
	rest := n - len(head)
	if rest < bodyKeep {
		l.deliverBuffer(head, func() buffer.Buffer {
			b := buffer.MakeWithView(buffer.NewViewWithData(head[vnetHdrSize:]))
			b.Append(buffer.NewViewWithData(body.AsSlice()[:rest]))
			return b
		})
		return false
	}
	// A frame not for this host never calls the function, and its view
	// is read into again whole.
	taken := false
	l.deliverBuffer(head, func() buffer.Buffer {
		body.CapLength(rest)
		b := buffer.MakeWithView(buffer.NewViewWithData(head[vnetHdrSize:]))
		b.Append(body)
		taken = true
		return b
	})
	return taken
}

// deliver hands one frame (with its virtio-net header) to the stack.
func (l *link) deliver(frame []byte) {
	l.deliverBuffer(frame, func() buffer.Buffer { return framePayload(frame[vnetHdrSize:]) })
}

// deliverBuffer hands a frame to the stack: head holds its virtio-net
// header and at least its Ethernet header, and payload makes the
// stack's buffer of the frame (from its Ethernet header on), called only
// for a frame the stack takes.
func (l *link) deliverBuffer(head []byte, payload func() buffer.Buffer) {
	if len(head) < vnetHdrSize+header.EthernetMinimumSize {
		return
	}
	eth := header.Ethernet(head[vnetHdrSize:])
	dst := eth.DestinationAddress()
	if dst != l.mac && dst[0]&1 == 0 {
		return // another host's unicast
	}
	l.mu.Lock()
	d := l.dispatcher
	l.mu.Unlock()
	if d == nil {
		return
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: payload()})
	defer pkt.DecRef()
	if !l.ParseHeader(pkt) {
		return
	}
	d.DeliverNetworkPacket(eth.Type(), pkt)
}

// frameHead is how much of a received frame goes in a view of its own:
// the Ethernet header and room for the IP and TCP headers with all their
// options. tcpip's IPv4 input holds a reference to the view with the IP
// header while it reads that header again, and a view whose chunk is
// shared is copied whole before it is read (buffer.PullUp): with the
// frame in one view that was every received frame copied a second time,
// and above 64 KiB (a full GSO frame) allocated outside the chunk pools,
// a fifth of uk's CPU when the sandbox receives over the link. It is a
// power of two, so that the head fills its pooled chunk and the body
// stays a view of its own.
const frameHead = 256

// framePayload is a received frame as the stack's buffer: a long frame in
// two views, the head and the body.
func framePayload(frame []byte) buffer.Buffer {
	if len(frame) <= 2*frameHead {
		return buffer.MakeWithData(frame)
	}
	b := buffer.MakeWithView(buffer.NewViewWithData(frame[:frameHead]))
	b.Append(buffer.NewViewWithData(frame[frameHead:]))
	return b
}
