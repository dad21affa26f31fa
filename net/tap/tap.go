// Package tap attaches the sandbox's network stack to a host TAP device:
// the only way packets leave the sandbox. uk opens the device once, at
// start, by name; the device must already exist (made by the host's
// administrator, e.g. `ip tuntap add dev NAME mode tap`), so that uk never
// creates host interfaces and the host side's addresses stay the host's
// business. Frames are moved by the link endpoint of link.go.
package tap

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Device is an open TAP device.
type Device struct {
	// Name is the host's name of the device.
	Name string
	// MTU is the device's MTU on the host.
	MTU uint32
	// MAC is the sandbox side's hardware address: a random locally
	// administered unicast address, distinct from the host side's.
	MAC net.HardwareAddr
	// file is the open device, in Go's poller: made in Open, at start,
	// so that the poller exists before uk's seccomp filter forbids
	// making one (the stack, and so the link, may be built later, in the
	// background).
	file *os.File
}

// Open attaches to the existing TAP device name. Its errors are one line a
// user can act on: a missing device, a busy one, or no permission.
func Open(name string) (*Device, error) {
	if name == "" || len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("--net=tap:%s: a TAP device name is 1 to 15 characters", name)
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("--net=tap:%s: no such network device (create it with `ip tuntap add dev %s mode tap`)", name, name)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("--net=tap:%s: opening /dev/net/tun: %w", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("--net=tap:%s: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		switch {
		case errors.Is(err, unix.EBUSY):
			return nil, fmt.Errorf("--net=tap:%s: the device is busy (another program has it open)", name)
		case errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("--net=tap:%s: not permitted to attach (needs CAP_NET_ADMIN or the device's owner)", name)
		case errors.Is(err, unix.EINVAL):
			return nil, fmt.Errorf("--net=tap:%s: not a TAP device", name)
		}
		return nil, fmt.Errorf("--net=tap:%s: TUNSETIFF: %w", name, err)
	}
	// The stack and the host exchange 64 KiB TCP segments with checksums
	// left to the receiver (see link.go).
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrSize); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("--net=tap:%s: TUNSETVNETHDRSZ: %w", name, err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("--net=tap:%s: TUNSETOFFLOAD: %w", name, err)
	}
	mac := make(net.HardwareAddr, 6)
	if _, err := rand.Read(mac); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("--net=tap:%s: %w", name, err)
	}
	mac[0] = mac[0]&^1 | 2 // unicast, locally administered
	mtu := uint32(ifc.MTU)
	if mtu == 0 {
		mtu = 1500
	}
	return &Device{Name: name, MTU: mtu, MAC: mac, file: os.NewFile(uintptr(fd), "tap:"+name)}, nil
}

// LinkEndpoint returns the tcpip link endpoint moving Ethernet frames over
// the device. The endpoint owns the descriptor from then on.
func (d *Device) LinkEndpoint() (stack.LinkEndpoint, error) {
	l, err := newLink(d.file, tcpip.LinkAddress(d.MAC), d.MTU)
	if err != nil {
		return nil, fmt.Errorf("tap %s: %w", d.Name, err)
	}
	return l, nil
}
