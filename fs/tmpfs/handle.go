package tmpfs

import "uk/fs/vfs"

// IsTmpfs reports whether ino is a tmpfs inode, whose files have handles
// (name_to_handle_at): tmpfs numbers its inodes uniquely for its life.
func IsTmpfs(ino vfs.Inode) bool {
	_, ok := ino.(inode)
	return ok
}

// FindIno finds, below directory dir (a tmpfs directory), the inode
// numbered ino and returns the names that lead there from dir: how
// open_by_handle_at turns a handle back into a file. Only an inode with a
// name is found, as Linux's shmem_fh_to_dentry finds only inodes with a
// dentry; dir itself is found with no names. The search visits each
// directory once.
func FindIno(dir vfs.Inode, ino uint64) ([]string, bool) {
	root, ok := dir.(*Dir)
	if !ok {
		return nil, false
	}
	if root.ino == ino {
		return nil, true
	}
	type frame struct {
		d     *Dir
		names []string
	}
	stack := []frame{{root, nil}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f.d.mu.Lock()
		var sub []frame
		for name, e := range f.d.entries {
			if e.ino.base().ino == ino {
				f.d.mu.Unlock()
				return append(append([]string(nil), f.names...), name), true
			}
			if d, ok := e.ino.(*Dir); ok {
				sub = append(sub, frame{d, append(append([]string(nil), f.names...), name)})
			}
		}
		f.d.mu.Unlock()
		stack = append(stack, sub...)
	}
	return nil, false
}
