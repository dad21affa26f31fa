// UDP echo over a link, with datagrams larger than the MTU.

package main

import (
	"bytes"
	"fmt"
	"net"
	"time"
)

func udpEcho(args []string) error {
	if len(args) != 1 {
		usage()
	}
	c, err := net.ListenPacket("udp", args[0])
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", c.LocalAddr())
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(buf[:n], from); err != nil {
			return err
		}
	}
}

// udpSizes are the datagram sizes of udp-check: over Ethernet (MTU 1500)
// 1472 is the largest that fits one frame; larger ones are fragmented
// and must be reassembled; 65507 is the largest IPv4 allows.
var udpSizes = []int{1, 100, 1472, 1473, 4000, 8972, 30000, 65507}

// udpCheck sends each size to a udp-echo and requires the same bytes
// back. A lost datagram is sent again (twice at most): UDP may drop, but
// on an idle local link it should not.
func udpCheck(args []string) error {
	if len(args) != 1 {
		usage()
	}
	c, err := dialRetry("udp", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 65536)
	stream := newStream()
	for _, size := range udpSizes {
		msg := make([]byte, size)
		stream.Read(msg)
		tries := 0
		for {
			tries++
			if _, err := c.Write(msg); err != nil {
				return fmt.Errorf("send %d bytes: %w", size, err)
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() && tries < 3 {
					continue
				}
				return fmt.Errorf("echo of %d bytes (try %d): %w", size, tries, err)
			}
			if !bytes.Equal(buf[:n], msg) {
				return fmt.Errorf("echo of %d bytes came back as %d different bytes", size, n)
			}
			break
		}
		fmt.Printf("udp size %d ok tries %d\n", size, tries)
	}
	return nil
}
