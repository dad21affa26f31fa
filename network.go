package main

import (
	"fmt"
	"net/netip"
	"strings"

	"uk/kernel"
	"uk/net/netns"
	"uk/net/tap"
)

// networkFlags are the command line's network settings.
type networkFlags struct {
	net     string
	ip      string
	gateway string
	dns     multiFlag
}

// parse checks the flags and opens the TAP device, if any. It returns the
// namespace config and the /etc files the settings imply (resolv.conf).
// Every error is one line naming the flag.
func (n *networkFlags) parse() (netns.Config, map[string]string, error) {
	var c netns.Config
	mode, name, _ := strings.Cut(n.net, ":")
	switch {
	case n.net == "none":
	case mode == "tap" && name != "":
	default:
		return c, nil, usageError{fmt.Sprintf("--net=%s: want none or tap:NAME", n.net)}
	}
	if n.ip != "" {
		p, err := netip.ParsePrefix(n.ip)
		if err != nil {
			return c, nil, usageError{fmt.Sprintf("--ip %s: want ADDRESS/PREFIX (e.g. 10.0.2.15/24)", n.ip)}
		}
		c.Addr = p
	}
	if n.gateway != "" {
		g, err := netip.ParseAddr(n.gateway)
		if err != nil {
			return c, nil, usageError{fmt.Sprintf("--gateway %s: not an IP address", n.gateway)}
		}
		c.Gateway = g
	}
	if mode != "tap" && (c.Addr.IsValid() || c.Gateway.IsValid()) {
		return c, nil, usageError{"--ip and --gateway need --net=tap:NAME"}
	}
	if c.Gateway.IsValid() && !c.Addr.IsValid() {
		return c, nil, usageError{"--gateway needs --ip"}
	}
	etc := map[string]string{}
	if len(n.dns) > 0 {
		var b strings.Builder
		for _, d := range n.dns {
			a, err := netip.ParseAddr(d)
			if err != nil {
				return c, nil, usageError{fmt.Sprintf("--dns %s: not an IP address", d)}
			}
			fmt.Fprintf(&b, "nameserver %s\n", a)
		}
		etc["resolv.conf"] = b.String()
	}
	if mode == "tap" {
		d, err := tap.Open(name)
		if err != nil {
			return c, nil, err
		}
		c.TAP = d
	}
	return c, etc, nil
}

// sandboxNet is the sandbox's network namespace as the kernel takes it:
// Fresh makes the namespaces unshare(CLONE_NEWNET) asks for.
type sandboxNet struct{ *netns.Namespace }

// Fresh implements kernel.Network.
func (n sandboxNet) Fresh() kernel.Network { return sandboxNet{n.Namespace.Fresh()} }
