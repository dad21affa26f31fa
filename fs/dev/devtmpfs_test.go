package dev

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

func TestDevtmpfs(t *testing.T) {
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	v := vfs.New()
	r, w := pipe(t)
	_ = r
	console := NewHostStream(w, "console")
	RegisterStandard(v.Devices, console)
	dt := &DevtmpfsType{MF: mf}
	v.RegisterType("devtmpfs", dt)
	root := v.MountRoot(tmpfs.New(mf, tmpfs.Options{}), "tmpfs", "rootfs", 0)
	ctx := vfstest.Root()
	at := vfs.At{Root: root, Dir: root}
	if err := v.MkdirAt(ctx, at, "/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.Mount(ctx, nil, at, "devtmpfs", "/dev", "devtmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	dev, _ := v.Resolve(ctx, at, "/dev", 0)
	if err := MountShm(v, mf, dev); err != nil {
		t.Fatal(err)
	}
	if sf, err := v.StatfsAt(ctx, at, "/dev/shm"); err != nil || sf.Type != unix.TMPFS_MAGIC {
		t.Fatalf("statfs /dev/shm %+v %v", sf, err)
	}
	st, err := v.StatAt(ctx, at, "/dev/null", 0)
	if err != nil || st.Type() != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) || st.Mode&0o777 != 0o666 {
		t.Fatalf("/dev/null %+v %v", st, err)
	}
	if l, err := v.ReadlinkAt(ctx, at, "/dev/fd"); l != "/proc/self/fd" || err != nil {
		t.Fatalf("/dev/fd -> %q %v", l, err)
	}
	open := func(p string, flags uint32) *vfs.FileDescription {
		t.Helper()
		fd, err := v.OpenAt(ctx, at, p, flags, 0)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		t.Cleanup(fd.DecRef)
		return fd
	}
	buf := []byte{1, 2, 3}
	if n, err := open("/dev/null", unix.O_RDWR).Read(ctx, buf); n != 0 || err != nil {
		t.Errorf("null read %d %v", n, err)
	}
	if n, err := open("/dev/null", unix.O_WRONLY|unix.O_TRUNC).Write(ctx, buf); n != 3 || err != nil {
		t.Errorf("null write %d %v", n, err)
	}
	if n, _ := open("/dev/zero", unix.O_RDONLY).Read(ctx, buf); n != 3 || buf[0]|buf[1]|buf[2] != 0 {
		t.Errorf("zero read %v", buf)
	}
	if _, err := open("/dev/full", unix.O_WRONLY).Write(ctx, buf); err != unix.ENOSPC {
		t.Errorf("full write %v", err)
	}
	rnd := make([]byte, 32)
	if n, _ := open("/dev/urandom", unix.O_RDONLY).Read(ctx, rnd); n != 32 {
		t.Errorf("urandom read %d", n)
	}
	if n, err := open("/dev/kmsg", unix.O_WRONLY).Write(ctx, []byte("<6>hi\n")); n != 6 || err != nil {
		t.Errorf("kmsg write %d %v", n, err)
	}
	c := open("/dev/console", unix.O_RDWR)
	if n, err := c.Write(ctx, []byte("hi")); n != 2 || err != nil {
		t.Errorf("console write %d %v", n, err)
	}
	got := make([]byte, 2)
	unix.Read(r, got)
	if string(got) != "hi" {
		t.Errorf("console wrote %q to host", got)
	}
	if st, err := c.Stat(ctx); err != nil || st.Rdev != unix.Mkdev(5, 1) {
		t.Errorf("console fstat %+v %v", st, err)
	}
	// A node with no driver.
	if err := v.MknodAt(ctx, at, "/dev/sda", unix.S_IFBLK|0o600, unix.Mkdev(8, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenAt(ctx, at, "/dev/sda", unix.O_RDONLY, 0); err != unix.ENXIO {
		t.Errorf("open undriven node: %v", err)
	}
	// devtmpfs is single-instance.
	if err := v.MkdirAt(ctx, at, "/dev2", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.Mount(ctx, nil, at, "devtmpfs", "/dev2", "devtmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.StatAt(ctx, at, "/dev2/sda", 0); err != nil {
		t.Errorf("second devtmpfs mount is a different instance: %v", err)
	}
	// MS_NODEV forbids opening devices.
	if err := v.Mount(ctx, nil, at, "devtmpfs", "/dev2", "devtmpfs", unix.MS_NODEV, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenAt(ctx, at, "/dev2/null", unix.O_RDONLY, 0); err != unix.EACCES {
		t.Errorf("open on nodev mount: %v", err)
	}
}
