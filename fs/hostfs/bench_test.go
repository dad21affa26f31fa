package hostfs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/hostfs"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// BenchmarkTreeWalk is uk's own side of `find` over a --rootfs tree, cold:
// a fresh overlay of a host tree of 200 directories of 10 files each,
// walked as find walks it (open each directory, fstat it, list it, stat
// each name relative to it, descend, close). Per op: one whole walk.
func BenchmarkTreeWalk(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 20; i++ {
		for j := 0; j < 10; j++ {
			d := filepath.Join(dir, fmt.Sprintf("d%02d/e%02d", i, j))
			if err := os.MkdirAll(d, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := 0; k < 10; k++ {
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file-%02d", k)), nil, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	mf := newMF(b)
	ctx := vfstest.Root()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lower, err := hostfs.New(dir, hostfs.Options{MF: mf})
		if err != nil {
			b.Fatal(err)
		}
		v := vfs.New()
		root := v.MountRoot(hostfs.NewOverlay(lower, tmpfs.New(mf, tmpfs.Options{})), "overlay", "rootfs", 0)
		walkTree(b, ctx, v, vfs.At{Root: root, Dir: root}, ".")
		lower.Close()
	}
}

func walkTree(b *testing.B, ctx vfs.Context, v *vfs.VFS, at vfs.At, name string) {
	fd, err := v.OpenAt(ctx, at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer fd.DecRef()
	if _, err := fd.Stat(ctx); err != nil {
		b.Fatal(err)
	}
	var names []string
	if err := fd.Getdents(ctx, func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	}); err != nil {
		b.Fatal(err)
	}
	in := vfs.At{Root: at.Root, Dir: fd.Path()}
	for _, n := range names {
		st, err := v.StatAt(ctx, in, n, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			b.Fatal(err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			walkTree(b, ctx, v, in, n)
		}
	}
}
