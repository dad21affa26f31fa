// Package sys is uk's minimal sysfs: the few files common tools read
// (/sys/devices/system/cpu/{online,possible,present}, the one NUMA node
// in /sys/devices/system/node,
// /sys/kernel/mm/transparent_hugepage/enabled, empty /sys/class/net and
// /sys/fs/cgroup directories). Every other path is ENOENT. The contents
// are fixed when a filesystem is made, so the tree is a read-only tmpfs
// built at mount time that reports sysfs's statfs magic.
package sys

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/memfile"
)

// sysfsMagic is SYSFS_MAGIC.
const sysfsMagic = 0x62656572

// FS is a sysfs instance: a tmpfs holding the fixed tree.
type FS struct{ *tmpfs.FS }

// Statfs implements vfs.Filesystem with sysfs's magic.
func (f FS) Statfs(ctx vfs.Context) (vfs.Statfs, error) {
	s, err := f.FS.Statfs(ctx)
	s.Type = sysfsMagic
	s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree = 0, 0, 0, 0, 0
	return s, err
}

// Type is the "sysfs" filesystem type. NumCPU is the CPU count the
// cpu files show.
type Type struct {
	MF     *memfile.File
	NumCPU int
}

// Files returns the tree's regular files and their contents.
func Files(numCPU int) map[string]string {
	cpus := "0\n"
	if numCPU > 1 {
		cpus = fmt.Sprintf("0-%d\n", numCPU-1)
	}
	return map[string]string{
		"devices/system/cpu/online":   cpus,
		"devices/system/cpu/possible": cpus,
		"devices/system/cpu/present":  cpus,
		// One NUMA node holds every CPU and all memory (libnuma and
		// numactl read these; set_mempolicy and mbind know node 0).
		"devices/system/node/online":                   "0\n",
		"devices/system/node/possible":                 "0\n",
		"devices/system/node/has_cpu":                  "0\n",
		"devices/system/node/has_memory":               "0\n",
		"devices/system/node/has_normal_memory":        "0\n",
		"devices/system/node/node0/cpulist":            cpus,
		"devices/system/node/node0/cpumap":             cpuMap(numCPU),
		"devices/system/node/node0/distance":           "10\n",
		"kernel/mm/transparent_hugepage/enabled":       "always [madvise] never\n",
		"kernel/mm/transparent_hugepage/defrag":        "always defer defer+madvise [madvise] never\n",
		"kernel/mm/transparent_hugepage/shmem_enabled": "always within_size advise [never] deny force\n",
	}
}

// cpuMap is a mask of numCPU CPUs as sysfs prints one (%*pb): 32-bit
// groups in hex, the highest first and unpadded, separated by commas.
func cpuMap(numCPU int) string {
	var groups []string
	for lo := 0; lo < max(numCPU, 1); lo += 32 {
		n := min(numCPU-lo, 32)
		groups = append([]string{fmt.Sprintf("%08x", uint32(1<<n-1))}, groups...)
	}
	s := strings.Join(groups, ",")
	return strings.TrimLeft(s[:8], "0") + s[8:] + "\n"
}

// dirs are the empty directories the tree has besides the files' parents.
var dirs = []string{"class/net", "fs/cgroup", "block", "bus", "dev/char", "dev/block", "firmware", "module", "power"}

// NewFilesystem implements vfs.FilesystemType: a fresh tree per mount.
func (t Type) NewFilesystem(vfs.Context, *vfs.VFS, string, uint64, string) (vfs.Filesystem, error) {
	fs := tmpfs.New(t.MF, tmpfs.Options{RootMode: 0o555, MaxBytes: 1 << 20})
	pv := vfs.New()
	root := pv.MountRoot(fs, "sysfs", "sysfs", 0)
	ctx := vfs.KernelContext{}
	at := vfs.At{Root: root, Dir: root}
	mkdirAll := func(dir string) error {
		cur := ""
		for _, c := range splitPath(dir) {
			cur = path.Join(cur, c)
			if err := pv.MkdirAt(ctx, at, cur, 0o755); err != nil && err != unix.EEXIST {
				return fmt.Errorf("sysfs: mkdir %s: %w", cur, err)
			}
		}
		return nil
	}
	for _, d := range dirs {
		if err := mkdirAll(d); err != nil {
			return nil, err
		}
	}
	for name, content := range Files(max(t.NumCPU, 1)) {
		if err := mkdirAll(path.Dir(name)); err != nil {
			return nil, err
		}
		d, err := pv.OpenAt(ctx, at, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o444)
		if err != nil {
			return nil, fmt.Errorf("sysfs: create %s: %w", name, err)
		}
		_, err = d.Write(ctx, []byte(content))
		d.DecRef()
		if err != nil {
			return nil, fmt.Errorf("sysfs: write %s: %w", name, err)
		}
	}
	return FS{fs}, nil
}

func splitPath(p string) []string {
	var out []string
	for p != "" && p != "." && p != "/" {
		out = append([]string{path.Base(p)}, out...)
		p = path.Dir(p)
	}
	return out
}
