// The benchmark loops: connect rate, UDP round trip, TCP throughput.

package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

func connRate(args []string) error {
	if len(args) != 2 {
		usage()
	}
	n, err := count(args[1])
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := l.Addr().String()
	ds := make([]time.Duration, n)
	start := time.Now()
	for i := range ds {
		t := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("connect %d: %w", i, err)
		}
		c.Close()
		ds[i] = time.Since(t)
	}
	total := time.Since(start)
	fmt.Printf("connrate n %d median_ns %d mean_ns %d\n", n, median(ds).Nanoseconds(), total.Nanoseconds()/int64(n))
	return nil
}

func udpRR(args []string) error {
	if len(args) != 2 {
		usage()
	}
	n, err := count(args[1])
	if err != nil {
		return err
	}
	srv, err := net.ListenPacket("udp", args[0])
	if err != nil {
		return err
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			m, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:m], from)
		}
	}()
	c, err := net.Dial("udp", srv.LocalAddr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	msg := make([]byte, 64)
	buf := make([]byte, 2048)
	ds := make([]time.Duration, n)
	for i := range ds {
		binary.BigEndian.PutUint64(msg, uint64(i))
		t := time.Now()
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		// Loopback UDP is not lost; a deadline only turns a bug into a
		// message instead of a hang.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("receive %d: %w", i, err)
		}
		ds[i] = time.Since(t)
		if m != len(msg) || binary.BigEndian.Uint64(buf) != uint64(i) {
			return fmt.Errorf("round trip %d: got %d bytes %x", i, m, buf[:min(m, 8)])
		}
	}
	fmt.Printf("udprr n %d median_us %.2f\n", n, float64(median(ds).Nanoseconds())/1000)
	return nil
}

// tput header: the mode byte ('s': the client sends, 'r': the client
// receives) and, for 'r', the duration in milliseconds (8 bytes).
func tput(args []string) error {
	fs := flag.NewFlagSet("tput", flag.ExitOnError)
	local := fs.Bool("local", false, "start the tput server in-process on ADDR")
	fs.Parse(args)
	args = fs.Args()
	if len(args) < 2 || len(args) > 3 {
		usage()
	}
	secs, err := strconv.ParseFloat(args[1], 64)
	if err != nil || secs <= 0 {
		return fmt.Errorf("bad duration %q", args[1])
	}
	dur := time.Duration(secs * float64(time.Second))
	mode := "send"
	if len(args) == 3 {
		mode = args[2]
	}
	if mode != "send" && mode != "recv" {
		usage()
	}
	addr := args[0]
	if *local {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		defer l.Close()
		go serveTputListener(l)
		addr = l.Addr().String()
	}
	c, err := dialRetry("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var hdr [9]byte
	buf := make([]byte, ioBuf)
	var bytes int64
	var el time.Duration
	if mode == "send" {
		hdr[0] = 's'
		if _, err := c.Write(hdr[:]); err != nil {
			return err
		}
		newStream().Read(buf)
		start := time.Now()
		for time.Since(start) < dur {
			m, err := c.Write(buf)
			bytes += int64(m)
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		// The server's count arrives when it has read everything: the
		// time includes draining what was still in flight.
		var ack [8]byte
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			return fmt.Errorf("reading the server's count: %w", err)
		}
		el = time.Since(start)
		if got := int64(binary.BigEndian.Uint64(ack[:])); got != bytes {
			return fmt.Errorf("server counted %d bytes, sent %d", got, bytes)
		}
	} else {
		hdr[0] = 'r'
		binary.BigEndian.PutUint64(hdr[1:], uint64(dur.Milliseconds()))
		if _, err := c.Write(hdr[:]); err != nil {
			return err
		}
		start := time.Now()
		for {
			m, err := c.Read(buf)
			bytes += int64(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
		}
		el = time.Since(start)
	}
	fmt.Printf("tput %s bytes %d seconds %.3f mibps %.1f\n", mode, bytes, el.Seconds(), float64(bytes)/(1<<20)/el.Seconds())
	return nil
}

func tputServe(args []string) error {
	if len(args) != 1 {
		usage()
	}
	l, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", l.Addr())
	return serveTputListener(l)
}

func serveTputListener(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go serveTput(c)
	}
}

// serveTput is the server end of one tput connection; errors end it
// silently, the client reports them.
func serveTput(c net.Conn) {
	defer c.Close()
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	buf := make([]byte, ioBuf)
	switch hdr[0] {
	case 's':
		n, _ := io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, buf)
		var ack [8]byte
		binary.BigEndian.PutUint64(ack[:], uint64(n))
		c.Write(ack[:])
		// Wait for the client to close, so the count is not lost.
		c.SetReadDeadline(time.Now().Add(eofWait))
		c.Read(buf)
	case 'r':
		newStream().Read(buf)
		dur := time.Duration(binary.BigEndian.Uint64(hdr[1:])) * time.Millisecond
		start := time.Now()
		for time.Since(start) < dur {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}
