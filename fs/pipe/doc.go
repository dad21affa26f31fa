// Package pipe implements Linux pipes for uk: the anonymous pipes pipe2(2)
// creates (New) and the named FIFOs tmpfs nodes open (FIFO, FIFORegistry).
//
// A Pipe is a ring of page-sized buffers ("slots"), as in Linux: the
// capacity is a power-of-two number of pages (16 by default, 64 KiB), a
// write of at most PipeBuf bytes lands in one slot or none (atomic), a
// larger write fills pages one by one and may interleave with other
// writers, small writes merge into the last slot while it has room, and a
// write end is writable (POLLOUT) while at least one slot is free. Each end
// of a pipe is a File, the vfs.FileImpl of one open file description.
//
// Errors follow Linux: reads and writes that would block return
// unix.EAGAIN under O_NONBLOCK, else wait with Context.Block and return the
// error Block returns unchanged (the kernel turns it into a restart or
// EINTR); a write with no reader returns unix.EPIPE, and the kernel must
// then send SIGPIPE to the writer (see File.Write).
package pipe
