package proc

import "uk/fs/vfs"

// KeysSysctl is implemented by a Kernel that has key management: the
// tunables of /proc/sys/kernel/keys and /proc/key-users. A Kernel
// without it shows Linux's defaults, read-only.
type KeysSysctl interface {
	// KeysLimit returns the tunable called name; SetKeysLimit changes it
	// (EINVAL out of its range).
	KeysLimit(name string) (int64, bool)
	SetKeysLimit(name string, v int64) error
	// KeyUsers is /proc/key-users.
	KeyUsers() string
}

// keysSysctls are /proc/sys/kernel/keys's files with Linux's defaults, in
// Linux's order.
var keysSysctls = []string{"maxkeys", "maxbytes", "root_maxkeys", "root_maxbytes", "gc_delay", "persistent_keyring_expiry"}

var keysDefaults = map[string]int64{"maxkeys": 200, "maxbytes": 20000, "root_maxkeys": 1000000, "root_maxbytes": 25000000,
	"gc_delay": 300, "persistent_keyring_expiry": 259200}

// keyUsers is /proc/key-users.
func (fs *FS) keyUsers(vfs.Context) string {
	if k, ok := fs.k.(KeysSysctl); ok {
		return k.KeyUsers()
	}
	return ""
}
