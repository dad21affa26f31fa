package initramfs

import (
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
)

// BenchmarkLoadUrootSized loads an archive shaped like a u-root image: one
// 9.7 MB binary plus 30 symlinks to it.
func BenchmarkLoadUrootSized(b *testing.B) {
	recs := []cpio.Record{rec(cpio.Info{Name: "bbin", Mode: unix.S_IFDIR | 0o755}, ""),
		rec(cpio.Info{Name: "bbin/bb", Mode: unix.S_IFREG | 0o755}, strings.Repeat("\x90", 9_700_000))}
	for i := 0; i < 30; i++ {
		recs = append(recs, rec(cpio.Info{Name: "bbin/cmd" + itoa(i), Mode: unix.S_IFLNK | 0o777}, "bb"))
	}
	data := archive(b, recs)
	mf := newMF(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fs := tmpfs.New(mf, tmpfs.Options{MaxBytes: 32 << 20})
		v := vfs.New()
		if err := LoadBytes(v, v.MountRoot(fs, "tmpfs", "rootfs", 0), data); err != nil {
			b.Fatal(err)
		}
		fs.Release()
	}
}
