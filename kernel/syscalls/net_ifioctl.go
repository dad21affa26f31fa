package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/net/netdev"
)

// isInterfaceIoctl reports whether cmd is one of the SIOC* interface
// ioctls (0x89xx) any socket answers from the interface table.
func isInterfaceIoctl(cmd uint32) bool { return cmd&^0xff == 0x8900 }

// interfaceIoctl answers an interface ioctl from the network namespace.
// The IPv4 address ioctls exist only on AF_INET sockets, as on Linux.
func interfaceIoctl(t *kernel.Task, family int, cmd uint32, arg uint64) (uint64, error) {
	if family != unix.AF_INET && netdev.InetOnly(cmd) {
		return 0, unix.ENOTTY
	}
	tbl, err := t.Net().Interfaces()
	if err != nil {
		return 0, unix.ENODEV
	}
	n, err := netdev.Ioctl(tbl, t, cmd, arg)
	return uint64(n), err
}
