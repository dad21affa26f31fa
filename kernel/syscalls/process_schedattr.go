package syscalls

import (
	"encoding/binary"
	"math/bits"
	"runtime"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

// sched_setattr and sched_getattr: a thread's policy with all its
// parameters in one struct sched_attr, checked in Linux 6.x's order
// (kernel/sched/syscalls.c). kernel/task_sched.go keeps the attributes;
// the checks they share with sched_setscheduler are process_sched.go's.

// struct sched_attr's sizes (include/uapi/linux/sched/types.h).
const (
	// schedAttrSizeVer0 is the first struct's, without util_min and
	// util_max; a size field of 0 stands for it.
	schedAttrSizeVer0 = 48
	// schedAttrSize is SCHED_ATTR_SIZE_VER1, the struct uk (as Linux 6.x)
	// knows: what E2BIG writes back and sched_getattr reports at most.
	schedAttrSize = 56
	// schedAttrMaxSize is the largest size either call takes (a page).
	schedAttrMaxSize = 4096
)

// sched_attr's sched_flags.
const (
	schedFlagResetOnFork  = 0x01
	schedFlagReclaim      = 0x02
	schedFlagDLOverrun    = 0x04
	schedFlagKeepPolicy   = 0x08
	schedFlagKeepParams   = 0x10
	schedFlagUtilClampMin = 0x20
	schedFlagUtilClampMax = 0x40
	schedFlagUtilClamp    = schedFlagUtilClampMin | schedFlagUtilClampMax
	schedFlagAll          = 0x7f
	// schedFlagSugov marks Linux's own schedutil threads: accepted by the
	// flags check, then EINVAL from a program.
	schedFlagSugov = 0x10000000
	// schedDLFlags are the flags a deadline thread keeps and reports.
	schedDLFlags = schedFlagReclaim | schedFlagDLOverrun
)

// SCHED_DEADLINE's limits: the runtime's least value (Linux keeps it in
// units of 1024 ns) and the period's range, Linux's defaults of
// /proc/sys/kernel/sched_deadline_period_{min,max}_us.
const (
	dlMinRuntime = 1 << 10
	dlMinPeriod  = 100 * 1000
	dlMaxPeriod  = (1 << 22) * 1000
)

// The range of a fair thread's time slice that sched_setattr accepts
// (sched_runtime is clamped to it): 0.1 ms to 100 ms.
const (
	minSlice = 100 * 1000
	maxSlice = 100 * 1000 * 1000
)

// defaultSlice is a fair thread's time slice when it asked for none:
// Linux's base slice of 0.7 ms, scaled as it does by default
// (SCHED_TUNABLESCALING_LOG) by 1 + log2 of the CPUs, at most 8 of them.
func defaultSlice() uint64 {
	return 700 * 1000 * uint64(bits.Len(uint(min(max(runtime.NumCPU(), 1), 8))))
}

// schedAttr is struct sched_attr, decoded.
type schedAttr struct {
	Size, Policy      uint32
	Flags             uint64
	Nice              int32
	Priority          uint32
	Runtime, Deadline uint64
	Period            uint64
	UtilMin, UtilMax  uint32
}

func (s *schedAttr) decode(b []byte) {
	le := binary.LittleEndian
	s.Size, s.Policy, s.Flags = le.Uint32(b[0:]), le.Uint32(b[4:]), le.Uint64(b[8:])
	s.Nice, s.Priority = int32(le.Uint32(b[16:])), le.Uint32(b[20:])
	s.Runtime, s.Deadline, s.Period = le.Uint64(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	s.UtilMin, s.UtilMax = le.Uint32(b[48:]), le.Uint32(b[52:])
}

func (s *schedAttr) encode() []byte {
	b := make([]byte, schedAttrSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], s.Size)
	le.PutUint32(b[4:], s.Policy)
	le.PutUint64(b[8:], s.Flags)
	le.PutUint32(b[16:], uint32(s.Nice))
	le.PutUint32(b[20:], s.Priority)
	le.PutUint64(b[24:], s.Runtime)
	le.PutUint64(b[32:], s.Deadline)
	le.PutUint64(b[40:], s.Period)
	le.PutUint32(b[48:], s.UtilMin)
	le.PutUint32(b[52:], s.UtilMax)
	return b
}

// params fills in the parameters of a's policy, as Linux's get_params: a
// deadline thread's (with its flags), a real-time thread's priority, or a
// fair or idle thread's nice value and time slice. The others stay as
// they are.
func (s *schedAttr) params(a kernel.SchedAttr) {
	switch {
	case a.Policy == kernel.SchedDeadline:
		s.Priority = uint32(a.RTPriority)
		s.Runtime, s.Deadline, s.Period = a.Deadline.Runtime, a.Deadline.Deadline, a.Deadline.Period
		s.Flags = s.Flags&^schedDLFlags | a.Deadline.Flags
	case kernel.RealTime(a.Policy):
		s.Priority = uint32(a.RTPriority)
	default:
		s.Nice = a.Nice
		s.Runtime = a.Slice
		if s.Runtime == 0 {
			s.Runtime = defaultSlice()
		}
	}
}

// validDeadline is Linux's __checkparam_dl: a deadline, a runtime of at
// least dlMinRuntime, runtime <= deadline <= period (the deadline when
// the period is 0), no sign bits, and a period in range.
func (s *schedAttr) validDeadline() bool {
	if s.Flags&schedFlagSugov != 0 {
		return true
	}
	if s.Deadline == 0 || s.Runtime < dlMinRuntime || (s.Deadline|s.Period)&(1<<63) != 0 {
		return false
	}
	period := s.Period
	if period == 0 {
		period = s.Deadline
	}
	return s.Runtime <= s.Deadline && s.Deadline <= period && period >= dlMinPeriod && period <= dlMaxPeriod
}

// copyInSchedAttr reads the struct sched_attr at addr as Linux's
// sched_copy_attr: its size first (0 is schedAttrSizeVer0); a size out of
// range, or a longer struct whose bytes past schedAttrSize are not all
// zero, is E2BIG with schedAttrSize written back into the size field.
// The utilization clamps need the size that has them (EINVAL), and the
// nice value is clamped.
func copyInSchedAttr(t *kernel.Task, addr uint64) (schedAttr, error) {
	var s schedAttr
	var b [4]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return s, err
	}
	size := uint64(binary.LittleEndian.Uint32(b[:]))
	if size == 0 {
		size = schedAttrSizeVer0
	}
	if size < schedAttrSizeVer0 || size > schedAttrMaxSize {
		return s, schedAttrTooBig(t, addr)
	}
	if size > schedAttrSize {
		tail := make([]byte, size-schedAttrSize)
		if err := t.CopyIn(addr+schedAttrSize, tail); err != nil {
			return s, err
		}
		for _, c := range tail {
			if c != 0 {
				return s, schedAttrTooBig(t, addr)
			}
		}
	}
	buf := make([]byte, schedAttrSize)
	if err := t.CopyIn(addr, buf[:min(size, schedAttrSize)]); err != nil {
		return s, err
	}
	s.decode(buf)
	if s.Flags&schedFlagUtilClamp != 0 && size < schedAttrSize {
		return s, unix.EINVAL
	}
	s.Nice = min(max(s.Nice, kernel.MinNice), kernel.MaxNice)
	return s, nil
}

// schedAttrTooBig tells the caller the size uk knows, as Linux does
// (whether that write faults or not), and says E2BIG.
func schedAttrTooBig(t *kernel.Task, addr uint64) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], schedAttrSize)
	_ = t.CopyOut(addr, b[:])
	return unix.E2BIG
}

func sysSchedSetattr(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, addr, flags := int32(a[0]), a[1], uint32(a[2])
	if addr == 0 || pid < 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	s, err := copyInSchedAttr(t, addr)
	if err != nil {
		return 0, err
	}
	policy := int32(s.Policy)
	if policy < 0 {
		return 0, unix.EINVAL
	}
	if s.Flags&schedFlagKeepPolicy != 0 {
		policy = -1
	}
	p, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	old := p.Sched()
	if s.Flags&schedFlagKeepParams != 0 {
		s.params(old)
	}
	return 0, setSchedAttr(t, p, old, policy, &s)
}

// setSchedAttr is Linux's __sched_setscheduler for sched_setattr: policy
// -1 keeps the thread's policy and reset-on-fork flag. With
// SCHED_FLAG_KEEP_PARAMS (s holding the thread's own parameters, which
// are still checked) only the reset-on-fork flag changes, the policy
// included staying as it is, as in Linux.
func setSchedAttr(t *kernel.Task, p kernel.SchedTarget, old kernel.SchedAttr, policy int32, s *schedAttr) error {
	attr := old
	if policy < 0 {
		policy = old.Policy
	} else {
		attr.ResetOnFork = s.Flags&schedFlagResetOnFork != 0
		if !validPolicy(policy) {
			return unix.EINVAL
		}
	}
	if s.Flags&^(schedFlagAll|schedFlagSugov) != 0 {
		return unix.EINVAL
	}
	if s.Priority > kernel.MaxRTPrio || policy == kernel.SchedDeadline && !s.validDeadline() ||
		kernel.RealTime(policy) != (s.Priority != 0) {
		return unix.EINVAL
	}
	want := attr
	want.Policy, want.RTPriority, want.Nice = policy, int32(s.Priority), s.Nice
	if !t.Credentials().Privileged && !mayReschedule(t, p, old, want) {
		return unix.EPERM
	}
	if s.Flags&schedFlagSugov != 0 {
		return unix.EINVAL
	}
	if s.Flags&schedFlagUtilClamp != 0 {
		// The host's Linux here is built without CONFIG_UCLAMP_TASK,
		// and uk keeps no clamps either: such a kernel's answer.
		return unix.EOPNOTSUPP
	}
	// (Linux would now admit a deadline thread by its bandwidth, EBUSY
	// past 95% of the CPUs; uk schedules nothing and admits it.)
	if s.Flags&schedFlagKeepParams == 0 {
		attr.Policy, attr.RTPriority = policy, int32(s.Priority)
		switch {
		case policy == kernel.SchedDeadline:
			d := kernel.DeadlineParams{Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period, Flags: s.Flags & schedDLFlags}
			if d.Period == 0 {
				d.Period = d.Deadline
			}
			attr.Deadline = d
		case fairPolicy(policy):
			attr.Nice = s.Nice
			attr.Slice = 0
			if s.Runtime != 0 {
				attr.Slice = min(max(s.Runtime, minSlice), maxSlice)
			}
		}
	}
	p.SetSched(attr)
	return nil
}

func sysSchedGetattr(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, addr, size, flags := int32(a[0]), a[1], uint32(a[2]), uint32(a[3])
	if addr == 0 || pid < 0 || size > schedAttrMaxSize || size < schedAttrSizeVer0 || flags != 0 {
		return 0, unix.EINVAL
	}
	p, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	attr := p.Sched()
	s := schedAttr{Policy: uint32(attr.Policy)}
	if attr.ResetOnFork {
		s.Flags |= schedFlagResetOnFork
	}
	s.params(attr)
	s.Flags &= schedFlagAll
	// util_min and util_max stay 0, as without CONFIG_UCLAMP_TASK.
	s.Size = min(size, schedAttrSize)
	// Linux's copy_struct_to_user: a longer struct's tail is zeroed
	// first, then the struct uk knows written (as much as fits).
	if size > schedAttrSize {
		if err := t.CopyOut(addr+schedAttrSize, make([]byte, size-schedAttrSize)); err != nil {
			return 0, err
		}
	}
	return 0, t.CopyOut(addr, s.encode()[:s.Size])
}
