// ICMP echo on a raw socket or a ping socket.

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// ping sends ICMP echo requests to an IPv4 address and requires a
// matching reply to each. It prints "reply SEQ BYTES" per reply and the
// median round trip. By default it uses a raw socket (root only; Go's ip4
// raw connections strip the IP header); with -dgram, a ping socket
// (SOCK_DGRAM, IPPROTO_ICMP: the kernel sets the echo identifier and
// delivers only the replies to it).
func ping(args []string) error {
	dgram := len(args) > 0 && args[0] == "-dgram"
	if dgram {
		args = args[1:]
	}
	if len(args) != 2 {
		usage()
	}
	n, err := count(args[1])
	if err != nil {
		return err
	}
	ip, err := net.ResolveIPAddr("ip4", args[0])
	if err != nil {
		return err
	}
	var c net.PacketConn
	var dst net.Addr = ip
	if dgram {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMP)
		if err != nil {
			return fmt.Errorf("ping socket: %w", err)
		}
		f := os.NewFile(uintptr(fd), "ping socket")
		c, err = net.FilePacketConn(f)
		f.Close()
		if err != nil {
			return err
		}
		// Go takes an AF_INET datagram socket for UDP.
		dst = &net.UDPAddr{IP: ip.IP}
	} else if c, err = net.ListenPacket("ip4:icmp", "0.0.0.0"); err != nil {
		return err
	}
	defer c.Close()
	id := uint16(os.Getpid())
	buf := make([]byte, 1500)
	ds := make([]time.Duration, 0, n)
	for seq := 1; seq <= n; seq++ {
		msg := make([]byte, 8+56)
		msg[0] = 8 // echo request
		binary.BigEndian.PutUint16(msg[4:], id)
		binary.BigEndian.PutUint16(msg[6:], uint16(seq))
		for i := 8; i < len(msg); i++ {
			msg[i] = byte(i)
		}
		binary.BigEndian.PutUint16(msg[2:], icmpChecksum(msg))
		start := time.Now()
		if _, err := c.WriteTo(msg, dst); err != nil {
			return fmt.Errorf("send echo %d: %w", seq, err)
		}
		deadline := start.Add(3 * time.Second)
		for {
			c.SetReadDeadline(deadline)
			m, from, err := c.ReadFrom(buf)
			if err != nil {
				return fmt.Errorf("echo %d: no reply: %w", seq, err)
			}
			// Other echo traffic (our own request, seen on loopback, or
			// another pinger's reply) is skipped.
			if m < 8 || buf[0] != 0 || !addrIP(from).Equal(ip.IP) ||
				(!dgram && binary.BigEndian.Uint16(buf[4:]) != id) || binary.BigEndian.Uint16(buf[6:]) != uint16(seq) {
				continue
			}
			// A ping socket's identifier differs from ours, and the
			// checksum with it: only the payload is compared there.
			if (!dgram && icmpChecksum(buf[:m]) != 0) || !bytes.Equal(buf[8:m], msg[8:]) {
				return fmt.Errorf("echo %d: reply of %d bytes is corrupt", seq, m)
			}
			ds = append(ds, time.Since(start))
			fmt.Printf("reply %d bytes %d from %s\n", seq, m, addrIP(from))
			break
		}
		if seq < n {
			time.Sleep(100 * time.Millisecond)
		}
	}
	fmt.Printf("ping n %d median_us %.1f\n", n, float64(median(ds).Nanoseconds())/1000)
	return nil
}

// addrIP is the IP address of a raw or datagram socket's peer.
func addrIP(a net.Addr) net.IP {
	switch a := a.(type) {
	case *net.IPAddr:
		return a.IP
	case *net.UDPAddr:
		return a.IP
	}
	return nil
}

// icmpChecksum is the Internet checksum of b; over a message that
// carries its checksum it is 0.
func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
