// Command netperf is the network test and benchmark program of uk's
// networking tests (net_test.go, docs/bench/net.sh). The same static binary
// runs inside uk and natively on the host side of a TAP device, so each
// subcommand is one end of a conversation or a self-contained measurement.
//
// Every line it prints is "key value key value ..." or a plain word, so the
// tests parse it with strings.Fields; a line starting with FAIL reports a
// failure, and then the exit status is 1.
//
//	serve-tcp ADDR send N | recv     accept one connection on ADDR and send N
//	                                 bytes of the stream / receive and hash
//	client-tcp ADDR send N | recv    the same, connecting to ADDR (retrying
//	                                 while the server is not up yet)
//	http-serve DIR ADDR              serve the files of DIR over HTTP until killed,
//	                                 and /stream/N: the first N bytes of the stream
//	http-get URL N P                 N GETs of a /stream/SIZE URL, P at a time,
//	                                 each body checked against the stream
//	udp-echo ADDR                    echo UDP datagrams until killed
//	udp-check ADDR                   datagrams of many sizes (some larger than
//	                                 the link's MTU) to a udp-echo, checked
//	connrate ADDR N                  N connect+close to an in-process server on ADDR
//	udprr ADDR N                     N one-datagram round trips to an in-process echo
//	tput [-local] ADDR SECONDS [send|recv]
//	                                 stream for SECONDS to/from a tput-serve at ADDR
//	                                 (-local: start that server in-process on ADDR)
//	tput-serve ADDR                  serve tput clients until killed
//	loopback                         TCP, HTTP and UDP over 127.0.0.1 and [::1]
//	dns-serve ADDR NAME IP           answer DNS A queries for NAME with IP (IPv4),
//	                                 other names NXDOMAIN, until killed
//	resolve [-server ADDR] NAME      look NAME up with Go's resolver (through
//	                                 /etc/resolv.conf, or ADDR)
//	ping ADDR N                      N ICMP echo requests on a raw socket, one a
//	                                 second at most; prints each reply
//	ifaces                           the interfaces with their flags, hardware
//	                                 addresses and addresses (net.Interfaces)
//	gen N FILE                       write the first N bytes of the stream to FILE
//	sha256 FILE                      print the size and SHA-256 of FILE
//
// Listening subcommands print "listening ADDR" (the address actually bound)
// once they accept connections.
//
// The data stream is ChaCha8 keyed with a fixed seed: the same N bytes on
// every run, incompressible, and cheap to make at several GiB/s.
//
// TCP transfer protocol (serve-tcp and client-tcp, whichever side sends):
// the sender writes N as 8 bytes big-endian and then the N bytes; the
// receiver reads exactly that, answers one line "N HEX" with what it
// counted and hashed, and then waits for the sender to close. The sender
// closes only once it has read that line. So neither side exits while
// data it wrote may still be in flight: inside uk the network stack ends
// with the program, and the ack and the wait make the run independent of
// how long the stack lingers.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// seed keys the data stream; the tests rely on it never changing only in
// that both ends of a run use the same binary.
var seed = [32]byte{'u', 'k', '-', 'n', 'e', 't', 'p', 'e', 'r', 'f'}

// ioBuf is the size of every read and write of bulk data.
const ioBuf = 256 << 10

// dialPatience is how long client-tcp and tput keep retrying a refused or
// unreachable connect: the server may still be starting (under uk, the
// sandbox and its program start in a few hundred milliseconds).
const dialPatience = 30 * time.Second

// eofWait is how long a receiver waits, after its ack, for the sender to
// close.
const eofWait = 10 * time.Second

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve-tcp":
		err = serveTCP(args)
	case "client-tcp":
		err = clientTCP(args)
	case "http-serve":
		err = httpServe(args)
	case "http-get":
		err = httpGet(args)
	case "udp-echo":
		err = udpEcho(args)
	case "udp-check":
		err = udpCheck(args)
	case "connrate":
		err = connRate(args)
	case "udprr":
		err = udpRR(args)
	case "tput":
		err = tput(args)
	case "tput-serve":
		err = tputServe(args)
	case "loopback":
		err = loopback()
	case "dns-serve":
		err = dnsServe(args)
	case "resolve":
		err = resolve(args)
	case "ping":
		err = ping(args)
	case "ifaces":
		err = ifaces()
	case "gen":
		err = gen(args)
	case "sha256":
		err = sha256File(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: netperf serve-tcp|client-tcp ADDR send N|recv; http-serve DIR ADDR; connrate ADDR N; udprr ADDR N;")
	fmt.Fprintln(os.Stderr, "       tput [-local] ADDR SECONDS [send|recv]; tput-serve ADDR; loopback;")
	fmt.Fprintln(os.Stderr, "       ping ADDR N; ifaces; gen N FILE; sha256 FILE")
	os.Exit(2)
}

// newStream returns the data stream from its start.
func newStream() io.Reader { return rand.NewChaCha8(seed) }

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

// dialRetry connects to addr, retrying for dialPatience while the
// connection is refused or the host unreachable.
func dialRetry(network, addr string) (net.Conn, error) {
	deadline := time.Now().Add(dialPatience)
	for {
		c, err := net.DialTimeout(network, addr, 5*time.Second)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
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

func httpServe(args []string) error {
	if len(args) != 2 {
		usage()
	}
	l, err := net.Listen("tcp", args[1])
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(args[0])))
	mux.HandleFunc("/stream/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		io.Copy(w, io.LimitReader(newStream(), n))
	})
	fmt.Printf("listening %s\n", l.Addr())
	return http.Serve(l, mux)
}

// httpGet fetches a /stream/SIZE URL N times, P requests at a time, and
// checks every body against the stream.
func httpGet(args []string) error {
	if len(args) != 3 {
		usage()
	}
	url := args[0]
	i := strings.LastIndex(url, "/stream/")
	if i < 0 {
		return fmt.Errorf("%s is not a /stream/SIZE URL", url)
	}
	size, err := strconv.ParseInt(url[i+len("/stream/"):], 10, 64)
	if err != nil {
		return fmt.Errorf("bad size in %s", url)
	}
	n, err := count(args[1])
	if err != nil {
		return err
	}
	par, err := count(args[2])
	if err != nil {
		return err
	}
	want := sha256.New()
	io.Copy(want, io.LimitReader(newStream(), size))
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: par}}
	jobs := make(chan int)
	errs := make(chan error, n)
	for w := 0; w < par; w++ {
		go func() {
			for range jobs {
				errs <- getOne(client, url, size, want)
			}
		}()
	}
	start := time.Now()
	go func() {
		for j := 0; j < n; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	var first error
	bad := 0
	for j := 0; j < n; j++ {
		if err := <-errs; err != nil {
			bad++
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		return fmt.Errorf("%d of %d requests failed; the first: %w", bad, n, first)
	}
	fmt.Printf("http-get ok %d size %d seconds %.3f\n", n, size, time.Since(start).Seconds())
	return nil
}

func getOne(client *http.Client, url string, size int64, want hash.Hash) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	h := sha256.New()
	got, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("body after %d bytes: %w", got, err)
	}
	if got != size || !equalSums(h, want) {
		return fmt.Errorf("body of %d bytes (want %d) does not match the stream", got, size)
	}
	return nil
}

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

// median returns the median of ds, sorting them.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// count parses a positive iteration count.
func count(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("bad count %q", s)
	}
	return n, nil
}

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

// loopback exercises TCP, net/http and UDP over both loopback addresses
// and prints only what is the same on every run and every kernel.
func loopback() error {
	failed := false
	for _, host := range []string{"127.0.0.1", "::1"} {
		for _, step := range []struct {
			name string
			fn   func(host string) error
		}{
			{"tcp-echo", loopTCPEcho},
			{"tcp-bulk", loopTCPBulk},
			{"http", loopHTTP},
			{"udp", loopUDP},
			{"tcp-refused", loopRefused},
		} {
			if err := step.fn(host); err != nil {
				fmt.Printf("FAIL %s %s: %v\n", host, step.name, err)
				failed = true
				continue
			}
			fmt.Printf("ok %s %s\n", host, step.name)
		}
	}
	if failed {
		os.Exit(1)
	}
	return nil
}

// listenLoop listens on an ephemeral TCP port of host and checks the
// address it got.
func listenLoop(host string) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	a := l.Addr().(*net.TCPAddr)
	if a.IP.String() != host || a.Port == 0 {
		l.Close()
		return nil, fmt.Errorf("listening address %v", a)
	}
	return l, nil
}

// loopTCPEcho: one accepted connection echoes lines in upper case; the
// client's and server's views of the addresses must mirror each other.
func loopTCPEcho(host string) error {
	l, err := listenLoop(host)
	if err != nil {
		return err
	}
	defer l.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := l.Accept()
		ch <- accepted{c, err}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	a := <-ch
	if a.err != nil {
		return a.err
	}
	defer a.c.Close()
	if a.c.RemoteAddr().String() != c.LocalAddr().String() || a.c.LocalAddr().String() != c.RemoteAddr().String() {
		return fmt.Errorf("addresses: server sees %v->%v, client %v->%v",
			a.c.RemoteAddr(), a.c.LocalAddr(), c.LocalAddr(), c.RemoteAddr())
	}
	go func() {
		r := bufio.NewReader(a.c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				a.c.Close()
				return
			}
			io.WriteString(a.c, strings.ToUpper(line))
		}
	}()
	r := bufio.NewReader(c)
	for _, msg := range []string{"hello\n", "over loopback\n", strings.Repeat("x", 100000) + "\n"} {
		if _, err := io.WriteString(c, msg); err != nil {
			return err
		}
		got, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if got != strings.ToUpper(msg) {
			return fmt.Errorf("echo of %d bytes came back as %d bytes", len(msg), len(got))
		}
	}
	c.(*net.TCPConn).CloseWrite()
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("after half-close: want EOF from the echo server, got %v", err)
	}
	return nil
}

// loopTCPBulk moves 16 MiB of the stream through loopback with the
// transfer protocol and compares hashes.
func loopTCPBulk(host string) error {
	l, err := listenLoop(host)
	if err != nil {
		return err
	}
	defer l.Close()
	const n = 16 << 20
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		errc <- receive(c, io.Discard)
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	err = send(c, n, io.Discard)
	c.Close()
	if rerr := <-errc; err == nil {
		err = rerr
	}
	return err
}

// loopHTTP serves a few handlers and fetches them with net/http.
func loopHTTP(host string) error {
	l, err := listenLoop(host)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("who"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, io.LimitReader(newStream(), 4<<20))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		// Read all first: net/http's HTTP/1 server stops reading the
		// body once the response has started.
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	defer srv.Close()
	base := "http://" + l.Addr().String()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	resp, err := client.Get(base + "/hello?who=uk")
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hello uk" {
		return fmt.Errorf("GET /hello: %d %q", resp.StatusCode, b)
	}

	want := sha256.New()
	io.Copy(want, io.LimitReader(newStream(), 4<<20))
	resp, err = client.Get(base + "/big")
	if err != nil {
		return err
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || !equalSums(got, want) {
		return fmt.Errorf("GET /big: %d bytes, %v, hash matches %v", n, err, equalSums(got, want))
	}

	// Concurrent requests on several connections.
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			body := strings.Repeat(strconv.Itoa(i), 1000*(i+1))
			resp, err := client.Post(base+"/echo", "text/plain", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && string(b) != body {
				err = fmt.Errorf("POST /echo %d: body of %d bytes came back as %d", i, len(body), len(b))
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func equalSums(a, b hash.Hash) bool { return string(a.Sum(nil)) == string(b.Sum(nil)) }

// loopUDP: datagrams keep their boundaries and their sender's address.
func loopUDP(host string) error {
	srv, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	defer srv.Close()
	c, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	defer c.Close()
	sizes := []int{1, 100, 1472, 8000, 0}
	for _, size := range sizes {
		msg := []byte(strings.Repeat("u", size))
		if _, err := c.WriteTo(msg, srv.LocalAddr()); err != nil {
			return fmt.Errorf("send %d bytes: %w", size, err)
		}
	}
	buf := make([]byte, 65536)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, size := range sizes {
		n, from, err := srv.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if n != size || from.String() != c.LocalAddr().String() {
			return fmt.Errorf("got %d bytes from %v, want %d from %v", n, from, size, c.LocalAddr())
		}
		if _, err := srv.WriteTo(buf[:n], from); err != nil {
			return err
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, size := range sizes {
		n, _, err := c.ReadFrom(buf)
		if err != nil || n != size {
			return fmt.Errorf("echo: got %d bytes, %v; want %d", n, err, size)
		}
	}
	return nil
}

// loopRefused: a connect to a port nobody listens on is refused at once.
func loopRefused(host string) error {
	l, err := listenLoop(host)
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	_, err = net.DialTimeout("tcp", addr, 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("connect to a closed port: %v, want ECONNREFUSED", err)
	}
	return nil
}

// ping sends ICMP echo requests to an IPv4 address on a raw socket (as
// root; Go's ip4 raw connections strip the IP header) and requires a
// matching reply to each. It prints "reply SEQ BYTES" per reply and the
// median round trip.
func ping(args []string) error {
	if len(args) != 2 {
		usage()
	}
	n, err := count(args[1])
	if err != nil {
		return err
	}
	dst, err := net.ResolveIPAddr("ip4", args[0])
	if err != nil {
		return err
	}
	c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
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
			if m < 8 || buf[0] != 0 || from.String() != dst.String() ||
				binary.BigEndian.Uint16(buf[4:]) != id || binary.BigEndian.Uint16(buf[6:]) != uint16(seq) {
				continue
			}
			if icmpChecksum(buf[:m]) != 0 || !bytes.Equal(buf[8:m], msg[8:]) {
				return fmt.Errorf("echo %d: reply of %d bytes is corrupt", seq, m)
			}
			ds = append(ds, time.Since(start))
			fmt.Printf("reply %d bytes %d from %s\n", seq, m, from)
			break
		}
		if seq < n {
			time.Sleep(100 * time.Millisecond)
		}
	}
	fmt.Printf("ping n %d median_us %.1f\n", n, float64(median(ds).Nanoseconds())/1000)
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

// ifaces prints one line per interface: "iface NAME flags F,F mtu N hw
// MAC addrs A/P,A/P" (addresses sorted).
func ifaces() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return fmt.Errorf("addresses of %s: %w", ifc.Name, err)
		}
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		slices.Sort(as)
		hw := ifc.HardwareAddr.String()
		if hw == "" {
			hw = "none"
		}
		flags := strings.ReplaceAll(ifc.Flags.String(), "|", ",")
		fmt.Printf("iface %s index %d flags %s mtu %d hw %s addrs %s\n", ifc.Name, ifc.Index, flags, ifc.MTU, hw, strings.Join(as, ","))
	}
	return nil
}

// dnsServe answers queries for one name with one IPv4 address: a DNS
// server just large enough for Go's resolver (one question per query,
// EDNS records ignored, AAAA answered with no records).
func dnsServe(args []string) error {
	if len(args) != 3 {
		usage()
	}
	name := strings.TrimSuffix(strings.ToLower(args[1]), ".")
	ip := net.ParseIP(args[2]).To4()
	if ip == nil {
		return fmt.Errorf("%q is not an IPv4 address", args[2])
	}
	c, err := net.ListenPacket("udp", args[0])
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", c.LocalAddr())
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if resp := dnsAnswer(buf[:n], name, ip); resp != nil {
			c.WriteTo(resp, from)
		}
	}
}

// dnsAnswer builds the response to query q, or nil if q is malformed.
func dnsAnswer(q []byte, name string, ip net.IP) []byte {
	const typeA, classIN = 1, 1
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	// The question: labels up to the root, then type and class.
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(q) {
			return nil
		}
		labels = append(labels, strings.ToLower(string(q[i:i+l])))
		i += l
	}
	if i+4 > len(q) {
		return nil
	}
	qtype, qclass := binary.BigEndian.Uint16(q[i:]), binary.BigEndian.Uint16(q[i+2:])
	question := q[12 : i+4]
	resp := make([]byte, 12, 12+len(question)+16)
	copy(resp, q[:2])                       // ID
	resp[2] = 0x80 | 0x04 | q[2]&0x01       // QR, AA, RD copied
	resp[3] = 0x80                          // RA, rcode 0
	binary.BigEndian.PutUint16(resp[4:], 1) // QDCOUNT
	resp = append(resp, question...)
	switch {
	case strings.Join(labels, ".") != name:
		resp[3] |= 3 // NXDOMAIN
	case qtype == typeA && qclass == classIN:
		binary.BigEndian.PutUint16(resp[6:], 1) // ANCOUNT
		resp = append(resp, 0xc0, 12)           // the name: a pointer to the question's
		resp = binary.BigEndian.AppendUint16(resp, typeA)
		resp = binary.BigEndian.AppendUint16(resp, classIN)
		resp = binary.BigEndian.AppendUint32(resp, 60)
		resp = binary.BigEndian.AppendUint16(resp, 4)
		resp = append(resp, ip...)
	}
	return resp
}

// resolve looks a name up and prints "resolved NAME ADDR..." (sorted) or
// "notfound NAME".
func resolve(args []string) error {
	fs := flag.NewFlagSet("resolve", flag.ExitOnError)
	server := fs.String("server", "", "ask this DNS server (host:port) instead of /etc/resolv.conf's")
	fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	r := &net.Resolver{PreferGo: true}
	if *server != "" {
		r.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, *server)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, fs.Arg(0))
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		fmt.Printf("notfound %s\n", fs.Arg(0))
		return nil
	}
	if err != nil {
		return err
	}
	slices.Sort(addrs)
	fmt.Printf("resolved %s %s\n", fs.Arg(0), strings.Join(addrs, " "))
	return nil
}
