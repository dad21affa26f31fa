// Package socket is the family-independent part of uk's sockets: the
// interface every socket file implements (Socket), the context socket
// operations need of the calling task, the messages sendmsg/recvmsg carry
// (data, addresses, SCM_RIGHTS descriptions, SCM_CREDENTIALS), and the
// SOL_SOCKET options every family shares (Options). Families live in their
// own packages (net/unix; later net/inet, net/netlink) and the syscall layer
// (kernel/syscalls/net_socket.go) only speaks this package's types.
//
// Addresses cross this interface as raw struct sockaddr bytes: the family
// encodes and decodes its own.
package socket

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// NetHolder is a network namespace that its sockets keep: a socket made
// in it holds it (Hold) until the socket is released (Unhold), so that a
// socket outlives the last process in its namespace (one handed out with
// SCM_RIGHTS, or kept across setns), as Linux's sockets hold their net.
type NetHolder interface {
	Hold()
	Unhold()
}

// NetOf is the caller's network namespace as a NetHolder, or nil.
func NetOf(ctx Context) NetHolder {
	h, _ := ctx.NetNamespace().(NetHolder)
	return h
}

// Context is what socket operations need of the calling task beyond
// vfs.Context. kernel/syscalls wraps a *kernel.Task to provide it.
type Context interface {
	vfs.Context
	// PID is the caller's thread group id (SO_PEERCRED, SCM_CREDENTIALS).
	PID() int32
	// MknodSocket creates a socket node at path, resolved as mknod(2)
	// would from the caller's working directory, with permission bits
	// mode (the caller's umask is applied), and returns its inode. EEXIST
	// when the name exists; other walk errors as mknod.
	MknodSocket(path string, mode uint32) (vfs.Inode, error)
	// LookupSocket resolves path (following symlinks) for connect or
	// sendto: it needs write permission on the node (EACCES) and returns
	// its inode and file type (S_IF* bits).
	LookupSocket(path string) (vfs.Inode, uint32, error)
	// NetNamespace identifies the caller's network namespace: equal
	// (==) for callers in the same one. AF_UNIX keeps its abstract
	// names per network namespace, as Linux does. When it is a
	// NetHolder, the families whose sockets live on the namespace's
	// stack hold it.
	NetNamespace() any
}

// Cred is what SCM_CREDENTIALS and SO_PEERCRED carry (struct ucred).
type Cred struct {
	PID      int32
	UID, GID uint32
}

// NoCred is what Linux reports when no credentials are known: pid 0 and the
// overflow ids (SO_PEERCRED of an unconnected socket reports -1 ids).
var NoCred = Cred{PID: 0, UID: 65534, GID: 65534}

// NoPeerCred is SO_PEERCRED's answer for a socket with no peer
// credentials (unconnected, or not AF_UNIX): pid 0 and ids -1.
var NoPeerCred = Cred{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}

// Ucred encodes c as struct ucred, SO_PEERCRED's value.
func (c Cred) Ucred() []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(c.PID))
	b = binary.LittleEndian.AppendUint32(b, c.UID)
	return binary.LittleEndian.AppendUint32(b, c.GID)
}

// Control is the ancillary data of one message. Rights hold one reference
// each; whoever ends up owning a Control must either install the
// descriptions or DecRef them (Release).
type Control struct {
	Rights []*vfs.FileDescription
	// Cred, when non-nil, is the SCM_CREDENTIALS the sender supplied (on
	// send) or the credentials the receiver gets (on receive).
	Cred *Cred
	// Other holds, on send, a sendmsg's control messages of levels other
	// than SOL_SOCKET, in order, for the family to check and apply
	// (AF_UNIX ignores them, as Linux does; IP sockets refuse unknown
	// ones); on receive, the family's own messages (timestamps, IP packet
	// information), in the order they are to be written, before any
	// credentials and descriptors.
	Other []Cmsg
}

// Cmsg is one control message: its level and type, and its data without
// the struct cmsghdr (cmsg_len is 16 plus len(Data)).
type Cmsg struct {
	Level, Type int32
	Data        []byte
}

// Release drops the references of the descriptions in c.
func (c *Control) Release() {
	for _, d := range c.Rights {
		d.DecRef()
	}
	c.Rights = nil
}

// SendRequest is one sendmsg.
type SendRequest struct {
	Data []byte
	// To is the destination sockaddr (nil: the connected peer).
	To []byte
	// Control is the ancillary data; the socket takes ownership of its
	// references whatever the result.
	Control Control
	// Flags are the MSG_* flags (MSG_DONTWAIT already folded into
	// NonBlock; MSG_NOSIGNAL is the syscall layer's business).
	Flags int
	// NonBlock is true for O_NONBLOCK descriptions or MSG_DONTWAIT.
	NonBlock bool
}

// RecvRequest is one recvmsg.
type RecvRequest struct {
	// Len is the room the caller has for data.
	Len int
	// Flags are MSG_PEEK, MSG_WAITALL, MSG_TRUNC (and MSG_DONTWAIT, folded
	// into NonBlock).
	Flags    int
	NonBlock bool
	// WantAddr asks for the sender's address.
	WantAddr bool
}

// RecvResult is what one recvmsg got.
type RecvResult struct {
	Data []byte
	// N is the return value of recvmsg: len(Data), or the full length of a
	// truncated datagram when MSG_TRUNC was asked for.
	N int
	// From is the sender's sockaddr (nil when unknown or unnamed).
	From []byte
	// Flags are the msg_flags bits the socket sets (MSG_TRUNC, MSG_EOR).
	Flags int
	// Control holds the received descriptions (one reference each, owned
	// by the caller) and credentials (when the socket passes them).
	Control Control
	// PassCred says that the receiver asked for SCM_CREDENTIALS
	// (SO_PASSCRED): a control message is due even without Control.Cred.
	PassCred bool
}

// Datagram is recvmsg's result for one datagram whose payload is data: a
// copy of as much as req has room for and, when some did not fit,
// MSG_TRUNC in Flags and (if req asked for MSG_TRUNC) the full length as
// N, as Linux's datagram protocols.
func Datagram(data []byte, req *RecvRequest) *RecvResult {
	n := min(len(data), max(req.Len, 0))
	r := &RecvResult{Data: append([]byte(nil), data[:n]...), N: n}
	if n < len(data) {
		r.Flags |= unix.MSG_TRUNC
		if req.Flags&unix.MSG_TRUNC != 0 {
			r.N = len(data)
		}
	}
	return r
}

// Socket is implemented by the vfs.FileImpl of every socket. Errors are
// unix.Errno values; a blocking call returns whatever ctx.Block returned
// (arch.ERESTARTSYS on a signal), or EINTR when a timeout (SO_RCVTIMEO,
// SO_SNDTIMEO) was in force, as Linux.
type Socket interface {
	vfs.FileImpl
	// Family, Type and Protocol are what socket(2) was called with
	// (Type without SOCK_NONBLOCK/SOCK_CLOEXEC).
	Family() int
	Type() int
	Protocol() int
	Bind(ctx Context, addr []byte) error
	Listen(ctx Context, backlog int) error
	// Accept returns a new connected socket's description (one reference;
	// flags may hold O_NONBLOCK) and the peer's address.
	Accept(ctx Context, nonblock bool, flags uint32) (*vfs.FileDescription, []byte, error)
	Connect(ctx Context, addr []byte, nonblock bool) error
	SockName(ctx Context) ([]byte, error)
	PeerName(ctx Context) ([]byte, error)
	SendMsg(ctx Context, req *SendRequest) (int, error)
	RecvMsg(ctx Context, req *RecvRequest) (*RecvResult, error)
	// Shutdown is shutdown(2) with how = SHUT_RD, SHUT_WR or SHUT_RDWR.
	Shutdown(ctx Context, how int) error
	// GetSockOpt returns the option's value; optlen is the room the caller
	// has (the result may be longer: the syscall layer truncates).
	GetSockOpt(ctx Context, level, name int, optlen int) ([]byte, error)
	SetSockOpt(ctx Context, level, name int, val []byte) error
}

// Of returns the socket behind a description (ENOTSOCK otherwise).
func Of(fd *vfs.FileDescription) (Socket, error) {
	if s, ok := fd.Impl().(Socket); ok {
		return s, nil
	}
	return nil, unix.ENOTSOCK
}

// Provider creates sockets of one address family.
type Provider interface {
	// Socket is socket(2): typ without SOCK_NONBLOCK/SOCK_CLOEXEC; flags
	// holds O_NONBLOCK for the new description.
	Socket(ctx Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error)
	// Pair is socketpair(2).
	Pair(ctx Context, typ, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error)
}

// NoSignalError is an errno (EPIPE) that must not raise SIGPIPE: Linux
// sends SIGPIPE only for stream sockets (and pipes), never for datagram or
// seqpacket sockets, even through write(2). errors.As finds the errno
// through Unwrap; the kernel's SIGPIPE rule skips errors whose NoSIGPIPE
// reports true.
type NoSignalError struct{ Errno unix.Errno }

// Error implements error.
func (e NoSignalError) Error() string { return e.Errno.Error() }

// Unwrap returns the errno.
func (e NoSignalError) Unwrap() error { return e.Errno }

// NoSIGPIPE reports that no SIGPIPE is due.
func (e NoSignalError) NoSIGPIPE() bool { return true }

// ErrPipeNoSignal is EPIPE without SIGPIPE.
var ErrPipeNoSignal error = NoSignalError{unix.EPIPE}

// WantsSIGPIPE reports whether err is an EPIPE that raises SIGPIPE.
func WantsSIGPIPE(err error) bool {
	var ns interface{ NoSIGPIPE() bool }
	if errors.As(err, &ns) && ns.NoSIGPIPE() {
		return false
	}
	return errors.Is(err, unix.EPIPE)
}

// ErrorHolder is implemented by sockets that keep Linux's pending socket
// error (sk_err): the error an asynchronous event (an ICMP message, a
// reset) or a batch call that already had results to return left for
// the next call to report. SO_ERROR reads and clears it; recvmmsg
// reports it before receiving anything, and stores there the error it
// met after receiving some messages.
type ErrorHolder interface {
	// TakeError returns the pending error and clears it (nil if none).
	TakeError() error
	// SetError makes e the pending error.
	SetError(e unix.Errno)
}
