package kernel

import (
	"golang.org/x/sys/unix"

	"uk/fs/mqueue"
	"uk/fs/vfs"
)

// MsgQueueLimit is the task's RLIMIT_MSGQUEUE soft limit: how many bytes
// the queues its real user creates may reserve.
func (t *Task) MsgQueueLimit() uint64 { return t.tg.Rlimit(unix.RLIMIT_MSGQUEUE).Cur }

// MqueueLimit implements proc's MqueueSysctl: the value of
// /proc/sys/fs/mqueue/NAME in the reader's IPC namespace.
func (p procKernel) MqueueLimit(ctx vfs.Context, name string) (int64, bool) {
	return p.k.mqueueOf(ctx).Limits.Get(name)
}

// SetMqueueLimit implements proc's MqueueSysctl: a write to
// /proc/sys/fs/mqueue/NAME (EINVAL out of range).
func (p procKernel) SetMqueueLimit(ctx vfs.Context, name string, v int64) error {
	return p.k.mqueueOf(ctx).Limits.Set(name, v)
}

// mqueueFlushCloexec is the part of exec's closing of FD_CLOEXEC
// descriptors that concerns message queues: closing one drops the
// process's mq_notify registration on its queue (Linux's
// mqueue_flush_file), and mq_open's descriptors are always
// close-on-exec, so a process that execs keeps no registration made
// through them.
func (t *Task) mqueueFlushCloexec() {
	if t.IPCNamespace().mq.Load() == nil && t.k.ipcRoot.mq.Load() == nil {
		return // no queue was ever made here: nothing to look for
	}
	t.Files.ForEach(func(_ int32, d *vfs.FileDescription, cloexec bool) {
		if q := mqueue.Of(d); q != nil && cloexec {
			q.Unnotify(t.tg)
		}
	})
}
