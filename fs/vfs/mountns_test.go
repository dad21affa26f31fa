package vfs_test

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// TestMountNamespaceCopy: a copy has the same mounts at the same places,
// with new ids; mounts made in either afterwards stay there; the copy's
// mounts go when its last user does.
func TestMountNamespaceCopy(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	e.mkdir(ctx, "/a", 0o755)
	e.mkdir(ctx, "/b", 0o755)
	init := e.v.InitialNamespace()
	e.must(e.v.Mount(ctx, init, e.at(), "t", "/a", "tmpfs", 0, ""))
	e.write(ctx, "/a/f", "x", 0o644)

	ns, remap, err := e.v.CopyNamespace(init, 42)
	if err != nil {
		t.Fatal(err)
	}
	if ns.Inum() != 42 || ns.Kind() != "mnt" || ns.CloneFlag() != unix.CLONE_NEWNS {
		t.Errorf("namespace file fields: %d %q %#x", ns.Inum(), ns.Kind(), ns.CloneFlag())
	}
	fsc := vfs.NewFSContext(remap(e.root))
	at := fsc.At(vfs.Path{})
	if at.Root.Mount.Namespace() != ns || ns.Root() != at.Root {
		t.Fatalf("remapped root %v is not the copy's root %v", at.Root, ns.Root())
	}
	orig, copied := e.v.Mounts(e.root), e.v.Mounts(at.Root)
	if len(orig) != 2 || len(copied) != 2 || copied[1].MountPoint != "/a" || copied[1].ID == orig[1].ID {
		t.Fatalf("mounts: original %+v, copy %+v", orig, copied)
	}
	if _, err := e.v.StatAt(ctx, at, "/a/f", 0); err != nil {
		t.Errorf("the copy's /a/f: %v", err)
	}
	// A mount in the copy is not the original's, and the original's own
	// mounts may not be changed from the copy.
	e.must(e.v.Mount(ctx, ns, at, "t", "/b", "tmpfs", 0, ""))
	if n := len(e.v.Mounts(e.root)); n != 2 {
		t.Errorf("the original has %d mounts after one in the copy", n)
	}
	if err := e.v.Umount(ctx, ns, e.at(), "/a", 0); err != unix.EINVAL {
		t.Errorf("umount of the original's mount from the copy: %v, want EINVAL", err)
	}
	if err := e.v.Mount(ctx, ns, e.at(), "t", "/b", "tmpfs", 0, ""); err != unix.EINVAL {
		t.Errorf("mount on the original's tree from the copy: %v, want EINVAL", err)
	}
	// The last user gone, the copy's mounts go too: /b is no mount point
	// anywhere and can be removed.
	ns.DecUsers()
	if len(e.v.Mounts(at.Root)) != 0 {
		t.Errorf("a released namespace kept %+v", e.v.Mounts(at.Root))
	}
	e.must(e.v.UnlinkAt(ctx, e.at(), "/b", unix.AT_REMOVEDIR))
	// Entered again through its file, it has its root alone.
	ns.IncUsers()
	if m := e.v.Mounts(at.Root); len(m) != 1 || m[0].MountPoint != "/" {
		t.Errorf("a namespace entered again has %+v", m)
	}
}

// TestPivotRoot: the chroot case of LTP's pivot_root01, then the errors.
func TestPivotRoot(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	ns := e.v.InitialNamespace()
	e.mkdir(ctx, "/c", 0o755)
	e.must(e.v.Mount(ctx, ns, e.at(), "t", "/c", "tmpfs", 0, ""))
	e.mkdir(ctx, "/c/new", 0o755)
	e.must(e.v.Mount(ctx, ns, e.at(), "t", "/c/new", "tmpfs", 0, ""))
	e.mkdir(ctx, "/c/new/old", 0o755)
	e.write(ctx, "/c/new/in-new", "", 0o644)
	croot, err := e.v.Resolve(ctx, e.at(), "/c", 0)
	if err != nil {
		t.Fatal(err)
	}
	at := vfs.At{Root: croot, Dir: croot}
	for _, c := range []struct {
		newRoot, putOld string
		want            error
	}{
		{"/new/in-new", "/new/old", unix.ENOTDIR},
		{"/nope", "/new/old", unix.ENOENT},
		{"/", "/new/old", unix.EBUSY},
		{"/new/old", "/new/old", unix.EINVAL}, // not the root of a mount
	} {
		if _, _, err := e.v.PivotRoot(ctx, ns, at, c.newRoot, c.putOld); err != c.want {
			t.Errorf("pivot_root(%q, %q): %v, want %v", c.newRoot, c.putOld, err, c.want)
		}
	}
	oldRoot, newTop, err := e.v.PivotRoot(ctx, ns, at, "/new", "/new/old")
	if err != nil {
		t.Fatal(err)
	}
	if oldRoot != croot {
		t.Errorf("old root %v, want %v", oldRoot, croot)
	}
	// Seen from the host's root: the new root is at /c, the old under it.
	if _, err := e.v.StatAt(ctx, e.at(), "/c/in-new", 0); err != nil {
		t.Errorf("/c/in-new after the pivot: %v", err)
	}
	if _, err := e.v.StatAt(ctx, e.at(), "/c/old/new", 0); err != nil {
		t.Errorf("/c/old/new (the old root's directory) after the pivot: %v", err)
	}
	if p, ok := e.v.PathName(e.root, newTop); !ok || p != "/c" {
		t.Errorf("the new root is at %q (%v), want /c", p, ok)
	}
}

// TestMountMax: mounts beyond vfs.MountMax are ENOSPC.
func TestMountMax(t *testing.T) {
	e := newEnv(t)
	ctx := vfstest.Root()
	ns := e.v.InitialNamespace()
	e.mkdir(ctx, "/m", 0o755)
	for i := 1; i < vfs.MountMax; i++ {
		// Each on a directory of its own: stacked on one, every walk
		// would cross all those below.
		d := "/m/" + strconv.Itoa(i)
		e.mkdir(ctx, d, 0o755)
		if err := e.v.Mount(ctx, ns, e.at(), "/m", d, "", unix.MS_BIND, ""); err != nil {
			t.Fatalf("mount %d: %v", i+1, err)
		}
	}
	if err := e.v.Mount(ctx, ns, e.at(), "/m", "/m", "", unix.MS_BIND, ""); err != unix.ENOSPC {
		t.Errorf("mount %d: %v, want ENOSPC", vfs.MountMax+1, err)
	}
	if _, _, err := e.v.CopyNamespace(ns, 7); err != unix.ENOSPC {
		t.Errorf("copying a full namespace: %v, want ENOSPC", err)
	}
}
