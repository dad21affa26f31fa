package sys

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel/memfile"
)

func TestTree(t *testing.T) {
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	v := vfs.New()
	fs, err := Type{MF: mf, NumCPU: 4}.NewFilesystem(vfs.KernelContext{}, v, "sysfs", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	root := v.MountRoot(fs, "sysfs", "sysfs", 0)
	at := vfs.At{Root: root, Dir: root}
	for name, want := range map[string]string{
		"devices/system/cpu/online":              "0-3\n",
		"devices/system/cpu/possible":            "0-3\n",
		"kernel/mm/transparent_hugepage/enabled": "always [madvise] never\n",
	} {
		d, err := v.OpenAt(vfs.KernelContext{}, at, name, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		buf := make([]byte, 100)
		n, _ := d.Read(vfs.KernelContext{}, buf)
		d.DecRef()
		if string(buf[:n]) != want {
			t.Errorf("%s = %q, want %q", name, buf[:n], want)
		}
	}
	if _, err := v.StatAt(vfs.KernelContext{}, at, "class/net", 0); err != nil {
		t.Errorf("class/net: %v", err)
	}
	if _, err := v.StatAt(vfs.KernelContext{}, at, "no/such", 0); err != unix.ENOENT {
		t.Errorf("missing path: %v, want ENOENT", err)
	}
	s, err := v.StatfsPath(vfs.KernelContext{}, root)
	if err != nil || s.Type != sysfsMagic {
		t.Errorf("statfs: %#x, %v", s.Type, err)
	}
}

func TestCPUMap(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{1, "1\n"},
		{2, "3\n"},
		{31, "7fffffff\n"},
		{32, "ffffffff\n"},
		{33, "1,ffffffff\n"},
		{40, "ff,ffffffff\n"},
		{96, "ffffffff,ffffffff,ffffffff\n"},
	} {
		if got := cpuMap(c.n); got != c.want {
			t.Errorf("cpuMap(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
