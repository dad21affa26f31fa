// Package fdgrow grows uk's host fd table ahead of its use, off the path
// of whatever needs the fds.
//
// A process's fd table starts as large as its parent's was (64 entries at
// least), and the kernel doubles it when an fd past its end is needed. In
// a process with threads, as uk always is, every such growth waits for an
// RCU grace period: 4-16 ms on the machines uk is measured on, on the
// thread whose open needed the fd, and uk's opens are on the path of the
// sandbox's syscalls. A short job needs fewer than 64 of uk's fds; a
// compiler, git or a tree walk needs from 80 to several hundred (host
// directories and files uk keeps open, a socket and a pidfd per process),
// and paid a grace period at 64, 128, 256 and 512.
//
// So uk tells Note of the fds it opens for a sandbox (hostfs, the stubs'
// sockets), and once one reaches three quarters of the table, a goroutine
// grows the table in one step to Target entries while the sandbox runs
// on: the grace period is that goroutine's thread's alone, and the opens
// that still fit the old table go on meanwhile.
//
// Init must run before uk confines itself (it reads /proc/self/status).
package fdgrow

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Target is the table size a growth asks for: beyond what uk's bounded
// caches hold (hostfs's directory and idle-file fds) with a sandbox's
// files open, so that a second growth is rare.
const Target = 4096

var (
	// size is the table's size as last known, 0 before Init (Note then
	// does nothing).
	size atomic.Int64
	// target is Target, or less under a lower RLIMIT_NOFILE.
	target atomic.Int64
	// growing is set while a growth runs or after one that cannot be
	// repeated.
	growing atomic.Bool
	// done counts the growths made (for tests).
	done atomic.Int64
	// limit is RLIMIT_NOFILE as Init found it, 0 before Init (Scarce is
	// then never true).
	limit atomic.Int64
)

// Scarce reports whether fd lies in the last part of uk's fd limit, which
// uk keeps for its own needs (a stub per process, sockets, pidfds): a
// host file opened there for the sandbox is refused (ENFILE, a full file
// table), so that a program opening host files cannot leave uk unable to
// start a process. The part kept is a quarter of the limit, at most 4096.
func Scarce(fd int) bool {
	l := limit.Load()
	return l > 0 && int64(fd) >= l-min(l/4, 4096)
}

// Init learns the size of uk's fd table and the largest it may grow to.
func Init() {
	n := tableSize()
	if n <= 0 {
		return
	}
	t := int64(Target)
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil {
		limit.Store(int64(min(lim.Cur, 1<<31)))
		if lim.Cur < uint64(t) {
			t = int64(lim.Cur)
		}
	}
	target.Store(t)
	size.Store(n)
}

// tableSize reads the fd table's size (FDSize) of /proc/self/status; 0 if
// it cannot.
func tableSize() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "FDSize:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0
			}
			return n
		}
	}
	return 0
}

// Note is told of an fd uk has just opened: near the end of the table, it
// starts the table's growth in the background, once.
func Note(fd int) {
	n := size.Load()
	if n == 0 || int64(fd) < n*3/4 || n >= target.Load() {
		return
	}
	if !growing.CompareAndSwap(false, true) {
		return
	}
	go grow(fd, target.Load())
}

// grow makes the table t entries large: a duplicate of fd at t-1, closed
// at once, leaves the table that size. fd may have been closed since Note
// (EBADF): the next Note tries again.
func grow(fd int, t int64) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, int(t-1))
	if err != nil {
		if err == unix.EBADF {
			growing.Store(false)
		}
		return // EMFILE, EINVAL: the limit is lower; stay as we are
	}
	unix.Close(nfd)
	size.Store(t)
	done.Add(1)
	growing.Store(false)
}
