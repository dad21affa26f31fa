package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// How `uk run` finds PROG, as a shell (and `timeout`, `env`, `runsc do`)
// would: a name without a slash is looked up in the directories of PATH,
// a path with one is taken as it is. Without --rootfs the lookup is on
// the host (the program is copied in from there), with PATH of uk's own
// environment; with --rootfs it is inside the sandbox, with the PATH the
// program will get, after the bind mounts are in place (a bound
// directory may hold it), and a relative path starts at --chdir.

// hostProgram returns the host file `uk run` without --rootfs copies in.
func hostProgram(prog string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	found, err := exec.LookPath(prog)
	if err != nil {
		if errors.Is(err, exec.ErrDot) {
			return "", fmt.Errorf("%s: found only in the working directory through PATH; name it ./%s", prog, prog)
		}
		return "", fmt.Errorf("%s: not found in PATH", prog)
	}
	return found, nil
}

// sandboxProgram returns the path inside a --rootfs sandbox of the
// program to start: prog itself if absolute, prog under cwd if relative
// with a slash, else the first executable regular file named prog in the
// directories of env's PATH (relative ones taken from cwd, an empty one
// meaning cwd, as execvp does).
func sandboxProgram(k *kernel.Kernel, root *vfs.FSContext, cwd, prog string, env []string) (string, error) {
	if cwd == "" {
		cwd = "/"
	}
	if strings.Contains(prog, "/") {
		if !path.IsAbs(prog) {
			prog = path.Join(cwd, prog)
		}
		return prog, nil
	}
	searchPath := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			searchPath = v
		}
	}
	ctx := vfs.KernelContext{}
	at := root.At(vfs.Path{})
	denied := false
	for _, dir := range strings.Split(searchPath, ":") {
		if dir == "" {
			dir = "."
		}
		cand := path.Join(dir, prog)
		if !path.IsAbs(cand) {
			cand = path.Join(cwd, cand)
		}
		st, err := k.VFS.StatAt(ctx, at, cand, 0)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		if st.Mode&0o111 == 0 {
			denied = true // as execvp: remember, but look further
			continue
		}
		return cand, nil
	}
	if denied {
		return "", fmt.Errorf("%s: found in PATH but not executable", prog)
	}
	return "", fmt.Errorf("%s: not found in the sandbox's PATH (%s)", prog, searchPath)
}
