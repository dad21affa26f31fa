package initramfs

import (
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
)

// FuzzReadArchive feeds arbitrary bytes to the archive reader: it must
// return (an error or nil), never panic or hang, and leave a tree it can
// release. Seeds: testdata/fuzz/FuzzReadArchive plus archives built here.
func FuzzReadArchive(f *testing.F) {
	small := archive(f, []cpio.Record{
		rec(cpio.Info{Name: "d", Mode: unix.S_IFDIR | 0o755}, ""),
		rec(cpio.Info{Name: "d/f", Mode: unix.S_IFREG | 0o644, Ino: 3, NLink: 2}, "x"),
		rec(cpio.Info{Name: "d/g", Mode: unix.S_IFREG | 0o644, Ino: 3, NLink: 2}, ""),
		rec(cpio.Info{Name: "d/l", Mode: unix.S_IFLNK | 0o777}, "f"),
		rec(cpio.Info{Name: "c", Mode: unix.S_IFCHR | 0o600, Rmajor: 1, Rminor: 3}, ""),
	})
	f.Add(small)
	f.Add(gz(small))
	f.Add([]byte{})
	mf := newMF(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := tmpfs.New(mf, tmpfs.Options{MaxBytes: 1 << 20, MaxInodes: 1000})
		v := vfs.New()
		root := v.MountRoot(fs, "tmpfs", "rootfs", 0)
		_ = LoadBytes(v, root, data)
		fs.Release()
	})
}
