package mqueue

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Linux's bounds and defaults for POSIX message queues (ipc/mqueue.c,
// include/linux/ipc_namespace.h).
const (
	// PrioMax is MQ_PRIO_MAX: priorities are below it.
	PrioMax = 32768
	// NameMax is NAME_MAX, the longest queue name.
	NameMax = 255

	// DefaultMsgMax, DefaultMsgsizeMax, DefaultQueuesMax,
	// DefaultMsgDefault and DefaultMsgsizeDefault are the sysctls' values
	// at boot (DFLT_MSGMAX, DFLT_MSGSIZEMAX, DFLT_QUEUESMAX, DFLT_MSG,
	// DFLT_MSGSIZE).
	DefaultMsgMax         = 10
	DefaultMsgsizeMax     = 8192
	DefaultQueuesMax      = 256
	DefaultMsgDefault     = 10
	DefaultMsgsizeDefault = 8192

	// HardMsgMax and HardMsgsizeMax bound a queue's attributes even for a
	// caller with CAP_SYS_RESOURCE, and the sysctls (HARD_MSGMAX,
	// HARD_MSGSIZEMAX); MinMsgMax and MinMsgsizeMax are the sysctls'
	// lower bounds.
	HardMsgMax     = 65536
	HardMsgsizeMax = 16 << 20
	MinMsgMax      = 1
	MinMsgsizeMax  = 128
)

// Limits are the tunables of /proc/sys/fs/mqueue for one IPC namespace.
// Each is read without a lock where it is used, as Linux reads its
// ipc_namespace fields; a change applies to queues created after it.
type Limits struct {
	msgMax, msgsizeMax, queuesMax, msgDefault, msgsizeDefault atomic.Int32
}

// NewLimits returns Linux's boot-time values.
func NewLimits() *Limits {
	l := &Limits{}
	l.msgMax.Store(DefaultMsgMax)
	l.msgsizeMax.Store(DefaultMsgsizeMax)
	l.queuesMax.Store(DefaultQueuesMax)
	l.msgDefault.Store(DefaultMsgDefault)
	l.msgsizeDefault.Store(DefaultMsgsizeDefault)
	return l
}

// field returns the tunable called name (a file of /proc/sys/fs/mqueue) and its range (queues_max takes
// any int, as Linux's proc_dointvec).
func (l *Limits) field(name string) (v *atomic.Int32, lo, hi int64, ok bool) {
	switch name {
	case "queues_max":
		return &l.queuesMax, -1 << 31, 1<<31 - 1, true
	case "msg_max":
		return &l.msgMax, MinMsgMax, HardMsgMax, true
	case "msgsize_max":
		return &l.msgsizeMax, MinMsgsizeMax, HardMsgsizeMax, true
	case "msg_default":
		return &l.msgDefault, MinMsgMax, HardMsgMax, true
	case "msgsize_default":
		return &l.msgsizeDefault, MinMsgsizeMax, HardMsgsizeMax, true
	}
	return nil, 0, 0, false
}

// Get returns the tunable called name (one of SysctlNames).
func (l *Limits) Get(name string) (int64, bool) {
	v, _, _, ok := l.field(name)
	if !ok {
		return 0, false
	}
	return int64(v.Load()), true
}

// Set changes the tunable called name: EINVAL outside its range, as
// Linux's proc_dointvec_minmax, and for an unknown name.
func (l *Limits) Set(name string, val int64) error {
	v, lo, hi, ok := l.field(name)
	if !ok || val < lo || val > hi {
		return unix.EINVAL
	}
	v.Store(int32(val))
	return nil
}

// queuesMaxCount is queues_max as Linux compares it: an unsigned int.
func (l *Limits) queuesMaxCount() uint64 { return uint64(uint32(l.queuesMax.Load())) }
