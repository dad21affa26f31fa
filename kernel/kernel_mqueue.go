package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/mqueue"
)

// mqueueState holds the sandbox's POSIX message queues, made on first use
// (most programs never touch them).
type mqueueState struct {
	once sync.Once
	fs   *mqueue.FS
}

// Mqueue returns the sandbox's POSIX message queue namespace: the queues
// mq_open reaches and every mount of the mqueue filesystem shows, and
// /proc/sys/fs/mqueue's limits.
func (k *Kernel) Mqueue() *mqueue.FS {
	k.mqueue.once.Do(func() { k.mqueue.fs = mqueue.New() })
	return k.mqueue.fs
}

// MsgQueueLimit is the task's RLIMIT_MSGQUEUE soft limit: how many bytes
// the queues its real user creates may reserve.
func (t *Task) MsgQueueLimit() uint64 { return t.tg.Rlimit(unix.RLIMIT_MSGQUEUE).Cur }

// MqueueLimit implements proc's MqueueSysctl: the value of
// /proc/sys/fs/mqueue/NAME.
func (p procKernel) MqueueLimit(name string) (int64, bool) { return p.k.Mqueue().Limits.Get(name) }

// SetMqueueLimit implements proc's MqueueSysctl: a write to
// /proc/sys/fs/mqueue/NAME (EINVAL out of range).
func (p procKernel) SetMqueueLimit(name string, v int64) error {
	return p.k.Mqueue().Limits.Set(name, v)
}
