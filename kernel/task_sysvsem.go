package kernel

// semUndoList stands for a task's System V semaphore undo list (Linux's
// struct sem_undo_list), which uk keeps only as an identity for kcmp's
// KCMP_SYSVSEM: uk has no semaphores, so no semop(SEM_UNDO) ever records
// an undo, but Linux makes the list for a CLONE_SYSVSEM clone (glibc's
// pthread_create is one) and kcmp tells which tasks share it. It is not
// zero-sized, so that each has an address of its own.
type semUndoList struct{ _ byte }

// cloneSemUndo gives child its undo list as Linux's copy_semundo: with
// CLONE_SYSVSEM, t's own, made now if t has none yet; without, none.
func (t *Task) cloneSemUndo(child *Task, share bool) {
	if !share {
		return
	}
	l := t.semUndo.Load()
	if l == nil {
		l = &semUndoList{}
		t.semUndo.Store(l) // only t's goroutine stores t's list
	}
	child.semUndo.Store(l)
}
