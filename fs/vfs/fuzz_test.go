package vfs_test

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

// allowedErrnos are the errors a namespace operation may legitimately
// return for any input the fuzzer can build.
var allowedErrnos = map[unix.Errno]bool{
	unix.ENOENT: true, unix.ENOTDIR: true, unix.EISDIR: true, unix.EEXIST: true,
	unix.ENOTEMPTY: true, unix.ELOOP: true, unix.EINVAL: true, unix.EBUSY: true,
	unix.EACCES: true, unix.EPERM: true, unix.ENAMETOOLONG: true, unix.EXDEV: true,
	unix.ENXIO: true, unix.ENOSPC: true, unix.EBADF: true,
}

var fuzzComponents = []string{"a", "b", "c", ".", "..", "", "l", "m", "mnt", "a/", "l/"}

// fuzzPath builds a path from the next bytes of the input.
func fuzzPath(data []byte, i *int) string {
	if *i >= len(data) {
		return "a"
	}
	n := int(data[*i] % 5)
	abs := data[*i]&0x80 != 0
	*i++
	var parts []string
	for k := 0; k <= n && *i < len(data); k++ {
		parts = append(parts, fuzzComponents[int(data[*i])%len(fuzzComponents)])
		*i++
	}
	p := strings.Join(parts, "/")
	if abs {
		p = "/" + p
	}
	return p
}

// FuzzPathOps runs random sequences of namespace operations over a tiny
// name space (so that names collide, symlinks loop and renames nest): no
// operation may panic, each must return nil or an errno from the allowed
// set, and the tree must stay listable.
func FuzzPathOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 3, 1, 2, 0, 1, 4, 0, 1, 2})
	f.Add([]byte{2, 1, 6, 1, 7, 5, 1, 0, 2, 1, 1, 6, 0, 1, 9})
	f.Add([]byte("\x00\x81\x00\x03\x02\x01\x06\x07\x06\x02\x00\x05\x04\x83\x00\x01\x02"))
	mf, err := memfile.New(64 << 20)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { mf.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := tmpfs.New(mf, tmpfs.Options{MaxBytes: 1 << 20, MaxInodes: 200, RootMode: 0o777})
		defer fs.Release()
		v := vfs.New()
		v.RegisterType("tmpfs", tmpfs.Type{MF: mf})
		root := v.MountRoot(fs, "tmpfs", "rootfs", 0)
		fsc := vfs.NewFSContext(root)
		ctxs := []*vfstest.Ctx{vfstest.Root(), vfstest.User(1, 1)}
		var open []*vfs.FileDescription
		defer func() {
			for _, fd := range open {
				fd.DecRef()
			}
		}()
		for i := 0; i < len(data) && i < 400; {
			op := data[i]
			i++
			ctx := ctxs[int(op>>7)]
			at := fsc.At(vfs.Path{})
			p := fuzzPath(data, &i)
			var err error
			switch op & 0x7f % 16 {
			case 0:
				err = v.MkdirAt(ctx, at, p, 0o755)
			case 1:
				var fd *vfs.FileDescription
				fd, err = v.OpenAt(ctx, at, p, unix.O_CREAT|unix.O_RDWR, 0o644)
				if err == nil {
					fd.Write(ctx, []byte("data"))
					open = append(open, fd)
				}
			case 2:
				err = v.SymlinkAt(ctx, fuzzPath(data, &i), at, p)
			case 3:
				err = v.UnlinkAt(ctx, at, p, 0)
			case 4:
				err = v.UnlinkAt(ctx, at, p, unix.AT_REMOVEDIR)
			case 5:
				err = v.RenameAt2(ctx, at, p, at, fuzzPath(data, &i), 0)
			case 6:
				err = v.RenameAt2(ctx, at, p, at, fuzzPath(data, &i), unix.RENAME_EXCHANGE)
			case 7:
				err = v.LinkAt(ctx, at, p, at, fuzzPath(data, &i), 0)
			case 8:
				_, err = v.StatAt(ctx, at, p, 0)
			case 9:
				var pp vfs.Path
				if pp, err = v.Resolve(ctx, at, p, 0); err == nil {
					if err = v.CheckDir(ctx, pp); err == nil {
						fsc.SetCwd(pp)
					}
				}
			case 10:
				err = v.Mount(ctx, nil, at, "t", p, "tmpfs", 0, "size=64k")
			case 11:
				err = v.Umount(ctx, nil, at, p, unix.MNT_DETACH)
			case 12:
				_, err = v.ReadlinkAt(ctx, at, p)
			case 13:
				err = v.ChmodAt(ctx, at, p, 0o700, 0)
			case 14:
				var fd *vfs.FileDescription
				if fd, err = v.OpenAt(ctx, at, p, unix.O_RDONLY|unix.O_DIRECTORY, 0); err == nil {
					err = fd.Getdents(ctx, func(vfs.Dirent) bool { return true })
					fd.DecRef()
				}
			case 15:
				err = v.MknodAt(ctx, at, p, unix.S_IFIFO|0o644, 0)
			}
			if err != nil {
				e, ok := err.(unix.Errno)
				if !ok || !allowedErrnos[e] {
					t.Fatalf("op %d on %q: unexpected error %v", op&0x7f%16, p, err)
				}
			}
		}
		// The whole tree stays walkable and every listed name resolves.
		var walk func(dir string, depth int)
		walk = func(dir string, depth int) {
			if depth > 8 {
				return
			}
			ctx := ctxs[0]
			fd, err := v.OpenAt(ctx, vfs.At{Root: root, Dir: root}, dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
			if err != nil {
				t.Fatalf("open dir %s: %v", dir, err)
			}
			var names []string
			fd.Getdents(ctx, func(d vfs.Dirent) bool { names = append(names, d.Name); return true })
			fd.DecRef()
			for _, n := range names {
				if n == "." || n == ".." {
					continue
				}
				st, err := v.StatAt(ctx, vfs.At{Root: root, Dir: root}, dir+"/"+n, unix.AT_SYMLINK_NOFOLLOW)
				if err != nil {
					t.Fatalf("listed %s/%s does not stat: %v", dir, n, err)
				}
				if st.IsDir() {
					walk(dir+"/"+n, depth+1)
				}
			}
		}
		walk("/", 0)
	})
}
