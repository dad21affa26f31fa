// HTTP: a file and stream server, and a checking load client.

package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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
	want := streamSum(size)
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

func equalSums(a, b hash.Hash) bool { return string(a.Sum(nil)) == string(b.Sum(nil)) }

// httpFetch GETs one URL and prints "size N sha256 HEX" of the body. With
// -rate it reads slowly, so that the server's writes are cut short by a
// full connection again and again.
func httpFetch(args []string) error {
	fs := flag.NewFlagSet("http-fetch", flag.ExitOnError)
	rate := fs.Int("rate", 0, "read at most this many bytes a second (0: as fast as possible)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	resp, err := http.Get(fs.Arg(0))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	h := sha256.New()
	var n int64
	buf := make([]byte, 16<<10)
	start := time.Now()
	for {
		m, err := resp.Body.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("body after %d bytes: %w", n, err)
		}
		if *rate > 0 {
			if ahead := time.Duration(float64(n)/float64(*rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	fmt.Printf("size %d sha256 %x\n", n, h.Sum(nil))
	return nil
}
