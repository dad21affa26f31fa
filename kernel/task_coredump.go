package kernel

// A process's core dump filter (/proc/PID/coredump_filter): which kinds
// of mappings a core dump holds (coredump.go), as Linux keeps it in the
// mm's flags. Tools read and set it too (gdb's gcore, systemd-coredump),
// and a value written must read back and pass on to children and across
// exec, as Linux's does.

// Core dump filter bits: Linux's MMF_DUMP_FILTER_BITS of them are kept,
// and a new process has MMF_DUMP_FILTER_DEFAULT (anonymous private and
// shared memory, ELF headers, private huge pages).
const (
	DumpFilterMask    = 1<<9 - 1
	DumpFilterDefault = 0x33
)

// dumpFilterSet marks a stored filter (the zero value means the default).
const dumpFilterSet = 1 << 31

// DumpFilter is the process's core dump filter.
func (tg *ThreadGroup) DumpFilter() uint32 {
	v := tg.dumpFilter.Load()
	if v&dumpFilterSet == 0 {
		return DumpFilterDefault
	}
	return v & DumpFilterMask
}

// SetDumpFilter sets the filter to v's low DumpFilterMask bits (Linux
// ignores the others).
func (tg *ThreadGroup) SetDumpFilter(v uint64) {
	tg.dumpFilter.Store(uint32(v&DumpFilterMask) | dumpFilterSet)
}
