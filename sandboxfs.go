package main

// Host directories in the sandbox: the live --rootfs tree, --bind mounts
// and --tmpfs mounts of `uk run`. Every host directory is opened here,
// at start; after that uk reaches host files only relative to these fds
// (fs/hostfs), never by a path.

import (
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/hostfs"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel"
	"uk/kernel/memfile"
)

// hostRoot serves the host directory dir as the sandbox's root: read-only
// and live, under a writable layer that lives in the sandbox's memory.
func hostRoot(mf *memfile.File, dir string) (vfs.Filesystem, error) {
	lower, err := hostfs.New(dir, hostfs.Options{MF: mf})
	if err != nil {
		return nil, err
	}
	return hostfs.NewOverlay(lower, tmpfs.New(mf, tmpfs.Options{RootMode: 0o755})), nil
}

// bindSpec is one --bind HOST:GUEST[:ro|:rw].
type bindSpec struct {
	host, guest string
	ro          bool
}

// parseBind reads a --bind value.
func parseBind(s string) (bindSpec, error) {
	parts := strings.Split(s, ":")
	var b bindSpec
	switch {
	case len(parts) == 2:
	case len(parts) == 3 && (parts[2] == "ro" || parts[2] == "rw"):
		b.ro = parts[2] == "ro"
	default:
		return b, fmt.Errorf("--bind %q: want HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw", s)
	}
	b.host, b.guest = parts[0], parts[1]
	if b.host == "" || !path.IsAbs(b.guest) {
		return b, fmt.Errorf("--bind %q: want a host directory and an absolute path in the sandbox", s)
	}
	return b, nil
}

// sandboxMounts are the mounts uk run adds to the root: --tmpfs paths and
// --bind directories, in that order (so a bind may go inside a tmpfs).
type sandboxMounts struct {
	tmpfs []string
	binds []bindSpec
	// uid and gid own a bind mount's files in the sandbox: the files uk's
	// host user owns show as theirs (see hostfs.Options.MapOwner).
	uid, gid uint32
}

// open opens every bind's host directory, before the sandbox starts: a
// missing directory is the user's mistake, reported before anything runs.
func (m *sandboxMounts) open(mf *memfile.File) ([]*hostfs.FS, error) {
	var out []*hostfs.FS
	for _, b := range m.binds {
		st, err := os.Stat(b.host)
		if err != nil {
			return nil, fmt.Errorf("--bind %s: %w", b.host, unwrapPathError(err))
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--bind %s: not a directory", b.host)
		}
		fs, err := hostfs.New(b.host, hostfs.Options{MF: mf, Writable: !b.ro, MapOwner: true, OwnerUID: m.uid, OwnerGID: m.gid})
		if err != nil {
			return nil, fmt.Errorf("--bind %w", err)
		}
		out = append(out, fs)
	}
	if len(out) > 0 {
		// A file the sandbox creates in a bind gets the mode its
		// program asked for less the program's own umask, which uk
		// applied already: uk's umask (022, most often) must not clear
		// bits a second time (a program's umask(0); mkdir(d, 0777) made
		// a 0755 directory on the host). Nothing else uk creates on the
		// host after this point (the --report file is open already).
		unix.Umask(0)
	}
	return out, nil
}

// unwrapPathError keeps the errno of an *os.PathError (its path is said
// already).
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// mount adds the mounts to the sandbox rooted at root; fss are open's
// result.
func (m *sandboxMounts) mount(k *kernel.Kernel, root vfs.Path, fss []*hostfs.FS) error {
	v := k.VFS
	ctx := vfs.KernelContext{}
	at := vfs.At{Root: root, Dir: root}
	target := func(dir string) (vfs.Path, error) {
		if err := mkdirAll(v, ctx, at, dir); err != nil {
			return vfs.Path{}, err
		}
		p, err := v.Resolve(ctx, at, dir, 0)
		if err != nil {
			return vfs.Path{}, fmt.Errorf("%s: %w", dir, err)
		}
		if !p.Dentry.IsDir() {
			return vfs.Path{}, fmt.Errorf("%s: %w", dir, unix.ENOTDIR)
		}
		return p, nil
	}
	for _, dir := range m.tmpfs {
		if !path.IsAbs(dir) {
			return usageError{fmt.Sprintf("--tmpfs %q: want an absolute path", dir)}
		}
		p, err := target(dir)
		if err != nil {
			return fmt.Errorf("--tmpfs %w", err)
		}
		if _, err := v.MountFilesystem(tmpfs.New(k.MemFile, tmpfs.Options{}), "tmpfs", "tmpfs", p, unix.MS_NOSUID|unix.MS_NODEV); err != nil {
			return fmt.Errorf("--tmpfs %s: %w", dir, err)
		}
	}
	for i, b := range m.binds {
		p, err := target(b.guest)
		if err != nil {
			return fmt.Errorf("--bind %w", err)
		}
		// Host device nodes never open host devices (the VFS opens its
		// own), and set-id bits mean nothing on a bind: nosuid, nodev.
		flags := uint64(unix.MS_NOSUID | unix.MS_NODEV)
		if b.ro {
			flags |= unix.MS_RDONLY
		}
		if _, err := v.MountFilesystem(fss[i], "hostfs", b.host, p, flags); err != nil {
			return fmt.Errorf("--bind %s: %w", b.guest, err)
		}
	}
	return nil
}
