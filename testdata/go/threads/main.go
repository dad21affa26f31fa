// Command threads exercises what the Go runtime asks of a kernel when a
// program uses many threads: clone of threads, futexes, timers, signals
// (including SIGURG for asynchronous preemption, sent with tgkill), and
// fork/exec of a child with pipes. It runs with GOMAXPROCS=2.
//
// Usage:
//
//	threads            run every check and exit
//	threads -external  also print "ready" and wait up to 10 s for a SIGUSR1
//	                   sent from outside (the test kills the process it
//	                   started: the program natively, uk under uk)
//	threads -quick     the same checks with a tenth of the goroutines,
//	                   iterations and preemption steps, and without the
//	                   exec child (its Go start-up costs as much again):
//	                   for an emulated CPU, where every trap to the
//	                   kernel costs a fraction of a millisecond
//	threads child MODE the child half of the exec checks (see runChild)
//
// Every line it prints on stdout is deterministic, so a run under uk must
// print exactly what a native run prints (with the same flags). A check
// that fails prints a line with FAIL and the program exits 1; a check that
// hangs is bounded by a timeout that also prints FAIL. How long each check
// took goes to stderr.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// failed is set by any failing check; main exits 1 if it is.
var failed atomic.Bool

func failf(format string, args ...any) {
	failed.Store(true)
	fmt.Printf("FAIL: "+format+"\n", args...)
}

// size is how much work the checks do: full by default, a tenth with -quick.
type size struct {
	goroutines   int  // goroutines started at once
	mutexers     int  // goroutines contending for one mutex
	increments   int  // increments each of them makes
	pipeline     int  // numbers sent through the pipeline
	sleepers     int  // goroutines sleeping on timers at once
	preemptSteps int  // 1 ms sleeps beside the spinning loops
	exec         bool // run the exec child
}

var (
	full  = size{goroutines: 1000, mutexers: 100, increments: 1000, pipeline: 10000, sleepers: 50, preemptSteps: 20, exec: true}
	quick = size{goroutines: 100, mutexers: 10, increments: 100, pipeline: 1000, sleepers: 10, preemptSteps: 5}
)

// sz is the size of this run.
var sz = full

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "child" {
		os.Exit(runChild(os.Args[2]))
	}
	external := flag.Bool("external", false, "wait for a SIGUSR1 from outside after printing ready")
	short := flag.Bool("quick", false, "a tenth of the work, no exec child (for an emulated CPU)")
	flag.Parse()
	if *short {
		sz = quick
	}

	runtime.GOMAXPROCS(2)
	fmt.Println("threads: start")
	timed("goroutines", goroutines)
	timed("mutex", mutex)
	timed("pipeline", pipeline)
	timed("timers", timers)
	if sz.exec {
		timed("exec", execChild)
	}
	timed("signal child", signalChild)
	timed("signal self", signalSelf)
	timed("preempt", preempt)
	if *external {
		signalExternal()
	}
	if failed.Load() {
		fmt.Println("threads: FAILED")
		os.Exit(1)
	}
	fmt.Println("threads: done")
}

// timed runs check and reports its time on stderr.
func timed(name string, check func()) {
	t := time.Now()
	check()
	fmt.Fprintf(os.Stderr, "threads: %s took %v\n", name, time.Since(t).Round(time.Millisecond))
}

// goroutines starts sz.goroutines goroutines that each send a result on a
// channel.
func goroutines() {
	n := sz.goroutines
	results := make(chan int, 16)
	for i := 0; i < n; i++ {
		go func(i int) { results <- i * i }(i)
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += <-results
	}
	fmt.Printf("goroutines: %d sent, sum of squares %d\n", n, sum)
}

// mutex has sz.mutexers goroutines increment one counter sz.increments
// times each under a sync.Mutex; contention makes the runtime sleep on
// futexes.
func mutex() {
	var (
		mu      sync.Mutex
		counter int
		wg      sync.WaitGroup
	)
	for g := 0; g < sz.mutexers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < sz.increments; i++ {
				mu.Lock()
				counter++
				if i%100 == 0 {
					runtime.Gosched()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("mutex: counter %d\n", counter)
}

// pipeline passes sz.pipeline numbers through three unbuffered stages.
func pipeline() {
	src := make(chan int)
	sq := make(chan int)
	out := make(chan int)
	go func() {
		for i := 1; i <= sz.pipeline; i++ {
			src <- i
		}
		close(src)
	}()
	go func() {
		for v := range src {
			sq <- v * v
		}
		close(sq)
	}()
	go func() {
		s := 0
		for v := range sq {
			s = (s + v) % 1000003
		}
		out <- s
	}()
	fmt.Printf("pipeline: checksum %d\n", <-out)
}

// timers checks time.After, a Ticker and time.AfterFunc, each against a
// generous deadline so that a slow kernel is not a failure but a lost timer is.
func timers() {
	never := make(chan int)
	t0 := time.Now()
	select {
	case <-time.After(20 * time.Millisecond):
	case <-never:
	case <-time.After(10 * time.Second):
		failf("time.After(20ms) did not fire in 10 s")
	}
	if d := time.Since(t0); d < 20*time.Millisecond {
		failf("time.After(20ms) fired after %v", d)
	}

	ticker := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	deadline := time.After(10 * time.Second)
	for ticks < 5 {
		select {
		case <-ticker.C:
			ticks++
		case <-deadline:
			failf("ticker: %d ticks of 5 ms in 10 s", ticks)
			ticks = 5
		}
	}
	ticker.Stop()

	fired := make(chan struct{})
	time.AfterFunc(time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		failf("time.AfterFunc(1ms) did not run in 10 s")
	}

	// Many short sleeps at once: goroutines parked on timers on both Ps.
	var wg sync.WaitGroup
	for i := 0; i < sz.sleepers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i%5) * time.Millisecond)
		}(i)
	}
	wg.Wait()
	fmt.Printf("timers: after, ticker (5 ticks), afterfunc, %d sleepers ok\n", sz.sleepers)
}

// execChild runs this program again through /proc/self/exe with stdin and
// stdout on pipes; the child upper-cases what it reads and exits 3.
func execChild() {
	cmd := exec.Command("/proc/self/exe", "child", "upper")
	cmd.Stdin = strings.NewReader("alpha\nbeta\ngamma\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		failf("exec /proc/self/exe: %v", err)
		return
	} else {
		code = 0
	}
	if code != 3 {
		failf("exec child: exit status %d, want 3 (stderr %q)", code, stderr.String())
	}
	fmt.Printf("exec: child said %q, exit %d\n", out, code)
}

// signalChild starts a child that waits for SIGUSR1 and, once it says it is
// ready, sends it one from here: a signal from another process.
func signalChild() {
	cmd := exec.Command("/proc/self/exe", "child", "waitusr1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		failf("signal child: %v", err)
		return
	}
	if err := cmd.Start(); err != nil {
		failf("signal child: start: %v", err)
		return
	}
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if line != "ready\n" {
		failf("signal child: first line %q (%v), want ready", line, err)
		cmd.Process.Kill()
		cmd.Wait()
		return
	}
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		failf("signal child: kill: %v", err)
	}
	rest, _ := io.ReadAll(r)
	err = cmd.Wait()
	if err != nil {
		failf("signal child: %v", err)
	}
	fmt.Printf("signal child: child said %q\n", rest)
}

// signalSelf sends SIGUSR1 to its own process with kill(getpid()).
func signalSelf() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		failf("kill(getpid(), SIGUSR1): %v", err)
		return
	}
	select {
	case s := <-c:
		fmt.Printf("signal self: got %v\n", s)
	case <-time.After(10 * time.Second):
		failf("signal self: no SIGUSR1 within 10 s")
	}
}

// signalExternal waits for a SIGUSR1 that the test sends from outside
// after reading "ready".
func signalExternal() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	fmt.Println("ready")
	select {
	case s := <-c:
		fmt.Printf("signal external: got %v\n", s)
	case <-time.After(10 * time.Second):
		failf("signal external: no SIGUSR1 from outside within 10 s")
	}
}

// preempt occupies both Ps with loops that make no function calls, so no
// goroutine yields cooperatively: the main goroutine gets a P again only if
// the runtime preempts a loop asynchronously (sysmon sends SIGURG with
// tgkill to the thread running it; the handler rewrites the interrupted
// context). Main sleeps sz.preemptSteps times and runs a full GC (which stops the world,
// preempting both loops); each of those steps must finish within 3 s (a
// few ms natively; 1.6 s was seen under uk with a third CPU hog on this
// 2-CPU machine). The loops also stop by
// themselves after a bounded number of iterations, so a kernel that cannot
// preempt gives a FAIL line instead of a hang.
func preempt() {
	var stop atomic.Bool
	var started sync.WaitGroup
	var done sync.WaitGroup
	// About 7-20 s of spinning on this kind of CPU: far longer than the
	// main goroutine's steps take even on a loaded host, so a loop only
	// runs out when nothing preempted it.
	const limit = 20_000_000_000
	var exhausted atomic.Int32
	for i := 0; i < 2; i++ {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			n := 0
			for n < limit && !stop.Load() {
				n++
			}
			if n >= limit {
				exhausted.Add(1)
			}
		}()
	}
	started.Wait()
	// Progress is each step: a 1 ms sleep (the goroutine must get a P back
	// after its timer fires) and, last, a GC. Without preemption a step
	// waits for a loop to give up (seconds); with it, a few ms natively and
	// well under a second on a loaded host.
	var slowest time.Duration
	step := func(f func()) {
		t := time.Now()
		f()
		if d := time.Since(t); d > slowest {
			slowest = d
		}
	}
	for i := 0; i < sz.preemptSteps; i++ {
		step(func() { time.Sleep(time.Millisecond) })
	}
	step(runtime.GC)
	stop.Store(true)
	done.Wait()
	switch {
	case exhausted.Load() > 0:
		failf("preempt: the main goroutine did not run until a spinning loop gave up (slowest step %v): no asynchronous preemption", slowest)
	case slowest > 3*time.Second:
		failf("preempt: a step of the main goroutine took %v beside two spinning goroutines, want < 3s", slowest)
	default:
		fmt.Println("preempt: main goroutine ran beside 2 spinning goroutines")
	}
}

// runChild is the child half of execChild and signalChild.
func runChild(mode string) int {
	switch mode {
	case "upper":
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: read stdin:", err)
			return 1
		}
		os.Stdout.WriteString(strings.ToUpper(string(b)))
		return 3
	case "waitusr1":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		fmt.Println("ready")
		select {
		case s := <-c:
			fmt.Printf("child got %v\n", s)
			return 0
		case <-time.After(10 * time.Second):
			fmt.Println("child: FAIL no SIGUSR1 within 10 s")
			return 1
		}
	}
	fmt.Fprintln(os.Stderr, "child: unknown mode", mode)
	return 2
}
