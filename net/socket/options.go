package socket

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// Buffer limits, as the host's sysctls (net.core.{r,w}mem_{default,max});
// SO_RCVBUF/SO_SNDBUF store twice the asked value, as Linux does, clamped
// to these.
const (
	DefaultBuf = 212992
	MaxBuf     = 4194304
	MinSndBuf  = 4608
	MinRcvBuf  = 2304
)

// Options are the SOL_SOCKET options every family stores the same way. The
// zero value is not ready: use NewOptions. The owning socket's lock guards
// it.
type Options struct {
	SndBuf, RcvBuf int
	ReuseAddr      bool
	ReusePort      bool
	KeepAlive      bool
	Broadcast      bool
	DontRoute      bool
	OOBInline      bool
	PassCred       bool
	Linger         [2]int32 // l_onoff, l_linger
	RcvTimeo       time.Duration
	SndTimeo       time.Duration
	RcvLowat       int
	Priority       int32
	Mark           uint32
}

// NewOptions returns Linux's defaults.
func NewOptions() Options {
	return Options{SndBuf: DefaultBuf, RcvBuf: DefaultBuf, RcvLowat: 1}
}

// Int encodes an int option value.
func Int(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

// Bool encodes a boolean option as 0 or 1.
func Bool(b bool) []byte {
	if b {
		return Int(1)
	}
	return Int(0)
}

// ParseInt decodes an int option (EINVAL when shorter than an int; Linux
// reads only the first 4 bytes of a longer one).
func ParseInt(val []byte) (int32, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(val)), nil
}

// Timeval encodes d as struct timeval.
func Timeval(d time.Duration) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d/time.Second))
	return binary.LittleEndian.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// ParseTimeval decodes a SO_RCVTIMEO/SO_SNDTIMEO value: EINVAL when short,
// EDOM for tv_usec out of range. Zero means no timeout; a negative time
// means an immediate timeout, as Linux (represented as 1ns, which reads
// back as zero).
func ParseTimeval(val []byte) (time.Duration, error) {
	if len(val) < 16 {
		return 0, unix.EINVAL
	}
	sec := int64(binary.LittleEndian.Uint64(val))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1000000 {
		return 0, unix.EDOM
	}
	if sec < 0 {
		return 1, nil
	}
	if sec > int64(time.Duration(1<<62)/time.Second) {
		return 0, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

// GetCommon answers getsockopt(SOL_SOCKET, name) for what every family
// answers alike (Linux's sock_getsockopt): SO_TYPE, SO_DOMAIN and
// SO_PROTOCOL from s (what socket(2) was called with), and the options o
// stores (Get). ok is false for any other name, which the family answers
// itself (SO_ERROR, SO_ACCEPTCONN, SO_PEERCRED, its own) or refuses.
func GetCommon(s Socket, o *Options, name int) (val []byte, ok bool) {
	switch name {
	case unix.SO_TYPE:
		return Int(int32(s.Type())), true
	case unix.SO_DOMAIN:
		return Int(int32(s.Family())), true
	case unix.SO_PROTOCOL:
		return Int(int32(s.Protocol())), true
	}
	return o.Get(name)
}

// Get returns the value of a shared SOL_SOCKET option; ok is false for
// names this does not know (the family answers them or ENOPROTOOPT).
func (o *Options) Get(name int) (val []byte, ok bool) {
	switch name {
	case unix.SO_SNDBUF:
		return Int(int32(o.SndBuf)), true
	case unix.SO_RCVBUF:
		return Int(int32(o.RcvBuf)), true
	case unix.SO_REUSEADDR:
		return Bool(o.ReuseAddr), true
	case unix.SO_REUSEPORT:
		return Bool(o.ReusePort), true
	case unix.SO_KEEPALIVE:
		return Bool(o.KeepAlive), true
	case unix.SO_BROADCAST:
		return Bool(o.Broadcast), true
	case unix.SO_DONTROUTE:
		return Bool(o.DontRoute), true
	case unix.SO_OOBINLINE:
		return Bool(o.OOBInline), true
	case unix.SO_PASSCRED:
		return Bool(o.PassCred), true
	case unix.SO_LINGER:
		b := binary.LittleEndian.AppendUint32(nil, uint32(o.Linger[0]))
		return binary.LittleEndian.AppendUint32(b, uint32(o.Linger[1])), true
	case unix.SO_RCVTIMEO_OLD:
		return Timeval(o.RcvTimeo), true
	case unix.SO_SNDTIMEO_OLD:
		return Timeval(o.SndTimeo), true
	case unix.SO_RCVLOWAT:
		return Int(int32(o.RcvLowat)), true
	case unix.SO_SNDLOWAT:
		return Int(1), true
	case unix.SO_PRIORITY:
		return Int(o.Priority), true
	case unix.SO_MARK:
		return Int(int32(o.Mark)), true
	}
	return nil, false
}

// Set is setsockopt(SOL_SOCKET, name) for what every family does alike:
// the options o stores change (privileged allows SO_PRIORITY above 6,
// SO_MARK and the FORCE buffer sizes); the read-only options (SO_TYPE,
// SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_PEERCRED) and any
// name o does not store are ENOPROTOOPT. A family handles its own options
// before calling it.
func (o *Options) Set(name int, val []byte, privileged bool) error {
	switch name {
	case unix.SO_TYPE, unix.SO_DOMAIN, unix.SO_PROTOCOL, unix.SO_ERROR, unix.SO_ACCEPTCONN, unix.SO_PEERCRED:
		return unix.ENOPROTOOPT
	}
	ok, err := o.set(name, val, privileged)
	if !ok {
		return unix.ENOPROTOOPT
	}
	return err
}

// set is Set, with ok false for a name o does not store.
func (o *Options) set(name int, val []byte, privileged bool) (ok bool, err error) {
	switch name {
	case unix.SO_LINGER:
		if len(val) < 8 {
			return true, unix.EINVAL
		}
		o.Linger[0] = int32(binary.LittleEndian.Uint32(val))
		o.Linger[1] = int32(binary.LittleEndian.Uint32(val[4:]))
		if o.Linger[0] != 0 {
			o.Linger[0] = 1
		}
		return true, nil
	case unix.SO_RCVTIMEO_OLD, unix.SO_SNDTIMEO_OLD:
		d, err := ParseTimeval(val)
		if err != nil {
			return true, err
		}
		if name == unix.SO_RCVTIMEO_OLD {
			o.RcvTimeo = d
		} else {
			o.SndTimeo = d
		}
		return true, nil
	}
	switch name {
	case unix.SO_SNDBUF, unix.SO_RCVBUF, unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE,
		unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_KEEPALIVE, unix.SO_BROADCAST,
		unix.SO_DONTROUTE, unix.SO_OOBINLINE, unix.SO_PASSCRED, unix.SO_RCVLOWAT,
		unix.SO_SNDLOWAT, unix.SO_PRIORITY, unix.SO_MARK:
	default:
		return false, nil
	}
	v, err := ParseInt(val)
	if err != nil {
		return true, err
	}
	on := v != 0
	switch name {
	case unix.SO_SNDBUF, unix.SO_SNDBUFFORCE:
		if name == unix.SO_SNDBUFFORCE && !privileged {
			return true, unix.EPERM
		}
		o.SndBuf = bufSize(v, MinSndBuf, name == unix.SO_SNDBUF)
	case unix.SO_RCVBUF, unix.SO_RCVBUFFORCE:
		if name == unix.SO_RCVBUFFORCE && !privileged {
			return true, unix.EPERM
		}
		o.RcvBuf = bufSize(v, MinRcvBuf, name == unix.SO_RCVBUF)
	case unix.SO_REUSEADDR:
		o.ReuseAddr = on
	case unix.SO_REUSEPORT:
		o.ReusePort = on
	case unix.SO_KEEPALIVE:
		o.KeepAlive = on
	case unix.SO_BROADCAST:
		o.Broadcast = on
	case unix.SO_DONTROUTE:
		o.DontRoute = on
	case unix.SO_OOBINLINE:
		o.OOBInline = on
	case unix.SO_PASSCRED:
		o.PassCred = on
	case unix.SO_RCVLOWAT:
		if v < 0 {
			v = 1<<31 - 1
		}
		o.RcvLowat = max(int(v), 1)
	case unix.SO_SNDLOWAT:
		return true, unix.ENOPROTOOPT
	case unix.SO_PRIORITY:
		if (v < 0 || v > 6) && !privileged {
			return true, unix.EPERM
		}
		o.Priority = v
	case unix.SO_MARK:
		if !privileged {
			return true, unix.EPERM
		}
		o.Mark = uint32(v)
	}
	return true, nil
}

// bufSize is Linux's rule for SO_SNDBUF/SO_RCVBUF: the value, read as
// unsigned (so a negative one is huge), is clamped to the sysctl maximum;
// the FORCE forms take it as signed, negative as 0, and skip the sysctl.
// Then it is kept below INT_MAX/2, doubled, and raised to the minimum.
func bufSize(v int32, minimum int, clamp bool) int {
	var n int64
	if clamp {
		n = min(int64(uint32(v)), MaxBuf)
	} else {
		n = max(int64(v), 0)
	}
	n = min(n, (1<<31-1)/2)
	return max(int(n*2), minimum)
}
