package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel"
)

func sysArchPrctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	if done, err := archPrctlBase(t, &t.State.Regs, a[0], a[1]); done {
		return 0, err
	}
	switch a[0] {
	case arch.ARCH_GET_XCOMP_SUPP:
		return 0, putUint64(t, a[1], arch.HostXSave().Supported())
	case arch.ARCH_GET_XCOMP_PERM, arch.ARCH_GET_XCOMP_GUEST_PERM:
		return 0, putUint64(t, a[1], t.ThreadGroup().XPerm(a[0] == arch.ARCH_GET_XCOMP_GUEST_PERM))
	case arch.ARCH_REQ_XCOMP_PERM, arch.ARCH_REQ_XCOMP_GUEST_PERM:
		return 0, t.ThreadGroup().RequestXPerm(a[1], a[0] == arch.ARCH_REQ_XCOMP_GUEST_PERM)
	default:
		return 0, unix.EINVAL
	}
}

// archPrctlBase runs arch_prctl's FS and GS base codes on regs: the
// caller's, or a tracee's for PTRACE_ARCH_PRCTL (t writes what a GET
// reads). It reports whether code was one of them.
func archPrctlBase(t *kernel.Task, regs *arch.Registers, code, addr uint64) (bool, error) {
	switch code {
	case archSetFS, archSetGS:
		if !canonical(addr) {
			return true, unix.EPERM
		}
		if code == archSetFS {
			regs.FsBase = addr
		} else {
			regs.GsBase = addr
		}
		return true, nil
	case archGetFS:
		return true, putUint64(t, addr, regs.FsBase)
	case archGetGS:
		return true, putUint64(t, addr, regs.GsBase)
	}
	return false, nil
}

func sysPrctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	switch a[0] {
	case prSetName:
		name, err := t.CopyInString(a[1], 16)
		if err == unix.ENAMETOOLONG {
			b := make([]byte, 15)
			if err := t.CopyIn(a[1], b); err != nil {
				return 0, err
			}
			name, err = string(b), nil
		}
		if err != nil {
			return 0, err
		}
		t.SetComm(name)
		return 0, nil
	case prGetName:
		b := make([]byte, 16)
		copy(b, t.Comm())
		return 0, t.CopyOut(a[1], b)
	case prSetPdeathsig:
		if a[1] > 64 {
			return 0, unix.EINVAL
		}
		t.SetPdeathSignal(int(a[1]))
		return 0, nil
	case prGetPdeathsig:
		return 0, putUint32(t, a[1], uint32(t.PdeathSignal()))
	case prGetDumpable:
		return uint64(t.ThreadGroup().Dumpable()), nil
	case prSetDumpable:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetDumpable(int(a[1]))
		return 0, nil
	case prSetChildSubreaper:
		t.ThreadGroup().SetChildSubreaper(a[1] != 0)
		return 0, nil
	case prGetChildSubreaper:
		v := uint32(0)
		if t.ThreadGroup().ChildSubreaper() {
			v = 1
		}
		return 0, putUint32(t, a[1], v)
	case prSetNoNewPrivs:
		if a[1] != 1 || a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case prGetNoNewPrivs:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		if t.NoNewPrivs() {
			return 1, nil
		}
		return 0, nil
	case prCapbsetRead:
		if a[1] > vfs.CapLast {
			return 0, unix.EINVAL
		}
		return uint64(t.Credentials().Bounding>>a[1]) & 1, nil
	case prCapbsetDrop:
		return 0, dropBoundingCap(t, a[1])
	case prGetKeepcaps:
		return uint64(t.Credentials().Securebits>>4) & 1, nil
	case prSetKeepcaps:
		return 0, setKeepCaps(t, a[1])
	case prGetSecurebits:
		return uint64(t.Credentials().Securebits), nil
	case prSetSecurebits:
		return 0, setSecurebits(t, a[1])
	case prCapAmbient:
		return capAmbient(t, a[1], a[2], a[3], a[4])
	case prGetTHPDisable:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return t.ThreadGroup().THPDisabled(), nil
	case prSetTHPDisable:
		// arg3 takes PR_THP_DISABLE_EXCEPT_ADVISED, and only with arg2.
		if a[3]|a[4] != 0 || a[1] == 0 && a[2] != 0 || a[2]&^prTHPDisableExceptAdvised != 0 {
			return 0, unix.EINVAL
		}
		v := uint64(0)
		if a[1] != 0 {
			v = 1 | a[2]
		}
		t.ThreadGroup().SetTHPDisabled(v)
		return 0, nil
	case prGetTimerslack:
		return t.TimerSlack(), nil
	case prSetTimerslack:
		t.SetTimerSlack(a[1])
		return 0, nil
	case prGetTSC:
		return 0, putUint32(t, a[1], prTSCEnable)
	case prSetTSC:
		// rdtsc always runs: the platforms cannot make it fault in the
		// program's threads, so PR_TSC_SIGSEGV is refused as an
		// unknown mode would be.
		if a[1] != prTSCEnable {
			return 0, unix.EINVAL
		}
		return 0, nil
	case prGetTimingOpt:
		return 0, nil // PR_TIMING_STATISTICAL
	case prSetTimingOpt:
		if a[1] != 0 {
			return 0, unix.EINVAL // PR_TIMING_TIMESTAMP was never implemented
		}
		return 0, nil
	case prMCEKill:
		return 0, setMCEKill(t, a[1], a[2], a[3], a[4])
	case prMCEKillGet:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return uint64(t.MCEKillPolicy()), nil
	case prGetTIDAddress:
		return 0, putUint64(t, a[1], t.ClearChildTID())
	case prGetSpeculationCtrl:
		return speculationCtrl(a[1], a[2], a[3], a[4])
	case prTaskPerfEventsDisable, prTaskPerfEventsEnable:
		return 0, nil // uk has no perf events to switch
	case prSetVMA:
		return 0, nil
	case prSetMM:
		if !t.Credentials().HasCap(capSysResource) {
			return 0, unix.EPERM
		}
		return 0, unix.EINVAL
	case prGetSeccomp:
		return uint64(t.SeccompMode()), nil
	case prSetSeccomp:
		return prctlSeccomp(t, a[1], a[2])
	}
	return 0, unix.EINVAL
}

// setMCEKill is PR_MCE_KILL: PR_MCE_KILL_CLEAR (0, arg3 0) or
// PR_MCE_KILL_SET (1) with a policy.
func setMCEKill(t *kernel.Task, op, policy, a4, a5 uint64) error {
	if a4|a5 != 0 {
		return unix.EINVAL
	}
	switch {
	case op == 0 && policy == 0:
		t.SetMCEKillPolicy(kernel.MCEKillDefault)
	case op == 1 && policy <= kernel.MCEKillDefault:
		t.SetMCEKillPolicy(int(policy))
	default:
		return unix.EINVAL
	}
	return nil
}

// hostSpeculation is what the host reports of uk itself for the three
// misfeatures PR_GET_SPECULATION_CTRL knows (store bypass, indirect
// branch, L1D flush), read before uk's own seccomp filter, which has no
// prctl, is in place; -1 where the host said ENODEV.
var hostSpeculation = func() (v [3]int) {
	for i := range v {
		r, err := unix.PrctlRetInt(unix.PR_GET_SPECULATION_CTRL, uintptr(i), 0, 0, 0)
		if err != nil {
			r = -1
		}
		v[i] = r
	}
	return v
}()

// speculationCtrl is PR_GET_SPECULATION_CTRL: the host CPU's mitigations
// are the program's too, so uk reports the host's answer.
func speculationCtrl(which, a3, a4, a5 uint64) (uint64, error) {
	if a3|a4|a5 != 0 {
		return 0, unix.EINVAL
	}
	if which >= uint64(len(hostSpeculation)) || hostSpeculation[which] < 0 {
		return 0, unix.ENODEV
	}
	return uint64(hostSpeculation[which]), nil
}
