package hostfs_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/hostfs"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
	"uk/kernel/memmap"
)

// tree makes a host directory owned by the test:
//
//	a/f      "hello host\n"
//	a/sub/g  "g\n"
//	a/esc    symlink to /secret (absolute: outside the tree on the host)
//	a/up     symlink to ../../../secret
//	big      3 pages and a bit
//
// and, beside it (outside the tree), secret.
func tree(t *testing.T) (dir, secret string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "tree")
	secret = filepath.Join(base, "secret")
	must(t, os.MkdirAll(filepath.Join(dir, "a/sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "a/f"), []byte("hello host\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "a/sub/g"), []byte("g\n"), 0o644))
	must(t, os.Symlink(secret, filepath.Join(dir, "a/esc")))
	must(t, os.Symlink("../../../secret", filepath.Join(dir, "a/up")))
	must(t, os.WriteFile(filepath.Join(dir, "big"), bytes.Repeat([]byte("0123456789abcdef"), 3*256+10), 0o644))
	must(t, os.WriteFile(secret, []byte("TOP SECRET\n"), 0o600))
	return dir, secret
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newMF(t testing.TB) *memfile.File {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	return mf
}

// mountOverlay serves dir read-only under a writable layer as a VFS root.
func mountOverlay(t *testing.T, dir string) (*vfs.VFS, vfs.At, *memfile.File) {
	mf := newMF(t)
	lower, err := hostfs.New(dir, hostfs.Options{MF: mf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lower.Close)
	v := vfs.New()
	root := v.MountRoot(hostfs.NewOverlay(lower, tmpfs.New(mf, tmpfs.Options{})), "overlay", "rootfs", 0)
	return v, vfs.At{Root: root, Dir: root}, mf
}

// mountHost serves dir as the VFS root, writable or read-only.
func mountHost(t *testing.T, dir string, writable bool) (*vfs.VFS, vfs.At) {
	mf := newMF(t)
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf, Writable: writable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fs.Close)
	v := vfs.New()
	flags := uint64(0)
	if !writable {
		flags = unix.MS_RDONLY
	}
	root := v.MountRoot(fs, "hostfs", dir, flags)
	return v, vfs.At{Root: root, Dir: root}
}

func readAll(t *testing.T, v *vfs.VFS, at vfs.At, path string) (string, error) {
	t.Helper()
	fd, err := v.OpenAt(vfstest.Root(), at, path, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer fd.DecRef()
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := fd.Read(vfstest.Root(), buf)
		out = append(out, buf[:n]...)
		if err != nil || n == 0 {
			return string(out), err
		}
	}
}

func writeFile(t *testing.T, v *vfs.VFS, at vfs.At, path string, flags uint32, data string) error {
	t.Helper()
	fd, err := v.OpenAt(vfstest.Root(), at, path, unix.O_WRONLY|flags, 0o644)
	if err != nil {
		return err
	}
	defer fd.DecRef()
	_, err = fd.Write(vfstest.Root(), []byte(data))
	return err
}

func list(t *testing.T, v *vfs.VFS, at vfs.At, path string) []string {
	t.Helper()
	fd, err := v.OpenAt(vfstest.Root(), at, path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer fd.DecRef()
	var names []string
	if err := fd.Getdents(vfstest.Root(), func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// hostUnchanged checks the host tree is as tree made it.
func hostUnchanged(t *testing.T, dir, secret string) {
	t.Helper()
	for name, want := range map[string]string{"a/f": "hello host\n", "a/sub/g": "g\n"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("host %s = %q, %v; want %q", name, got, err, want)
		}
	}
	if got, err := os.ReadFile(secret); err != nil || string(got) != "TOP SECRET\n" {
		t.Errorf("host secret = %q, %v", got, err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "a"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[esc f sub up]" {
		t.Errorf("host a/ = %v, want [esc f sub up]", names)
	}
}

// TestOverlayReadsHostAndKeepsChangesPrivate: the overlay shows the host
// tree, and every kind of change stays in the sandbox.
func TestOverlayReadsHostAndKeepsChangesPrivate(t *testing.T) {
	dir, secret := tree(t)
	v, at, _ := mountOverlay(t, dir)
	ctx := vfstest.Root()
	if got, err := readAll(t, v, at, "/a/f"); err != nil || got != "hello host\n" {
		t.Fatalf("read /a/f = %q, %v", got, err)
	}
	if got := list(t, v, at, "/a"); fmt.Sprint(got) != "[esc f sub up]" {
		t.Fatalf("ls /a = %v", got)
	}
	// A write copies the file up; the host keeps its bytes.
	must(t, writeFile(t, v, at, "/a/f", unix.O_APPEND, "more\n"))
	if got, _ := readAll(t, v, at, "/a/f"); got != "hello host\nmore\n" {
		t.Errorf("after append /a/f = %q", got)
	}
	// O_TRUNC copies nothing.
	must(t, writeFile(t, v, at, "/a/sub/g", unix.O_TRUNC, "new g"))
	if got, _ := readAll(t, v, at, "/a/sub/g"); got != "new g" {
		t.Errorf("after truncate /a/sub/g = %q", got)
	}
	// New files, directories, a rename of a host directory, removals.
	must(t, writeFile(t, v, at, "/a/new", unix.O_CREAT, "n"))
	must(t, v.MkdirAt(ctx, at, "/a/d", 0o755))
	must(t, writeFile(t, v, at, "/a/d/x", unix.O_CREAT, "x"))
	must(t, v.RenameAt2(ctx, at, "/a/sub", at, "/a/moved", 0))
	if got, _ := readAll(t, v, at, "/a/moved/g"); got != "new g" {
		t.Errorf("/a/moved/g = %q after renaming the host directory", got)
	}
	must(t, v.UnlinkAt(ctx, at, "/a/esc", 0))
	if got := list(t, v, at, "/a"); fmt.Sprint(got) != "[d f moved new up]" {
		t.Errorf("ls /a = %v", got)
	}
	if _, err := v.StatAt(ctx, at, "/a/sub", unix.AT_SYMLINK_NOFOLLOW); err != unix.ENOENT {
		t.Errorf("stat of the renamed-away /a/sub = %v, want ENOENT", err)
	}
	// chmod keeps the data on the host: no copy.
	must(t, v.ChmodAt(ctx, at, "/big", 0o600, 0))
	if st, err := v.StatAt(ctx, at, "/big", 0); err != nil || st.Mode&0o777 != 0o600 || st.Size != 3*4096+160 {
		t.Errorf("stat /big after chmod = %+v, %v", st, err)
	}
	// A directory removed and made again is empty (opaque).
	must(t, v.UnlinkAt(ctx, at, "/a/moved/g", 0))
	must(t, v.UnlinkAt(ctx, at, "/a/moved", unix.AT_REMOVEDIR))
	must(t, v.MkdirAt(ctx, at, "/a/moved", 0o755))
	if got := list(t, v, at, "/a/moved"); len(got) != 0 {
		t.Errorf("a directory made again over a removed host one lists %v", got)
	}
	if err := v.UnlinkAt(ctx, at, "/a", unix.AT_REMOVEDIR); err != unix.ENOTEMPTY {
		t.Errorf("rmdir of a host directory with host files = %v, want ENOTEMPTY", err)
	}
	hostUnchanged(t, dir, secret)
	if st, err := os.Stat(filepath.Join(dir, "big")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("host big mode %v, %v after the sandbox's chmod", st.Mode(), err)
	}
}

// TestSymlinksResolveInsideTheSandbox: links pointing out of the tree
// (absolute, or through ..) resolve in the sandbox's namespace, never on
// the host.
func TestSymlinksResolveInsideTheSandbox(t *testing.T) {
	dir, secret := tree(t)
	for _, mode := range []string{"overlay", "ro", "rw"} {
		t.Run(mode, func(t *testing.T) {
			var v *vfs.VFS
			var at vfs.At
			if mode == "overlay" {
				v, at, _ = mountOverlay(t, dir)
			} else {
				v, at = mountHost(t, dir, mode == "rw")
			}
			ctx := vfstest.Root()
			if target, err := v.ReadlinkAt(ctx, at, "/a/esc"); err != nil || target != secret {
				t.Errorf("readlink /a/esc = %q, %v", target, err)
			}
			for _, p := range []string{"/a/esc", "/a/up", "/../secret", "/a/../../secret", "a/sub/../../../secret"} {
				if got, err := readAll(t, v, at, p); err != unix.ENOENT {
					t.Errorf("read %s = %q, %v; want ENOENT (the host's %s is outside)", p, got, err, secret)
				}
			}
			if mode == "rw" {
				// Writing through an escaping link creates a file in the tree,
				// never the host's target.
				err := writeFile(t, v, at, "/a/up", unix.O_CREAT, "pwned")
				if err == nil {
					if _, err := os.Stat(filepath.Join(dir, "secret")); err != nil {
						t.Errorf("write through /a/up succeeded but made nothing in the tree: %v", err)
					}
					os.Remove(filepath.Join(dir, "secret"))
				}
			}
			hostUnchanged(t, dir, secret)
		})
	}
}

// TestReadOnlyHostRefusesChanges: a read-only tree cannot change the host.
func TestReadOnlyHostRefusesChanges(t *testing.T) {
	dir, secret := tree(t)
	v, at := mountHost(t, dir, false)
	ctx := vfstest.Root()
	if err := writeFile(t, v, at, "/a/f", 0, "x"); err != unix.EROFS {
		t.Errorf("open for writing = %v, want EROFS", err)
	}
	if err := writeFile(t, v, at, "/a/n", unix.O_CREAT, "x"); err != unix.EROFS {
		t.Errorf("create = %v, want EROFS", err)
	}
	if err := v.UnlinkAt(ctx, at, "/a/f", 0); err != unix.EROFS {
		t.Errorf("unlink = %v, want EROFS", err)
	}
	if err := v.RenameAt2(ctx, at, "/a/f", at, "/a/g", 0); err != unix.EROFS {
		t.Errorf("rename = %v, want EROFS", err)
	}
	if err := v.ChmodAt(ctx, at, "/a/f", 0o777, 0); err != unix.EROFS {
		t.Errorf("chmod = %v, want EROFS", err)
	}
	if err := v.TruncateAt(ctx, at, "/a/f", 0); err != unix.EROFS {
		t.Errorf("truncate = %v, want EROFS", err)
	}
	// Even past the VFS's mount check, the filesystem itself refuses.
	mf := newMF(t)
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf})
	must(t, err)
	defer fs.Close()
	a, err := fs.HostRoot().Lookup(ctx, "a")
	must(t, err)
	f, err := a.(vfs.DirInode).Lookup(ctx, "f")
	must(t, err)
	if _, _, err := f.Open(ctx, unix.O_RDWR); err != unix.EROFS {
		t.Errorf("inode open O_RDWR = %v, want EROFS", err)
	}
	if err := f.SetStat(ctx, vfs.SetStat{Mask: unix.STATX_SIZE}); err != unix.EROFS {
		t.Errorf("inode truncate = %v, want EROFS", err)
	}
	if _, err := a.(vfs.DirInode).Create(ctx, "z", vfs.CreateOptions{Mode: unix.S_IFREG | 0o644}); err != unix.EROFS {
		t.Errorf("inode create = %v, want EROFS", err)
	}
	for _, bad := range []string{"..", ".", "", "sub/../..", "/etc"} {
		if _, err := a.(vfs.DirInode).Lookup(ctx, bad); err == nil {
			t.Errorf("Lookup(%q) succeeded", bad)
		}
	}
	hostUnchanged(t, dir, secret)
}

// TestWritableHost: a read-write tree's changes are on the host.
func TestWritableHost(t *testing.T) {
	dir, _ := tree(t)
	v, at := mountHost(t, dir, true)
	ctx := vfstest.Root()
	must(t, writeFile(t, v, at, "/out.txt", unix.O_CREAT, "result\n"))
	must(t, v.MkdirAt(ctx, at, "/o", 0o755))
	must(t, v.RenameAt2(ctx, at, "/out.txt", at, "/o/r.txt", 0))
	must(t, writeFile(t, v, at, "/o/r.txt", unix.O_APPEND, "more\n"))
	if got, err := os.ReadFile(filepath.Join(dir, "o/r.txt")); err != nil || string(got) != "result\nmore\n" {
		t.Errorf("host o/r.txt = %q, %v", got, err)
	}
	must(t, v.UnlinkAt(ctx, at, "/a/f", 0))
	if _, err := os.Stat(filepath.Join(dir, "a/f")); !os.IsNotExist(err) {
		t.Errorf("host a/f after unlink: %v", err)
	}
	// Set-id bits never reach the host.
	must(t, v.ChmodAt(ctx, at, "/o/r.txt", 0o4755, 0))
	if st, err := os.Stat(filepath.Join(dir, "o/r.txt")); err != nil || st.Mode()&os.ModeSetuid != 0 || st.Mode().Perm() != 0o755 {
		t.Errorf("host o/r.txt mode %v, %v after chmod 4755", st.Mode(), err)
	}
	if err := v.MknodAt(ctx, at, "/o/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3)); err == nil {
		t.Errorf("mknod of a device on the host succeeded")
	}
	// A listing sees what another host process adds, at the next rewind
	// (the directory's fd is listed again from its start).
	if got := list(t, v, at, "/o"); fmt.Sprint(got) != "[r.txt]" {
		t.Errorf("ls /o = %v", got)
	}
	must(t, os.WriteFile(filepath.Join(dir, "o/ext"), nil, 0o644))
	for i := 0; i < 2; i++ {
		if got := list(t, v, at, "/o"); fmt.Sprint(got) != "[ext r.txt]" {
			t.Errorf("ls /o = %v after the host added ext", got)
		}
	}
}

// mapper records invalidations (a fake MM).
type mapper struct{ ranges [][2]uint64 }

func (m *mapper) Invalidate(_ memmap.Mappable, first, end uint64, _ bool) {
	m.ranges = append(m.ranges, [2]uint64{first, end})
}

// TestPageCache: a host file's pages come from the host, are shared, and
// go back at the last unmapping (on a writable tree; a read-only one's
// stay: TestIdleCache).
func TestPageCache(t *testing.T) {
	dir, _ := tree(t)
	mf := newMF(t)
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf, Writable: true})
	must(t, err)
	defer fs.Close()
	ctx := vfstest.Root()
	ino, err := fs.HostRoot().Lookup(ctx, "big")
	must(t, err)
	f := ino.(*hostfs.File)
	want, _ := os.ReadFile(filepath.Join(dir, "big"))
	m := &mapper{}
	f.AddMapping(m)
	var pages []int64
	for i := uint64(0); i < 4; i++ {
		off, err := f.PageAt(i)
		if err != nil {
			t.Fatalf("PageAt(%d): %v", i, err)
		}
		end := min(int((i+1)*4096), len(want))
		page := mf.Bytes(off, 4096)
		if !bytes.Equal(page[:end-int(i*4096)], want[i*4096:end]) {
			t.Errorf("page %d differs from the host file", i)
		}
		if i == 3 && !bytes.Equal(page[end-int(i*4096):], make([]byte, 4096-(end-int(i*4096)))) {
			t.Errorf("the tail of the last page is not zero")
		}
		pages = append(pages, off)
	}
	if _, err := f.PageAt(4); err != unix.EFAULT {
		t.Errorf("PageAt past the end = %v, want EFAULT", err)
	}
	if p, ok := f.PeekPage(1); !ok || p != pages[1] {
		t.Errorf("PeekPage(1) = %d, %v", p, ok)
	}
	m2 := &mapper{}
	f.AddMapping(m2)
	f.RemoveMapping(m)
	if mf.RefCount(pages[0]) != 1 {
		t.Errorf("page refs %d with a mapping left, want 1", mf.RefCount(pages[0]))
	}
	f.RemoveMapping(m2)
	for _, p := range pages {
		if mf.RefCount(p) != 0 {
			t.Errorf("page %#x refs %d after the last unmapping, want 0", p, mf.RefCount(p))
		}
	}
	if len(m.ranges)+len(m2.ranges) != 0 {
		t.Errorf("an unchanged file invalidated %v %v", m.ranges, m2.ranges)
	}
}

// TestIdleCache: on a read-only tree a file's cache outlives its last
// mapping: the next mapping finds the same pages, without reading the
// host; it goes when the memory is wanted (the memory file reclaims it
// before it would fail an allocation) and beyond its bound.
func TestIdleCache(t *testing.T) {
	dir, _ := tree(t)
	mf, err := memfile.New(64 * 4096) // 63 usable pages
	must(t, err)
	t.Cleanup(func() { mf.Close() })
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf})
	must(t, err)
	defer fs.Close()
	ino, err := fs.HostRoot().Lookup(vfstest.Root(), "big")
	must(t, err)
	f := ino.(*hostfs.File)
	m := &mapper{}
	f.AddMapping(m)
	first, err := f.PageAt(0)
	must(t, err)
	f.RemoveMapping(m)
	if mf.RefCount(first) != 1 {
		t.Fatalf("page refs %d after the last unmapping of a read-only file, want 1 (kept)", mf.RefCount(first))
	}
	// The host file changes under it: a read-only tree is taken as
	// unchanging, so the next mapping reads the kept page, proof that it
	// did not go to the host.
	must(t, os.WriteFile(filepath.Join(dir, "big"), []byte("CHANGED"), 0o644))
	f.AddMapping(m)
	if off, err := f.PageAt(0); err != nil || off != first || mf.Bytes(off, 4)[0] != '0' {
		t.Fatalf("PageAt(0) after remapping = %#x, %v; want the kept page %#x", off, err, first)
	}
	f.RemoveMapping(m)
	// Every page the budget has: the kept ones come back for it.
	used := mf.UsedPages()
	all, err := mf.Allocate(int(63 - used + 4))
	if err != nil {
		t.Fatalf("allocating the whole budget with %d pages kept idle: %v", used, err)
	}
	if mf.RefCount(first) != 0 && !slices.Contains(all, first) {
		t.Errorf("an idle page kept its reference through a shortage")
	}
	mf.DecRef(all...)
}

// TestIdleCacheBounded: the idle list keeps at most a sixteenth of the
// budget; the least recently unmapped files go first.
func TestIdleCacheBounded(t *testing.T) {
	dir := t.TempDir()
	const files = 8
	for i := 0; i < files; i++ {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), bytes.Repeat([]byte{byte('a' + i)}, 4*4096), 0o644))
	}
	mf, err := memfile.New(16 * 16 * 4096) // idle bound: 16 pages
	must(t, err)
	t.Cleanup(func() { mf.Close() })
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf})
	must(t, err)
	defer fs.Close()
	var firsts []int64
	for i := 0; i < files; i++ {
		ino, err := fs.HostRoot().Lookup(vfstest.Root(), fmt.Sprint(i))
		must(t, err)
		f := ino.(*hostfs.File)
		m := &mapper{}
		f.AddMapping(m)
		off, err := f.PageAt(0) // reads all 4 pages ahead
		must(t, err)
		firsts = append(firsts, off)
		f.RemoveMapping(m)
	}
	if n := mf.UsedPages(); n > 16 {
		t.Errorf("%d pages held by idle files, want at most 16", n)
	}
	for i, off := range firsts {
		// (A page given back may have been taken for a later file.)
		kept := mf.RefCount(off) == 1 && mf.Bytes(off, 1)[0] == byte('a'+i)
		if want := i >= files-4; kept != want {
			t.Errorf("file %d (of %d unmapped in order) kept: %v, want %v", i, files, kept, want)
		}
	}
}

// TestDirFDCacheBounded: a tree with more directories than uk keeps fds
// for is walked and walked again correctly.
func TestDirFDCacheBounded(t *testing.T) {
	dir := t.TempDir()
	const n = 700
	for i := 0; i < n; i++ {
		d := filepath.Join(dir, fmt.Sprintf("d%03d/e", i))
		must(t, os.MkdirAll(d, 0o755))
		must(t, os.WriteFile(filepath.Join(d, "f"), []byte(fmt.Sprint(i)), 0o644))
	}
	v, at := mountHost(t, dir, false)
	before := countFDs(t)
	for round := 0; round < 3; round++ {
		if round == 1 {
			// Listed, the directories are opened by their lookups
			// (openDir), into the same bounded cache.
			if got := list(t, v, at, "/"); len(got) != n {
				t.Fatalf("ls / has %d names, want %d", len(got), n)
			}
		}
		for i := 0; i < n; i++ {
			if round > 0 {
				if got := list(t, v, at, fmt.Sprintf("/d%03d", i)); fmt.Sprint(got) != "[e]" {
					t.Fatalf("round %d: ls /d%03d = %v", round, i, got)
				}
			}
			if got, err := readAll(t, v, at, fmt.Sprintf("/d%03d/e/f", i)); err != nil || got != fmt.Sprint(i) {
				t.Fatalf("round %d: d%03d/e/f = %q, %v", round, i, got, err)
			}
		}
	}
	if after := countFDs(t); after-before > 520 {
		t.Errorf("%d fds open after walking %d directories three times", after-before, 2*n)
	}
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestWritableHostLinks: a file linked under a new name and unlinked under
// its first (git's objects, atomic replaces) stays reachable, and so do
// the two names of RENAME_EXCHANGE.
func TestWritableHostLinks(t *testing.T) {
	dir := t.TempDir()
	v, at := mountHost(t, dir, true)
	ctx := vfstest.Root()
	must(t, writeFile(t, v, at, "/tmp_obj", unix.O_CREAT, "object"))
	must(t, v.MkdirAt(ctx, at, "/ab", 0o755))
	must(t, v.LinkAt(ctx, at, "/tmp_obj", at, "/ab/final", 0))
	must(t, v.UnlinkAt(ctx, at, "/tmp_obj", 0))
	if got, err := readAll(t, v, at, "/ab/final"); err != nil || got != "object" {
		t.Errorf("/ab/final after unlinking its first name = %q, %v", got, err)
	}
	must(t, writeFile(t, v, at, "/ab/final", unix.O_APPEND, "+"))
	must(t, writeFile(t, v, at, "/other", unix.O_CREAT, "other"))
	must(t, v.RenameAt2(ctx, at, "/other", at, "/ab/final", unix.RENAME_EXCHANGE))
	for name, want := range map[string]string{"/ab/final": "other", "/other": "object+"} {
		if got, err := readAll(t, v, at, name); err != nil || got != want {
			t.Errorf("%s after the exchange = %q, %v; want %q", name, got, err, want)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "other")); string(got) != "object+" {
		t.Errorf("host other = %q", got)
	}
}

// TestWriteBackOnlyAfterWritableMapping: on a writable tree, the last
// unmapping writes the cache back only if a mapping was made while the
// file was open for writing (a shared writable mapping needs that): a
// file that was only read-mapped keeps what a host process wrote to it
// meanwhile, and a shared mapping's writes reach the host.
func TestWriteBackOnlyAfterWritableMapping(t *testing.T) {
	dir, _ := tree(t)
	mf := newMF(t)
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf, Writable: true})
	must(t, err)
	defer fs.Close()
	ctx := vfstest.Root()
	path := filepath.Join(dir, "big")
	ino, err := fs.HostRoot().Lookup(ctx, "big")
	must(t, err)
	f := ino.(*hostfs.File)

	// Read-only: mapped with no writer open, changed on the host.
	m := &mapper{}
	f.AddMapping(m)
	if _, err := f.PageAt(0); err != nil {
		t.Fatal(err)
	}
	host, err := os.OpenFile(path, os.O_WRONLY, 0)
	must(t, err)
	_, err = host.WriteAt([]byte("HOST"), 0)
	must(t, err)
	host.Close()
	f.RemoveMapping(m)
	if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte("HOST")) {
		t.Errorf("the host's change was overwritten by a read-only mapping's cache: %q", b[:8])
	}

	// Writable: mapped while a description open for writing exists.
	impl, _, err := f.Open(ctx, unix.O_RDWR)
	must(t, err)
	f.AddMapping(m)
	impl.Release()
	off, err := f.PageAt(0)
	must(t, err)
	copy(mf.Bytes(off, 4), "MAPD")
	f.RemoveMapping(m)
	if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte("MAPD")) {
		t.Errorf("a shared writable mapping's write did not reach the host: %q", b[:8])
	}
}

// TestListingRewindsOnlyAMovedFD: a writable directory's listing, read
// again at each rewind, is whole whether its fd is the one listed before
// (rewound) or a fresh one opened after the cache closed the old (read
// from its start without a rewind).
func TestListingRewindsOnlyAMovedFD(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 600; i++ {
		must(t, os.Mkdir(filepath.Join(dir, fmt.Sprintf("d%03d", i)), 0o755))
	}
	must(t, os.Mkdir(filepath.Join(dir, "x"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "x/a"), nil, 0o644))
	v, at := mountHost(t, dir, true)
	want := "[a]"
	for round := 0; round < 3; round++ {
		for i := 0; i < 2; i++ { // the second listing rewinds the same fd
			if got := list(t, v, at, "/x"); fmt.Sprint(got) != want {
				t.Fatalf("round %d: ls /x = %v, want %v", round, got, want)
			}
		}
		// Push x's fd out of the cache: the next listing opens a new one.
		for i := 0; i < 600; i++ {
			list(t, v, at, fmt.Sprintf("/d%03d", i))
		}
		name := fmt.Sprintf("b%d", round)
		must(t, os.WriteFile(filepath.Join(dir, "x", name), nil, 0o644))
		want = want[:len(want)-1] + " " + name + "]"
	}
}

// TestFstatIsStat: fstat of an open host file says what stat of its path
// says (st_dev included, and on the overlay a mode changed in the
// sandbox), on the overlay, a read-only bind and a writable one; lseek
// to the end finds the size.
func TestFstatIsStat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := vfstest.Root()
	check := func(name string, v *vfs.VFS, at vfs.At) {
		t.Helper()
		fd, err := v.OpenAt(ctx, at, "f", unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer fd.DecRef()
		byPath, err := v.StatAt(ctx, at, "f", 0)
		if err != nil {
			t.Fatal(err)
		}
		byFD, err := fd.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if byFD.Dev != byPath.Dev || byFD.Ino != byPath.Ino || byFD.Mode != byPath.Mode || byFD.Size != byPath.Size {
			t.Errorf("%s: fstat dev %d ino %d mode %o size %d, stat dev %d ino %d mode %o size %d", name,
				byFD.Dev, byFD.Ino, byFD.Mode, byFD.Size, byPath.Dev, byPath.Ino, byPath.Mode, byPath.Size)
		}
		if end, err := fd.Seek(ctx, 0, unix.SEEK_END); err != nil || end != 5 {
			t.Errorf("%s: lseek to the end: %d, %v", name, end, err)
		}
	}
	v, at, _ := mountOverlay(t, dir)
	check("overlay", v, at)
	if err := v.ChmodAt(ctx, at, "f", 0o600, 0); err != nil {
		t.Fatal(err)
	}
	check("overlay after chmod", v, at)
	v, at = mountHost(t, dir, false)
	check("read-only", v, at)
	v, at = mountHost(t, dir, true)
	check("writable", v, at)
}
