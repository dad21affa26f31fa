package vfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// TestRenameAncestorOrder checks that the ancestor rules of rename come
// before the type rules, in the order of Linux's do_renameat2.
func TestRenameAncestorOrder(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/a", 0o755)
	e.mkdir(ctx, "/a/b", 0o755)
	e.write(ctx, "/a/b/f", "", 0o644)
	e.mkdir(ctx, "/gone", 0o755)
	e.mkdir(ctx, "/gone/sub", 0o755)
	cases := []struct {
		old, new string
		flags    uint32
		want     unix.Errno
	}{
		{"/a/b/f", "/a", 0, unix.ENOTEMPTY},
		{"/a/b/f", "/a/b", 0, unix.ENOTEMPTY},
		{"/a/b/f", "/a", unix.RENAME_EXCHANGE, unix.EINVAL},
		{"/a/b/f", "/a", unix.RENAME_NOREPLACE, unix.EEXIST},
		{"/a/b/f", "/a/", 0, unix.ENOTDIR},
		{"/a/b/f", "/a/b/..", 0, unix.EBUSY},
		{"/a/b/f", "/a/b/..", unix.RENAME_NOREPLACE, unix.EEXIST},
		{"/a/b", "/a", 0, unix.ENOTEMPTY},
		{"/a/b", "/a", unix.RENAME_EXCHANGE, unix.EINVAL},
		{"/a", "/a/b/c", 0, unix.EINVAL},
		{"/a", "/a/b/f", 0, unix.EINVAL},
		{"/a", "/a/b", 0, unix.EINVAL},
		{"/a", "/a/b", unix.RENAME_EXCHANGE, unix.EINVAL},
	}
	for _, c := range cases {
		err := e.v.RenameAt2(ctx, e.at(), c.old, e.at(), c.new, c.flags)
		if err != c.want {
			t.Errorf("rename(%s, %s, %#x): %v, want %v", c.old, c.new, c.flags, err, c.want)
		}
	}
	// No new name in a removed directory.
	e.write(ctx, "/x", "", 0o644)
	e.fsc.SetCwd(mustResolve(e, ctx, "/gone/sub"))
	e.must(e.v.UnlinkAt(ctx, e.at(), "/gone/sub", unix.AT_REMOVEDIR))
	if err := e.v.RenameAt2(ctx, e.at(), "/x", e.at(), "y", 0); err != unix.ENOENT {
		t.Errorf("rename into a removed cwd: %v, want ENOENT", err)
	}
}

func mustResolve(e *env, ctx vfs.Context, p string) vfs.Path {
	e.t.Helper()
	q, err := e.v.Resolve(ctx, e.at(), p, 0)
	e.must(err)
	return q
}
