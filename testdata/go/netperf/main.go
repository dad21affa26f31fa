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
//	http-fetch [-rate B] URL         GET URL (reading at most B bytes a second),
//	                                 print its size and SHA-256
//	udp-echo ADDR                    echo UDP datagrams until killed
//	udp-check ADDR                   datagrams of many sizes (some larger than
//	                                 the link's MTU) to a udp-echo, checked
//	connrate ADDR N                  N connect+close to an in-process server on ADDR
//	udprr ADDR N                     N one-datagram round trips to an in-process echo
//	tput [-local] ADDR SECONDS [send|recv]
//	                                 stream for SECONDS to/from a tput-serve at ADDR
//	                                 (-local: start that server in-process on ADDR)
//	tput-serve ADDR                  serve tput clients until killed
//	loopback                         TCP, HTTP, UDP, an io.Copy proxy and a download
//	                                 to a file (both splice) over 127.0.0.1 and [::1]
//	dns-serve ADDR NAME IP           answer DNS A queries for NAME with IP (IPv4),
//	                                 other names NXDOMAIN, until killed
//	resolve [-server ADDR] NAME      look NAME up with Go's resolver (through
//	                                 /etc/resolv.conf, or ADDR)
//	ping [-dgram] ADDR N             N ICMP echo requests on a raw socket (a ping
//	                                 socket with -dgram), 100 ms apart
//	ifaces                           the interfaces with their flags, hardware
//	                                 addresses and addresses (net.Interfaces)
//	dial ADDR                        one TCP connect; prints "dial ok" or "dial
//	                                 error ERRNO" (ECONNREFUSED, EHOSTUNREACH, ...)
//	gen N FILE                       write the first N bytes of the stream to FILE
//	sha256 FILE                      print the size and SHA-256 of FILE
//
// Each concern has its own file: transfer.go, http.go, udp.go, dns.go,
// icmp.go, ifaces.go, dial.go, loopback.go and bench.go.
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
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"
)

// seed keys the data stream. Both ends of a transfer run this same
// binary, so any seed works as long as it is fixed.
var seed = [32]byte{'u', 'k', '-', 'n', 'e', 't', 'p', 'e', 'r', 'f'}

// ioBuf is the size of every read and write of bulk data.
const ioBuf = 256 << 10

// dialPatience is how long client-tcp and tput keep retrying a refused or
// unreachable connect: the server may still be starting (under uk, the
// sandbox and its program start in a few hundred milliseconds).
const dialPatience = 30 * time.Second

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
	case "http-fetch":
		err = httpFetch(args)
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
	case "dial":
		err = dial(args)
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
