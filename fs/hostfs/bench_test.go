package hostfs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	var leaves, files []string
	for i := 0; i < 20; i++ {
		for j := 0; j < 10; j++ {
			leaves = append(leaves, fmt.Sprintf("d%02d/e%02d", i, j))
		}
	}
	for k := 0; k < 10; k++ {
		files = append(files, fmt.Sprintf("file-%02d", k))
	}
	benchOverlay(b, hostTree(b, leaves, files), func(ctx vfs.Context, v *vfs.VFS, root vfs.At) {
		walkTree(b, ctx, v, root, ".")
	})
}

// benchOverlay runs walk b.N times, each on a fresh overlay of a fresh
// hostfs of dir (cold caches), allocations reported.
func benchOverlay(b *testing.B, dir string, walk func(ctx vfs.Context, v *vfs.VFS, root vfs.At)) {
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
		walk(ctx, v, vfs.At{Root: root, Dir: root})
		lower.Close()
	}
}

// hostTree makes each leaf directory (a relative path) under a fresh
// temporary directory, with an empty file of each name in it, and returns
// the temporary directory.
func hostTree(b *testing.B, leaves, files []string) string {
	dir := b.TempDir()
	for _, l := range leaves {
		d := filepath.Join(dir, l)
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(d, f), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return dir
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

// BenchmarkFind is uk's own side of `find DIR` over a --rootfs tree, cold,
// with the system calls GNU find makes (fts): per directory, a stat of
// its whole path from the root, an open of it, an fstat, the stat again,
// getdents into a 32 KiB buffer until it returns nothing, and a close;
// only directories are stat'ed (the listing's d_type says which names
// are). The tree has more directories (1,884) than the host directory fd
// cache holds, as /usr has. Per op: one whole walk on a fresh overlay.
func BenchmarkFind(b *testing.B) {
	var leaves, files []string
	for i := 0; i < 12; i++ {
		for j := 0; j < 12; j++ {
			for k := 0; k < 12; k++ {
				leaves = append(leaves, fmt.Sprintf("dir%02d/sub%02d/leaf%02d", i, j, k))
			}
		}
	}
	for f := 0; f < 6; f++ {
		files = append(files, fmt.Sprintf("file-%d.txt", f))
	}
	buf := make([]byte, 0, 32<<10)
	benchOverlay(b, hostTree(b, leaves, files), func(ctx vfs.Context, v *vfs.VFS, root vfs.At) {
		if n := findTree(b, ctx, v, root, "/", buf); n != 12+144+1728*7 {
			b.Fatalf("found %d names", n)
		}
	})
}

// findTree walks path as find does and returns how many names it found
// under it.
func findTree(b *testing.B, ctx vfs.Context, v *vfs.VFS, at vfs.At, path string, buf []byte) int {
	if _, err := v.StatAt(ctx, at, path, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		b.Fatal(err)
	}
	fd, err := v.OpenAt(ctx, at, path, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := fd.Stat(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := v.StatAt(ctx, at, path, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		b.Fatal(err)
	}
	var dirs []string
	n := 0
	for {
		out := buf[:0]
		if err := fd.Getdents(ctx, func(d vfs.Dirent) bool {
			var ok bool
			out, ok = vfs.AppendDirent64(out, d)
			return ok
		}); err != nil {
			b.Fatal(err)
		}
		if len(out) == 0 {
			break
		}
		for at := 0; at < len(out); {
			reclen := int(out[at+16]) | int(out[at+17])<<8
			name := string(out[at+19 : at+reclen])
			name = name[:strings.IndexByte(name, 0)]
			if name != "." && name != ".." {
				n++
				if out[at+18] == unix.DT_DIR {
					dirs = append(dirs, name)
				}
			}
			at += reclen
		}
	}
	fd.DecRef()
	for _, d := range dirs {
		n += findTree(b, ctx, v, at, strings.TrimSuffix(path, "/")+"/"+d, buf)
	}
	return n
}
