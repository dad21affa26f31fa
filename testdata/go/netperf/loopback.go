// The loopback checks: TCP, HTTP, UDP and a splicing proxy over
// 127.0.0.1 and [::1].

package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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
			{"tcp-proxy", loopProxy},
			{"tcp-to-file", loopToFile},
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

	want := streamSum(4 << 20)
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

// serveStream listens on a loopback port of host and sends the first n
// bytes of the data stream to the first connection, then closes it.
func serveStream(host string, n int64) (net.Listener, error) {
	l, err := listenLoop(host)
	if err != nil {
		return nil, err
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, io.LimitReader(newStream(), n))
		c.Close()
	}()
	return l, nil
}

// streamSum is the SHA-256 of the first n bytes of the data stream.
func streamSum(n int64) hash.Hash {
	h := sha256.New()
	io.Copy(h, io.LimitReader(newStream(), n))
	return h
}

// loopProxy relays 8 MiB through a proxy that joins two TCP connections
// with io.Copy, which Go does with splice(2) through a pipe on Linux,
// to a client that reads slowly.
func loopProxy(host string) error {
	const n = 8 << 20
	srv, err := serveStream(host, n)
	if err != nil {
		return err
	}
	defer srv.Close()
	px, err := listenLoop(host)
	if err != nil {
		return err
	}
	defer px.Close()
	proxyErr := make(chan error, 1)
	go func() {
		c, err := px.Accept()
		if err != nil {
			proxyErr <- err
			return
		}
		defer c.Close()
		up, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			proxyErr <- err
			return
		}
		defer up.Close()
		_, err = io.Copy(c, up)
		proxyErr <- err
	}()
	c, err := net.Dial("tcp", px.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	want := streamSum(n)
	got := sha256.New()
	buf := make([]byte, 32<<10)
	var m int64
	for {
		k, err := c.Read(buf)
		got.Write(buf[:k])
		m += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("client after %d bytes: %w", m, err)
		}
		if m%(1<<20) < int64(k) {
			time.Sleep(5 * time.Millisecond) // now and then, let the proxy's writes fill the connection
		}
	}
	if err := <-proxyErr; err != nil {
		return fmt.Errorf("proxy: io.Copy: %w", err)
	}
	if m != n || !equalSums(got, want) {
		return fmt.Errorf("client got %d bytes (want %d), hash matches %v", m, n, equalSums(got, want))
	}
	return nil
}

// loopToFile downloads 4 MiB from a TCP connection straight into a file
// with io.Copy, which Go does with splice(2) from the socket on Linux.
func loopToFile(host string) error {
	const n = 4 << 20
	srv, err := serveStream(host, n)
	if err != nil {
		return err
	}
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := os.CreateTemp("", "netperf-download-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if m, err := io.Copy(f, c); err != nil || m != n {
		return fmt.Errorf("io.Copy(file, conn): %d bytes (want %d), %v", m, n, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	got := sha256.New()
	io.Copy(got, f)
	if !equalSums(got, streamSum(n)) {
		return errors.New("the file's contents differ from what was sent")
	}
	return nil
}
