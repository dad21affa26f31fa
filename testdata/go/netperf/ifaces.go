// The interface list as Go programs see it (netlink).

package main

import (
	"fmt"
	"net"
	"slices"
	"strings"
)

// ifaces prints one line per interface: "iface NAME flags F,F mtu N hw
// MAC addrs A/P,A/P" (addresses sorted).
func ifaces() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return fmt.Errorf("addresses of %s: %w", ifc.Name, err)
		}
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		slices.Sort(as)
		hw := ifc.HardwareAddr.String()
		if hw == "" {
			hw = "none"
		}
		flags := strings.ReplaceAll(ifc.Flags.String(), "|", ",")
		fmt.Printf("iface %s index %d flags %s mtu %d hw %s addrs %s\n", ifc.Name, ifc.Index, flags, ifc.MTU, hw, strings.Join(as, ","))
	}
	return nil
}
