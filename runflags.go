package main

import (
	"flag"
	"fmt"
)

// runFlags are the flags only uk run has: the sandbox's mounts.
type runFlags struct {
	binds multiFlag
	tmpfs multiFlag
	// mounts is what the flags ask, once parsed.
	mounts sandboxMounts
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.Var(&r.binds, "bind", "mount the host directory HOST at GUEST: HOST:GUEST[:ro] (repeatable; read-write unless :ro)")
	fs.Var(&r.tmpfs, "tmpfs", "mount an empty tmpfs at this path in the sandbox (repeatable)")
}

// parse checks the flags' values.
func (r *runFlags) parse() error {
	for _, s := range r.binds {
		b, err := parseBind(s)
		if err != nil {
			return usageError{err.Error()}
		}
		r.mounts.binds = append(r.mounts.binds, b)
	}
	for _, t := range r.tmpfs {
		if t == "" || t[0] != '/' {
			return usageError{fmt.Sprintf("--tmpfs %q: want an absolute path", t)}
		}
	}
	r.mounts.tmpfs = r.tmpfs
	return nil
}
