package inet

import (
	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"uk/fs/vfs"
)

// maxUDPPayload is the most a UDP datagram can carry over IPv4 (65535
// less the IP and UDP headers); Linux refuses a longer corked datagram
// with EMSGSIZE.
const maxUDPPayload = 65507

// corkState is what MSG_MORE holds back on a socket, guarded by the
// socket's mu. tcpip has no MSG_MORE of its own: on TCP it would send at
// once, and on UDP it drops the flag.
type corkState struct {
	// tcpMore is set while a TCP socket holds data for MSG_MORE (tcpip's
	// cork option is on because of it, not because of TCP_CORK).
	tcpMore bool
	// userCork is TCP_CORK as the program set it.
	userCork bool
	// udp is the datagram being built by MSG_MORE sends (nil: none), to
	// go to udpTo (nil: the connected peer) when a send without MSG_MORE
	// completes it.
	udp   []byte
	udpTo *tcpip.FullAddress
}

// tcpMoreBefore implements MSG_MORE before a TCP send: data written with it
// waits, as under TCP_CORK, until a send without it, which releases
// everything (unless TCP_CORK itself is on).
func (s *Socket) tcpMoreBefore(more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if more && !s.cork.tcpMore {
		s.cork.tcpMore = true
		s.ep.SocketOptions().SetCorkOption(true)
	}
}

// tcpMoreAfter ends a MSG_MORE hold after a send without the flag.
func (s *Socket) tcpMoreAfter(more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !more && s.cork.tcpMore {
		s.cork.tcpMore = false
		if !s.cork.userCork {
			s.ep.SocketOptions().SetCorkOption(false)
		}
	}
}

// setUserCork records TCP_CORK and applies it unless MSG_MORE holds the
// cork on anyway.
func (s *Socket) setUserCork(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cork.userCork = on
	if !s.cork.tcpMore {
		s.ep.SocketOptions().SetCorkOption(on)
	}
}

func (s *Socket) userCork() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cork.userCork
}

// udpMore handles a UDP send while a datagram is being built, or one
// that starts building it (MSG_MORE): the data is appended, and the
// datagram goes out, to the first send's destination, with the first
// send without MSG_MORE. ok is false when corking is not involved and
// the send proceeds as usual.
func (s *Socket) udpMore(ctx vfs.Context, data []byte, to *tcpip.FullAddress, cm tcpip.SendableControlMessages, flags int, nonblock bool) (n int, ok bool, err error) {
	more := flags&linux.MSG_MORE != 0
	s.mu.Lock()
	if s.cork.udp == nil && !more {
		s.mu.Unlock()
		return 0, false, nil
	}
	if s.cork.udp == nil {
		if to == nil {
			if _, terr := s.ep.GetRemoteAddress(); terr != nil {
				s.mu.Unlock()
				return 0, true, linux.EDESTADDRREQ
			}
		} else {
			dst := *to
			s.cork.udpTo = &dst
		}
		s.cork.udp = []byte{}
	}
	if len(s.cork.udp)+len(data) > maxUDPPayload {
		s.cork.udp, s.cork.udpTo = nil, nil
		s.mu.Unlock()
		return 0, true, linux.EMSGSIZE
	}
	s.cork.udp = append(s.cork.udp, data...)
	if more {
		s.mu.Unlock()
		return len(data), true, nil
	}
	dgram, dst := s.cork.udp, s.cork.udpTo
	s.cork.udp, s.cork.udpTo = nil, nil
	s.mu.Unlock()
	if _, err := s.write(ctx, dgram, dst, cm, 0, nonblock); err != nil {
		return 0, true, err
	}
	return len(data), true, nil
}
