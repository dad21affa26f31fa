package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"uk/kernel/memfile"
)

// What a sandbox may take from the host beyond its --mem, and how uk
// holds it there. README.md ("Resource limits") states the bounds.

// maxDefaultPids is the task limit when the host's pid_max leaves room
// for more: enough for a parallel build or a server's thread pool.
const maxDefaultPids = 4096

// defaultPids is --pids' default: a thirty-second of the host's pid_max
// (1024 for the common 32768), at most maxDefaultPids. A sandbox task
// costs the host up to three tasks (uk's thread, the ptrace stub's thread
// and, for a process, its stub process), so two sandboxes at their limits
// hold under a fifth of the host's PIDs.
func defaultPids() int {
	n := maxDefaultPids
	if pm, err := hostPidMax(); err == nil {
		n = min(n, max(64, pm/32))
	}
	return n
}

// hostPidMax reads the host's kernel.pid_max.
func hostPidMax() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		return 0, fmt.Errorf("read pid_max: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse pid_max %q: %w", b, err)
	}
	return n, nil
}

// threadHeadroom is how many OS threads uk may need beyond one per task:
// the Go runtime's own (one per CPU running Go code, the system monitor,
// threads blocked in host system calls), the network stack's, the memory
// file's punching.
const threadHeadroom = 2000

// checkPids refuses a task limit that the host could not honour: with up
// to three host tasks per sandbox task, more than a third of pid_max would
// let one sandbox take every PID the host has.
func checkPids(pids int) error {
	if pids < 1 {
		return fmt.Errorf("--pids %d: want at least 1", pids)
	}
	if pm, err := hostPidMax(); err == nil && pids > pm/3 {
		return fmt.Errorf("--pids %d: more than a third of the host's pid_max (%d); each sandbox task holds up to three host tasks", pids, pm)
	}
	return nil
}

// setThreadLimit raises Go's limit on OS threads (10000 by default) above
// what pids tasks need, so that reaching the task limit gives the program
// EAGAIN from clone instead of ending uk with "thread exhaustion".
func setThreadLimit(pids int) {
	debug.SetMaxThreads(max(10000, pids+threadHeadroom))
}

// Memory beyond --mem. The memory file is --mem bytes and everything a
// program can make uk hold in its own heap is charged to it as well
// (kernel/memfile's Charge: pipe pages, queued socket messages, gathered
// datagrams, I/O buffers over kernel.SmallIO, descriptor tables and
// descriptions), so the program's pages plus those buffers stay within
// --mem. What is left is uk's own: the Go runtime, the network stack's
// state, and per task a goroutine and OS thread stack, the task's state
// and at most a SmallIO buffer. Go's memory limit holds the heap to that
// plus what is charged, so garbage from charged buffers is collected
// before it could make uk's footprint grow past the bound.
const (
	// memOverhead is what the Go runtime may hold beyond --mem, tasks
	// aside: with uk's executable (about 12 MiB resident) and the slack
	// of the charge hook (4 MiB), uk stays under 64 MiB above --mem.
	memOverhead = 40 << 20
	// taskOverhead is what each task allowed by --pids may add (measured:
	// about 26 KiB per thread, plus a SmallIO buffer and an iovec array
	// in flight).
	taskOverhead = 64 << 10
)

// footprintBound is what uk may hold beyond --mem with pids tasks.
func footprintBound(pids int) int64 {
	return memOverhead + taskOverhead*int64(pids)
}

// limitGoMemory keeps Go's memory limit at the footprint bound plus what
// is charged to mf now, moving it as the charges move.
func limitGoMemory(mf *memfile.File, pids int) {
	bound := footprintBound(pids)
	mf.SetChargeHook(func(charged int64) {
		// The hook hears of moves of a few MiB: leave that much slack.
		debug.SetMemoryLimit(bound + charged + 4<<20)
	})
}
