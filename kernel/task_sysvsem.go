package kernel

import "uk/kernel/ipc"

// cloneSemUndo gives child its semaphore undo list as Linux's
// copy_semundo: with CLONE_SYSVSEM, t's own (made now if t has none yet),
// shared; without, none. kcmp's KCMP_SYSVSEM compares these lists.
func (t *Task) cloneSemUndo(child *Task, share bool) {
	if !share {
		return
	}
	l := t.SemUndoList()
	l.Get()
	child.semUndo.Store(l)
}

// SemUndoList returns the task's semaphore undo list, making one if it
// has none (Linux's get_undo_list): semop with SEM_UNDO records there
// what the task's exit undoes. Only the task's own goroutine calls it.
func (t *Task) SemUndoList() *ipc.UndoList {
	l := t.semUndo.Load()
	if l == nil {
		l = ipc.NewUndoList(t.IPC())
		t.semUndo.Store(l) // only t's goroutine stores t's list
	}
	return l
}

// exitSem lets go of the task's undo list (Linux's exit_sem, at exit and
// at unshare(CLONE_SYSVSEM)): the last task to hold it applies its
// adjustments.
func (t *Task) exitSem() {
	if l := t.semUndo.Swap(nil); l != nil {
		l.Release(t.PID())
	}
}
