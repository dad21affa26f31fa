package proc

import (
	"strconv"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// MqueueSysctl is implemented by a Kernel that has POSIX message queues:
// the tunables of /proc/sys/fs/mqueue. A Kernel without it shows Linux's
// defaults, read-only.
type MqueueSysctl interface {
	// MqueueLimit returns the tunable called name.
	MqueueLimit(name string) (int64, bool)
	// SetMqueueLimit changes it (EINVAL out of its range).
	SetMqueueLimit(name string, v int64) error
}

// mqueueSysctls are /proc/sys/fs/mqueue's files with Linux's defaults, in
// Linux's order.
var mqueueSysctls = []string{"queues_max", "msg_max", "msgsize_max", "msg_default", "msgsize_default"}

var mqueueDefaults = map[string]int64{"queues_max": 256, "msg_max": 10, "msgsize_max": 8192, "msg_default": 10, "msgsize_default": 8192}

// mqueueSysctl generates /proc/sys/fs/mqueue/NAME.
func (fs *FS) mqueueSysctl(name string) func(vfs.Context) ([]byte, error) {
	return func(vfs.Context) ([]byte, error) {
		v := mqueueDefaults[name]
		if k, ok := fs.k.(MqueueSysctl); ok {
			if got, ok := k.MqueueLimit(name); ok {
				v = got
			}
		}
		return []byte(strconv.FormatInt(v, 10) + "\n"), nil
	}
}

// mqueueSysctlWritable makes /proc/sys/fs/mqueue/NAME writable (by root,
// mode 0644) when the kernel keeps the tunables.
func (fs *FS) mqueueSysctlWritable(f *file, name string) {
	k, ok := fs.k.(MqueueSysctl)
	if !ok {
		return
	}
	f.mode = unix.S_IFREG | 0o644
	f.write = func(_ vfs.Context, data []byte) error {
		v, err := parseInt(data)
		if err != nil {
			return err
		}
		return k.SetMqueueLimit(name, v)
	}
}
