// Command patched makes system calls through Go's own syscall path
// (internal/runtime/syscall/linux.Syscall6, which syscall.Syscall and the
// os package use) often enough that uk's sigsys platform rewrites that
// site (kernel/mm's patch.go), and checks what Linux guarantees there:
// results, goroutines racing through the site while it is rewritten, and
// a blocking read interrupted by a signal whose handler (Go's, installed
// with SA_RESTART) makes the kernel restart it. Every line it prints is
// deterministic, so a run under uk must print what a native run prints.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() {
	ppid := uintptr(os.Getppid())
	bad := 0
	for i := 0; i < 1000; i++ {
		if r, _, _ := syscall.Syscall(syscall.SYS_GETPPID, 0, 0, 0); r != ppid {
			bad++
		}
	}
	fmt.Println("getppid through Syscall6, wrong results:", bad)

	var wg sync.WaitGroup
	var mu sync.Mutex
	bad = 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for i := 0; i < 5000; i++ {
				if r, _, _ := syscall.Syscall(syscall.SYS_GETPPID, 0, 0, 0); r != ppid {
					n++
				}
			}
			mu.Lock()
			bad += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Println("8 goroutines through the site, wrong results:", bad)

	// A read on a blocking pipe, interrupted by SIGUSR1 (Go's handler:
	// SA_RESTART), restarts and gets the byte written after it. Under uk
	// the restart resumes two bytes before the site's return address,
	// on the rewritten site's 0x06 byte.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		fmt.Println("pipe:", err)
		os.Exit(1)
	}
	// The read's own thread gets the signal (tgkill): only it can be
	// interrupted in its read.
	runtime.LockOSThread()
	tid := syscall.Gettid()
	go func() {
		time.Sleep(50 * time.Millisecond)
		syscall.Tgkill(os.Getpid(), tid, syscall.SIGUSR1)
		<-sigs
		time.Sleep(50 * time.Millisecond)
		syscall.Write(p[1], []byte("x"))
	}()
	buf := make([]byte, 1)
	n, err := syscall.Read(p[0], buf)
	fmt.Printf("read interrupted by SIGUSR1, restarted: %d %q %v\n", n, buf[:n], err)
}
