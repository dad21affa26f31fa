package hostfilter

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// Confine confines uk for the rest of its life, on every thread: it drops
// every capability it does not need from here on (KeepCaps), sets
// no_new_privs and installs the allowlist. With debug set it lists the
// filter there first.
//
// The capability bounding set is left as it is. It limits only what an
// execve can give, and no thread of uk can execve once confined: the
// allowlist has neither execve nor execveat (a thread that tries dies),
// and no_new_privs would keep an exec from adding to the permitted set
// anyway. Dropping it costs one all-threads prctl a capability, each
// stopping every thread of uk: 36 of them took 2.0-2.4 ms of every start.
func Confine(o Options, debug io.Writer) error {
	rules := Allowlist(o)
	prog, err := Compile(rules)
	if err != nil {
		return err
	}
	keep := KeepCaps(o)
	if debug != nil {
		Describe(debug, rules, len(prog))
		fmt.Fprintf(debug, "uk: capabilities kept: %s\n", capNames(keep))
	}
	if err := setCaps(keep); err != nil {
		return err
	}
	return install(prog)
}

// fileCaps are what a root uk keeps when it serves host directories: the
// sandbox's root may then read and change host files as the host's root
// could (a read-only --rootfs / still shows /etc/shadow; a writable bind
// mount lets it write files it does not own, chown, chmod). uk holds no
// other way to use them than the directory fds it opened at start.
var fileCaps = []int{unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER, unix.CAP_FSETID}

// KeepCaps is the capability set uk keeps once confined, as o says: none,
// or with host directories fileCaps (only those uk holds already).
func KeepCaps(o Options) uint64 {
	var keep uint64
	if o.HostFS {
		for _, c := range fileCaps {
			if hasEffective(c) {
				keep |= 1 << c
			}
		}
	}
	return keep
}

// capNames renders a capability set.
func capNames(set uint64) string {
	names := map[int]string{unix.CAP_CHOWN: "CAP_CHOWN", unix.CAP_DAC_OVERRIDE: "CAP_DAC_OVERRIDE",
		unix.CAP_DAC_READ_SEARCH: "CAP_DAC_READ_SEARCH", unix.CAP_FOWNER: "CAP_FOWNER", unix.CAP_FSETID: "CAP_FSETID"}
	var out []string
	for c := 0; c < 64; c++ {
		if set&(1<<c) != 0 {
			n := names[c]
			if n == "" {
				n = fmt.Sprintf("cap%d", c)
			}
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// hasEffective reports whether the calling thread has capability c in its
// effective set.
func hasEffective(c int) bool {
	var hdr unix.CapUserHeader
	hdr.Version = unix.LINUX_CAPABILITY_VERSION_3
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// Describe writes the allowlist, one syscall a line with its argument
// restrictions and reason, as `uk run --debug` shows it.
func Describe(w io.Writer, rules []Rule, insns int) {
	fmt.Fprintf(w, "uk: host seccomp filter: %d syscalls allowed (%d BPF instructions); anything else is a SIGSYS crash of uk\n", len(rules), insns)
	for _, r := range rules {
		args := ""
		if len(r.Alts) > 0 {
			var alts []string
			for _, alt := range r.Alts {
				var cs []string
				for _, c := range alt {
					if c.Ne {
						cs = append(cs, fmt.Sprintf("int(arg%d) != %d", c.Index, int32(c.Value)))
					} else if c.Mask == 0 {
						cs = append(cs, fmt.Sprintf("arg%d == %#x", c.Index, c.Value))
					} else {
						cs = append(cs, fmt.Sprintf("arg%d & %#x == %#x", c.Index, c.Mask, c.Value))
					}
				}
				alts = append(alts, strings.Join(cs, " && "))
			}
			args = " [" + strings.Join(alts, " || ") + "]"
		}
		fmt.Fprintf(w, "uk:   %-18s%s: %s\n", r.Name, args, r.Why)
	}
}
