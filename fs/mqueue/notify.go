package mqueue

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// sigevent's sigev_notify values mq_notify accepts.
const (
	SigevSignal = 0 // SIGEV_SIGNAL
	SigevNone   = 1 // SIGEV_NONE
	SigevThread = 2 // SIGEV_THREAD
)

// Sender is the process whose message fires a notification, as the
// signal's si_pid and si_uid name it.
type Sender struct {
	PID int32
	UID uint32
}

// Notification is one process's mq_notify registration. The queue holds
// at most one; it goes once it fires.
type Notification struct {
	// Owner identifies the registering process (compared with ==).
	Owner any
	// PID is the owner's process id, for the status line's NOTIFY_PID.
	PID int32
	// Kind is SigevSignal, SigevNone or SigevThread; Signo the signal of
	// SigevSignal.
	Kind, Signo int32
	// Fire delivers the notification (queues the signal, sends the
	// cookie); it runs without the queue's lock held. Nil for SIGEV_NONE.
	Fire func(from Sender)
	// Removed, if set, runs (without the queue's lock) when the
	// registration goes without firing: SIGEV_THREAD's NOTIFY_REMOVED.
	Removed func()
	// Alive, if set, reports whether the owner still exists. A dead
	// owner's registration counts as none (Linux drops it when the
	// exiting process closes its descriptors).
	Alive func() bool
}

// liveLocked returns the registration unless its owner is gone.
// Preconditions: q.mu held.
func (q *Queue) liveLocked() *Notification {
	n := q.notify
	if n != nil && n.Alive != nil && !n.Alive() {
		q.notify = nil
		return nil
	}
	return n
}

// takeNotificationLocked removes the live registration and returns it
// (nil: none). Preconditions: q.mu held.
func (q *Queue) takeNotificationLocked() *Notification {
	n := q.liveLocked()
	q.notify = nil
	return n
}

// Notify is mq_notify(2) with a notification: EBUSY when another live
// registration exists (even the caller's own), else n is registered.
func (q *Queue) Notify(n *Notification) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.liveLocked() != nil {
		return unix.EBUSY
	}
	q.notify = n
	now := nowTS()
	q.atime, q.ctime = now, now
	return nil
}

// Unnotify is mq_notify(2) with none, and what closing a descriptor of
// the queue does (Linux's mqueue_flush_file): the registration of owner,
// if it has one, goes; anyone else's stays.
func (q *Queue) Unnotify(owner any) {
	q.mu.Lock()
	n := q.notify
	if n == nil || n.Owner != owner {
		q.mu.Unlock()
		return
	}
	q.notify = nil
	now := nowTS()
	q.atime, q.ctime = now, now
	q.mu.Unlock()
	if n.Removed != nil {
		n.Removed()
	}
}

// statusLine is what read(2) of a queue's file returns, as Linux's
// mqueue_read_file prints it.
func (q *Queue) statusLine() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var kind, signo, pid int32
	if n := q.liveLocked(); n != nil {
		kind, pid = n.Kind, n.PID
		if n.Kind == SigevSignal {
			signo = n.Signo
		}
	}
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", q.qsize, kind, signo, pid)
}
