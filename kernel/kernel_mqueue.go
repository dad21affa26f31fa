package kernel

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/fs/mqueue"
	"uk/fs/vfs"
)

// mqueueState holds the sandbox's POSIX message queues, made on first use
// (most programs never touch them).
type mqueueState struct {
	once sync.Once
	fs   atomic.Pointer[mqueue.FS] // nil until first used
}

// Mqueue returns the sandbox's POSIX message queue namespace: the queues
// mq_open reaches and every mount of the mqueue filesystem shows, and
// /proc/sys/fs/mqueue's limits.
func (k *Kernel) Mqueue() *mqueue.FS {
	k.mqueue.once.Do(func() { k.mqueue.fs.Store(mqueue.New()) })
	return k.mqueue.fs.Load()
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

// mqueueFlushCloexec is the part of exec's closing of FD_CLOEXEC
// descriptors that concerns message queues: closing one drops the
// process's mq_notify registration on its queue (Linux's
// mqueue_flush_file), and mq_open's descriptors are always
// close-on-exec, so a process that execs keeps no registration made
// through them.
func (t *Task) mqueueFlushCloexec() {
	if t.k.mqueue.fs.Load() == nil {
		return // no queue was ever made: nothing to look for
	}
	t.Files.ForEach(func(_ int32, d *vfs.FileDescription, cloexec bool) {
		if q := mqueue.Of(d); q != nil && cloexec {
			q.Unnotify(t.tg)
		}
	})
}
