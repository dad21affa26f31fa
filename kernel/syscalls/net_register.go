package syscalls

import (
	"uk/arch"
	"uk/kernel"
)

// registerSockets adds the socket family of system calls. It must run
// after the table marks write-like calls SigpipeOnEPIPE: the send calls
// registered here raise SIGPIPE themselves (MSG_NOSIGNAL and the socket
// type decide).
func registerSockets(r func(int, string, kernel.SyscallFn, ...kernel.ArgKind) *kernel.Syscall) {
	r(arch.SysSocket, "socket", sysSocket, i, x, i)
	r(arch.SysSocketpair, "socketpair", sysSocketpair, i, x, i, x)
	r(arch.SysBind, "bind", sysBind, fd, x, i)
	r(arch.SysListen, "listen", sysListen, fd, i)
	r(arch.SysAccept, "accept", sysAccept, fd, x, x)
	r(arch.SysAccept4, "accept4", sysAccept4, fd, x, x, x)
	r(arch.SysConnect, "connect", sysConnect, fd, x, i)
	r(arch.SysGetsockname, "getsockname", sysGetsockname, fd, x, x)
	r(arch.SysGetpeername, "getpeername", sysGetpeername, fd, x, x)
	r(arch.SysSendto, "sendto", sysSendto, fd, in, i, x, x, i)
	r(arch.SysRecvfrom, "recvfrom", sysRecvfrom, fd, out, i, x, x, x)
	r(arch.SysSendmsg, "sendmsg", sysSendmsg, fd, x, x)
	r(arch.SysRecvmsg, "recvmsg", sysRecvmsg, fd, x, x)
	r(arch.SysSendmmsg, "sendmmsg", sysSendmmsg, fd, x, i, x)
	r(arch.SysRecvmmsg, "recvmmsg", sysRecvmmsg, fd, x, i, x, x)
	r(arch.SysShutdown, "shutdown", sysShutdown, fd, i)
	r(arch.SysGetsockopt, "getsockopt", sysGetsockopt, fd, i, i, x, x)
	r(arch.SysSetsockopt, "setsockopt", sysSetsockopt, fd, i, i, x, i)
}
