package vfs_test

import (
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

// env is a VFS with a tmpfs root for tests.
type env struct {
	t    *testing.T
	v    *vfs.VFS
	mf   *memfile.File
	root vfs.Path
	fsc  *vfs.FSContext
}

func newEnv(t *testing.T) *env {
	t.Helper()
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	v.RegisterType("tmpfs", tmpfs.Type{MF: mf})
	root := v.MountRoot(tmpfs.New(mf, tmpfs.Options{RootMode: 0o755}), "tmpfs", "rootfs", 0)
	return &env{t: t, v: v, mf: mf, root: root, fsc: vfs.NewFSContext(root)}
}

func (e *env) at() vfs.At { return e.fsc.At(vfs.Path{}) }

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mkdir(ctx vfs.Context, p string, mode uint32) {
	e.t.Helper()
	e.must(e.v.MkdirAt(ctx, e.at(), p, mode))
}

func (e *env) write(ctx vfs.Context, p, data string, mode uint32) {
	e.t.Helper()
	fd, err := e.v.OpenAt(ctx, e.at(), p, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, mode)
	e.must(err)
	defer fd.DecRef()
	if _, err := fd.Write(ctx, []byte(data)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(ctx vfs.Context, p string) (string, error) {
	fd, err := e.v.OpenAt(ctx, e.at(), p, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer fd.DecRef()
	buf := make([]byte, 1<<16)
	n, err := fd.Read(ctx, buf)
	return string(buf[:n]), err
}

func (e *env) list(ctx vfs.Context, p string) []string {
	e.t.Helper()
	fd, err := e.v.OpenAt(ctx, e.at(), p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	e.must(err)
	defer fd.DecRef()
	var names []string
	e.must(fd.Getdents(ctx, func(d vfs.Dirent) bool { names = append(names, d.Name); return true }))
	sort.Strings(names)
	return names
}

func TestPathWalk(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/a", 0o755)
	e.mkdir(ctx, "/a/b", 0o755)
	e.write(ctx, "/a/b/f", "data", 0o644)
	e.must(e.v.SymlinkAt(ctx, "b/f", e.at(), "/a/lf"))
	e.must(e.v.SymlinkAt(ctx, "/a/b", e.at(), "/a/lb"))
	e.must(e.v.SymlinkAt(ctx, "loop2", e.at(), "/loop1"))
	e.must(e.v.SymlinkAt(ctx, "loop1", e.at(), "/loop2"))
	e.must(e.v.SymlinkAt(ctx, "nowhere", e.at(), "/dangling"))
	e.must(e.v.SymlinkAt(ctx, "..", e.at(), "/a/b/up"))
	// A chain of 40 symlinks resolves, 41 is ELOOP.
	for i := 0; i < 41; i++ {
		target := "/a/b/f"
		if i > 0 {
			target = "/c" + itoa(i-1)
		}
		e.must(e.v.SymlinkAt(ctx, target, e.at(), "/c"+itoa(i)))
	}
	tests := []struct {
		path  string
		flags int
		want  uint32 // file type, or 0 when an error is expected
		errno unix.Errno
	}{
		{"/a/b/f", 0, unix.S_IFREG, 0},
		{"a/b/f", 0, unix.S_IFREG, 0},
		{"//a//b///f", 0, unix.S_IFREG, 0},
		{"/a/./b/../b/f", 0, unix.S_IFREG, 0},
		{"/../../a/b/f", 0, unix.S_IFREG, 0}, // .. at the root stays there
		{"/a/lf", 0, unix.S_IFREG, 0},
		{"/a/lf", unix.AT_SYMLINK_NOFOLLOW, unix.S_IFLNK, 0},
		{"/a/lb/f", 0, unix.S_IFREG, 0},
		{"/a/lb/", unix.AT_SYMLINK_NOFOLLOW, unix.S_IFDIR, 0}, // trailing slash follows
		{"/a/lb", unix.AT_SYMLINK_NOFOLLOW, unix.S_IFLNK, 0},
		{"/a/b/up/b/f", 0, unix.S_IFREG, 0},
		{"/a/lb/../b/f", 0, unix.S_IFREG, 0}, // .. of the link target, not lexical
		{"/a/b/f/", 0, 0, unix.ENOTDIR},
		{"/a/b/f/x", 0, 0, unix.ENOTDIR},
		{"/a/lf/", 0, 0, unix.ENOTDIR},
		{"/a/b/missing", 0, 0, unix.ENOENT},
		{"/missing/x", 0, 0, unix.ENOENT},
		{"", 0, 0, unix.ENOENT},
		{"/loop1", 0, 0, unix.ELOOP},
		{"/loop1", unix.AT_SYMLINK_NOFOLLOW, unix.S_IFLNK, 0},
		{"/loop1/x", unix.AT_SYMLINK_NOFOLLOW, 0, unix.ELOOP},
		{"/dangling", 0, 0, unix.ENOENT},
		{"/c39", 0, unix.S_IFREG, 0},
		{"/c40", 0, 0, unix.ELOOP},
		{"/" + strings.Repeat("x", 256), 0, 0, unix.ENAMETOOLONG},
		{strings.Repeat("/a", 2100), 0, 0, unix.ENAMETOOLONG},
	}
	for _, tc := range tests {
		st, err := e.v.StatAt(ctx, e.at(), tc.path, tc.flags)
		if tc.errno != 0 {
			if err != tc.errno {
				t.Errorf("stat %.40q flags %#x: err %v, want %v", tc.path, tc.flags, err, tc.errno)
			}
			continue
		}
		if err != nil || st.Type() != tc.want {
			t.Errorf("stat %.40q flags %#x: type %#o err %v, want %#o", tc.path, tc.flags, st.Type(), err, tc.want)
		}
	}
	// AT_EMPTY_PATH on a file description's path.
	fd, err := e.v.OpenAt(ctx, e.at(), "/a/b/f", unix.O_PATH, 0)
	e.must(err)
	st, err := e.v.StatAt(ctx, e.fsc.At(fd.Path()), "", unix.AT_EMPTY_PATH)
	if err != nil || st.Type() != unix.S_IFREG {
		t.Fatalf("AT_EMPTY_PATH: %v %v", st.Type(), err)
	}
	if _, err := e.v.StatAt(ctx, e.fsc.At(fd.Path()), "x", 0); err != unix.ENOTDIR {
		t.Fatalf("relative to a file dirfd: %v", err)
	}
	if _, err := fd.Read(ctx, make([]byte, 1)); err != unix.EBADF {
		t.Fatalf("read of O_PATH: %v", err)
	}
	fd.DecRef()
}

func itoa(n int) string {
	return strings.TrimLeft(string([]byte{byte('0' + n/10), byte('0' + n%10)}), "0")
}

func TestChrootAndDotDot(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/jail", 0o755)
	e.mkdir(ctx, "/jail/etc", 0o755)
	e.write(ctx, "/secret", "s", 0o644)
	e.write(ctx, "/jail/etc/passwd", "p", 0o644)
	e.must(e.v.SymlinkAt(ctx, "/etc/passwd", e.at(), "/jail/abs"))
	jail, err := e.v.Resolve(ctx, e.at(), "/jail", 0)
	e.must(err)
	e.must(e.v.CheckDir(ctx, jail))
	fsc := vfs.NewFSContext(jail)
	at := fsc.At(vfs.Path{})
	for _, p := range []string{"/../secret", "../secret", "../../secret", "/etc/../../secret"} {
		if _, err := e.v.StatAt(ctx, at, p, 0); err != unix.ENOENT {
			t.Errorf("%s escaped the chroot: %v", p, err)
		}
	}
	if _, err := e.v.StatAt(ctx, at, "/abs", 0); err != nil {
		t.Errorf("absolute symlink inside chroot: %v", err)
	}
	name, ok := e.v.PathName(jail, fsc.Cwd())
	if name != "/" || !ok {
		t.Errorf("PathName(cwd) = %q %v", name, ok)
	}
	etc, _ := e.v.Resolve(ctx, at, "etc", 0)
	if name, ok := e.v.PathName(e.root, etc); name != "/jail/etc" || !ok {
		t.Errorf("PathName = %q %v", name, ok)
	}
	if name, ok := e.v.PathName(etc, e.root); ok {
		t.Errorf("PathName of root from below = %q, reachable", name)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	root := vfstest.Root()
	user := vfstest.User(1000, 1000, 50)
	other := vfstest.User(1001, 1001)
	e.mkdir(root, "/priv", 0o700)
	e.write(root, "/priv/f", "x", 0o644)
	e.mkdir(root, "/grp", 0o750)
	e.must(e.v.ChownAt(root, e.at(), "/grp", -1, 50, 0))
	e.write(root, "/grp/f", "g", 0o640)
	e.must(e.v.ChownAt(root, e.at(), "/grp/f", -1, 50, 0))
	e.mkdir(root, "/tmp", 0o777)
	e.must(e.v.ChmodAt(root, e.at(), "/tmp", 0o1777, 0))
	e.write(root, "/noexec", "#!", 0o644)
	e.write(root, "/ro", "r", 0o444)

	if _, err := user.Credentials(), error(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.read(user, "/priv/f"); err != unix.EACCES {
		t.Errorf("search denied dir: %v", err)
	}
	if s, err := e.read(user, "/grp/f"); err != nil || s != "g" {
		t.Errorf("supplementary group read: %q %v", s, err)
	}
	if _, err := e.read(other, "/grp/f"); err != unix.EACCES {
		t.Errorf("other read group file: %v", err)
	}
	if _, err := e.v.OpenAt(user, e.at(), "/ro", unix.O_WRONLY, 0); err != unix.EACCES {
		t.Errorf("write read-only file: %v", err)
	}
	if _, err := e.v.OpenAt(root, e.at(), "/ro", unix.O_WRONLY, 0); err != nil {
		t.Errorf("root write read-only file: %v", err)
	}
	// Root may not execute a file without any x bit, but may search any dir.
	if err := e.v.AccessAt(root, e.at(), "/noexec", unix.X_OK, 0); err != unix.EACCES {
		t.Errorf("root X_OK on 0644: %v", err)
	}
	if err := e.v.AccessAt(root, e.at(), "/priv", unix.X_OK, 0); err != nil {
		t.Errorf("root X_OK on dir: %v", err)
	}
	if err := e.v.AccessAt(user, e.at(), "/ro", unix.W_OK, 0); err != unix.EACCES {
		t.Errorf("access W_OK: %v", err)
	}
	if err := e.v.AccessAt(user, e.at(), "/ro", 8, 0); err != unix.EINVAL {
		t.Errorf("access bad mode: %v", err)
	}
	// umask applies to creation.
	user.Mask = 0o077
	e.write(user, "/tmp/u", "u", 0o666)
	st, _ := e.v.StatAt(root, e.at(), "/tmp/u", 0)
	if st.Mode&0o777 != 0o600 || st.UID != 1000 || st.GID != 1000 {
		t.Errorf("created mode %#o uid %d gid %d", st.Mode&0o777, st.UID, st.GID)
	}
	// Sticky /tmp: other may not remove or rename user's file.
	if err := e.v.UnlinkAt(other, e.at(), "/tmp/u", 0); err != unix.EPERM {
		t.Errorf("sticky unlink by other: %v", err)
	}
	if err := e.v.RenameAt2(other, e.at(), "/tmp/u", e.at(), "/tmp/v", 0); err != unix.EPERM {
		t.Errorf("sticky rename by other: %v", err)
	}
	if err := e.v.UnlinkAt(user, e.at(), "/tmp/u", 0); err != nil {
		t.Errorf("owner unlink in sticky dir: %v", err)
	}
	// Creating in a dir without write permission.
	if err := e.v.MkdirAt(user, e.at(), "/x", 0o755); err != unix.EACCES {
		t.Errorf("mkdir in / by user: %v", err)
	}
	// chmod/chown/utimens ownership rules.
	e.write(user, "/tmp/mine", "m", 0o644)
	if err := e.v.ChmodAt(other, e.at(), "/tmp/mine", 0o777, 0); err != unix.EPERM {
		t.Errorf("chmod by non-owner: %v", err)
	}
	if err := e.v.ChownAt(user, e.at(), "/tmp/mine", 0, -1, 0); err != unix.EPERM {
		t.Errorf("give away file: %v", err)
	}
	if err := e.v.ChownAt(user, e.at(), "/tmp/mine", -1, 50, 0); err != nil {
		t.Errorf("chgrp to own supplementary group: %v", err)
	}
	if err := e.v.ChownAt(user, e.at(), "/tmp/mine", -1, 51, 0); err != unix.EPERM {
		t.Errorf("chgrp to foreign group: %v", err)
	}
	ts := [2]unix.Timespec{{Sec: 5}, {Sec: 6}}
	if err := e.v.UtimensAt(other, e.at(), "/tmp/mine", &ts, 0); err != unix.EPERM {
		t.Errorf("utimens explicit by non-owner: %v", err)
	}
	if err := e.v.UtimensAt(other, e.at(), "/tmp/mine", nil, 0); err != unix.EACCES {
		t.Errorf("utimens now by non-owner without write: %v", err)
	}
	if err := e.v.UtimensAt(user, e.at(), "/tmp/mine", &ts, 0); err != nil {
		t.Fatal(err)
	}
	omit := [2]unix.Timespec{{Nsec: vfs.UtimeOmit}, {Sec: 9}}
	e.must(e.v.UtimensAt(user, e.at(), "/tmp/mine", &omit, 0))
	st, _ = e.v.StatAt(root, e.at(), "/tmp/mine", 0)
	if st.Atime.Sec != 5 || st.Mtime.Sec != 9 {
		t.Errorf("times after utimens: %v %v", st.Atime, st.Mtime)
	}
	// mknod of a device needs privilege.
	if err := e.v.MknodAt(user, e.at(), "/tmp/dev", unix.S_IFCHR|0o600, unix.Mkdev(1, 3)); err != unix.EPERM {
		t.Errorf("unprivileged mknod chr: %v", err)
	}
	if err := e.v.MknodAt(user, e.at(), "/tmp/fifo", unix.S_IFIFO|0o600, 0); err != nil {
		t.Errorf("mkfifo: %v", err)
	}
}

func TestCreateOpenFlags(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/d", 0o755)
	e.write(ctx, "/d/f", "hello", 0o644)
	e.must(e.v.SymlinkAt(ctx, "f", e.at(), "/d/l"))
	e.must(e.v.SymlinkAt(ctx, "new", e.at(), "/d/dl"))
	cases := []struct {
		path  string
		flags uint32
		errno unix.Errno
	}{
		{"/d/f", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/d/l", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/d/l", unix.O_NOFOLLOW | unix.O_RDONLY, unix.ELOOP},
		{"/d/l", unix.O_CREAT | unix.O_NOFOLLOW | unix.O_WRONLY, unix.ELOOP},
		{"/d/f", unix.O_DIRECTORY, unix.ENOTDIR},
		{"/d", unix.O_WRONLY, unix.EISDIR},
		{"/d", unix.O_CREAT | unix.O_RDONLY, unix.EISDIR},
		{"/d/new/", unix.O_CREAT | unix.O_WRONLY, unix.EISDIR},
		{"/d/f/", unix.O_RDONLY, unix.ENOTDIR},
		{"/d/nope", unix.O_RDONLY, unix.ENOENT},
		{"/d/l", unix.O_RDONLY, 0},
		{"/d", unix.O_RDONLY | unix.O_DIRECTORY, 0},
		{"/d/l", unix.O_PATH | unix.O_NOFOLLOW, 0},
		{"/d/dl", unix.O_CREAT | unix.O_WRONLY, 0}, // creates the dangling target
	}
	for _, c := range cases {
		fd, err := e.v.OpenAt(ctx, e.at(), c.path, c.flags, 0o644)
		if c.errno == 0 && err != nil || c.errno != 0 && err != c.errno {
			t.Errorf("open %s %#x: %v, want %v", c.path, c.flags, err, c.errno)
		}
		if fd != nil {
			fd.DecRef()
		}
	}
	if _, err := e.v.StatAt(ctx, e.at(), "/d/new", 0); err != nil {
		t.Errorf("O_CREAT through dangling link did not create target: %v", err)
	}
	// O_TRUNC, O_APPEND.
	fd, err := e.v.OpenAt(ctx, e.at(), "/d/f", unix.O_WRONLY|unix.O_APPEND, 0)
	e.must(err)
	fd.Write(ctx, []byte(" world"))
	if off := fd.Offset(); off != 11 {
		t.Errorf("offset after append = %d", off)
	}
	fd.PWrite(ctx, []byte("!"), 0) // O_APPEND: pwrite appends too (Linux)
	fd.DecRef()
	if s, _ := e.read(ctx, "/d/f"); s != "hello world!" {
		t.Errorf("after append %q", s)
	}
	fd, err = e.v.OpenAt(ctx, e.at(), "/d/f", unix.O_RDWR|unix.O_TRUNC, 0)
	e.must(err)
	st, _ := fd.Stat(ctx)
	if st.Size != 0 {
		t.Errorf("O_TRUNC size %d", st.Size)
	}
	if fd.StatusFlags()&vfs.OLargeFile == 0 {
		t.Errorf("F_GETFL lacks O_LARGEFILE")
	}
	fd.DecRef()
}

func TestMkdirUnlinkRules(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/d", 0o755)
	e.mkdir(ctx, "/d/sub", 0o755)
	e.write(ctx, "/d/f", "", 0o644)
	cases := []struct {
		name string
		err  error
		want unix.Errno
	}{
		{"mkdir exists", e.v.MkdirAt(ctx, e.at(), "/d", 0o755), unix.EEXIST},
		{"mkdir /", e.v.MkdirAt(ctx, e.at(), "/", 0o755), unix.EEXIST},
		{"mkdir .", e.v.MkdirAt(ctx, e.at(), "/d/.", 0o755), unix.EEXIST},
		{"mkdir missing parent", e.v.MkdirAt(ctx, e.at(), "/x/y", 0o755), unix.ENOENT},
		{"mkdir under file", e.v.MkdirAt(ctx, e.at(), "/d/f/y", 0o755), unix.ENOTDIR},
		{"unlink dir", e.v.UnlinkAt(ctx, e.at(), "/d/sub", 0), unix.EISDIR},
		{"rmdir file", e.v.UnlinkAt(ctx, e.at(), "/d/f", unix.AT_REMOVEDIR), unix.ENOTDIR},
		{"rmdir nonempty", e.v.UnlinkAt(ctx, e.at(), "/d", unix.AT_REMOVEDIR), unix.ENOTEMPTY},
		{"rmdir .", e.v.UnlinkAt(ctx, e.at(), "/d/.", unix.AT_REMOVEDIR), unix.EINVAL},
		{"rmdir ..", e.v.UnlinkAt(ctx, e.at(), "/d/sub/..", unix.AT_REMOVEDIR), unix.ENOTEMPTY},
		{"rmdir /", e.v.UnlinkAt(ctx, e.at(), "/", unix.AT_REMOVEDIR), unix.EBUSY},
		{"unlink file/", e.v.UnlinkAt(ctx, e.at(), "/d/f/", 0), unix.ENOTDIR},
		{"unlink missing", e.v.UnlinkAt(ctx, e.at(), "/d/zz", 0), unix.ENOENT},
		{"bad flags", e.v.UnlinkAt(ctx, e.at(), "/d/f", 0x1), unix.EINVAL},
		{"rmdir sub/", e.v.UnlinkAt(ctx, e.at(), "/d/sub/", unix.AT_REMOVEDIR), 0},
		{"unlink f", e.v.UnlinkAt(ctx, e.at(), "/d/f", 0), 0},
	}
	for _, c := range cases {
		if c.want == 0 && c.err != nil || c.want != 0 && c.err != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if got := e.list(ctx, "/d"); strings.Join(got, ",") != ".,.." {
		t.Errorf("after removals: %v", got)
	}
}

func TestLinkCounts(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	nlink := func(p string) uint64 {
		st, err := e.v.StatAt(ctx, e.at(), p, unix.AT_SYMLINK_NOFOLLOW)
		e.must(err)
		return st.Nlink
	}
	e.mkdir(ctx, "/d", 0o755)
	if n := nlink("/d"); n != 2 {
		t.Errorf("empty dir nlink %d", n)
	}
	e.mkdir(ctx, "/d/a", 0o755)
	e.mkdir(ctx, "/d/b", 0o755)
	if n := nlink("/d"); n != 4 {
		t.Errorf("dir with 2 subdirs nlink %d", n)
	}
	e.write(ctx, "/d/f", "x", 0o644)
	e.must(e.v.LinkAt(ctx, e.at(), "/d/f", e.at(), "/d/a/g", 0))
	if n := nlink("/d/f"); n != 2 {
		t.Errorf("hard-linked file nlink %d", n)
	}
	if err := e.v.LinkAt(ctx, e.at(), "/d/a", e.at(), "/d/x", 0); err != unix.EPERM {
		t.Errorf("link a dir: %v", err)
	}
	if err := e.v.LinkAt(ctx, e.at(), "/d/f", e.at(), "/d/a/g", 0); err != unix.EEXIST {
		t.Errorf("link over existing: %v", err)
	}
	// Link to a symlink itself vs. its target.
	e.must(e.v.SymlinkAt(ctx, "f", e.at(), "/d/s"))
	e.must(e.v.LinkAt(ctx, e.at(), "/d/s", e.at(), "/d/s2", 0))
	if n := nlink("/d/s"); n != 2 {
		t.Errorf("symlink nlink %d", n)
	}
	e.must(e.v.LinkAt(ctx, e.at(), "/d/s", e.at(), "/d/f3", unix.AT_SYMLINK_FOLLOW))
	if n := nlink("/d/f"); n != 3 {
		t.Errorf("after AT_SYMLINK_FOLLOW link nlink %d", n)
	}
	// Moving a dir between parents moves a link.
	e.must(e.v.RenameAt2(ctx, e.at(), "/d/b", e.at(), "/d/a/b", 0))
	if n1, n2 := nlink("/d"), nlink("/d/a"); n1 != 3 || n2 != 3 {
		t.Errorf("after moving dir: /d %d /d/a %d", n1, n2)
	}
	e.must(e.v.UnlinkAt(ctx, e.at(), "/d/f", 0))
	if n := nlink("/d/a/g"); n != 2 {
		t.Errorf("after unlink nlink %d", n)
	}
	if s, _ := e.read(ctx, "/d/a/g"); s != "x" {
		t.Errorf("content via other link %q", s)
	}
	// Open, unlink the last name: data stays readable, pages go at close.
	fd, err := e.v.OpenAt(ctx, e.at(), "/d/a/g", unix.O_RDWR, 0)
	e.must(err)
	fd.Write(ctx, make([]byte, 3*4096))
	e.must(e.v.UnlinkAt(ctx, e.at(), "/d/a/g", 0))
	e.must(e.v.UnlinkAt(ctx, e.at(), "/d/f3", 0))
	st, _ := fd.Stat(ctx)
	if st.Nlink != 0 || st.Size != 3*4096 {
		t.Errorf("unlinked open file: nlink %d size %d", st.Nlink, st.Size)
	}
	sf, _ := e.v.StatfsAt(ctx, e.at(), "/")
	fd.DecRef()
	sf2, _ := e.v.StatfsAt(ctx, e.at(), "/")
	if sf2.Bfree-sf.Bfree != 3 {
		t.Errorf("last close freed %d pages, want 3", sf2.Bfree-sf.Bfree)
	}
}

func TestRenameRules(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	setup := func() {
		for _, p := range []string{"/r"} {
			e.v.UnlinkAt(ctx, e.at(), p, unix.AT_REMOVEDIR)
		}
	}
	_ = setup
	e.mkdir(ctx, "/a", 0o755)
	e.mkdir(ctx, "/a/sub", 0o755)
	e.mkdir(ctx, "/b", 0o755)
	e.mkdir(ctx, "/full", 0o755)
	e.write(ctx, "/full/x", "", 0o644)
	e.write(ctx, "/f", "F", 0o644)
	e.write(ctx, "/g", "G", 0o644)
	e.mkdir(ctx, "/mnt", 0o755)
	e.must(e.v.Mount(ctx, nil, e.at(), "none", "/mnt", "tmpfs", 0, ""))
	e.write(ctx, "/mnt/m", "M", 0o644)
	cases := []struct {
		name     string
		old, new string
		flags    uint32
		want     unix.Errno
	}{
		{"into itself", "/a", "/a/sub/x", 0, unix.EINVAL},
		{"onto itself child", "/a", "/a/x", 0, unix.EINVAL},
		{"across mounts", "/f", "/mnt/f", 0, unix.EXDEV},
		{"dir over file", "/a", "/f", 0, unix.ENOTDIR},
		{"file over dir", "/f", "/b", 0, unix.EISDIR},
		{"dir over nonempty dir", "/b", "/full", 0, unix.ENOTEMPTY},
		{"onto ancestor", "/a/sub", "/a", 0, unix.ENOTEMPTY},
		{"noreplace", "/f", "/g", unix.RENAME_NOREPLACE, unix.EEXIST},
		{"exchange missing", "/f", "/nope", unix.RENAME_EXCHANGE, unix.ENOENT},
		{"both flags", "/f", "/g", unix.RENAME_EXCHANGE | unix.RENAME_NOREPLACE, unix.EINVAL},
		{"missing source", "/nope", "/x", 0, unix.ENOENT},
		{"dot", "/a/.", "/x", 0, unix.EBUSY},
		{"mount point", "/mnt", "/mnt2", 0, unix.EBUSY},
		{"file with slash", "/f/", "/h", 0, unix.ENOTDIR},
		{"exchange", "/f", "/g", unix.RENAME_EXCHANGE, 0},
		{"replace file", "/g", "/f", 0, 0},
		{"dir over empty dir", "/b", "/a/sub", 0, 0},
		{"same file", "/f", "/f", 0, 0},
	}
	for _, c := range cases {
		err := e.v.RenameAt2(ctx, e.at(), c.old, e.at(), c.new, c.flags)
		if c.want == 0 && err != nil || c.want != 0 && err != c.want {
			t.Errorf("%s: rename %s %s: %v, want %v", c.name, c.old, c.new, err, c.want)
		}
	}
	// After exchange f=G g=F, then g replaced f: /f holds "F", /g gone.
	if s, err := e.read(ctx, "/f"); s != "F" || err != nil {
		t.Errorf("/f = %q %v", s, err)
	}
	if _, err := e.read(ctx, "/g"); err != unix.ENOENT {
		t.Errorf("/g after rename: %v", err)
	}
	if got := strings.Join(e.list(ctx, "/"), ","); got != ".,..,a,f,full,mnt" {
		t.Errorf("root after renames: %s", got)
	}
	if got := strings.Join(e.list(ctx, "/a"), ","); got != ".,..,sub" {
		t.Errorf("/a after renames: %s", got)
	}
}

func TestGetdentsWhileDeleting(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/d", 0o755)
	const n = 200
	for i := 0; i < n; i++ {
		e.write(ctx, "/d/f"+strings.Repeat("x", i%7)+itoa(i%100)+"_"+itoa(i/100), "", 0o644)
	}
	fd, err := e.v.OpenAt(ctx, e.at(), "/d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	e.must(err)
	defer fd.DecRef()
	seen := map[string]int{}
	for {
		var batch []string
		e.must(fd.Getdents(ctx, func(d vfs.Dirent) bool {
			if len(batch) == 10 {
				return false
			}
			batch = append(batch, d.Name)
			return true
		}))
		if len(batch) == 0 {
			break
		}
		for _, name := range batch {
			seen[name]++
			if name != "." && name != ".." {
				// rm -rf style: delete what was listed, and add a new file.
				e.must(e.v.UnlinkAt(ctx, e.at(), "/d/"+name, 0))
			}
		}
	}
	if len(seen) != n+2 {
		t.Errorf("saw %d names, want %d", len(seen), n+2)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s listed %d times", name, c)
		}
	}
	// Seek back to 0 lists only . and .. now.
	fd.Seek(ctx, 0, unix.SEEK_SET)
	var rest []string
	fd.Getdents(ctx, func(d vfs.Dirent) bool { rest = append(rest, d.Name); return true })
	if strings.Join(rest, ",") != ".,.." {
		t.Errorf("after deleting all: %v", rest)
	}
	// Dirent64 encoding.
	buf, ok := vfs.AppendDirent64(make([]byte, 0, 64), vfs.Dirent{Name: "abc", Ino: 7, Type: unix.DT_REG, Next: 9})
	if !ok || len(buf) != 24 || buf[18] != unix.DT_REG || string(buf[19:22]) != "abc" {
		t.Errorf("dirent64 %v %v", buf, ok)
	}
	if _, ok := vfs.AppendDirent64(make([]byte, 0, 23), vfs.Dirent{Name: "abc"}); ok {
		t.Error("dirent64 overflowed buffer")
	}
	// The old linux_dirent: name at 18, d_type in the record's last byte.
	buf, ok = vfs.AppendDirentOld(make([]byte, 0, 64), vfs.Dirent{Name: "abcdef", Ino: 7, Type: unix.DT_DIR, Next: 9})
	if !ok || len(buf) != 32 || buf[16] != 32 || string(buf[18:25]) != "abcdef\x00" || buf[31] != unix.DT_DIR {
		t.Errorf("old dirent %v %v", buf, ok)
	}
}

func TestMountUmount(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/mnt", 0o755)
	e.mkdir(ctx, "/mnt/under", 0o755)
	e.mkdir(ctx, "/src", 0o755)
	e.write(ctx, "/src/file", "bound", 0o644)
	if err := e.v.Mount(ctx, nil, e.at(), "x", "/mnt", "nosuchfs", 0, ""); err != unix.ENODEV {
		t.Errorf("unknown fs: %v", err)
	}
	if err := e.v.Mount(vfstest.User(1, 1), nil, e.at(), "x", "/mnt", "tmpfs", 0, ""); err != unix.EPERM {
		t.Errorf("unprivileged mount: %v", err)
	}
	if err := e.v.Mount(ctx, nil, e.at(), "x", "/mnt", "tmpfs", 0, "bogus=1"); err != unix.EINVAL {
		t.Errorf("bad option: %v", err)
	}
	e.must(e.v.Mount(ctx, nil, e.at(), "tmp", "/mnt", "tmpfs", 0, "size=1m,mode=700"))
	if _, err := e.v.StatAt(ctx, e.at(), "/mnt/under", 0); err != unix.ENOENT {
		t.Errorf("mount did not cover: %v", err)
	}
	st, _ := e.v.StatAt(ctx, e.at(), "/mnt", 0)
	if st.Mode&0o7777 != 0o700 {
		t.Errorf("mode= option: %#o", st.Mode)
	}
	sf, err := e.v.StatfsAt(ctx, e.at(), "/mnt")
	if err != nil || sf.Type != unix.TMPFS_MAGIC || sf.Blocks != 256 || sf.Bsize != 4096 {
		t.Errorf("statfs %+v %v", sf, err)
	}
	// Size limit.
	fd, err := e.v.OpenAt(ctx, e.at(), "/mnt/big", unix.O_CREAT|unix.O_WRONLY, 0o644)
	e.must(err)
	n, err := fd.Write(ctx, make([]byte, 2<<20))
	if n != 1<<20 || err != nil {
		t.Errorf("write past size limit: %d %v (want short write of 1 MiB)", n, err)
	}
	if _, err := fd.Write(ctx, []byte("x")); err != unix.ENOSPC {
		t.Errorf("write when full: %v", err)
	}
	fd.DecRef()
	// .. from a mount root goes to the parent of the mount point.
	e.mkdir(ctx, "/mnt/d", 0o755)
	if _, err := e.v.StatAt(ctx, e.at(), "/mnt/d/../../src/file", 0); err != nil {
		t.Errorf(".. across mount: %v", err)
	}
	// st_dev differs across the mount.
	s1, _ := e.v.StatAt(ctx, e.at(), "/", 0)
	s2, _ := e.v.StatAt(ctx, e.at(), "/mnt", 0)
	if s1.Dev == s2.Dev {
		t.Error("same st_dev across mount")
	}
	// Bind mount a directory over a subdirectory of the mount.
	e.must(e.v.Mount(ctx, nil, e.at(), "/src", "/mnt/d", "", unix.MS_BIND, ""))
	if s, err := e.read(ctx, "/mnt/d/file"); s != "bound" || err != nil {
		t.Errorf("bind: %q %v", s, err)
	}
	if err := e.v.Umount(ctx, nil, e.at(), "/mnt", 0); err != unix.EBUSY {
		t.Errorf("umount with submount: %v", err)
	}
	if err := e.v.Umount(ctx, nil, e.at(), "/mnt/d/file", 0); err != unix.EINVAL {
		t.Errorf("umount non-mountpoint: %v", err)
	}
	if err := e.v.Umount(ctx, nil, e.at(), "/", 0); err != unix.EBUSY {
		t.Errorf("umount /: %v", err)
	}
	infos := e.v.Mounts(e.root)
	if len(infos) != 3 || infos[1].MountPoint != "/mnt" || infos[2].MountPoint != "/mnt/d" || infos[2].Root != "/src" {
		t.Errorf("mounts: %+v", infos)
	}
	e.must(e.v.Umount(ctx, nil, e.at(), "/mnt/d", 0))
	e.must(e.v.Umount(ctx, nil, e.at(), "/mnt", 0))
	if _, err := e.v.StatAt(ctx, e.at(), "/mnt/under", 0); err != nil {
		t.Errorf("after umount: %v", err)
	}
	// Read-only remount.
	e.must(e.v.Mount(ctx, nil, e.at(), "tmp", "/mnt", "tmpfs", unix.MS_RDONLY, ""))
	if err := e.v.MkdirAt(ctx, e.at(), "/mnt/x", 0o755); err != unix.EROFS {
		t.Errorf("mkdir on ro mount: %v", err)
	}
	e.must(e.v.Mount(ctx, nil, e.at(), "", "/mnt", "", unix.MS_REMOUNT, ""))
	e.must(e.v.MkdirAt(ctx, e.at(), "/mnt/x", 0o755))
	// MNT_DETACH takes submounts along.
	e.must(e.v.Mount(ctx, nil, e.at(), "t2", "/mnt/x", "tmpfs", 0, ""))
	e.must(e.v.Umount(ctx, nil, e.at(), "/mnt", unix.MNT_DETACH))
	if len(e.v.Mounts(e.root)) != 1 {
		t.Errorf("detach left mounts: %+v", e.v.Mounts(e.root))
	}
}
