package syscalls

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

func sysWait4(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, statusAddr, options, rusageAddr := int32(a[0]), a[1], int(a[2]), a[3]
	if options&^(0x1|0x2|0x8|0x20000000|0x40000000|0x80000000) != 0 {
		return 0, unix.EINVAL
	}
	if pid == math.MinInt32 {
		return 0, unix.ESRCH // its process group, -INT_MIN, is no number
	}
	var sel kernel.WaitSelector
	switch {
	case pid > 0:
		sel.Pid = pid
	case pid == 0:
		sel.PGID = t.ThreadGroup().ProcessGroup()
	case pid < -1:
		sel.PGID = -pid
	}
	r, err := t.Wait(sel, options|0x4 /* WEXITED */)
	if err != nil || r.Pid == 0 {
		return 0, err
	}
	if statusAddr != 0 {
		if err := putUint32(t, statusAddr, uint32(r.Status)); err != nil {
			return 0, err
		}
	}
	if rusageAddr != 0 {
		if err := t.CopyOut(rusageAddr, rusage(r.CPU, r.Sys, r.MaxRSS, r.MinFlt, r.Nvcsw)); err != nil {
			return 0, err
		}
	}
	return uint64(r.Pid), nil
}

// rusage encodes struct rusage from the CPU time and its system part
// (ns: ru_utime is the rest), the resident high-water mark (pages;
// ru_maxrss is in KiB), the page faults uk resolved (ru_minflt; none
// needed I/O that counts as major) and the waits in uk (ru_nvcsw).
func rusage(cpu, sys int64, maxRSSPages int, minflt, nvcsw int64) []byte {
	b := make([]byte, 144)
	user := max(cpu-sys, 0)
	copy(b[0:], words(uint64(user/1e9), uint64(user%1e9/1e3), uint64(sys/1e9), uint64(sys%1e9/1e3),
		uint64(maxRSSPages)*arch.PageSize/1024))
	binary.LittleEndian.PutUint64(b[64:], uint64(minflt)) // ru_minflt
	binary.LittleEndian.PutUint64(b[128:], uint64(nvcsw)) // ru_nvcsw
	return b
}

func sysWaitid(t *kernel.Task, a [6]uint64) (uint64, error) {
	idtype, id, infoAddr, options, rusageAddr := a[0], int32(a[1]), a[2], int(a[3]), a[4]
	if options&^(0x1|0x2|0x4|0x8|0x01000000|0x20000000|0x40000000|0x80000000) != 0 || options&(0x2|0x4|0x8) == 0 {
		return 0, unix.EINVAL
	}
	var sel kernel.WaitSelector
	switch idtype {
	case pAll:
	case pPid:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		sel.Pid = id
	case pPgid:
		if id < 0 {
			return 0, unix.EINVAL
		}
		sel.PGID = id
		if id == 0 {
			sel.PGID = t.ThreadGroup().ProcessGroup()
		}
	case pPidfd:
		// The pidfd's process; its O_NONBLOCK (PIDFD_NONBLOCK) makes the
		// wait not wait: EAGAIN while the child runs.
		if id < 0 {
			return 0, unix.EINVAL
		}
		tg, nonblock, err := pidfdProcess(t, id)
		if err != nil {
			return 0, err
		}
		sel.Pid = tg.PID()
		if nonblock && options&unix.WNOHANG == 0 {
			r, err := t.Wait(sel, options|unix.WNOHANG)
			if err == nil && r.Pid == 0 {
				return 0, unix.EAGAIN
			}
			return waitidResult(t, r, err, infoAddr, rusageAddr)
		}
	default:
		return 0, unix.EINVAL
	}
	r, err := t.Wait(sel, options)
	return waitidResult(t, r, err, infoAddr, rusageAddr)
}

// waitidResult writes what waitid found (a zero siginfo when WNOHANG found
// nothing) and the child's usage.
func waitidResult(t *kernel.Task, r kernel.WaitResult, err error, infoAddr, rusageAddr uint64) (uint64, error) {
	if err != nil {
		return 0, err
	}
	if infoAddr != 0 {
		info := arch.SignalInfo{}
		if r.Pid != 0 {
			info = arch.SignalInfo{Signo: int32(unix.SIGCHLD), Pid: r.Pid, Uid: r.UID}
			info.Code, info.Status = arch.ChildStatus(r.Status)
		}
		var b [arch.SignalInfoSize]byte
		info.Encode(b[:])
		if err := t.CopyOut(infoAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if rusageAddr != 0 && r.Pid != 0 {
		if err := t.CopyOut(rusageAddr, rusage(r.CPU, r.Sys, r.MaxRSS, r.MinFlt, r.Nvcsw)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysGetrusage(t *kernel.Task, a [6]uint64) (uint64, error) {
	var cpu, sys, minflt, nvcsw int64
	var peak int
	switch tg := t.ThreadGroup(); int32(a[0]) {
	case unix.RUSAGE_SELF:
		cpu, sys, peak, minflt, nvcsw = tg.CPUTime(), tg.SysTime(), tg.MaxRSSPages(), tg.MinorFaults(), tg.VoluntarySwitches()
	case unix.RUSAGE_CHILDREN:
		cpu, sys, peak, minflt, nvcsw = tg.ChildrenCPU(), tg.ChildrenSys(), tg.ChildrenMaxRSSPages(), tg.ChildrenMinorFaults(), tg.ChildrenVoluntarySwitches()
	case unix.RUSAGE_THREAD:
		// A thread's peak and faults are its process's, as Linux's
		// (which counts faults per thread; uk per process).
		cpu, sys, peak, minflt, nvcsw = t.CPUTime(), t.SysTime(), tg.MaxRSSPages(), tg.MinorFaults(), t.VoluntarySwitches()
	default:
		return 0, unix.EINVAL
	}
	return 0, t.CopyOut(a[1], rusage(cpu, sys, peak, minflt, nvcsw))
}

// clockTicks converts ns to clock ticks (USER_HZ = 100).
func clockTicks(ns int64) uint64 { return uint64(ns / 1e7) }

func sysTimes(t *kernel.Task, a [6]uint64) (uint64, error) {
	tg := t.ThreadGroup()
	if a[0] != 0 {
		cpu, sys := tg.CPUTime(), tg.SysTime()
		ccpu, csys := tg.ChildrenCPU(), tg.ChildrenSys()
		b := words(clockTicks(max(cpu-sys, 0)), clockTicks(sys), clockTicks(max(ccpu-csys, 0)), clockTicks(csys))
		if err := t.CopyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	// Ticks since boot, which no time namespace moves (Linux's jiffies).
	ns, _ := t.Kernel().ClockNow(unix.CLOCK_BOOTTIME, nil)
	return clockTicks(ns), nil
}
