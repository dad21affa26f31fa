package netlink

import (
	"net/netip"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

var (
	pfx = netip.MustParsePrefix
	ip  = netip.MustParseAddr
)

// tctx is a socket.Context over vfstest.Ctx.
type tctx struct {
	*vfstest.Ctx
	pid int32
}

func (c *tctx) PID() int32 { return c.pid }

func (c *tctx) MknodSocket(string, uint32) (vfs.Inode, error) { return nil, linux.EOPNOTSUPP }

func (c *tctx) LookupSocket(string) (vfs.Inode, uint32, error) { return nil, 0, linux.ENOENT }
func (c *tctx) NetNamespace() any                              { return nil }

func rootCtx(pid int32) *tctx { return &tctx{Ctx: vfstest.Root(), pid: pid} }
func userCtx(pid int32) *tctx { return &tctx{Ctx: vfstest.User(1000, 1000), pid: pid} }
