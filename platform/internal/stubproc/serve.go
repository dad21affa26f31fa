package stubproc

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/internal/fdgrow"
)

// A serving thread runs a stub's mapping batches without ptrace. A batch
// injected into a traced edit thread costs a ptrace stop and resume (the
// registers set, the thread continued, its int3 waited for, the registers
// read back): 9.3-9.7 us for an empty one here, against 5.8-5.9 through a
// serving thread (BenchmarkEmptyBatch), before the host's own mapping
// work, which is most of a real batch.
// A platform that sets Config.ServeSite gets, in every stub it forks, one
// more thread, made like the edit threads (cloned from the main thread,
// the same filters, never application code) but let go untraced into a
// loop at ServeSite: it sleeps on a futex in the request page, runs the
// batch uk wrote there, reports through a pipe, and sleeps again. A batch
// is then a futex wake and a pipe read, on the caller's CPU.
//
// The request page ends with two control words (CtlSeq, CtlCount). To run
// a batch, uk (holding Space.Mu) writes the records, then their count,
// then the next sequence number, and wakes the futex on the sequence
// word. The thread runs the records as SiteBatch does and writes to the
// completion pipe, a packet-mode pipe (O_DIRECT) whose read end only uk
// holds: one packet whose length is 1 + the number of requests not
// completed (1: all done), and after a failure a second whose length is
// the host's errno. When the stub dies, the read gives end of file.
//
// Why a program cannot forge a completion, which would let uk free pages
// an unmap had not yet taken from the stub: its threads' filters trap
// write, so only the serving thread can put a packet into the pipe, and it
// does so only after its batch's last syscall returned. It runs only the
// stub's code, from registers uk set and no stack. The program can read the
// request page but not write it (it is read-only in the stub, and mprotect
// and mremap trap); it can wake the futex, after which the thread finds
// the sequence number unchanged and sleeps again.

// Offsets of the request page's control words (the last eight bytes):
// below them records (MaxBatch of them) and setup data (PageData).
const (
	CtlSeq   = arch.PageSize - 8
	CtlCount = arch.PageSize - 4
)

// server is a stub's serving thread, from uk's side.
type server struct {
	tid int // the thread (untraced)
	rfd int // uk's end of the completion pipe
	cpu int // the CPU it is pinned to, or -1
	seq uint32
	buf []byte // packets are read into it
}

// servePipeSteps make the serving thread's completion pipe in a fresh
// stub, in the batch that prepares it (prepareStub): the pipe (its two fds
// written at fds, an address on the request page, which is writable for
// these calls only, before any application code exists: the stub has no
// other memory), its write end moved to Config.ServeFD. A fresh stub's
// lowest free fds are 0 and 1 (the master is started with 0-2 closed), so
// the write end is 1; checkServePipe checks that.
func (h *Host) servePipeSteps(fds uint64) []Step {
	return []Step{
		Must("make the request page writable", unix.SYS_MPROTECT, ReqPage, arch.PageSize, unix.PROT_READ|unix.PROT_WRITE),
		Must("make the serving thread's pipe", unix.SYS_PIPE2, fds, unix.O_DIRECT|unix.O_CLOEXEC),
		Must("make the request page read-only", unix.SYS_MPROTECT, ReqPage, arch.PageSize, unix.PROT_READ),
		Must("move the pipe's write end", unix.SYS_DUP3, serveStubW, uint64(h.cfg.ServeFD), unix.O_CLOEXEC),
		Must("close the pipe's old write end", unix.SYS_CLOSE, serveStubW),
	}
}

// The fds pipe2 gives a fresh stub: its read end, which uk takes and the
// serving thread closes when it starts (the serving loop's first
// instruction), and its write end, moved to Config.ServeFD.
const (
	serveStubR = 0
	serveStubW = 1
)

// checkServePipe checks the fds pipe2 wrote at b (uk's view of them).
func checkServePipe(b []byte) error {
	r, w := binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:])
	if r != serveStubR || w != serveStubW {
		return fmt.Errorf("serving thread: the pipe is fds %d and %d, want %d and %d", r, w, serveStubR, serveStubW)
	}
	return nil
}

// startServer makes stub pid's serving thread once its pipe exists
// (servePipeSteps): it takes the pipe's read end into uk, then clones the
// thread and lets it go at Config.ServeSite with the write end in R13. The
// thread is pinned where the master was.
//
// Preconditions: runs on the factory thread; pid is stopped.
func (h *Host) startServer(pid int) (*server, error) {
	rfd, err := takeFD(pid, serveStubR)
	if err != nil {
		return nil, fmt.Errorf("serving thread: take the pipe's read end: %w", err)
	}
	fail := func(err error) (*server, error) {
		unix.Close(rfd)
		return nil, fmt.Errorf("serving thread: %w", err)
	}
	tid, err := cloneStopped(pid)
	if err != nil {
		return fail(err)
	}
	regs := InjectRegs(h.cfg.ServeSite)
	regs.R13 = uint64(h.cfg.ServeFD)
	if err := SetRegs(tid, &regs); err != nil {
		return fail(fmt.Errorf("setregs: %w", err))
	}
	if err := unix.PtraceDetach(tid); err != nil {
		return fail(fmt.Errorf("let go: %w", err))
	}
	return &server{tid: tid, rfd: rfd, cpu: h.masterCPU, buf: make([]byte, arch.PageSize)}, nil
}

// takeFD returns a duplicate, in uk, of fd of process pid.
func takeFD(pid, fd int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	n, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd: %w", err)
	}
	fdgrow.Note(n)
	return n, nil
}

// serveLocked runs reqs (at most MaxBatch) in the serving thread and waits
// for it. It fails at the first request the host refuses with a
// *BatchError naming it, or when the stub is gone.
//
// Preconditions: Mu is held; the space has a server.
func (s *Space) serveLocked(reqs []Request) error {
	sv := s.server
	putRecords(s.req, reqs)
	defer clear(s.req[:len(reqs)*ReqSize])
	// Beside the caller: a wake-up of another CPU, maybe halted, costs
	// more than the batch.
	if cpu := currentCPU(); s.h.cfg.FollowCaller && cpu >= 0 && cpu != sv.cpu {
		PinThread(sv.tid, cpu)
		sv.cpu = cpu
	}
	sv.seq++
	binary.LittleEndian.PutUint32(s.req[CtlCount:], uint32(len(reqs)))
	publishSeq(s.req, sv.seq)
	left, err := sv.packet()
	if err != nil {
		return err
	}
	if left == 1 {
		return nil
	}
	i := len(reqs) - (left - 1)
	if i < 0 || i >= len(reqs) {
		return fmt.Errorf("serving thread: %d requests left of %d", left-1, len(reqs))
	}
	errno, err := sv.packet()
	if err != nil {
		return err
	}
	return &BatchError{Index: i, Req: reqs[i], Err: unix.Errno(errno)}
}

// errStubGone is the error of a batch whose stub died.
var errStubGone = errors.New("serving thread: stub gone")

// packet reads the next packet of the completion pipe and returns its
// length.
func (sv *server) packet() (int, error) {
	for {
		n, err := unix.Read(sv.rfd, sv.buf)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, fmt.Errorf("serving thread: read: %w", err)
		case n == 0:
			return 0, errStubGone
		}
		return n, nil
	}
}

// putRecords writes reqs to the start of req.
func putRecords(req []byte, reqs []Request) {
	for i, r := range reqs {
		rec := req[i*ReqSize : (i+1)*ReqSize]
		binary.LittleEndian.PutUint64(rec[0:], r.Nr)
		for j, a := range r.Args {
			binary.LittleEndian.PutUint64(rec[8+8*j:], a)
		}
	}
}

// close closes uk's end of the pipe, once the stub is dead or dying.
func (sv *server) close() { unix.Close(sv.rfd) }

// Served returns the space's serving thread and how many batches it has
// run, or ok false if it has none (or the space is released).
func (s *Space) Served() (tid int, batches uint32, ok bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.server == nil {
		return 0, 0, false
	}
	return s.server.tid, s.server.seq, true
}
