package initramfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// CopyHostDir copies the host directory tree hostDir into root (for
// `uk run --rootfs DIR`, before the sandbox starts; uk opens no host files
// afterwards). Directories, regular files, symlinks, device nodes, FIFOs
// and sockets are recreated with their modes, owners and mtimes; hard
// links within the tree stay hard links. Other mount points under hostDir
// are copied like any directory.
func CopyHostDir(v *vfs.VFS, root vfs.Path, hostDir string) error {
	l := &loader{v: v, at: vfs.At{Root: root, Dir: root}}
	type hostID struct{ dev, ino uint64 }
	seen := make(map[hostID]string)
	err := filepath.WalkDir(hostDir, func(hp string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(hostDir, hp)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(hp, &st); err != nil {
			return fmt.Errorf("lstat %s: %w", hp, err)
		}
		name := filepath.ToSlash(rel)
		typ := st.Mode & unix.S_IFMT
		perm := st.Mode & 0o7777
		switch typ {
		case unix.S_IFDIR:
			if name != "." {
				if err := v.MkdirAt(l.ctx, l.at, name, perm); err != nil && err != unix.EEXIST {
					return fmt.Errorf("mkdir %s: %w", name, err)
				}
			}
		case unix.S_IFREG:
			id := hostID{st.Dev, st.Ino}
			if first, ok := seen[id]; ok && st.Nlink > 1 {
				if err := v.LinkAt(l.ctx, l.at, first, l.at, name, 0); err != nil {
					return fmt.Errorf("link %s: %w", name, err)
				}
				return nil
			}
			seen[id] = name
			if err := copyFile(l, hp, name, perm); err != nil {
				return err
			}
		case unix.S_IFLNK:
			target, err := os.Readlink(hp)
			if err != nil {
				return err
			}
			if err := v.SymlinkAt(l.ctx, target, l.at, name); err != nil {
				return fmt.Errorf("symlink %s: %w", name, err)
			}
		case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
			if err := v.MknodAt(l.ctx, l.at, name, typ|perm, st.Rdev); err != nil {
				return fmt.Errorf("mknod %s: %w", name, err)
			}
		default:
			return nil
		}
		// chown before chmod: a change of owner clears set-user-ID.
		if err := v.ChownAt(l.ctx, l.at, name, int64(st.Uid), int64(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s: %w", name, err)
		}
		if typ != unix.S_IFLNK {
			if err := v.ChmodAt(l.ctx, l.at, name, perm, 0); err != nil {
				return fmt.Errorf("chmod %s: %w", name, err)
			}
		}
		ts := [2]unix.Timespec{st.Atim, st.Mtim}
		if typ == unix.S_IFDIR {
			l.dirs = append(l.dirs, dirTime{name, st.Mtim.Sec})
			return nil
		}
		return v.UtimensAt(l.ctx, l.at, name, &ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", hostDir, err)
	}
	for i := len(l.dirs) - 1; i >= 0; i-- {
		l.setTime(l.dirs[i].name, l.dirs[i].mtime)
	}
	return nil
}

func copyFile(l *loader, hostPath, name string, perm uint32) error {
	src, err := os.Open(hostPath)
	if err != nil {
		return err
	}
	defer src.Close()
	fd, err := l.v.OpenAt(l.ctx, l.at, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer fd.DecRef()
	buf := make([]byte, 256<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if w, err := fd.Write(l.ctx, buf[:n]); err != nil || w != n {
				return fmt.Errorf("write %s: %w", name, errOr(err, unix.ENOSPC))
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read %s: %w", hostPath, rerr)
		}
	}
}
