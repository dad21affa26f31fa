package kernel

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// TimeNamespace is a time namespace (CLONE_NEWTIME): offsets that the tasks
// in it see added to CLOCK_MONOTONIC and CLOCK_BOOTTIME (and the clocks
// derived from them). Its offsets may change only until a task enters it;
// from then on they are frozen, so a task's view of the clocks never
// jumps. The root namespace has zero offsets and is frozen from the start.
//
// A task has two: the one it is in, and the one its children will be in
// (unshare(CLONE_NEWTIME) changes only the second, as Linux's
// time_for_children). Namespaces live while a task or an open namespace
// file refers to them; nothing else holds them.
//
// Every clock read adds the offsets, so they are atomics read without a
// lock; mu only orders a write of timens_offsets against the freeze.
type TimeNamespace struct {
	inum uint64 // the inode number /proc/PID/ns/time shows

	mono   atomic.Int64 // ns added to CLOCK_MONOTONIC; written under mu while not frozen
	boot   atomic.Int64 // ns added to CLOCK_BOOTTIME; written under mu while not frozen
	mu     sync.Mutex
	frozen atomic.Bool // a task entered: offsets are fixed; set under mu
}

// rootTimeInum is the inode number of the initial time namespace, as
// Linux's PROC_TIME_INIT_INO.
const rootTimeInum = 0xEFFFFFFA

// capSysAdmin is CAP_SYS_ADMIN, which entering a namespace needs.
const capSysAdmin = 21

// nsInumBase is where the inode numbers of namespaces created at run time
// start, as Linux's proc_inum_ida.
const nsInumBase = 0xF0000000

// nextNSInum numbers the namespaces created at run time.
var nextNSInum atomic.Uint64

func newTimeNamespace(mono, boot int64) *TimeNamespace {
	ns := &TimeNamespace{inum: nsInumBase + nextNSInum.Add(1)}
	ns.mono.Store(mono)
	ns.boot.Store(boot)
	return ns
}

// Inum returns the namespace's inode number.
func (ns *TimeNamespace) Inum() uint64 { return ns.inum }

// Kind returns "time", the prefix of the namespace's link text.
func (ns *TimeNamespace) Kind() string { return "time" }

// CloneFlag returns CLONE_NEWTIME, the setns type of the namespace.
func (ns *TimeNamespace) CloneFlag() uint64 { return unix.CLONE_NEWTIME }

// offsets returns the monotonic and boottime offsets in ns.
func (ns *TimeNamespace) offsets() (mono, boot int64) {
	return ns.mono.Load(), ns.boot.Load()
}

// enter freezes the offsets: a task is in the namespace now. It reports
// whether the namespace moves the clocks at all (the vDSO serves a task
// only in a namespace that does not).
func (ns *TimeNamespace) enter() (shifted bool) {
	if !ns.frozen.Load() {
		ns.mu.Lock()
		ns.frozen.Store(true)
		ns.mu.Unlock()
	}
	return ns.shifts()
}

// shifts reports whether the namespace moves the clocks at all.
func (ns *TimeNamespace) shifts() bool {
	mono, boot := ns.offsets()
	return mono != 0 || boot != 0
}

// clockOffset returns what clock id reads in the namespace beyond the
// host's: the monotonic offset for the monotonic clocks, the boottime
// offset for the boottime clocks, 0 for the others.
func (ns *TimeNamespace) clockOffset(id int32) int64 {
	switch id {
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC_RAW:
		return ns.mono.Load()
	case unix.CLOCK_BOOTTIME, unix.CLOCK_BOOTTIME_ALARM:
		return ns.boot.Load()
	}
	return 0
}

// OffsetsText is /proc/PID/timens_offsets: one line per clock, in Linux's
// "%-10s %10lld %9ld" layout.
func (ns *TimeNamespace) OffsetsText() string {
	mono, boot := ns.offsets()
	line := func(name string, v int64) string {
		sec, nsec := v/1e9, v%1e9
		if nsec < 0 {
			sec, nsec = sec-1, nsec+1e9
		}
		return fmt.Sprintf("%-10s %10d %9d\n", name, sec, nsec)
	}
	return line("monotonic", mono) + line("boottime", boot)
}

// ktimeSecMax is the most seconds a ktime_t holds (Linux's KTIME_SEC_MAX).
const ktimeSecMax = (1<<63 - 1) / 1_000_000_000

// timensOffset is one parsed line of a write to timens_offsets.
type timensOffset struct {
	clock     int32
	sec, nsec int64
}

// parseTimensOffsets parses what a program writes to timens_offsets: up to
// two lines "CLOCK SECONDS NANOSECONDS", CLOCK being monotonic, boottime
// or their clock ids. Anything else is EINVAL, as Linux's
// timens_offsets_write.
func parseTimensOffsets(text string) ([]timensOffset, error) {
	var out []timensOffset
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || len(out) == 2 {
			return nil, unix.EINVAL
		}
		var o timensOffset
		switch f[0] {
		case "monotonic", "1":
			o.clock = unix.CLOCK_MONOTONIC
		case "boottime", "7":
			o.clock = unix.CLOCK_BOOTTIME
		default:
			return nil, unix.EINVAL
		}
		var err1, err2 error
		o.sec, err1 = strconv.ParseInt(f[1], 10, 64)
		o.nsec, err2 = strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || o.nsec < 0 || o.nsec >= 1e9 {
			return nil, unix.EINVAL
		}
		out = append(out, o)
	}
	return out, nil
}

// SetOffsets applies a write to timens_offsets: each clock's new offset
// must keep that clock, now, between 0 and half of ktime's range (ERANGE),
// and a namespace a task has entered takes no more (EACCES).
func (ns *TimeNamespace) SetOffsets(k *Kernel, text string) error {
	offs, err := parseTimensOffsets(text)
	if err != nil {
		return err
	}
	for _, o := range offs {
		now, _ := k.ClockNow(o.clock, nil)
		if o.sec > ktimeSecMax || o.sec < -ktimeSecMax {
			return unix.ERANGE
		}
		sec := now/1e9 + o.sec + (now%1e9+o.nsec)/1e9
		if sec < 0 || sec > ktimeSecMax/2 {
			return unix.ERANGE
		}
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.frozen.Load() {
		return unix.EACCES
	}
	for _, o := range offs {
		v := o.sec*1e9 + o.nsec
		if o.clock == unix.CLOCK_MONOTONIC {
			ns.mono.Store(v)
		} else {
			ns.boot.Store(v)
		}
	}
	return nil
}

// rootTimeNamespace is the initial time namespace, every sandbox's: with
// no offsets to change, one value serves them all.
var rootTimeNamespace = func() *TimeNamespace {
	ns := &TimeNamespace{inum: rootTimeInum}
	ns.frozen.Store(true)
	return ns
}()

// TimeNS returns the time namespace t is in.
func (t *Task) TimeNS() *TimeNamespace {
	if ns := t.timeNS.Load(); ns != nil {
		return ns
	}
	return rootTimeNamespace
}

// TimeNSForChildren returns the time namespace t's children will be in.
func (t *Task) TimeNSForChildren() *TimeNamespace {
	if ns := t.timeNSForChildren.Load(); ns != nil {
		return ns
	}
	return rootTimeNamespace
}

// unshareTime is unshare(CLONE_NEWTIME): a new namespace, with the
// offsets of the one it replaces, for the caller's future children.
func (t *Task) unshareTime() {
	mono, boot := t.TimeNSForChildren().offsets()
	t.timeNSForChildren.Store(newTimeNamespace(mono, boot))
}

// cloneTimeNS places a new task: a thread, or a process sharing its
// parent's memory, stays in its parent's namespace (the vDSO page of the
// memory is the parent's); any other child enters the namespace for
// children, or with CLONE_NEWTIME a new one copied from it.
func (t *Task) cloneTimeNS(child *Task, flags uint64) {
	kids := t.TimeNSForChildren()
	if flags&unix.CLONE_NEWTIME != 0 {
		mono, boot := kids.offsets()
		kids = newTimeNamespace(mono, boot)
	}
	child.timeNSForChildren.Store(kids)
	if flags&unix.CLONE_VM != 0 {
		child.timeNS.Store(t.TimeNS())
		return
	}
	child.timeNS.Store(kids)
	kids.enter()
}

// SetTimeNS is setns(2) of a time namespace: t enters ns, for itself and
// its future children, and its vDSO starts serving ns's clocks. Only a
// task alone in its process and its memory may (EUSERS), with
// CAP_SYS_ADMIN (EPERM).
func (t *Task) SetTimeNS(ns *TimeNamespace) error {
	t.tg.mu.Lock()
	alone := len(t.tg.tasks) == 1
	t.tg.mu.Unlock()
	if !alone || !t.MM.SoleUser() {
		return unix.EUSERS
	}
	if c := t.Credentials(); !c.HasCap(capSysAdmin) {
		return unix.EPERM
	}
	t.timeNS.Store(ns)
	t.timeNSForChildren.Store(ns)
	return t.k.switchVVAR(t.MM, ns.enter())
}

// execTimeNS enters, at execve, the namespace t's children would be in
// (Linux's exec_task_namespaces): the new program starts there.
func (t *Task) execTimeNS(ns *TimeNamespace) { t.timeNS.Store(ns) }

// Uptime is the time since boot as t sees it (nil: the host): Linux's
// CLOCK_BOOTTIME, moved by t's time namespace, which sysinfo(2) and
// /proc/uptime report.
func (k *Kernel) Uptime(t *Task) time.Duration {
	ns, _ := k.ClockNow(unix.CLOCK_BOOTTIME, t)
	return time.Duration(ns)
}
