package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// syslog(2) action numbers (SYSLOG_ACTION_*).
const (
	syslogClose        = 0
	syslogOpen         = 1
	syslogRead         = 2
	syslogReadAll      = 3
	syslogReadClear    = 4
	syslogClear        = 5
	syslogConsoleOff   = 6
	syslogConsoleOn    = 7
	syslogConsoleLevel = 8
	syslogSizeUnread   = 9
	syslogSizeBuffer   = 10

	// syslogBufferSize is the size syslog reports for the kernel log
	// buffer (Linux's default log_buf_len).
	syslogBufferSize = 1 << 17
)

// sysSyslog is syslog(2) on a kernel log that stays empty: uk writes its
// own diagnostics to the host's stderr, not to a log the sandbox reads.
// The console level and on/off switches are accepted (init programs set
// them at boot) and the checks are Linux's: EINVAL for a bad action,
// buffer or level, EPERM without CAP_SYSLOG except for the reads
// dmesg_restrict=0 allows.
func sysSyslog(t *kernel.Task, a [6]uint64) (uint64, error) {
	action, buf, n := int32(a[0]), a[1], int32(a[2])
	// The permission first, as Linux's check_syslog_permissions: an
	// unknown action is restricted too (EPERM before EINVAL).
	if action != syslogReadAll && action != syslogSizeBuffer && !t.Credentials().Privileged {
		return 0, unix.EPERM
	}
	if action < syslogClose || action > syslogSizeBuffer {
		return 0, unix.EINVAL
	}
	switch action {
	case syslogRead, syslogReadAll, syslogReadClear:
		if buf == 0 || n < 0 {
			return 0, unix.EINVAL
		}
		if n == 0 {
			return 0, nil
		}
		if buf+uint64(n) < buf || buf+uint64(n) > arch.TaskSizeMax {
			return 0, unix.EFAULT // access_ok, before the log is looked at
		}
		if action == syslogRead {
			// Waits for a message that never comes, as on a quiet
			// Linux.
			return 0, t.Block(nil)
		}
		return 0, nil
	case syslogConsoleLevel:
		if n < 1 || n > 8 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case syslogSizeBuffer:
		return syslogBufferSize, nil
	}
	return 0, nil
}
