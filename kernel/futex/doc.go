// Package futex implements Linux futexes for uk: the wait queues behind
// futex(2) (WAIT, WAKE, their BITSET forms, REQUEUE, CMP_REQUEUE, WAKE_OP),
// futex_waitv(2), and the robust-list walk a thread's exit performs.
//
// The package knows nothing about tasks or address spaces. The kernel hands
// it a Memory (atomic access to the application's 32-bit words and the key
// that names a word) and, for a blocking call, a deadline and an interrupt
// channel. One Manager serves the whole sandbox, so processes that map the
// same page of the memory file see the same shared futexes.
//
// Atomicity. A waiter reads its word and queues itself while holding the
// lock of the hash bucket its key falls in; a waker takes the same lock
// before it looks for waiters. The application changes the word before it
// calls FUTEX_WAKE, so either the waiter's read sees the new value (and it
// returns EAGAIN) or the waiter is already queued when the waker looks: no
// wakeup is lost. Memory methods are therefore called with a bucket lock
// held: they must not call back into the Manager.
//
// Errors. Everything an application can see is a unix.Errno with Linux's
// value for the same situation, except ErrInterrupted, which says a wait
// ended because its interrupt channel fired; the kernel turns it into
// ERESTARTSYS (or a restart block for timed waits) as Linux does.
//
// Using it from the kernel (one Manager per Kernel, NewManager):
//
//   - futex(2): if TimeoutOf(op) is not NoTimeout and the pointer is not
//     NULL, read the timespec (EFAULT) and convert it with
//     TimespecDeadline (EINVAL), passing ClockNow of CLOCK_MONOTONIC or
//     CLOCK_REALTIME for the absolute kinds; otherwise the fourth argument
//     is Args.Val2. Then Manager.Futex(mem, Args{...}, t.interrupt).
//   - futex_waitv(2): flags != 0, nr == 0, nr > WaitvMax or a NULL array
//     are EINVAL; a timeout is absolute on clockid CLOCK_MONOTONIC or
//     CLOCK_REALTIME (else EINVAL); read nr*WaitvEntrySize bytes (EFAULT),
//     DecodeWaitv, then Manager.Waitv. Its result is the index.
//   - set_robust_list(head, len): len != RobustListHeadSize is EINVAL;
//     store head in the task. get_robust_list returns it with that size.
//   - thread exit: Manager.ExitRobustList(mem, head, tid) before the
//     CLONE_CHILD_CLEARTID store, whose wake is Manager.Wake(mem, addr,
//     false, 1, BitsetMatchAny) (Linux wakes it as a shared futex).
//   - ErrInterrupted: see its documentation for the restart rules.
//
// The interrupt channel is only a doorbell: a wait that is woken at the
// same moment returns success even if it consumed the doorbell, so the
// kernel must keep pending signals elsewhere (it does: the signal queue)
// and check them on the way back to the application.
//
// Priority-inheritance futexes (FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
// FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI) keep Linux's lock protocol without a
// priority to inherit (pi.go); the kernel passes the caller's thread id
// and which threads exist (Args.TID, Args.Owners), and calls ThreadExited
// after a thread's robust list is released. Not implemented:
// FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (ENOSYS; glibc's condition
// variables no longer use them). FUTEX_FD returns ENOSYS as on Linux since
// 2.6.26.
package futex
