package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
)

func sysSetsid(t *kernel.Task, a [6]uint64) (uint64, error) {
	sid, err := t.ThreadGroup().Setsid()
	return uint64(sid), err
}

func sysSetpgid(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.ThreadGroup().Setpgid(int32(a[0]), int32(a[1]))
}

func sysGetpgid(t *kernel.Task, a [6]uint64) (uint64, error) {
	g, err := t.ThreadGroup().GroupOf(int32(a[0]), false)
	return uint64(g), err
}

func sysGetpgrp(t *kernel.Task, a [6]uint64) (uint64, error) {
	return uint64(t.ThreadGroup().ProcessGroup()), nil
}

func sysGetsid(t *kernel.Task, a [6]uint64) (uint64, error) {
	g, err := t.ThreadGroup().GroupOf(int32(a[0]), true)
	return uint64(g), err
}

// prctl options uk implements.
const (
	prSetPdeathsig       = 1
	prGetPdeathsig       = 2
	prGetDumpable        = 3
	prSetDumpable        = 4
	prSetName            = 15
	prGetName            = 16
	prSetNoNewPrivs      = 38
	prGetNoNewPrivs      = 39
	prSetChildSubreaper  = 36
	prGetChildSubreaper  = 37
	prSetTHPDisable      = 41
	prGetTHPDisable      = 42
	prCapbsetRead        = 23
	prSetMM              = 35
	prSetVMA             = 0x53564d41
	prGetSecurebits      = 27
	prSetSecurebits      = 28
	prSetTimerslack      = 29
	prGetTimerslack      = 30
	prMCEKill            = 33
	prCapAmbient         = 47
	prSetKeepcaps        = 8
	prGetKeepcaps        = 7
	prGetSpeculationCtrl = 52
)

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
		if t.NoNewPrivs() {
			return 1, nil
		}
		return 0, nil
	case prCapbsetRead:
		if a[1] > 63 {
			return 0, unix.EINVAL
		}
		return 1, nil
	case prGetKeepcaps, prGetSecurebits, prGetTHPDisable:
		return 0, nil
	case prSetKeepcaps, prSetSecurebits, prSetTHPDisable, prSetTimerslack, prMCEKill, prSetVMA:
		return 0, nil
	case prGetTimerslack:
		return 50000, nil
	case prCapAmbient:
		return 0, nil
	}
	return 0, unix.EINVAL
}

func sysGetrusage(t *kernel.Task, a [6]uint64) (uint64, error) {
	var cpu int64
	switch int32(a[0]) {
	case unix.RUSAGE_SELF:
		cpu = t.ThreadGroup().CPUTime()
	case unix.RUSAGE_CHILDREN:
		cpu = t.ThreadGroup().ChildrenCPU()
	case unix.RUSAGE_THREAD:
		cpu = t.CPUTime()
	default:
		return 0, unix.EINVAL
	}
	return 0, t.CopyOut(a[1], rusage(cpu, 0))
}

// clockTicks converts ns to clock ticks (USER_HZ = 100).
func clockTicks(ns int64) uint64 { return uint64(ns / 1e7) }

func sysTimes(t *kernel.Task, a [6]uint64) (uint64, error) {
	tg := t.ThreadGroup()
	if a[0] != 0 {
		b := words(clockTicks(tg.CPUTime()), 0, clockTicks(tg.ChildrenCPU()), 0)
		if err := t.CopyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	ns, _ := t.Kernel().ClockNow(unix.CLOCK_BOOTTIME, t)
	return clockTicks(ns), nil
}

// reboot(2) magic numbers and commands.
const (
	rebootMagic1 = 0xfee1dead
	rebootMagic2 = 0x28121969
)

func sysReboot(t *kernel.Task, a [6]uint64) (uint64, error) {
	if uint32(a[0]) != rebootMagic1 || (uint32(a[1]) != rebootMagic2 && uint32(a[1]) != 85072278 &&
		uint32(a[1]) != 369367448 && uint32(a[1]) != 537993216) {
		return 0, unix.EINVAL
	}
	if !t.Credentials().Privileged {
		return 0, unix.EPERM
	}
	switch uint32(a[2]) {
	case unix.LINUX_REBOOT_CMD_POWER_OFF, unix.LINUX_REBOOT_CMD_HALT, unix.LINUX_REBOOT_CMD_RESTART,
		unix.LINUX_REBOOT_CMD_RESTART2:
		t.Kernel().PowerOff()
		t.ExitGroup(0)
		return 0, kernel.ErrNoReturnValue
	case unix.LINUX_REBOOT_CMD_CAD_ON, unix.LINUX_REBOOT_CMD_CAD_OFF:
		return 0, nil
	}
	return 0, unix.EINVAL
}
