// One connect, its outcome reported by errno.

package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// dialErrnos are the outcomes of a failed connect that dial names.
var dialErrnos = []struct {
	errno syscall.Errno
	name  string
}{
	{syscall.ECONNREFUSED, "ECONNREFUSED"},
	{syscall.EHOSTUNREACH, "EHOSTUNREACH"},
	{syscall.ENETUNREACH, "ENETUNREACH"},
	{syscall.ETIMEDOUT, "ETIMEDOUT"},
	{syscall.ECONNRESET, "ECONNRESET"},
}

// dial connects once to ADDR (giving up after 30 s) and prints the
// outcome; any outcome is a success of the program.
func dial(args []string) error {
	if len(args) != 1 {
		usage()
	}
	start := time.Now()
	c, err := net.DialTimeout("tcp", args[0], 30*time.Second)
	el := time.Since(start)
	if err == nil {
		c.Close()
		fmt.Printf("dial ok seconds %.1f\n", el.Seconds())
		return nil
	}
	for _, e := range dialErrnos {
		if errors.Is(err, e.errno) {
			fmt.Printf("dial error %s seconds %.1f\n", e.name, el.Seconds())
			return nil
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		fmt.Printf("dial error timeout seconds %.1f\n", el.Seconds())
		return nil
	}
	fmt.Printf("dial error other %q seconds %.1f\n", err, el.Seconds())
	return nil
}
