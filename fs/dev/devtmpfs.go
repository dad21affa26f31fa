package dev

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/memfile"
)

// node is one entry a devtmpfs starts with.
type node struct {
	name         string
	mode         uint32 // type | permissions
	major, minor uint32
	target       string // symlinks
}

// standardNodes are what Linux's devtmpfs plus udev/init usually provide.
var standardNodes = []node{
	{name: "null", mode: unix.S_IFCHR | 0o666, major: 1, minor: 3},
	{name: "zero", mode: unix.S_IFCHR | 0o666, major: 1, minor: 5},
	{name: "full", mode: unix.S_IFCHR | 0o666, major: 1, minor: 7},
	{name: "random", mode: unix.S_IFCHR | 0o666, major: 1, minor: 8},
	{name: "urandom", mode: unix.S_IFCHR | 0o666, major: 1, minor: 9},
	{name: "kmsg", mode: unix.S_IFCHR | 0o644, major: 1, minor: 11},
	{name: "tty", mode: unix.S_IFCHR | 0o666, major: 5, minor: 0},
	{name: "console", mode: unix.S_IFCHR | 0o600, major: 5, minor: 1},
	{name: "ptmx", mode: unix.S_IFCHR | 0o666, major: 5, minor: 2},
	{name: "userfaultfd", mode: unix.S_IFCHR | 0o600, major: 10, minor: 126},
	{name: "fd", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd"},
	{name: "stdin", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd/0"},
	{name: "stdout", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd/1"},
	{name: "stderr", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd/2"},
	{name: "shm", mode: unix.S_IFDIR | 0o1777},
	{name: "pts", mode: unix.S_IFDIR | 0o755},
}

// Populate creates the standard /dev nodes, links and directories in the
// directory dir (usually a devtmpfs root). Existing names are left alone.
func Populate(v *vfs.VFS, dir vfs.Path) error {
	ctx := vfs.KernelContext{}
	at := vfs.At{Root: dir, Dir: dir}
	for _, n := range standardNodes {
		var err error
		switch n.mode & unix.S_IFMT {
		case unix.S_IFDIR:
			err = v.MkdirAt(ctx, at, n.name, n.mode&0o7777)
		case unix.S_IFLNK:
			err = v.SymlinkAt(ctx, n.target, at, n.name)
		default:
			err = v.MknodAt(ctx, at, n.name, n.mode, unix.Mkdev(n.major, n.minor))
		}
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("create /dev/%s: %w", n.name, err)
		}
	}
	return nil
}

// DevtmpfsType is the "devtmpfs" filesystem type. Like Linux's it has one
// instance: every mount shows the same tree, populated on first use.
type DevtmpfsType struct {
	MF *memfile.File

	once sync.Once
	fs   *tmpfs.FS
	err  error
}

// NewFilesystem implements vfs.FilesystemType.
func (t *DevtmpfsType) NewFilesystem(ctx vfs.Context, v *vfs.VFS, _ string, _ uint64, _ string) (vfs.Filesystem, error) {
	t.once.Do(func() {
		fs := tmpfs.New(t.MF, tmpfs.Options{RootMode: 0o755, MaxBytes: 64 << 20})
		t.fs = fs
		// Populate through a private VFS whose root is the new filesystem:
		// the caller may hold no locks of v, but this keeps them apart.
		pv := vfs.New()
		root := pv.MountRoot(fs, "devtmpfs", "devtmpfs", 0)
		t.err = Populate(pv, root)
	})
	return t.fs, t.err
}

// ShmOptions are the tmpfs options the kernel mounts /dev/shm with.
const ShmOptions = "mode=1777"

// MountShm mounts a fresh tmpfs on /dev/shm (dev is the /dev directory).
func MountShm(v *vfs.VFS, mf *memfile.File, dev vfs.Path) error {
	ctx := vfs.KernelContext{}
	shm, err := v.Resolve(ctx, vfs.At{Root: dev, Dir: dev}, "shm", 0)
	if err != nil {
		return fmt.Errorf("resolve /dev/shm: %w", err)
	}
	o, _ := tmpfs.ParseOptions(ShmOptions)
	if _, err := v.MountFilesystem(tmpfs.New(mf, o), "tmpfs", "tmpfs", shm, unix.MS_NOSUID|unix.MS_NODEV); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return nil
}
