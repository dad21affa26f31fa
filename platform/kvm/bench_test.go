package kvm

import (
	"runtime"
	"testing"

	"uk/arch"
	"uk/platform"
)

// getpidLoop is `loop: mov eax, 39; syscall; jmp loop`.
var getpidLoop = cat([]byte{0xb8, 39, 0, 0, 0}, insSyscall, []byte{0xeb, 0xf7})

// startGetpidLoop runs getpidLoop on a new context up to its first
// syscall trap. The caller holds its OS thread and releases the context.
func startGetpidLoop(b *testing.B) (*env, *AddressSpace, *Context, *arch.State) {
	e := newEnv(b)
	as := e.newAS(b, getpidLoop)
	c := e.newContext(b)
	st := initState()
	mustSwitch(b, c, as, st, platform.TrapSyscall)
	return e, as, c, st
}

// BenchmarkSyscall is one application syscall round trip through Switch:
// entry, the trap, the exit back to uk, and the FP state read.
func BenchmarkSyscall(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, as, c, st := startGetpidLoop(b)
	defer c.Release()
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
	_, _, c, st := startGetpidLoop(b)
	defer c.Release()
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

// BenchmarkTrapFloorSregs is the trap floor entered differently: instead of
// the emulated iretq, KVM_SET_SREGS puts the vCPU straight into user mode
// (user CS and SS, the address space's root in CR3) and the registers
// carry the user RIP and RSP. One ioctl more, no supervisor instruction on
// the way in. An experiment (issue 16), not how Switch enters.
func BenchmarkTrapFloorSregs(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, as, c, st := startGetpidLoop(b)
	defer c.Release()
	v := c.v
	sr := append([]byte(nil), v.sregs...)
	code := segment{limit: 0xffffffff, selector: selUserCS, typ: 11, present: 1, dpl: 3, s: 1, l: 1, g: 1}
	data := segment{limit: 0xffffffff, selector: selUserDS, typ: 3, present: 1, dpl: 3, s: 1, db: 1, g: 1}
	code.encode(sr[sregCS:])
	data.encode(sr[sregSS:])
	le.PutUint64(sr[sregCR3:], v.p.sysBase+as.root)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ioctlBuf(v.fd, kvmSetSregs, sr); err != nil {
			b.Fatal(err)
		}
		v.setEnterRegs(st)
		v.regs.rip, v.regs.rsp, v.regs.rflags = st.Regs.Rip, st.Regs.Rsp, 0x202
		v.regs.encode(v.run[runSyncRegs:])
		le.PutUint64(v.run[runDirtyRegs:], syncX86Regs)
		reason, err := v.runOnce()
		for err == nil && reason == exitIntr {
			// A signal for the Go runtime: the vCPU goes on where it
			// stopped.
			reason, err = v.runOnce()
		}
		if err != nil {
			b.Fatal(err)
		}
		if reason != exitHLT {
			b.Fatalf("exit %d at rip %#x", reason, v.regs.rip)
		}
		st.Regs.Rip = v.regs.rcx
	}
	b.StopTimer()
	v.as = nil // CR3 was changed behind the enter code's back
}

// BenchmarkTrapFloorNoSyncRegs is the trap floor without kvm_run's
// synchronized registers: KVM_SET_REGS before and KVM_GET_REGS after each
// KVM_RUN, as on a KVM without KVM_CAP_SYNC_REGS. An experiment (issue 16):
// what sync regs save.
func BenchmarkTrapFloorNoSyncRegs(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e, _, c, st := startGetpidLoop(b)
	defer c.Release()
	v := c.v
	if !e.p.syncRegs {
		b.Skip("this KVM has no synchronized registers: the floor is already without them")
	}
	e.p.syncRegs = false
	le.PutUint64(v.run[runValidRegs:], 0)
	defer func() {
		e.p.syncRegs = true
		le.PutUint64(v.run[runValidRegs:], syncX86Regs)
	}()
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
