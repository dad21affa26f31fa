package socket

import (
	"encoding/binary"
	"runtime"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel/cbpf"
)

// Filter is a socket filter (SO_ATTACH_FILTER): a checked classic BPF
// program a socket runs over each packet it receives. Its memory is
// charged to the sandbox while any socket holds it.
type Filter struct {
	Prog []cbpf.Instruction
}

// filterOverhead is what a filter costs the sandbox besides its
// instructions (Linux charges struct sk_filter and bpf_prog to the
// socket's option memory).
const filterOverhead = 256

// sockFprogSize is sizeof(struct sock_fprog) on x86-64: the length, then
// the program's address.
const sockFprogSize = 16

// ReadFilter reads the program SO_ATTACH_FILTER's value (struct
// sock_fprog) points at, with Linux's checks in their order: EINVAL
// unless val is one sock_fprog, EPERM on a locked socket, EINVAL for no
// program or more than 4096 instructions, EFAULT, EINVAL for a program
// cbpf.CheckSocket refuses, ENOMEM when the sandbox's memory cannot hold
// it.
func ReadFilter(ctx vfs.Context, val []byte, locked bool) (*Filter, error) {
	if len(val) != sockFprogSize {
		return nil, linux.EINVAL
	}
	if locked {
		return nil, linux.EPERM
	}
	n := int(binary.LittleEndian.Uint16(val[0:]))
	addr := binary.LittleEndian.Uint64(val[8:])
	if addr == 0 || n == 0 || n > cbpf.MaxInstructions {
		return nil, linux.EINVAL
	}
	b := make([]byte, n*cbpf.InstructionSize)
	if err := ctx.CopyIn(addr, b); err != nil {
		return nil, err
	}
	prog := cbpf.Decode(b, n)
	if cbpf.CheckSocket(prog) != nil {
		return nil, linux.EINVAL
	}
	cost := int64(len(b)) + filterOverhead
	budget := vfs.ChargerOf(ctx)
	if !budget.Charge(cost) {
		return nil, linux.ENOMEM
	}
	f := &Filter{Prog: prog}
	runtime.AddCleanup(f, func(n int64) { budget.Uncharge(n) }, cost)
	return f, nil
}

// SetFilter applies SO_ATTACH_FILTER (f, from ReadFilter),
// SO_DETACH_FILTER and SO_LOCK_FILTER to a socket's filter and its lock,
// as Linux's sock_setsockopt: every option needs an int's worth of value
// (EINVAL); a locked filter can be neither replaced, removed nor unlocked
// (EPERM); removing none is ENOENT.
func SetFilter(filter **Filter, locked *bool, name int, val []byte, f *Filter) error {
	if len(val) < 4 {
		return linux.EINVAL
	}
	switch name {
	case linux.SO_ATTACH_FILTER:
		if *locked {
			return linux.EPERM
		}
		*filter = f
	case linux.SO_DETACH_FILTER:
		if *locked {
			return linux.EPERM
		}
		if *filter == nil {
			return linux.ENOENT
		}
		*filter = nil
	case linux.SO_LOCK_FILTER:
		on := binary.LittleEndian.Uint32(val) != 0
		if *locked && !on {
			return linux.EPERM
		}
		*locked = on
	}
	return nil
}
