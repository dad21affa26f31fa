package vfs

// XattrInode is an inode that keeps extended attributes (tmpfs). Names
// arrive whole ("user.foo") and already checked; permission checks are
// the caller's (the syscall layer applies Linux's xattr_permission).
type XattrInode interface {
	// GetXattr returns the value of name, or ENODATA.
	GetXattr(name string) ([]byte, error)
	// SetXattr sets name to value: with XattrCreate EEXIST if it is
	// there, with XattrReplace ENODATA if it is not; ENOSPC when the
	// inode's or the sandbox's room for attributes is spent.
	SetXattr(ctx Context, name string, value []byte, flags int) error
	// ListXattr returns the names, in the order they were first set.
	ListXattr() []string
	// RemoveXattr removes name, or reports ENODATA.
	RemoveXattr(name string) error
}

// setxattr's flags.
const (
	XattrCreate  = 0x1
	XattrReplace = 0x2
)
