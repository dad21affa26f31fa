package proc

import "uk/fs/vfs"

// MqueueSysctl is implemented by a Kernel that has POSIX message queues:
// the tunables of /proc/sys/fs/mqueue. A Kernel without it shows Linux's
// defaults, read-only.
type MqueueSysctl interface {
	// MqueueLimit returns the tunable called name, as the reader's IPC
	// namespace has it.
	MqueueLimit(ctx vfs.Context, name string) (int64, bool)
	// SetMqueueLimit changes it (EINVAL out of its range).
	SetMqueueLimit(ctx vfs.Context, name string, v int64) error
}

// mqueueSysctls are /proc/sys/fs/mqueue's files with Linux's defaults, in
// Linux's order.
var mqueueSysctls = []string{"queues_max", "msg_max", "msgsize_max", "msg_default", "msgsize_default"}

var mqueueDefaults = map[string]int64{"queues_max": 256, "msg_max": 10, "msgsize_max": 8192, "msg_default": 10, "msgsize_default": 8192}
