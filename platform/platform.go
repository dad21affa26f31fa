// Package platform defines what uk asks of the thing that runs application
// code: map ranges of the memory file into an address space, run a thread
// until it traps, and say which trap it was. A platform knows nothing about
// Linux semantics; the kernel decides what every trap means.
//
// Implementations: platform/ptrace (stub processes under PTRACE_SYSEMU) and,
// where /dev/kvm works, platform/kvm.
package platform

import (
	"errors"

	"uk/arch"
)

// Access is a set of memory access rights (or, in a fault, the access that
// faulted).
type Access uint8

// Access bits.
const (
	Read Access = 1 << iota
	Write
	Exec
)

// String renders an access set as "rwx" with dashes for missing rights.
func (a Access) String() string {
	b := []byte("---")
	if a&Read != 0 {
		b[0] = 'r'
	}
	if a&Write != 0 {
		b[1] = 'w'
	}
	if a&Exec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// TrapKind says why Context.Switch returned.
type TrapKind int

// Trap kinds.
const (
	// TrapSyscall: the thread executed a syscall instruction. Registers hold
	// the number in OrigRax and the arguments; Rip points after the
	// instruction.
	TrapSyscall TrapKind = iota
	// TrapFault: a memory access at Addr of kind Access had no (or not
	// enough) mapping. Rip points at the faulting instruction.
	TrapFault
	// TrapSignal: the CPU raised another synchronous exception (SIGILL,
	// SIGFPE, SIGTRAP, SIGBUS, or SIGSEGV not caused by a page fault, e.g. a
	// general protection fault). Signo/Code/Addr are as Linux would report.
	TrapSignal
	// TrapInterrupt: Interrupt was called; the thread stopped at an
	// arbitrary instruction boundary and may be resumed as is.
	TrapInterrupt
)

// Trap describes one stop of an application thread.
type Trap struct {
	Kind   TrapKind
	Addr   uint64 // fault address (TrapFault, TrapSignal)
	Access Access // the faulting access (TrapFault)
	Signo  int32  // host signal number (TrapSignal; SIGSEGV for TrapFault)
	Code   int32  // si_code Linux would report
	// Compat (TrapSyscall): the thread entered through a 32-bit syscall
	// entry (int $0x80, sysenter, or syscall in compat mode), so the
	// registers hold an ia32 syscall, not an x86-64 one. Rip points after
	// the instruction; Cs says whether the code runs in 64-bit mode.
	Compat bool
	// Patched (TrapSyscall): the thread entered through a patched
	// syscall site (SyscallPatcher), not by trapping.
	Patched bool
}

// Platform creates address spaces and execution contexts.
type Platform interface {
	// Name is "ptrace" or "kvm".
	Name() string
	// MaxUserAddress is the first address the application may not use;
	// everything below it is available for mappings.
	MaxUserAddress() uint64
	// NewAddressSpace returns an empty address space.
	NewAddressSpace() (AddressSpace, error)
	// NewContext returns a context for one application thread. A context
	// is used by one goroutine at a time, which must hold
	// runtime.LockOSThread for the context's whole life.
	NewContext() (Context, error)
	// Close releases everything the platform holds.
	Close() error
}

// AddressSpace is the set of mappings an application thread sees.
//
// Mappings come from the memory file, but for the pages of read-only host
// files an address space may map from the host (HostFileMapper), which no
// page lifetime rule concerns. A mapping may be installed
// lazily (at the next Switch into this address space) but Unmap must be in
// effect before any thread runs in the address space again: a stale mapping
// would let the application reach memory uk gave to someone else.
type AddressSpace interface {
	// MapFile maps length bytes of the memory file at offset off to addr
	// with the given rights, replacing whatever was mapped there. addr, off
	// and length are page aligned.
	MapFile(addr uint64, off int64, length uint64, access Access) error
	// Unmap removes all mappings in [addr, addr+length).
	Unmap(addr, length uint64) error
	// Release frees the address space; it must not be used afterwards.
	Release()
}

// CPUClocker is implemented by address spaces whose application code
// runs in host threads of their own (a stub process): CPUTime is the host
// CPU time those threads have used so far, ns, and ok is false once it
// cannot be read (the stub is gone). It never decreases while the
// address space lives. The kernel counts a process's CPU time with it:
// the time a thread spends in Switch also counts the time it waits for a
// host CPU, many times the truth for a busy multithreaded program.
type CPUClocker interface {
	CPUTime() (ns int64, ok bool)
}

// SwitchCPUer is implemented by contexts that run application code on the
// thread that calls Switch (kvm's vCPUs): SwitchCPU is the CPU time that
// thread used in the last Switch, ns, which the kernel counts instead of
// the Switch's wall time (that also holds the thread's waits for a CPU).
// Called by the goroutine that called Switch.
type SwitchCPUer interface {
	SwitchCPU() int64
}

// Protector is implemented by address spaces that can change the rights
// of what they map without replacing the mappings. A fork takes write
// rights from its parent's private pages (copy-on-write); replacing those
// mappings would drop the host's page tables for them, which the parent
// then faults back a block at a time.
type Protector interface {
	// Protect sets the rights of [addr, addr+length), all of it mapped
	// and page aligned, to access. As with MapFile, the change may wait
	// for the next Switch into the address space.
	Protect(addr, length uint64, access Access) error
}

// LazyMapper is implemented by address spaces that can install a mapping
// without its page table entries, for the host to fill at the program's
// first touch of each page. MapFile may populate a mapping ahead (cheap
// for pages the host holds already); for memory-file pages it has not
// backed (memfile.File.AllocateCold), populating costs a host page
// allocation for every page, touched or not, so the kernel maps those with
// MapFileLazy. Its contract is MapFile's.
type LazyMapper interface {
	MapFileLazy(addr uint64, off int64, length uint64, access Access) error
}

// HostFile is a host file an address space may map directly
// (HostFileMapper): a read-only tree's, whose contents nothing in the
// sandbox can change. Its identity (the interface value, comparable) is
// the file's.
type HostFile interface {
	// OpenHost opens the host file read-only; the caller closes the fd.
	OpenHost() (int, error)
}

// HostFileMapper is implemented by address spaces that can map a host
// file's pages themselves, as the host's page cache has them: no copy into
// the memory file and no fault through uk, the host filling the pages as
// the program touches them. Such a mapping is never writable: a write
// faults to uk, which maps a private copy (from the memory file) over the
// page. This is the one exception to "mappings only ever come from the
// memory file": the pages are a file's that every process of the sandbox
// may read anyway and none may change, not memory uk hands out, so no
// page lifetime rule applies to them.
type HostFileMapper interface {
	// MapHostFile maps length bytes of f at offset off to addr, private
	// and with access (never Write), replacing whatever was mapped
	// there; its contract is otherwise MapFile's. An error wrapping
	// ErrNoHostFile means this mapping cannot be made (the caller maps
	// the memory file's copy instead); any other is MapFile's.
	MapHostFile(addr uint64, f HostFile, off int64, length uint64, access Access) error
}

// ErrNoHostFile is MapHostFile declining a mapping it cannot make.
var ErrNoHostFile = errors.New("host file not mappable here")

// AheadMapper is implemented by address spaces whose mappings are queued
// and installed by a host round trip (a batch in a stub process), and
// which can let a mapping made ahead of need wait in the queue: a switch
// does not install it alone; it goes with the next change that must be in
// place before the program runs (an unmap, a change of rights, a fault's
// mapping), or when the program touches it: that fault installs the
// queue and resumes the program without reporting the fault. ld.so maps
// a library with four or five mmap calls and a program touches the pages
// only afterwards: those calls share batches rather than take one each.
type AheadMapper interface {
	// MapNextAhead lets the next MapFile, MapFileLazy or MapHostFile
	// call wait so. The caller promises that nothing is mapped in that
	// call's range: a mapping that replaces another must be in place
	// before the program runs again, or it could reach what was there.
	MapNextAhead()
}

// Context runs one application thread.
type Context interface {
	// Switch loads st into the thread, runs it in as until it traps, and
	// saves the thread's state back into st.
	Switch(as AddressSpace, st *arch.State) (Trap, error)
	// Interrupt makes a concurrent or the next Switch return TrapInterrupt
	// promptly. It may be called from any goroutine.
	Interrupt()
	// Release frees the context.
	Release()
}

// Preparer is implemented by contexts that can do the work of their first
// Switch into an address space ahead of time (binding to the calling OS
// thread, creating host state per address space), so that it overlaps other
// start-up work. A prepared context must then be used from the same OS
// thread, as Switch requires anyway.
type Preparer interface {
	Prepare(as AddressSpace) error
}

// Leaver is implemented by contexts whose host state in an address space
// (sigsys: a stub thread) can go back to it. The kernel calls Leave when
// the context's task leaves as for good: a vfork child's execve leaves
// its parent's address space, whose next child then takes the thread
// instead of the platform making one; a process's last thread leaves
// its own as it exits, so that the platform owns everything in the space
// when it is released (sigsys may then renew the stub for the next
// program). A later Switch into as with this context starts afresh
// there.
type Leaver interface {
	Leave(as AddressSpace)
}

// Unbinder is implemented by contexts that can let go of the OS thread
// they run on while their task waits in the kernel. The goroutine using a
// context holds runtime.LockOSThread while it uses it, as NewContext says;
// when Unbind reports true, it may unlock until its next use, and then
// use the context from whatever OS thread it locks next. Unbind is called
// by that goroutine only. A task whose goroutine stays locked while it
// waits costs a host wake-up more per wait: Go hands its P to the waking
// goroutine's locked thread through another thread.
type Unbinder interface {
	// Unbind reports whether the caller may unlock its OS thread now.
	Unbind() bool
}

// SpecialMapping is a range that a platform itself keeps in every address
// space and the application can reach (read or run), as Linux's [vdso] or
// [vsyscall]: /proc/PID/maps lists it under Name, so that it is no secret.
type SpecialMapping struct {
	Start, End uint64
	Access     Access
	Name       string
}

// SpecialMapper is implemented by platforms whose address spaces hold
// special mappings; they lie at or above MaxUserAddress.
type SpecialMapper interface {
	SpecialMappings() []SpecialMapping
}

// ErrUnavailable wraps the reason a platform cannot be used on this machine.
var ErrUnavailable = errors.New("unavailable")

// SyscallPatcher is implemented by platforms whose threads can enter uk
// through patched syscall sites, more cheaply than by trapping: the kernel
// rewrites a hot site (a syscall instruction and the instructions before
// it, kernel/mm's patch.go) of a program's private executable memory into
// `jmp [E]` (ff 24 25 E32, padded with 0x06 bytes), where E is an entry of
// a table the kernel keeps in the address space, filled with
// SyscallEntry. The platform reports a thread that enters through an
// entry as a TrapSyscall with the registers the trap at the site would
// have had.
type SyscallPatcher interface {
	// SyscallTables are the tables the kernel may use, in the order it
	// should prefer them.
	SyscallTables() []SyscallTable
	// SyscallEntry returns the bytes of the table entry at addr for a
	// site that ends at ret (at most the table's EntrySize bytes). Its
	// first 8 bytes are what `jmp [addr]` loads, its next 8 where its
	// syscall returns to; prefix, the instructions the patch replaced
	// before the syscall instruction, follows at addr+EntryCode, and the
	// entry runs it first, then the syscall. suffix, if any, are
	// instructions the patch replaced after the syscall: the syscall
	// then returns to a copy of them in the entry, just after a syscall
	// instruction of the entry's own (a restart, which resumes two bytes
	// back, makes it again), and the entry jumps to ret after them.
	SyscallEntry(addr, ret uint64, prefix, suffix []byte) []byte
}

// SyscallTable says where one of a SyscallPatcher's tables lies in every
// address space that has it: Size bytes at Addr, Header first, then
// entries of EntrySize bytes from First on, each with its code from
// EntryCode on; all below 2 GiB. Invalid lists the offsets of a patched
// site's jump (ff 24 25 E32) that hold 0x06, an invalid opcode, whatever
// the entry: the kernel uses the table for a site only if every
// instruction the patch overwrites (and the syscall) began at one of them
// or past the jump, where the padding is 0x06, so that a thread that
// reaches any of them faults (SIGILL). (One form of kernel/mm's patch.go
// has an instruction begin at the 0x25, which it makes harmless.)
type SyscallTable struct {
	Addr, Size uint64
	First      uint64
	EntrySize  uint64
	EntryCode  uint64
	Header     []byte
	Invalid    []int
}
