package arch

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Kernel-internal error codes that ask the syscall exit path to restart the
// call instead of returning. They never reach an application: after signal
// handling (or when no handler runs) the kernel turns them into a restart or
// into EINTR, exactly as Linux's arch/x86/kernel/signal.c does:
//
//   - ERESTARTSYS restarts if no handler runs or the handler has SA_RESTART,
//     else EINTR.
//   - ERESTARTNOINTR always restarts.
//   - ERESTARTNOHAND restarts only if no handler runs, else EINTR.
//   - ERESTART_RESTARTBLOCK restarts through restart_syscall(2) (the saved
//     restart block) if no handler runs, else EINTR.
//
// They are unix.Errno so that a syscall handler can return them as its error.
const (
	ERESTARTSYS           unix.Errno = 512
	ERESTARTNOINTR        unix.Errno = 513
	ERESTARTNOHAND        unix.Errno = 514
	ENOIOCTLCMD           unix.Errno = 515 // ioctl not handled here; callers map it to ENOTTY
	ERESTART_RESTARTBLOCK unix.Errno = 516
)

// IsRestartErrno reports whether e is one of the restart codes above, which
// must never be returned to an application as they are.
func IsRestartErrno(e unix.Errno) bool {
	switch e {
	case ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK:
		return true
	}
	return false
}

// MaxErrno is the largest value a syscall may return negated as an error:
// results in [-4095, -1] are errors, every other value is a result
// (Linux's MAX_ERRNO, which is also what libc's syscall wrappers test).
const MaxErrno = 4095

// ReturnErrno interprets a raw syscall return register: if it encodes an
// error (-MaxErrno..-1 as two's complement), it returns the errno and true.
func ReturnErrno(rax uint64) (unix.Errno, bool) {
	if v := int64(rax); v < 0 && v >= -MaxErrno {
		return unix.Errno(-v), true
	}
	return 0, false
}

// ErrnoName returns the symbolic name of errno value e ("ENOENT"), as strace
// prints it. Where Linux has aliases (EWOULDBLOCK=EAGAIN, EDEADLOCK=EDEADLK,
// ENOTSUP=EOPNOTSUPP) the primary name is used. Unknown values give
// "errno_NNN" in decimal.
func ErrnoName(e uint64) string {
	if e < uint64(len(errnoNames)) && errnoNames[e] != "" {
		return errnoNames[e]
	}
	if n, ok := internalErrnoNames[e]; ok {
		return n
	}
	return "errno_" + strconv.FormatUint(e, 10)
}

// errnoNames is Linux's include/uapi/asm-generic/errno-base.h and errno.h,
// which x86-64 uses unchanged.
var errnoNames = [...]string{
	1:   "EPERM",
	2:   "ENOENT",
	3:   "ESRCH",
	4:   "EINTR",
	5:   "EIO",
	6:   "ENXIO",
	7:   "E2BIG",
	8:   "ENOEXEC",
	9:   "EBADF",
	10:  "ECHILD",
	11:  "EAGAIN",
	12:  "ENOMEM",
	13:  "EACCES",
	14:  "EFAULT",
	15:  "ENOTBLK",
	16:  "EBUSY",
	17:  "EEXIST",
	18:  "EXDEV",
	19:  "ENODEV",
	20:  "ENOTDIR",
	21:  "EISDIR",
	22:  "EINVAL",
	23:  "ENFILE",
	24:  "EMFILE",
	25:  "ENOTTY",
	26:  "ETXTBSY",
	27:  "EFBIG",
	28:  "ENOSPC",
	29:  "ESPIPE",
	30:  "EROFS",
	31:  "EMLINK",
	32:  "EPIPE",
	33:  "EDOM",
	34:  "ERANGE",
	35:  "EDEADLK",
	36:  "ENAMETOOLONG",
	37:  "ENOLCK",
	38:  "ENOSYS",
	39:  "ENOTEMPTY",
	40:  "ELOOP",
	42:  "ENOMSG",
	43:  "EIDRM",
	44:  "ECHRNG",
	45:  "EL2NSYNC",
	46:  "EL3HLT",
	47:  "EL3RST",
	48:  "ELNRNG",
	49:  "EUNATCH",
	50:  "ENOCSI",
	51:  "EL2HLT",
	52:  "EBADE",
	53:  "EBADR",
	54:  "EXFULL",
	55:  "ENOANO",
	56:  "EBADRQC",
	57:  "EBADSLT",
	59:  "EBFONT",
	60:  "ENOSTR",
	61:  "ENODATA",
	62:  "ETIME",
	63:  "ENOSR",
	64:  "ENONET",
	65:  "ENOPKG",
	66:  "EREMOTE",
	67:  "ENOLINK",
	68:  "EADV",
	69:  "ESRMNT",
	70:  "ECOMM",
	71:  "EPROTO",
	72:  "EMULTIHOP",
	73:  "EDOTDOT",
	74:  "EBADMSG",
	75:  "EOVERFLOW",
	76:  "ENOTUNIQ",
	77:  "EBADFD",
	78:  "EREMCHG",
	79:  "ELIBACC",
	80:  "ELIBBAD",
	81:  "ELIBSCN",
	82:  "ELIBMAX",
	83:  "ELIBEXEC",
	84:  "EILSEQ",
	85:  "ERESTART",
	86:  "ESTRPIPE",
	87:  "EUSERS",
	88:  "ENOTSOCK",
	89:  "EDESTADDRREQ",
	90:  "EMSGSIZE",
	91:  "EPROTOTYPE",
	92:  "ENOPROTOOPT",
	93:  "EPROTONOSUPPORT",
	94:  "ESOCKTNOSUPPORT",
	95:  "EOPNOTSUPP",
	96:  "EPFNOSUPPORT",
	97:  "EAFNOSUPPORT",
	98:  "EADDRINUSE",
	99:  "EADDRNOTAVAIL",
	100: "ENETDOWN",
	101: "ENETUNREACH",
	102: "ENETRESET",
	103: "ECONNABORTED",
	104: "ECONNRESET",
	105: "ENOBUFS",
	106: "EISCONN",
	107: "ENOTCONN",
	108: "ESHUTDOWN",
	109: "ETOOMANYREFS",
	110: "ETIMEDOUT",
	111: "ECONNREFUSED",
	112: "EHOSTDOWN",
	113: "EHOSTUNREACH",
	114: "EALREADY",
	115: "EINPROGRESS",
	116: "ESTALE",
	117: "EUCLEAN",
	118: "ENOTNAM",
	119: "ENAVAIL",
	120: "EISNAM",
	121: "EREMOTEIO",
	122: "EDQUOT",
	123: "ENOMEDIUM",
	124: "EMEDIUMTYPE",
	125: "ECANCELED",
	126: "ENOKEY",
	127: "EKEYEXPIRED",
	128: "EKEYREVOKED",
	129: "EKEYREJECTED",
	130: "EOWNERDEAD",
	131: "ENOTRECOVERABLE",
	132: "ERFKILL",
	133: "EHWPOISON",
}

// internalErrnoNames covers Linux's include/linux/errno.h: codes that only
// exist inside the kernel but that --strace and crash reports may show.
var internalErrnoNames = map[uint64]string{
	512: "ERESTARTSYS",
	513: "ERESTARTNOINTR",
	514: "ERESTARTNOHAND",
	515: "ENOIOCTLCMD",
	516: "ERESTART_RESTARTBLOCK",
	517: "EPROBE_DEFER",
	518: "EOPENSTALE",
	519: "ENOPARAM",
	521: "EBADHANDLE",
	522: "ENOTSYNC",
	523: "EBADCOOKIE",
	524: "ENOTSUPP",
	525: "ETOOSMALL",
	526: "ESERVERFAULT",
	527: "EBADTYPE",
	528: "EJUKEBOX",
	529: "EIOCBQUEUED",
	530: "ERECALLCONFLICT",
	531: "ENOGRACE",
}
