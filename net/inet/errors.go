package inet

import (
	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// errnoOf is the errno Linux returns where tcpip reports err.
func errnoOf(err tcpip.Error) linux.Errno {
	switch err.(type) {
	case nil:
		return 0
	case *tcpip.ErrWouldBlock:
		return linux.EAGAIN
	case *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting:
		return linux.EALREADY
	case *tcpip.ErrAborted, *tcpip.ErrConnectionAborted:
		return linux.ECONNABORTED
	case *tcpip.ErrAddressFamilyNotSupported:
		return linux.EAFNOSUPPORT
	case *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue,
		*tcpip.ErrMalformedHeader, *tcpip.ErrQueueSizeNotSupported:
		return linux.EINVAL
	case *tcpip.ErrAlreadyConnected:
		return linux.EISCONN
	case *tcpip.ErrBadAddress:
		return linux.EFAULT
	case *tcpip.ErrBadBuffer:
		return linux.EFAULT
	case *tcpip.ErrBadLocalAddress:
		return linux.EADDRNOTAVAIL
	case *tcpip.ErrBroadcastDisabled, *tcpip.ErrNotPermitted:
		return linux.EACCES
	case *tcpip.ErrClosedForReceive:
		return linux.EAGAIN
	case *tcpip.ErrClosedForSend:
		return linux.EPIPE
	case *tcpip.ErrConnectionRefused:
		return linux.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return linux.ECONNRESET
	case *tcpip.ErrDestinationRequired:
		return linux.EDESTADDRREQ
	case *tcpip.ErrDuplicateAddress:
		return linux.EEXIST
	case *tcpip.ErrDuplicateNICID:
		return linux.EEXIST
	case *tcpip.ErrInvalidNICID, *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice:
		return linux.ENODEV
	case *tcpip.ErrInvalidPortRange:
		return linux.EINVAL
	case *tcpip.ErrMessageTooLong:
		return linux.EMSGSIZE
	case *tcpip.ErrNetworkUnreachable:
		return linux.ENETUNREACH
	case *tcpip.ErrNoBufferSpace:
		return linux.ENOBUFS
	case *tcpip.ErrNoPortAvailable:
		return linux.EAGAIN
	case *tcpip.ErrHostUnreachable:
		return linux.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return linux.EHOSTDOWN
	case *tcpip.ErrNoNet:
		return linux.ENONET
	case *tcpip.ErrNoSuchFile:
		return linux.ENOENT
	case *tcpip.ErrNotConnected:
		return linux.ENOTCONN
	case *tcpip.ErrNotSupported:
		return linux.EOPNOTSUPP
	case *tcpip.ErrPortInUse:
		return linux.EADDRINUSE
	case *tcpip.ErrTimeout:
		return linux.ETIMEDOUT
	case *tcpip.ErrUnknownProtocol:
		return linux.EINVAL
	case *tcpip.ErrUnknownProtocolOption:
		return linux.ENOPROTOOPT
	case *tcpip.ErrMissingRequiredFields:
		return linux.EINVAL
	case *tcpip.ErrMulticastInputCannotBeOutput:
		return linux.EINVAL
	case *tcpip.ErrEndpointBusy:
		return linux.EBUSY
	}
	return linux.EINVAL
}
