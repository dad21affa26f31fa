package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel"
)

// runFlags are the flags only uk run has: the sandbox's mounts, its
// identity and working directory, and the limits a CI job expects.
type runFlags struct {
	binds   multiFlag
	tmpfs   multiFlag
	timeout time.Duration
	cpuTime time.Duration
	chdir   string
	user    string
	report  string

	// What the flags ask, once parsed.
	reportFile *os.File // --report, created at parse: uk cannot open host paths once confined
	mounts     sandboxMounts
	creds      *vfs.Credentials // nil: root
	start      time.Time        // when uk started: --timeout counts from here
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.Var(&r.binds, "bind", "mount the host directory HOST at GUEST: HOST:GUEST[:ro] (repeatable; read-write unless :ro)")
	fs.Var(&r.tmpfs, "tmpfs", "mount an empty tmpfs at this path in the sandbox (repeatable)")
	fs.DurationVar(&r.timeout, "timeout", 0, "wall-clock limit (e.g. 10m): then every process is killed and uk exits 124")
	fs.DurationVar(&r.cpuTime, "cpu-time", 0, "CPU time all the sandbox's processes may use together (e.g. 30s): then every process is killed and uk exits 152 (128+SIGXCPU)")
	fs.StringVar(&r.chdir, "chdir", "", "the program's working directory in the sandbox (default /)")
	fs.StringVar(&r.user, "user", "", "run as UID[:GID] (numbers) instead of root")
	fs.StringVar(&r.report, "report", "", "write a JSON summary here when uk ends (status, times, peak memory, tasks, limit, ENOSYS calls)")
}

// parse checks the flags' values.
func (r *runFlags) parse() error {
	r.start = time.Now()
	if r.timeout < 0 || r.cpuTime < 0 {
		return usageError{"--timeout and --cpu-time want a positive duration (e.g. 90s, 10m)"}
	}
	if r.user != "" {
		us, gs, hasGID := strings.Cut(r.user, ":")
		uid, err := strconv.ParseUint(us, 10, 32)
		gid := uid
		if err == nil && hasGID {
			gid, err = strconv.ParseUint(gs, 10, 32)
		}
		if err != nil || uid == 1<<32-1 || gid == 1<<32-1 {
			return usageError{fmt.Sprintf("--user %q: want UID or UID:GID (numbers)", r.user)}
		}
		if uid != 0 || gid != 0 {
			r.creds = vfs.UserCredentials(uint32(uid), uint32(gid))
			if uid == 0 {
				r.creds.SetCaps(vfs.AllCaps, vfs.AllCaps, 0)
			}
		}
		r.mounts.uid, r.mounts.gid = uint32(uid), uint32(gid)
	}
	for _, s := range r.binds {
		b, err := parseBind(s)
		if err != nil {
			return usageError{err.Error()}
		}
		r.mounts.binds = append(r.mounts.binds, b)
	}
	for _, t := range r.tmpfs {
		if t == "" || t[0] != '/' {
			return usageError{fmt.Sprintf("--tmpfs %q: want an absolute path", t)}
		}
	}
	r.mounts.tmpfs = r.tmpfs
	if r.report != "" {
		// Opened now, before uk confines itself (its seccomp filter
		// allows no open of a host path later), and written at the end.
		f, err := os.OpenFile(r.report, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return usageError{fmt.Sprintf("--report: %v", err)}
		}
		r.reportFile = f
	}
	return nil
}

// setCwd makes --chdir the working directory of root.
func (r *runFlags) setCwd(k *kernel.Kernel, root *vfs.FSContext) error {
	if r.chdir == "" {
		return nil
	}
	ctx := vfs.KernelContext{}
	p, err := k.VFS.Resolve(ctx, root.At(vfs.Path{}), r.chdir, 0)
	if err == nil && !p.Dentry.IsDir() {
		err = syscall.ENOTDIR
	}
	if err != nil {
		return fmt.Errorf("--chdir %s: %w", r.chdir, err)
	}
	root.SetCwd(p)
	return nil
}

// Exit statuses of a limit that tripped: timeout(1)'s, and that of a
// process killed by SIGXCPU.
const (
	exitTimeout = 124
	exitCPUTime = 128 + int(syscall.SIGXCPU)
)

// wait waits for the sandbox to end, enforcing --timeout and --cpu-time:
// when one trips, every process is killed, one line on stderr says which
// limit, and the status is exitTimeout or exitCPUTime (tripped true).
func (r *runFlags) wait(k *kernel.Kernel) (status int, tripped bool) {
	limit := ""
	var peak int64
	if r.report != "" {
		defer func() { r.writeReport(k, status, limit, peak) }()
	}
	done := make(chan int, 1)
	go func() { done <- k.Wait() }()
	var deadline <-chan time.Time
	if r.timeout > 0 {
		t := time.NewTimer(time.Until(r.start.Add(r.timeout)))
		defer t.Stop()
		deadline = t.C
	}
	var tick <-chan time.Time
	if r.cpuTime > 0 || r.report != "" {
		// Polled: a busy loop is noticed within a tick of the limit.
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case st := <-done:
			return st, false
		case <-deadline:
			limit = "timeout"
			fmt.Fprintf(os.Stderr, "uk: --timeout %v reached: killed every process\n", r.timeout)
			k.Stop()
			r.drain(done)
			return exitTimeout, true
		case <-tick:
			peak = max(peak, memoryInUse(k))
			if r.cpuTime == 0 || k.CPUTotal() < r.cpuTime.Nanoseconds() {
				continue
			}
			limit = "cpu-time"
			fmt.Fprintf(os.Stderr, "uk: --cpu-time %v used up: killed every process\n", r.cpuTime)
			// The status is a SIGXCPU death's, as RLIMIT_CPU's; the signal
			// itself is not sent: no handler could run once the sandbox
			// stops.
			k.Stop()
			r.drain(done)
			return exitCPUTime, true
		}
	}
}

// drain gives the killed sandbox a moment to end; uk exits regardless
// (its stubs die with it).
func (r *runFlags) drain(done <-chan int) {
	select {
	case <-done:
	case <-time.After(500 * time.Millisecond):
	}
}

// memoryInUse is the sandbox's memory now: pages in use and kernel
// buffers charged to its budget.
func memoryInUse(k *kernel.Kernel) int64 {
	mf := k.MemFile
	return mf.UsedPages()*arch.PageSize + mf.Charged()
}

// runReport is what --report writes.
type runReport struct {
	ExitStatus int     `json:"exit_status"`
	Signal     string  `json:"signal,omitempty"` // the signal that killed the program, if one did (from exit_status 129-159)
	Limit      string  `json:"limit,omitempty"`  // "timeout" or "cpu-time" when one tripped, "mem" when the OOM killer killed the job itself
	WallSec    float64 `json:"wall_seconds"`
	CPUSec     float64 `json:"cpu_seconds"`
	// PeakMemory is the most memory the sandbox used, sampled every
	// 50 ms: pages and charged kernel buffers, bytes.
	PeakMemory   int64          `json:"peak_memory_bytes"`
	TasksCreated int64          `json:"tasks_created"`
	ENOSYS       map[string]int `json:"enosys"` // calls of each unimplemented syscall
	// OOMKills are the processes --mem's OOM killer killed (the first
	// 64), OOMKillsTotal how many in all.
	OOMKills      []reportedProcess `json:"oom_kills,omitempty"`
	OOMKillsTotal int               `json:"oom_kills_total,omitempty"`
}

// reportedProcess names a process in the report.
type reportedProcess struct {
	PID  int32  `json:"pid"`
	Comm string `json:"comm"`
}

// writeReport writes --report's JSON; a failure is one line on stderr.
func (r *runFlags) writeReport(k *kernel.Kernel, status int, limit string, peak int64) {
	rep := runReport{ExitStatus: status, Limit: limit, WallSec: time.Since(r.start).Seconds(),
		CPUSec: float64(k.CPUTotal()) / 1e9, PeakMemory: max(peak, memoryInUse(k)),
		TasksCreated: k.TasksCreated(), ENOSYS: k.MissingSyscalls()}
	if status > 128 && status < 128+65 && limit == "" {
		rep.Signal = unix.SignalName(syscall.Signal(status - 128))
	}
	kills, total := k.OOMKills()
	rep.OOMKillsTotal = total
	for _, v := range kills {
		rep.OOMKills = append(rep.OOMKills, reportedProcess{PID: v.PID, Comm: v.Comm})
		if v.PID == k.MainPID() && limit == "" {
			rep.Limit = "mem"
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err == nil {
		_, err = r.reportFile.Write(append(b, '\n'))
	}
	if cerr := r.reportFile.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "uk: --report: %v\n", err)
	}
}
