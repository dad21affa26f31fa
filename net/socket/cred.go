package socket

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// PIDOf returns the caller's thread group id when ctx knows it (a Context
// does; the syscall layer always passes one), else 0.
func PIDOf(ctx vfs.Context) int32 {
	if p, ok := ctx.(interface{ PID() int32 }); ok {
		return p.PID()
	}
	return 0
}

// CheckCred is scm_check_creds: a sender may claim in SCM_CREDENTIALS only
// its own pid and one of its real, effective or saved ids, unless
// privileged (EPERM otherwise).
func CheckCred(ctx vfs.Context, c *Cred) error {
	cr := ctx.Credentials()
	if cr.Privileged {
		// Any pid, but one that exists (Linux's __scm_send looks it up:
		// ESRCH).
		if p, ok := ctx.(interface{ PIDExists(pid int32) bool }); ok && !p.PIDExists(c.PID) {
			return unix.ESRCH
		}
		return nil
	}
	if c.PID != PIDOf(ctx) {
		return unix.EPERM
	}
	if c.UID != cr.UID && c.UID != cr.EUID && c.UID != cr.SUID {
		return unix.EPERM
	}
	if c.GID != cr.GID && c.GID != cr.EGID && c.GID != cr.SGID {
		return unix.EPERM
	}
	return nil
}

// DefaultCred is the SCM_CREDENTIALS a message carries when its sender
// claimed none (Linux's scm_send default, maybe_add_creds): the caller's
// pid and real ids.
func DefaultCred(ctx vfs.Context) Cred {
	c := ctx.Credentials()
	return Cred{PID: PIDOf(ctx), UID: c.UID, GID: c.GID}
}
