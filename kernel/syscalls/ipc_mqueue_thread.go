package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/fs/mqueue"
	"uk/kernel"
	"uk/net/netlink"
)

// mq_notify's SIGEV_THREAD protocol with glibc (Linux's NOTIFY_COOKIE_LEN,
// NOTIFY_WOKENUP, NOTIFY_REMOVED): the kernel cannot start a thread, so
// glibc's helper thread reads cookies from a netlink socket and starts
// one for each cookie whose last byte says the queue woke up.
const (
	notifyCookieLen = 32
	notifyWokenUp   = 1
	notifyRemoved   = 2
)

// mqThreadNotification completes a SIGEV_THREAD registration: the cookie
// is the 32 bytes at value (EFAULT), sent to the netlink socket at
// descriptor fdNum (EBADF; ENOTSOCK for a file that is no socket, EINVAL
// for a socket of another family) with its last byte set to
// notifyWokenUp when the notification fires, or notifyRemoved when it is
// unregistered.
func mqThreadNotification(t *kernel.Task, n *mqueue.Notification, fdNum int32, value uint64) (*mqueue.Notification, error) {
	cookie := make([]byte, notifyCookieLen)
	if err := t.CopyIn(value, cookie); err != nil {
		return nil, err
	}
	d, _, err := t.Files.Get(fdNum)
	if err != nil {
		return nil, err
	}
	defer d.DecRef()
	sock, ok := d.Impl().(*netlink.Socket)
	if !ok {
		if st, err := d.Stat(t); err == nil && st.Type() == unix.S_IFSOCK {
			return nil, unix.EINVAL
		}
		return nil, unix.ENOTSOCK
	}
	send := func(state byte) {
		b := append([]byte(nil), cookie...)
		b[notifyCookieLen-1] = state
		sock.DeliverFromKernel(b)
	}
	n.Signo = 0
	n.Fire = func(mqueue.Sender) { send(notifyWokenUp) }
	n.Removed = func() { send(notifyRemoved) }
	return n, nil
}
