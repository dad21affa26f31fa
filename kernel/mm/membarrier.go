package mm

// membarrier(2)'s registrations belong to the address space, as Linux's
// mm->membarrier_state: every thread sharing the MM (CLONE_VM, with
// CLONE_THREAD or not) sees one registration, a fork's child inherits
// the parent's (Fork copies them; Linux's dup_mm copies the whole
// mm_struct), and exec's new MM starts with none (membarrier_exec_mmap).

// MembarrierRegistrations returns the registration commands (the
// MEMBARRIER_CMD_REGISTER_* bits) made in this address space, as
// MEMBARRIER_CMD_GET_REGISTRATIONS reports them.
func (m *MM) MembarrierRegistrations() uint32 { return m.membarrier.Load() }

// RegisterMembarrier adds the registration commands cmds; registering
// again is harmless. A registration is never undone but by exec.
func (m *MM) RegisterMembarrier(cmds uint32) { m.membarrier.Or(cmds) }
