// The TCP transfer of serve-tcp and client-tcp (the protocol is in the
// package comment), and the stream written to or hashed from files.

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// eofWait is how long a receiver waits, after its ack, for the sender to
// close.
const eofWait = 10 * time.Second

// transferMode parses "send N" or "recv" and returns N (-1 for recv).
func transferMode(args []string) (int64, error) {
	switch {
	case len(args) == 2 && args[0] == "send":
		n, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad byte count %q", args[1])
		}
		return n, nil
	case len(args) == 1 && args[0] == "recv":
		return -1, nil
	}
	return 0, errors.New("want `send N` or `recv`")
}

func serveTCP(args []string) error {
	if len(args) < 2 {
		usage()
	}
	n, err := transferMode(args[1:])
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", l.Addr())
	c, err := l.Accept()
	l.Close()
	if err != nil {
		return err
	}
	defer c.Close()
	return transfer(c, n)
}

func clientTCP(args []string) error {
	if len(args) < 2 {
		usage()
	}
	n, err := transferMode(args[1:])
	if err != nil {
		return err
	}
	c, err := dialRetry("tcp", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	return transfer(c, n)
}

// transfer sends n bytes of the stream over c (n >= 0) or receives (n < 0),
// as the package comment's protocol says, and prints what it did.
func transfer(c net.Conn, n int64) error {
	if n >= 0 {
		return send(c, n, os.Stdout)
	}
	return receive(c, os.Stdout)
}

// send is the sending end of the transfer protocol; it reports to out.
func send(c net.Conn, n int64, out io.Writer) error {
	start := time.Now()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(n))
	if _, err := c.Write(hdr[:]); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(newStream(), n), h)
	buf := make([]byte, ioBuf)
	if _, err := io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{src}, buf); err != nil {
		return fmt.Errorf("write data: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	fmt.Fprintf(out, "sent %d sha256 %s\n", n, sum)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the receiver's ack: %w", err)
	}
	el := time.Since(start)
	f := strings.Fields(line)
	if len(f) != 2 {
		return fmt.Errorf("bad ack %q", line)
	}
	fmt.Fprintf(out, "ack %s sha256 %s\n", f[0], f[1])
	fmt.Fprintf(out, "seconds %.3f mibps %.1f\n", el.Seconds(), float64(n)/(1<<20)/el.Seconds())
	if f[0] != strconv.FormatInt(n, 10) || f[1] != sum {
		return fmt.Errorf("the receiver got %s bytes with sha256 %s; sent %d with %s", f[0], f[1], n, sum)
	}
	return nil
}

// receive is the receiving end of the transfer protocol; it reports to out.
func receive(c net.Conn, out io.Writer) error {
	start := time.Now()
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	want := int64(binary.BigEndian.Uint64(hdr[:]))
	h := sha256.New()
	buf := make([]byte, ioBuf)
	got, err := io.CopyBuffer(struct{ io.Writer }{h}, struct{ io.Reader }{io.LimitReader(c, want)}, buf)
	sum := hex.EncodeToString(h.Sum(nil))
	if err != nil {
		return fmt.Errorf("read data after %d bytes: %w", got, err)
	}
	el := time.Since(start)
	fmt.Fprintf(out, "received %d sha256 %s\n", got, sum)
	fmt.Fprintf(out, "seconds %.3f mibps %.1f\n", el.Seconds(), float64(got)/(1<<20)/el.Seconds())
	if _, err := fmt.Fprintf(c, "%d %s\n", got, sum); err != nil {
		return fmt.Errorf("write ack: %w", err)
	}
	if got != want {
		return fmt.Errorf("connection ended after %d of %d bytes", got, want)
	}
	// The sender closes once it has the ack: then the ack has arrived.
	c.SetReadDeadline(time.Now().Add(eofWait))
	if n, err := c.Read(buf); err != io.EOF {
		return fmt.Errorf("after the ack: want EOF, got %d bytes, %v", n, err)
	}
	return nil
}

func gen(args []string) error {
	if len(args) != 2 {
		usage()
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("bad byte count %q", args[0])
	}
	f, err := os.Create(args[1])
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(newStream(), n)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("size %d sha256 %x\n", n, h.Sum(nil))
	return nil
}

func sha256File(args []string) error {
	if len(args) != 1 {
		usage()
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	fmt.Printf("size %d sha256 %x\n", n, h.Sum(nil))
	return nil
}
