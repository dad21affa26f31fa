// Package tty is uk's terminal layer: the line discipline (Linux's n_tty:
// termios, canonical line editing, echo, input and output translation,
// job-control signals, VMIN/VTIME), the console terminal backed by uk's
// own host stdin/stdout, pseudo-terminals (/dev/ptmx, master/slave pairs)
// and the devpts filesystem that shows their slaves as /dev/pts/N.
//
// The pieces:
//
//   - Terminal is one tty (the console, or the slave side of a pty). It owns
//     the termios, the window size, the input buffers and the tty side of
//     job control (its session and foreground process group). Output goes
//     to a port: the host fd for the console, the master's read buffer for
//     a pty slave.
//   - Console wraps uk's host stdin/stdout: a goroutine feeds host input
//     into the console Terminal continuously (so that ^C reaches the
//     sandbox while nobody reads), host EOF becomes end of file for the
//     sandbox; when the host stdin is a terminal it is put in raw mode and
//     RestoreHost puts it back.
//   - Devices registers the character devices (5:0 /dev/tty, 5:1
//     /dev/console, 5:2 /dev/ptmx, 136:N pty slaves) in a
//     vfs.DeviceRegistry, and is the "devpts" vfs.FilesystemType.
//   - JobControl is implemented by the kernel: it knows the calling
//     process's ids, the controlling terminal of processes and sessions,
//     and how to send signals. The rules (who may acquire a terminal, who
//     may set the foreground group, hangup) live here.
//
// Wiring (the kernel's part):
//
//	console, err := tty.NewConsole(0, 1)    // host stdin/stdout; raw mode if a terminal
//	defer console.RestoreHost()             // and on every other exit path (idempotent)
//	dev.RegisterStandard(v.Devices, nil)    // null, zero, ... (no HostStream console)
//	ttys := tty.Register(v.Devices, console, jc) // 5:0, 5:1, 5:2, later 136:N
//	v.RegisterType("devpts", ttys)
//	fd0 := console.NewDescription(unix.O_RDWR) // init's fds 0-2 (share one, or one each)
//
// and, when a session leader exits, without holding kernel locks:
// ttys.LeaderExited(sid, cttyOfThatSession). TIOCGPTPEER, which installs
// an fd, is for the syscall layer: tty.OpenPeer(ctx, masterFD, flags).
//
// Locking: a Terminal's mutex is never held while calling JobControl or
// the host; a pty's mutex is taken after (inside) its slave Terminal's.
// JobControl implementations must not call back into this package while
// holding locks that their methods take.
package tty
