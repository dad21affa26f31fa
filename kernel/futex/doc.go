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
// Not implemented: priority-inheritance futexes (FUTEX_LOCK_PI,
// FUTEX_LOCK_PI2, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_REQUEUE_PI,
// FUTEX_CMP_REQUEUE_PI) return ENOSYS, which glibc and musl treat as "no PI
// support" (pthread mutexes with PTHREAD_PRIO_INHERIT fail to initialise;
// everything else works). FUTEX_FD returns ENOSYS as on Linux since 2.6.26.
package futex
