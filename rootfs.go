package main

// The sandbox's filesystem for `uk run`: a tmpfs root filled from
// --rootfs (a host directory or a cpio image) or, without it, a small
// tree holding the host program, with /proc, /dev, /sys and /tmp.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/dev"
	"uk/fs/pipe"
	"uk/fs/proc"
	"uk/fs/sys"
	"uk/fs/tmpfs"
	"uk/fs/tty"
	"uk/fs/vfs"
	"uk/initramfs"
	"uk/kernel"
	"uk/kernel/memfile"
)

// fsTypes are the filesystem types mount(2) knows, in /proc/filesystems order.
var fsTypes = []string{"sysfs", "tmpfs", "devtmpfs", "proc", "devpts", "mqueue"}

// newSandboxVFS makes k's namespace: the registered filesystem types and
// devices, and an empty tmpfs root. It sets k.VFS.
//
// The console is uk's host stdio: a terminal with a line discipline when
// term is set (uk boot), else the plain host stream (uk run), which
// /dev/tty also opens for a program without a controlling terminal. Both
// have ptys (/dev/ptmx, devpts).
//
// rootFS is the root filesystem (of type rootType); nil makes an empty
// tmpfs.
func newSandboxVFS(k *kernel.Kernel, console *dev.HostStream, term *tty.Console, rootFS vfs.Filesystem, rootType string) (*vfs.VFS, vfs.Path) {
	mf := k.MemFile
	v := vfs.New()
	v.RegisterType("tmpfs", tmpfs.Type{MF: mf})
	v.RegisterType("devtmpfs", &dev.DevtmpfsType{MF: mf})
	v.RegisterType("proc", &proc.Type{Kernel: k.ProcSource(), Opts: proc.Options{Filesystems: fsTypes}})
	v.RegisterType("sysfs", sys.Type{MF: mf, NumCPU: k.ProcSource().NumCPU()})
	v.RegisterType("mqueue", k.MqueueType())
	var ttys *tty.Devices
	if term != nil {
		dev.RegisterStandard(v.Devices, nil)
		ttys = tty.Register(v.Devices, term, k.JobControl())
	} else {
		dev.RegisterStandard(v.Devices, console)
		var hostTTY vfs.Device
		if console != nil {
			hostTTY = console
		}
		ttys = tty.RegisterPtys(v.Devices, hostTTY, k.JobControl())
	}
	v.RegisterType("devpts", ttys)
	k.SessionLeaderExited = ttys.LeaderExited
	v.Devices.RegisterChar(kernel.UserfaultfdDev[0], kernel.UserfaultfdDev[1], kernel.UserfaultfdDevice())
	v.OpenFIFO = pipe.NewFIFORegistry().Open
	if rootFS == nil {
		rootFS, rootType = tmpfs.New(mf, tmpfs.Options{RootMode: 0o755}), "rootfs"
	}
	root := v.MountRoot(rootFS, rootType, "rootfs", 0)
	k.VFS = v
	return v, root
}

// buildRootFS makes the sandbox's filesystem and returns init's root and
// working directory and the path of prog inside the sandbox.
//
// With rootfs a directory, the root is a live read-only view of it with
// a writable layer private to the sandbox (hostfs.Overlay); with rootfs a
// cpio archive (optionally gzipped), a copy of it. prog is then a path
// inside it. /proc, /dev and /sys are mounted on the tree's directories,
// which uk run makes where the tree has none, and /tmp too
// (sandboxMounts). Without rootfs the
// root holds /proc, /dev (devtmpfs, with /dev/shm and /dev/pts), /sys,
// /tmp (mode 1777), /etc/passwd and /etc/group (root and nobody), and the
// host file prog copied in at its absolute host path (returned) and
// linked at /bin/<basename>.
func buildRootFS(k *kernel.Kernel, rootfs string, prog string, console *dev.HostStream, term *tty.Console, etc map[string]string) (*vfs.FSContext, string, error) {
	var (
		rootFS   vfs.Filesystem
		rootType string
		isDir    bool
	)
	if rootfs != "" {
		st, err := os.Stat(rootfs)
		if err != nil {
			return nil, "", fmt.Errorf("--rootfs: %w", err)
		}
		if isDir = st.IsDir(); isDir {
			if rootFS, err = hostRoot(k.MemFile, rootfs); err != nil {
				return nil, "", fmt.Errorf("--rootfs: %w", err)
			}
			rootType = "overlay"
		}
	}
	v, root := newSandboxVFS(k, console, term, rootFS, rootType)
	ctx := vfs.KernelContext{}
	at := vfs.At{Root: root, Dir: root}
	if rootfs != "" {
		if !isDir {
			if err := initramfs.LoadFile(v, root, rootfs); err != nil {
				return nil, "", fmt.Errorf("--rootfs %s: %w", rootfs, err)
			}
		}
		for _, m := range []struct{ dir, typ string }{{"/proc", "proc"}, {"/dev", "devtmpfs"}, {"/sys", "sysfs"}, {"/tmp", "tmpfs"}} {
			if term == nil {
				// uk run's sandbox always has them (a booted init
				// mounts what it wants itself).
				mode := uint32(0o555)
				if m.typ == "tmpfs" {
					mode = 0o1777
				} else if m.typ == "devtmpfs" {
					mode = 0o755
				}
				if err := v.MkdirAt(ctx, at, m.dir, mode); err != nil && err != unix.EEXIST {
					return nil, "", fmt.Errorf("mkdir %s: %w", m.dir, err)
				}
			} else if m.typ == "tmpfs" {
				continue
			}
			p, err := v.Resolve(ctx, at, m.dir, 0)
			if err != nil || !p.Dentry.IsDir() {
				continue
			}
			if err := mountOn(v, ctx, p, m.typ); err != nil {
				return nil, "", err
			}
			if m.typ == "devtmpfs" {
				if err := mountDevExtras(v, k.MemFile, root); err != nil {
					return nil, "", err
				}
			}
		}
		if !path.IsAbs(prog) {
			prog = "/" + prog
		}
		if err := writeEtc(v, ctx, at, etc); err != nil {
			return nil, "", err
		}
		return vfs.NewFSContext(root), prog, nil
	}

	for _, d := range []struct {
		name string
		mode uint32
	}{{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"proc", 0o555}, {"sys", 0o555}, {"tmp", 0o1777}, {"root", 0o700}} {
		if err := v.MkdirAt(ctx, at, d.name, d.mode); err != nil {
			return nil, "", fmt.Errorf("mkdir /%s: %w", d.name, err)
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"etc/group":    "root:x:0:\nnobody:x:65534:\n",
		"etc/hostname": k.Hostname + "\n",
		"etc/hosts":    "127.0.0.1\tlocalhost " + k.Hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	}
	for name, content := range files {
		if err := writeFile(v, ctx, at, name, 0o644, []byte(content)); err != nil {
			return nil, "", err
		}
	}
	for _, m := range []struct{ dir, typ string }{{"/proc", "proc"}, {"/dev", "devtmpfs"}, {"/sys", "sysfs"}} {
		p, err := v.Resolve(ctx, at, m.dir, 0)
		if err != nil {
			return nil, "", fmt.Errorf("resolve %s: %w", m.dir, err)
		}
		if err := mountOn(v, ctx, p, m.typ); err != nil {
			return nil, "", err
		}
		if m.typ == "devtmpfs" {
			if err := mountDevExtras(v, k.MemFile, root); err != nil {
				return nil, "", err
			}
		}
	}
	// The program keeps its host path inside the sandbox, so argv[0],
	// AT_EXECFN and /proc/self/exe agree as they do natively and the
	// program can exec itself by argv[0]; /bin/<basename> names it too.
	inside, err := filepath.Abs(prog)
	if err != nil {
		return nil, "", err
	}
	if err := mkdirAll(v, ctx, at, path.Dir(inside)); err != nil {
		return nil, "", err
	}
	if err := copyHostFile(v, ctx, at, prog, inside); err != nil {
		return nil, "", err
	}
	if alias := "/bin/" + filepath.Base(prog); alias != inside {
		if err := v.LinkAt(ctx, at, inside, at, alias, 0); err != nil && err != unix.EEXIST {
			return nil, "", fmt.Errorf("link %s: %w", alias, err)
		}
	}
	if err := writeEtc(v, ctx, at, etc); err != nil {
		return nil, "", err
	}
	return vfs.NewFSContext(root), inside, nil
}

// mkdirAll creates dir and its missing parents (mode 0755).
func mkdirAll(v *vfs.VFS, ctx vfs.Context, at vfs.At, dir string) error {
	cur := ""
	for _, c := range strings.Split(strings.Trim(dir, "/"), "/") {
		if c == "" {
			continue
		}
		cur += "/" + c
		if err := v.MkdirAt(ctx, at, cur, 0o755); err != nil && err != unix.EEXIST {
			return fmt.Errorf("mkdir %s: %w", cur, err)
		}
	}
	return nil
}

// mountOn mounts a new filesystem of type typ on the directory p.
func mountOn(v *vfs.VFS, ctx vfs.Context, p vfs.Path, typ string) error {
	fs, err := v.NewFilesystem(ctx, typ, typ, 0, "")
	if err != nil {
		return fmt.Errorf("mount %s: %w", typ, err)
	}
	flags := uint64(0)
	switch typ {
	case "proc", "sysfs":
		flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	case "devtmpfs":
		flags = unix.MS_NOSUID
	}
	if _, err := v.MountFilesystem(fs, typ, typ, p, flags); err != nil {
		return fmt.Errorf("mount %s: %w", typ, err)
	}
	return nil
}

// mountDevExtras mounts /dev/shm (tmpfs) and /dev/pts (devpts)
// below a freshly mounted /dev.
func mountDevExtras(v *vfs.VFS, mf *memfile.File, root vfs.Path) error {
	ctx := vfs.KernelContext{}
	// A fresh walk crosses into the devtmpfs just mounted on /dev.
	dev2, err := v.Resolve(ctx, vfs.At{Root: root, Dir: root}, "/dev", 0)
	if err != nil {
		return fmt.Errorf("resolve /dev: %w", err)
	}
	if err := dev.MountShm(v, mf, dev2); err != nil {
		return err
	}
	pts, err := v.Resolve(ctx, vfs.At{Root: root, Dir: dev2}, "pts", 0)
	if err != nil {
		return fmt.Errorf("resolve /dev/pts: %w", err)
	}
	return mountOn(v, ctx, pts, "devpts")
}

// writeFile creates name (relative to at) with the given contents.
func writeFile(v *vfs.VFS, ctx vfs.Context, at vfs.At, name string, mode uint32, data []byte) error {
	d, err := v.OpenAt(ctx, at, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("create /%s: %w", name, err)
	}
	defer d.DecRef()
	if _, err := d.Write(ctx, data); err != nil {
		return fmt.Errorf("write /%s: %w", name, err)
	}
	return nil
}

// copyHostFile copies the host file hostPath into the sandbox at name,
// keeping its permission bits (and so its execute bits).
func copyHostFile(v *vfs.VFS, ctx vfs.Context, at vfs.At, hostPath, name string) error {
	f, err := os.Open(hostPath)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %w", hostPath, pe.Err)
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: %w", hostPath, unix.EISDIR)
	}
	d, err := v.OpenAt(ctx, at, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, uint32(st.Mode().Perm()))
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", hostPath, name, err)
	}
	defer d.DecRef()
	if reg := tmpfs.RegularOf(d); reg != nil {
		if err := reg.FillFromHost(int(f.Fd()), st.Size()); err == nil {
			return nil
		}
	}
	buf := make([]byte, 1<<20)
	for {
		n, rerr := f.Read(buf)
		if n > 0 {
			if _, err := d.Write(ctx, buf[:n]); err != nil {
				return fmt.Errorf("copy %s to %s: %w", hostPath, name, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read %s: %w", hostPath, rerr)
		}
	}
}

// writeEtc writes files the command line asks for into /etc (creating it
// if the image has none), over what the image holds: --dns's
// resolv.conf.
func writeEtc(v *vfs.VFS, ctx vfs.Context, at vfs.At, files map[string]string) error {
	if len(files) == 0 {
		return nil
	}
	if err := v.MkdirAt(ctx, at, "etc", 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mkdir /etc: %w", err)
	}
	for name, content := range files {
		if err := writeFile(v, ctx, at, "etc/"+name, 0o644, []byte(content)); err != nil {
			return err
		}
	}
	return nil
}
