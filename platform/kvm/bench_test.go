package kvm

import (
	"runtime"
	"testing"

	"uk/platform"
)

// getpidLoop is `loop: mov eax, 39; syscall; jmp loop`.
var getpidLoop = cat([]byte{0xb8, 39, 0, 0, 0}, insSyscall, []byte{0xeb, 0xf7})

// BenchmarkSyscall is one application syscall round trip through Switch:
// entry, the trap, the exit back to uk, and the FP state read.
func BenchmarkSyscall(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(b)
	as := e.newAS(b, getpidLoop)
	c := e.newContext(b)
	defer c.Release()
	st := initState()
	mustSwitch(b, c, as, st, platform.TrapSyscall)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if trap, err := c.Switch(as, st); err != nil || trap.Kind != platform.TrapSyscall {
			b.Fatalf("trap %+v, %v", trap, err)
		}
	}
}

// BenchmarkTrapFloor is the bare trap floor: the same guest through the
// same trampoline (iretq in, the syscall trap out), with nothing on uk's
// side but KVM_RUN and the registers in kvm_run.
func BenchmarkTrapFloor(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(b)
	as := e.newAS(b, getpidLoop)
	c := e.newContext(b)
	defer c.Release()
	st := initState()
	mustSwitch(b, c, as, st, platform.TrapSyscall)
	v := c.v
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.setEnterRegs(st)
		v.setRIP(addrIret)
		if _, err := v.runOnce(); err != nil {
			b.Fatal(err)
		}
		st.Regs.Rip = v.regs.rcx
	}
}
