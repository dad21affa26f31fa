// A one-name DNS responder and lookups with Go's resolver.

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

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
