package proc

import (
	"golang.org/x/sys/unix"

	"uk/fs/nsfs"
	"uk/fs/vfs"
)

// capSysTime is CAP_SYS_TIME, which setting a time namespace's offsets
// needs.
const capSysTime = 25

// nsDir is /proc/PID/ns: a magic link per namespace of the task, whose
// text names the namespace ("time:[4026531834]") and whose open gives a
// namespace file for setns(2).
func (fs *FS) nsDir(path string, tid int32, owner func() (uint32, uint32)) *dir {
	var es []entry
	for _, name := range fs.k.NamespaceNames() {
		es = append(es, entry{name, func() vfs.Inode {
			return fs.newMagic(path+"/"+name, tid, owner, func(_ vfs.Context, t Task, withName bool) (vfs.Path, string, error) {
				ns := t.Namespace(name)
				if ns == nil {
					return vfs.Path{}, "", unix.ENOENT
				}
				if withName {
					return vfs.Path{}, nsfs.LinkText(ns), nil
				}
				return fs.k.NamespacePath(ns), "", nil
			})
		}})
	}
	d := fs.newDir(path, 0o511, es)
	d.owner = owner
	return d
}

// timensOffsetsFile is /proc/PID/timens_offsets: the offsets of the time
// namespace the task's children will be in, which a writer with
// CAP_SYS_TIME may set until a task enters it.
func (fs *FS) timensOffsetsFile(path string, tid int32, owner func() (uint32, uint32)) *file {
	f := fs.newFile(path, 0o644, func(vfs.Context) ([]byte, error) {
		t, err := fs.get(tid)
		if err != nil {
			return nil, err
		}
		return []byte(t.TimensOffsets()), nil
	})
	f.owner = owner
	f.write = func(ctx vfs.Context, data []byte) error {
		t, err := fs.get(tid)
		if err != nil {
			return err
		}
		if !ctx.Credentials().HasCap(capSysTime) {
			return unix.EPERM
		}
		return t.SetTimensOffsets(string(data))
	}
	return f
}
