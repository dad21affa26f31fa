package vfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs/vfstest"
)

// BenchmarkStatAt measures a 4-component path walk plus stat (newfstatat).
func BenchmarkStatAt(b *testing.B) {
	e := newEnv(&testing.T{})
	ctx := vfstest.Root()
	for _, d := range []string{"/usr", "/usr/lib", "/usr/lib/go"} {
		e.v.MkdirAt(ctx, e.at(), d, 0o755)
	}
	fd, _ := e.v.OpenAt(ctx, e.at(), "/usr/lib/go/file", unix.O_CREAT|unix.O_WRONLY, 0o644)
	fd.DecRef()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.v.StatAt(ctx, e.at(), "/usr/lib/go/file", 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenReadClose measures open + 4 KiB read + close of a tmpfs file.
func BenchmarkOpenReadClose(b *testing.B) {
	e := newEnv(&testing.T{})
	ctx := vfstest.Root()
	fd, _ := e.v.OpenAt(ctx, e.at(), "/f", unix.O_CREAT|unix.O_WRONLY, 0o644)
	fd.Write(ctx, make([]byte, 4096))
	fd.DecRef()
	buf := make([]byte, 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fd, err := e.v.OpenAt(ctx, e.at(), "/f", unix.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		fd.Read(ctx, buf)
		fd.DecRef()
	}
}
