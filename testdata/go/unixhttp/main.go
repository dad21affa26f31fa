// Command unixhttp serves HTTP over an AF_UNIX socket and talks to itself
// through it with net/http: the Go runtime's netpoller (epoll, nonblocking
// accept4/connect) over unix sockets. It prints only deterministic lines.
//
// The socket is made in a fresh directory under os.Args[1] (default /tmp);
// a second round uses an abstract name.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

func main() {
	base := "/tmp"
	if len(os.Args) > 1 {
		base = os.Args[1]
	}
	dir, err := os.MkdirTemp(base, "ukhttp")
	if err != nil {
		fmt.Println("FAIL: mkdtemp:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	ok := round("path", filepath.Join(dir, "http.sock"))
	ok = round("abstract", fmt.Sprintf("@uk-unixhttp-%d", os.Getpid())) && ok
	if !ok {
		os.Exit(1)
	}
}

// round serves on addr and makes requests to it, some concurrently.
func round(label, addr string) bool {
	l, err := net.Listen("unix", addr)
	if err != nil {
		fmt.Printf("%s: FAIL listen: %v\n", label, err)
		return false
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, strings.ToUpper(string(b)))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("0123456789abcdef", 1<<14)))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		},
	}}
	good := true
	resp, err := client.Post("http://unix/echo", "text/plain", strings.NewReader("hello over a unix socket"))
	if err != nil {
		fmt.Printf("%s: FAIL post: %v\n", label, err)
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s: %d %s\n", label, resp.StatusCode, b)

	resp, err = client.Get("http://unix/big")
	if err != nil {
		fmt.Printf("%s: FAIL get: %v\n", label, err)
		return false
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Printf("%s: big body %d bytes\n", label, n)

	var wg sync.WaitGroup
	var mu sync.Mutex
	fails := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := client.Post("http://unix/echo", "text/plain", strings.NewReader(fmt.Sprintf("req%d", i)))
			if err == nil {
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if string(b) == fmt.Sprintf("POST /echo REQ%d", i) {
					return
				}
			}
			mu.Lock()
			fails++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if fails > 0 {
		fmt.Printf("%s: FAIL %d concurrent requests failed\n", label, fails)
		good = false
	} else {
		fmt.Printf("%s: 8 concurrent requests ok\n", label)
	}
	c, err := net.Dial("unix", addr)
	if err == nil {
		fmt.Printf("%s: local addr %q network %s\n", label, c.LocalAddr().String(), c.RemoteAddr().Network())
		c.Close()
	}
	srv.Close()
	if _, err := net.Dial("unix", addr); err == nil {
		fmt.Printf("%s: FAIL dial after close succeeded\n", label)
		good = false
	} else {
		fmt.Printf("%s: dial after close fails\n", label)
	}
	return good
}
