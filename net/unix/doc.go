// Package unix implements AF_UNIX sockets inside uk: SOCK_STREAM,
// SOCK_DGRAM and SOCK_SEQPACKET; names in the sandbox filesystem (a socket
// inode made through the VFS) and in the abstract namespace (a table per
// Namespace, one per kernel); autobind; SCM_RIGHTS (open file descriptions
// travel with the message, holding a reference) and SCM_CREDENTIALS;
// SO_PEERCRED; shutdown, EOF and ECONNRESET as Linux reports them; and
// poll/epoll readiness as Linux's unix_poll and unix_dgram_poll.
//
// Every socket of a Namespace is guarded by the Namespace's one lock: a
// send touches the sender and the receiver, a connect the client, the
// listener and a new server socket, and one lock keeps that simple and
// free of lock-order problems. Readiness notifications and the release of
// descriptions dropped from queues happen after the lock is released
// (Namespace.unlock), because a waiter's callback or a description's
// release may come back into sockets.
//
// The package knows nothing of file descriptor tables: received
// descriptions are handed to the caller (socket.RecvResult.Control), which
// installs them; the caller also resolves SCM_RIGHTS fds before sending.
package unix
