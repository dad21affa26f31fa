package stubproc

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// Host files mapped into stubs (Config.HostFiles, platform.HostFileMapper).
//
// A read-only tree's file (the host's own userland under --rootfs /) used
// to reach a program only through the memory file: each page copied from
// the host at its first fault, the fault a round trip through uk, in every
// new sandbox again. A stub can instead map the host file itself, as
// gVisor maps the host fds its gofer donates: the host kernel then fills
// the pages from its page cache at the program's touch, with no copy and
// no uk in the way.
//
// The stub must hold the fd. Every stub has a datagram socket pair with
// uk, made when it is forked (its end at HostSockInStub). To give it a
// file, uk sends the fd (SCM_RIGHTS, one byte of data) and queues, ahead
// of the mappings that use it, three records for the next batch: a
// recvmsg of the datagram with the struct msghdr on the stub's scratch
// page (ScratchPage; the fd arrives as the lowest free fd, 0: stubs keep
// fds 0-2 closed, see below), a dup3 of fd 0 to the number uk chose for
// the file in that stub (HostFDBase and up, one a file, kept until the
// stub dies) and a close of fd 0. The batch's mmap records then name that
// fd. The msghdr reaches the scratch page at the first install of each
// batch: uk sends it as a datagram of its own, which a read record ahead
// of that install's takes (recvmsg writes back only the control length,
// the same at every install, and the flags). The socket is the stub's
// own, so what waits in it is what its next batch takes, in order.
//
// What a program could do about it: the scratch page is in its address
// space, writable, and it could change the msghdr there, or the control
// message recvmsg writes. Nothing reads any of it back (the fd's number
// is known without it), and whatever it points the kernel's writes at is
// the program's own memory, which it can write anyway. Its worst is to
// spoil the installs of its own process (the dup3 or the mmap then fails
// and the stub is killed). The msghdr is written again in every batch
// that installs, never left from an earlier one: a stub outlives its
// program when that program execs another (mm.TakeAddressSpace), and a
// msghdr it had aimed at where the next program's data would lie would
// otherwise make the kernel write there for the new program's installs.
// (The exec's unmap runs every queued install before the new program
// queues any.) The stub filters admit only such an mmap: private, fixed,
// of a host file fd, never writable (Prog.HostFileCalls), so the stub's
// pages of a host file are always the file's; a write to one faults to
// uk, which maps a private copy over it.

const (
	// HostSockInStub is a stub's end of its host-file socket.
	HostSockInStub = 8
	// HostFDBase is the fd of the first host file installed in a stub;
	// a stub holds at most MaxHostFiles of them (MapHostFile declines
	// more, and the memory file's copies are mapped). All are below 64,
	// the size of a new fd table: a dup3 above it grows the table, which
	// in a process of several threads waits for an RCU grace period
	// (1.5 ms an install on average here, up to 17 ms, where one below
	// takes 40 us).
	HostFDBase = 16
	// MaxHostFiles is how many host files one stub holds at most.
	MaxHostFiles = 48
	// HostMapFlags are the flags of every host file mapping.
	HostMapFlags = unix.MAP_PRIVATE | unix.MAP_FIXED
	// ScratchPage is a private, writable page of every stub, for what the
	// host writes back from a call (the control message of recvmsg).
	ScratchPage = ReqPage + arch.PageSize
)

// The fd a stub's recvmsg receives: the lowest free one. The master is
// exec'd with fds 0-2 closed; a new stub's setup uses 0 and 1 for a
// moment (its socket pair, then the serving thread's pipe in serve.go),
// and the serving loop closes 0 before it runs any batch.
const hostFDArrives = 0

// hostSockUKInStub is where a new stub parks uk's end of its socket pair
// until uk has taken it (takeHostSock).
const hostSockUKInStub = HostSockInStub + 1

// hostSockSteps make a new stub's socket pair: its end at HostSockInStub,
// uk's at hostSockUKInStub. fds is a stub address on the request page for
// socketpair's two fds (checkHostSock).
func hostSockSteps(fds uint64) []Step {
	return []Step{
		Must("make the request page writable", unix.SYS_MPROTECT, ReqPage, arch.PageSize, unix.PROT_READ|unix.PROT_WRITE),
		Must("make the host-file socket", unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0, fds),
		Must("make the request page read-only", unix.SYS_MPROTECT, ReqPage, arch.PageSize, unix.PROT_READ),
		Must("move the stub's end of the socket", unix.SYS_DUP3, 0, HostSockInStub, unix.O_CLOEXEC),
		Must("park uk's end of the socket", unix.SYS_DUP3, 1, hostSockUKInStub, unix.O_CLOEXEC),
		Must("close the socket's first fd", unix.SYS_CLOSE, 0),
		Must("close the socket's second fd", unix.SYS_CLOSE, 1),
	}
}

// checkHostSock checks the fds socketpair wrote at b (uk's view of them).
func checkHostSock(b []byte) error {
	if a, c := binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]); a != 0 || c != 1 {
		return fmt.Errorf("host-file socket: fds %d and %d, want 0 and 1", a, c)
	}
	return nil
}

// takeHostSock takes uk's end of stub pid's socket pair and closes it in
// the stub.
//
// Preconditions: runs on the factory thread; pid is stopped.
func takeHostSock(pid int) (int, error) {
	fd, err := takeFD(pid, hostSockUKInStub)
	if err != nil {
		return -1, fmt.Errorf("host-file socket: %w", err)
	}
	r, err := InjectSyscall(pid, SiteSyscall, unix.SYS_CLOSE, hostSockUKInStub)
	if err == nil {
		err = ErrnoOf(r)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("host-file socket: close uk's end in the stub: %w", err)
	}
	return fd, nil
}

// The installs' struct msghdr and struct iovec, and where recvmsg writes
// to, on the scratch page. The kernel writes the msghdr back (its flags
// and control length), so it cannot be on the read-only request page:
// it reaches the scratch page as the data of a datagram of its own, which
// a read ahead of each batch's first install takes.
const (
	scratchMsg  = ScratchPage       // struct msghdr, 56 bytes
	scratchIov  = ScratchPage + 64  // struct iovec
	scratchData = ScratchPage + 128 // the one byte of data
	scratchCtl  = ScratchPage + 192 // the control message
	recvMsgLen  = 80                // msghdr and iovec, as one datagram
)

// recvMsgHeader is the datagram ahead of a batch's first install: the
// msghdr and iovec the recvmsg of each of its installs uses.
func recvMsgHeader() []byte {
	le := binary.LittleEndian
	b := make([]byte, recvMsgLen)
	le.PutUint64(b[16:], scratchIov)                // msg_iov
	le.PutUint64(b[24:], 1)                         // msg_iovlen
	le.PutUint64(b[32:], scratchCtl)                // msg_control
	le.PutUint64(b[40:], uint64(unix.CmsgSpace(4))) // msg_controllen
	le.PutUint64(b[64:], scratchData)               // iov_base
	le.PutUint64(b[72:], 1)                         // iov_len
	return b
}

// maxQueuedInstalls is how many installs may wait for the next batch:
// their datagrams (and, before the first, the msghdr's) wait in the
// stub's socket meanwhile. A socket pair's datagrams are not held to
// net.unix.max_dgram_qlen (the kernel skips that check when the receiver
// is the sender's own peer), only to the sender's buffer: 278 of these
// datagrams fitted in a default one here before a send failed. A failed
// send only ends installs in the stub (its files are then mapped from the
// memory file's copies), so the bound keeps far from it; a dynamic
// program's exec installs its binary, ld.so and each library (11 files
// for cc1).
const maxQueuedInstalls = 16

// MapHostFile implements platform.HostFileMapper: a private mapping of f,
// never writable, installed before the next Switch into this address space
// resumes application code, as MapFile's.
func (s *Space) MapHostFile(addr uint64, f platform.HostFile, off int64, length uint64, access platform.Access) error {
	if access&platform.Write != 0 {
		return fmt.Errorf("%s: MapHostFile(%#x, %#x): writable: %w", s.h.cfg.Name, addr, length, unix.EINVAL)
	}
	ahead := s.takeAhead()
	if empty, err := s.checkMap("MapHostFile", addr, off, length); empty || err != nil {
		return err
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.released {
		return s.ErrReleased()
	}
	defer s.noteLocked()
	fd, ok := s.hostFDs[f]
	if !ok {
		var err error
		if fd, err = s.installLocked(f); err != nil {
			return err
		}
	}
	s.appendLocked(ahead, Request{Nr: unix.SYS_MMAP, Args: [6]uint64{
		addr, length, protOf(access), HostMapFlags, fd, uint64(off)}})
	if len(s.pending) >= MaxBatch {
		return s.flushAnywhereLocked()
	}
	return nil
}

// installLocked sends the stub an fd of f and queues what takes it, ahead
// of what is queued next; it returns the fd's number in the stub.
//
// Preconditions: Mu is held; the space is live.
func (s *Space) installLocked(f platform.HostFile) (uint64, error) {
	if s.hostSock < 0 || len(s.hostFDs) >= MaxHostFiles {
		return 0, fmt.Errorf("%w: the stub holds %d host files", platform.ErrNoHostFile, len(s.hostFDs))
	}
	if s.queuedInstalls >= maxQueuedInstalls {
		if err := s.flushAnywhereLocked(); err != nil {
			return 0, err
		}
	}
	hfd, err := f.OpenHost()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", platform.ErrNoHostFile, err)
	}
	defer unix.Close(hfd)
	if s.queuedInstalls == 0 {
		if err := unix.Sendmsg(s.hostSock, recvMsgHeader(), nil, nil, unix.MSG_DONTWAIT); err != nil {
			return 0, fmt.Errorf("%w: send: %v", platform.ErrNoHostFile, err)
		}
		s.pending = append(s.pending, Request{Nr: unix.SYS_READ, Args: [6]uint64{HostSockInStub, scratchMsg, recvMsgLen}})
	}
	if err := unix.Sendmsg(s.hostSock, []byte{0}, unix.UnixRights(hfd), nil, unix.MSG_DONTWAIT); err != nil {
		// Whether the datagram is in the socket or not, the next
		// install could not tell: no more installs in this stub.
		s.closeHostSockLocked()
		return 0, fmt.Errorf("%w: send: %v", platform.ErrNoHostFile, err)
	}
	fd := uint64(HostFDBase + len(s.hostFDs))
	s.pending = append(s.pending,
		Request{Nr: unix.SYS_RECVMSG, Args: [6]uint64{HostSockInStub, scratchMsg, unix.MSG_DONTWAIT}},
		Request{Nr: unix.SYS_DUP3, Args: [6]uint64{hostFDArrives, fd}},
		Request{Nr: unix.SYS_CLOSE, Args: [6]uint64{hostFDArrives}})
	s.queuedInstalls++
	if s.hostFDs == nil {
		s.hostFDs = make(map[platform.HostFile]uint64)
	}
	s.hostFDs[f] = fd
	return fd, nil
}

// closeHostSockLocked closes uk's end of the stub's socket, if open.
//
// Preconditions: Mu is held.
func (s *Space) closeHostSockLocked() {
	if s.hostSock >= 0 {
		unix.Close(s.hostSock)
		s.hostSock = -1
	}
}
