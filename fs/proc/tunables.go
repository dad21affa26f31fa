package proc

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// tunableSet is a directory of integer sysctls that a Kernel may keep
// (/proc/sys/fs/mqueue, /proc/sys/kernel/keys): with get and set they
// read and write the kernel's values (root only, mode 0644); a Kernel
// without them shows Linux's defaults, read-only.
type tunableSet struct {
	dir      string   // under /proc/sys, e.g. "fs/mqueue"
	names    []string // in Linux's order
	defaults map[string]int64
	get      func(ctx vfs.Context, name string) (int64, bool)  // nil: the defaults
	set      func(ctx vfs.Context, name string, v int64) error // nil: read-only
}

// tunableSets are the tunable directories fs's kernel may keep.
func (fs *FS) tunableSets() []tunableSet {
	mq := tunableSet{dir: "fs/mqueue", names: mqueueSysctls, defaults: mqueueDefaults}
	if k, ok := fs.k.(MqueueSysctl); ok {
		mq.get, mq.set = k.MqueueLimit, k.SetMqueueLimit // per IPC namespace
	}
	keys := tunableSet{dir: "kernel/keys", names: keysSysctls, defaults: keysDefaults}
	if k, ok := fs.k.(KeysSysctl); ok {
		keys.get = func(_ vfs.Context, name string) (int64, bool) { return k.KeysLimit(name) }
		keys.set = func(_ vfs.Context, name string, v int64) error { return k.SetKeysLimit(name, v) }
	}
	ipcIDs := tunableSet{dir: "kernel", names: ipcNextIDSysctls, defaults: ipcNextIDDefaults}
	if k, ok := fs.k.(IPCNextIDSysctl); ok {
		ipcIDs.get = func(ctx vfs.Context, name string) (int64, bool) {
			return k.IPCNextID(ctx, strings.TrimSuffix(name, "_next_id"))
		}
		ipcIDs.set = func(ctx vfs.Context, name string, v int64) error {
			return k.SetIPCNextID(ctx, strings.TrimSuffix(name, "_next_id"), v)
		}
	}
	return []tunableSet{mq, keys, ipcIDs}
}

// IPCNextIDSysctl is implemented by a Kernel with System V IPC: the ids
// the next segment, message queue or semaphore set of the reader's IPC
// namespace asks for (/proc/sys/kernel/{shm,msg,sem}_next_id; -1: none),
// for checkpoint/restore tools. kind is "shm", "msg" or "sem".
type IPCNextIDSysctl interface {
	IPCNextID(ctx vfs.Context, kind string) (int64, bool)
	SetIPCNextID(ctx vfs.Context, kind string, v int64) error
}

var (
	ipcNextIDSysctls  = []string{"shm_next_id", "msg_next_id", "sem_next_id"}
	ipcNextIDDefaults = map[string]int64{"shm_next_id": -1, "msg_next_id": -1, "sem_next_id": -1}
)

// gen generates the file of tunable name.
func (s tunableSet) gen(name string) func(vfs.Context) ([]byte, error) {
	return func(ctx vfs.Context) ([]byte, error) {
		v := s.defaults[name]
		if s.get != nil {
			if got, ok := s.get(ctx, name); ok {
				v = got
			}
		}
		return []byte(strconv.FormatInt(v, 10) + "\n"), nil
	}
}

// makeWritable makes f, tunable name's file, take writes when the kernel
// keeps the set.
func (s tunableSet) makeWritable(f *file, name string) {
	if s.set == nil {
		return
	}
	f.mode = unix.S_IFREG | 0o644
	f.write = func(ctx vfs.Context, data []byte) error {
		v, err := parseInt(data)
		if err != nil {
			return err
		}
		return s.set(ctx, name, v)
	}
}
