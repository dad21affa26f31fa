package vfs_test

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// fdAt is the At of linkat(fd, "", ..., AT_EMPTY_PATH).
func (e *env) fdAt(fd *vfs.FileDescription) vfs.At {
	at := e.at()
	at.Dir = fd.Path()
	return at
}

func TestTmpfileFlags(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/d", 0o755)
	e.write(ctx, "/f", "", 0o644)
	cases := []struct {
		name  string
		path  string
		flags uint32
		want  unix.Errno
	}{
		{"read only", "/d", unix.O_TMPFILE | unix.O_RDONLY, unix.EINVAL},
		{"read only, truncating", "/d", unix.O_TMPFILE | unix.O_RDONLY | unix.O_TRUNC, unix.EINVAL},
		{"with O_CREAT", "/d", unix.O_TMPFILE | unix.O_CREAT | unix.O_RDWR, unix.EINVAL},
		{"without O_DIRECTORY", "/d", unix.O_TMPFILE&^unix.O_DIRECTORY | unix.O_RDWR, unix.EINVAL},
		{"in a file", "/f", unix.O_TMPFILE | unix.O_RDWR, unix.ENOTDIR},
		{"in a missing dir", "/nope", unix.O_TMPFILE | unix.O_WRONLY, unix.ENOENT},
		{"empty path", "", unix.O_TMPFILE | unix.O_WRONLY, unix.ENOENT},
	}
	for _, c := range cases {
		fd, err := e.v.OpenAt(ctx, e.at(), c.path, c.flags, 0o600)
		if err != c.want {
			t.Errorf("%s: open(%q, %#x): %v, want %v", c.name, c.path, c.flags, err, c.want)
		}
		if fd != nil {
			fd.DecRef()
		}
	}
	// O_PATH wins over everything in open(2): the directory itself opens.
	fd, err := e.v.OpenAt(ctx, e.at(), "/d", unix.O_TMPFILE|unix.O_PATH|unix.O_RDWR, 0o600)
	e.must(err)
	if st, _ := fd.Stat(ctx); !st.IsDir() {
		t.Errorf("O_PATH|O_TMPFILE opened mode %#o, want the directory", st.Mode)
	}
	fd.DecRef()
	// A user needs write and search permission on the directory.
	e.mkdir(ctx, "/ro", 0o555)
	if _, err := e.v.OpenAt(vfstest.User(1000, 1000), e.at(), "/ro", unix.O_TMPFILE|unix.O_RDWR, 0o600); err != unix.EACCES {
		t.Errorf("tmpfile in a read-only dir as a user: %v, want EACCES", err)
	}
}

func TestTmpfileLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	ctx.Mask = 0o022
	e.mkdir(ctx, "/d", 0o755)
	freeBlocks := func() uint64 {
		sf, err := e.v.StatfsAt(ctx, e.at(), "/")
		e.must(err)
		return sf.Bfree
	}
	free0 := freeBlocks()
	fd, err := e.v.OpenAt(ctx, e.at(), "/d", unix.O_TMPFILE|unix.O_RDWR, 0o666)
	e.must(err)
	st, err := fd.Stat(ctx)
	e.must(err)
	if st.Mode != unix.S_IFREG|0o644 || st.Nlink != 0 || st.Size != 0 {
		t.Errorf("new tmpfile: mode %#o nlink %d size %d", st.Mode, st.Nlink, st.Size)
	}
	if fl := fd.StatusFlags(); fl&unix.O_TMPFILE != unix.O_TMPFILE || fl&unix.O_ACCMODE != unix.O_RDWR {
		t.Errorf("F_GETFL %#x, want O_TMPFILE|O_RDWR", fl)
	}
	if got := e.list(ctx, "/d"); strings.Join(got, ",") != ".,.." {
		t.Errorf("the directory lists %v", got)
	}
	name, _ := e.v.PathName(e.root, fd.Path())
	if want := fmt.Sprintf("/d/#%d", st.Ino); name != want || !fd.Path().Dentry.IsDeleted() {
		t.Errorf("path %q deleted %v, want %q (deleted)", name, fd.Path().Dentry.IsDeleted(), want)
	}
	if _, err := fd.Write(ctx, []byte(strings.Repeat("x", 3*4096))); err != nil {
		t.Fatal(err)
	}
	if got := free0 - freeBlocks(); got != 3 {
		t.Errorf("tmpfile holds %d pages, want 3", got)
	}
	// Named with linkat(fd, "", AT_FDCWD, "/d/n", AT_EMPTY_PATH).
	e.must(e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/d/n", unix.AT_EMPTY_PATH))
	if st, _ := fd.Stat(ctx); st.Nlink != 1 {
		t.Errorf("nlink after linkat %d, want 1", st.Nlink)
	}
	if st2, _ := e.v.StatAt(ctx, e.at(), "/d/n", 0); st2.Ino != st.Ino || st2.Size != 3*4096 {
		t.Errorf("/d/n: ino %d size %d, want %d %d", st2.Ino, st2.Size, st.Ino, 3*4096)
	}
	// A second link through the same description, then both go.
	e.must(e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/d/n2", unix.AT_EMPTY_PATH))
	e.must(e.v.UnlinkAt(ctx, e.at(), "/d/n", 0))
	e.must(e.v.UnlinkAt(ctx, e.at(), "/d/n2", 0))
	// Once named, a file that loses its names cannot be linked again.
	if err := e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/d/n3", unix.AT_EMPTY_PATH); err != unix.ENOENT {
		t.Errorf("relink after unlink: %v, want ENOENT", err)
	}
	fd.DecRef()
	if got := free0 - freeBlocks(); got != 0 {
		t.Errorf("%d pages held after the last close, want 0", got)
	}

	// Never linked: the pages go at the last close.
	fd, err = e.v.OpenAt(ctx, e.at(), "/d", unix.O_TMPFILE|unix.O_WRONLY, 0o600)
	e.must(err)
	fd.Write(ctx, make([]byte, 2*4096))
	if got := free0 - freeBlocks(); got != 2 {
		t.Errorf("second tmpfile holds %d pages, want 2", got)
	}
	fd.DecRef()
	if got := free0 - freeBlocks(); got != 0 {
		t.Errorf("%d pages held after closing an unlinked tmpfile, want 0", got)
	}

	// Linked, then closed: the contents stay under the name.
	fd, err = e.v.OpenAt(ctx, e.at(), "/d", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	e.must(err)
	fd.Write(ctx, []byte("kept"))
	e.must(e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/d/kept", unix.AT_EMPTY_PATH))
	fd.DecRef()
	if s, err := e.read(ctx, "/d/kept"); s != "kept" || err != nil {
		t.Errorf("/d/kept = %q %v", s, err)
	}

	// O_EXCL: never linkable.
	fd, err = e.v.OpenAt(ctx, e.at(), "/d", unix.O_TMPFILE|unix.O_RDWR|unix.O_EXCL, 0o600)
	e.must(err)
	if err := e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/d/x", unix.AT_EMPTY_PATH); err != unix.ENOENT {
		t.Errorf("linkat of an O_EXCL tmpfile: %v, want ENOENT", err)
	}
	fd.DecRef()
}

func TestTmpfileInRemovedDir(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/d", 0o755)
	e.mkdir(ctx, "/d/sub", 0o755)
	e.fsc.SetCwd(mustResolve(e, ctx, "/d/sub"))
	fd, err := e.v.OpenAt(ctx, e.at(), ".", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	e.must(err)
	defer fd.DecRef()
	// The tmpfile is in no directory: its directory stays empty, and goes.
	e.must(e.v.UnlinkAt(ctx, e.at(), "/d/sub", unix.AT_REMOVEDIR))
	if _, err := fd.Write(ctx, []byte("data")); err != nil {
		t.Fatal(err)
	}
	// A removed directory still makes tmpfiles (Linux allows it too),
	// but takes no new name; elsewhere the file can be named.
	fd2, err := e.v.OpenAt(ctx, e.at(), ".", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	e.must(err)
	fd2.DecRef()
	if err := e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "x", unix.AT_EMPTY_PATH); err != unix.ENOENT {
		t.Errorf("link into the removed directory: %v, want ENOENT", err)
	}
	if err := e.v.LinkAt(ctx, e.fdAt(fd), "", e.fdAt(fd), "x", unix.AT_EMPTY_PATH); err != unix.ENOTDIR {
		t.Errorf("link relative to the file itself: %v, want ENOTDIR", err)
	}
	e.must(e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/d/y", unix.AT_EMPTY_PATH))
	if s, _ := e.read(ctx, "/d/y"); s != "data" {
		t.Errorf("/d/y = %q", s)
	}
	name, _ := e.v.PathName(e.root, fd.Path())
	if !strings.HasPrefix(name, "/d/sub/#") {
		t.Errorf("path of a tmpfile of a removed directory %q, want /d/sub/#INO", name)
	}
}

func TestTmpfileInodeCount(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	ffree := func() uint64 {
		sf, err := e.v.StatfsAt(ctx, e.at(), "/")
		e.must(err)
		return sf.Ffree
	}
	f0 := ffree()
	fd, err := e.v.OpenAt(ctx, e.at(), "/", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	e.must(err)
	if got := ffree(); got != f0 {
		t.Errorf("free inodes %d with an unnamed file, want %d", got, f0)
	}
	e.must(e.v.LinkAt(ctx, e.fdAt(fd), "", e.at(), "/n", unix.AT_EMPTY_PATH))
	if got := ffree(); got != f0-1 {
		t.Errorf("free inodes %d once named, want %d", got, f0-1)
	}
	e.must(e.v.UnlinkAt(ctx, e.at(), "/n", 0))
	fd.DecRef()
	if got := ffree(); got != f0 {
		t.Errorf("free inodes %d at the end, want %d", got, f0)
	}
}
