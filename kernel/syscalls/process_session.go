package syscalls

import (
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
	prCapbsetDrop        = 24
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
	prGetSeccomp         = 21
	prSetSeccomp         = 22

	prGetTimingOpt          = 13
	prSetTimingOpt          = 14
	prGetTSC                = 25
	prSetTSC                = 26
	prTaskPerfEventsDisable = 31
	prTaskPerfEventsEnable  = 32
	prMCEKillGet            = 34
	prGetTIDAddress         = 40

	prTSCEnable               = 1      // PR_TSC_ENABLE
	prTHPDisableExceptAdvised = 1 << 1 // PR_THP_DISABLE_EXCEPT_ADVISED

	capSysResource = 24 // CAP_SYS_RESOURCE
	capSysNice     = 23 // CAP_SYS_NICE
)

// reboot(2) magic numbers and commands.
const (
	rebootMagic1 = 0xfee1dead
	rebootMagic2 = 0x28121969
)
