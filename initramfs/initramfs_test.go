package initramfs

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel/memfile"
)

func newRoot(t testing.TB, mf *memfile.File) (*vfs.VFS, vfs.Path, *tmpfs.FS) {
	fs := tmpfs.New(mf, tmpfs.Options{MaxBytes: 8 << 20})
	v := vfs.New()
	return v, v.MountRoot(fs, "tmpfs", "rootfs", 0), fs
}

func newMF(t testing.TB) *memfile.File {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	return mf
}

func rec(info cpio.Info, content string) cpio.Record {
	info.FileSize = uint64(len(content))
	return cpio.Record{ReaderAt: strings.NewReader(content), Info: info}
}

// sampleArchive has every record type, ino-0 files that must not become
// links, a real hard-link pair, and odd modes and owners.
func sampleRecords() []cpio.Record {
	return []cpio.Record{
		rec(cpio.Info{Name: ".", Mode: unix.S_IFDIR | 0o755, MTime: 1000}, ""),
		rec(cpio.Info{Name: "bin", Mode: unix.S_IFDIR | 0o755, MTime: 1001}, ""),
		rec(cpio.Info{Name: "bin/a", Mode: unix.S_IFREG | 0o755, MTime: 1002, UID: 10, GID: 20}, "AAAA"),
		rec(cpio.Info{Name: "bin/b", Mode: unix.S_IFREG | 0o4711, MTime: 1003}, "BB"), // ino 0, nlink 0
		rec(cpio.Info{Name: "bin/c", Mode: unix.S_IFREG | 0o644, MTime: 1003, Ino: 0, NLink: 2}, "CC"),
		rec(cpio.Info{Name: "bin/d", Mode: unix.S_IFREG | 0o644, MTime: 1003, Ino: 0, NLink: 2}, "DD"),
		rec(cpio.Info{Name: "bin/h1", Mode: unix.S_IFREG | 0o600, Ino: 77, NLink: 2}, ""),
		rec(cpio.Info{Name: "bin/h2", Mode: unix.S_IFREG | 0o600, Ino: 77, NLink: 2}, "shared"),
		rec(cpio.Info{Name: "bin/sh", Mode: unix.S_IFLNK | 0o777, MTime: 1004}, "a"),
		rec(cpio.Info{Name: "deep/er/file", Mode: unix.S_IFREG | 0o640}, "parents made"),
		rec(cpio.Info{Name: "dev", Mode: unix.S_IFDIR | 0o755}, ""),
		rec(cpio.Info{Name: "dev/console", Mode: unix.S_IFCHR | 0o600, Rmajor: 5, Rminor: 1}, ""),
		rec(cpio.Info{Name: "dev/sda", Mode: unix.S_IFBLK | 0o660, Rmajor: 8, Rminor: 0, GID: 6}, ""),
		rec(cpio.Info{Name: "dev/fifo", Mode: unix.S_IFIFO | 0o644}, ""),
		rec(cpio.Info{Name: "tmp", Mode: unix.S_IFDIR | 0o1777, MTime: 1005}, ""),
		rec(cpio.Info{Name: "big", Mode: unix.S_IFREG | 0o644}, strings.Repeat("x", 300<<10)),
	}
}

func archive(t testing.TB, recs []cpio.Record) []byte {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

type ctx = vfs.KernelContext

func checkTree(t *testing.T, v *vfs.VFS, root vfs.Path, recs []cpio.Record) {
	t.Helper()
	at := vfs.At{Root: root, Dir: root}
	c := ctx{}
	for _, r := range recs {
		st, err := v.StatAt(c, at, r.Name, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
			continue
		}
		if st.Mode != uint32(r.Mode) {
			t.Errorf("%s: mode %#o, want %#o", r.Name, st.Mode, r.Mode)
		}
		if st.UID != uint32(r.UID) || st.GID != uint32(r.GID) {
			t.Errorf("%s: owner %d:%d, want %d:%d", r.Name, st.UID, st.GID, r.UID, r.GID)
		}
		if st.Mtime.Sec != int64(r.MTime) {
			t.Errorf("%s: mtime %d, want %d", r.Name, st.Mtime.Sec, r.MTime)
		}
		typ := uint32(r.Mode) & unix.S_IFMT
		switch typ {
		case unix.S_IFREG:
			if r.FileSize == 0 && r.Ino != 0 {
				break // data carried by the other link
			}
			want := make([]byte, r.FileSize)
			r.ReadAt(want, 0)
			fd, err := v.OpenAt(c, at, r.Name, unix.O_RDONLY, 0)
			if err != nil {
				t.Errorf("open %s: %v", r.Name, err)
				continue
			}
			got := make([]byte, len(want)+1)
			n, _ := fd.Read(c, got)
			fd.DecRef()
			if !bytes.Equal(got[:n], want) {
				t.Errorf("%s: contents differ (%d vs %d bytes)", r.Name, n, len(want))
			}
		case unix.S_IFLNK:
			want := make([]byte, r.FileSize)
			r.ReadAt(want, 0)
			if l, _ := v.ReadlinkAt(c, at, r.Name); l != string(want) {
				t.Errorf("%s -> %q, want %q", r.Name, l, want)
			}
		case unix.S_IFCHR, unix.S_IFBLK:
			if st.Rdev != unix.Mkdev(uint32(r.Rmajor), uint32(r.Rminor)) {
				t.Errorf("%s: rdev %#x", r.Name, st.Rdev)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	mf := newMF(t)
	recs := sampleRecords()
	data := archive(t, recs)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"plain", data}, {"gzip", gz(data)}} {
		t.Run(tc.name, func(t *testing.T) {
			v, root, fs := newRoot(t, mf)
			defer fs.Release()
			if err := LoadBytes(v, root, tc.data); err != nil {
				t.Fatal(err)
			}
			checkTree(t, v, root, recs)
			at := vfs.At{Root: root, Dir: root}
			nl := func(p string) uint64 {
				st, _ := v.StatAt(ctx{}, at, p, 0)
				return st.Nlink
			}
			if nl("bin/c") != 1 || nl("bin/d") != 1 {
				t.Errorf("ino-0 records became hard links: %d %d", nl("bin/c"), nl("bin/d"))
			}
			if nl("bin/h1") != 2 {
				t.Errorf("hard link pair nlink %d", nl("bin/h1"))
			}
			fd, _ := v.OpenAt(ctx{}, at, "bin/h1", unix.O_RDONLY, 0)
			b := make([]byte, 16)
			n, _ := fd.Read(ctx{}, b)
			fd.DecRef()
			if string(b[:n]) != "shared" {
				t.Errorf("hard link data %q", b[:n])
			}
			if st, _ := v.StatAt(ctx{}, at, "deep", 0); st.Mode != unix.S_IFDIR|0o755 {
				t.Errorf("implicit parent mode %#o", st.Mode)
			}
		})
	}
}

func TestConcatenatedAndReplace(t *testing.T) {
	mf := newMF(t)
	a := archive(t, []cpio.Record{rec(cpio.Info{Name: "etc/x", Mode: unix.S_IFREG | 0o644}, "first")})
	b := archive(t, []cpio.Record{
		rec(cpio.Info{Name: "etc/x", Mode: unix.S_IFLNK | 0o777}, "y"),
		rec(cpio.Info{Name: "etc/y", Mode: unix.S_IFREG | 0o644}, "second"),
	})
	data := append(append(a, make([]byte, 512)...), b...)
	v, root, fs := newRoot(t, mf)
	defer fs.Release()
	if err := LoadBytes(v, root, data); err != nil {
		t.Fatal(err)
	}
	at := vfs.At{Root: root, Dir: root}
	if l, err := v.ReadlinkAt(ctx{}, at, "etc/x"); l != "y" || err != nil {
		t.Errorf("later archive did not replace: %q %v", l, err)
	}
}

func TestCorruptArchives(t *testing.T) {
	mf := newMF(t)
	good := archive(t, sampleRecords())
	second := 0 // offset of the second record
	if i := bytes.Index(good[6:], []byte("070701")); i >= 0 {
		second = i + 6
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty archive"},
		{"bad magic", []byte("hello world, this is not an archive at all......................................................................."), "byte 0: bad magic"},
		{"old format", append([]byte("070707"), good[6:]...), "unsupported cpio format"},
		{"short header", good[:50], "byte 0: truncated header"},
		{"truncated contents", good[:len(good)-1000], "truncated contents"},
		{"bad hex", append(append(append([]byte{}, good[:second+20]...), 'z'), good[second+21:]...), "byte " + itoa(second) + ": bad hex"},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, "gzip"},
		{"truncated gzip", gz(good)[:200], "gzip stream"},
	}
	for _, c := range cases {
		v, root, fs := newRoot(t, mf)
		err := LoadBytes(v, root, c.data)
		fs.Release()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	// Huge name length claims are refused before anything is allocated.
	h := []byte("070701" + strings.Repeat("00000000", 11) + "FFFFFFFF" + "00000000")
	v, root, _ := newRoot(t, mf)
	if err := LoadBytes(v, root, h); err == nil || !strings.Contains(err.Error(), "name length") {
		t.Errorf("huge name: %v", err)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestCopyHostDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a/b"), 0o750)
	os.WriteFile(filepath.Join(dir, "a/f"), []byte("hello"), 0o640)
	os.Link(filepath.Join(dir, "a/f"), filepath.Join(dir, "a/b/g"))
	os.Symlink("../f", filepath.Join(dir, "a/b/l"))
	unix.Mkfifo(filepath.Join(dir, "p"), 0o600)
	mtime := int64(123456789)
	os.Chtimes(filepath.Join(dir, "a/b"), time0(mtime), time0(mtime))
	mf := newMF(t)
	v, root, fs := newRoot(t, mf)
	defer fs.Release()
	if err := CopyHostDir(v, root, dir); err != nil {
		t.Fatal(err)
	}
	at := vfs.At{Root: root, Dir: root}
	c := ctx{}
	st, err := v.StatAt(c, at, "a/b/l", 0)
	if err != nil || st.Size != 5 || st.Nlink != 2 || st.Mode != unix.S_IFREG|0o640 {
		t.Errorf("followed link to hard-linked file: %+v %v", st, err)
	}
	if st, _ := v.StatAt(c, at, "a/b", 0); st.Mtime.Sec != mtime || st.Mode != unix.S_IFDIR|0o750 {
		t.Errorf("dir mtime %d mode %#o", st.Mtime.Sec, st.Mode)
	}
	if st, _ := v.StatAt(c, at, "p", 0); st.Type() != unix.S_IFIFO {
		t.Errorf("fifo type %#o", st.Mode)
	}
}
