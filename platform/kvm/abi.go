package kvm

import "encoding/binary"

// The KVM API (linux/kvm.h, asm/kvm.h for x86-64). Structures travel as
// byte images built with encoding/binary, so that only the ioctl call
// itself needs unsafe.
const (
	kvmGetAPIVersion       = 0xae00
	kvmCreateVM            = 0xae01
	kvmCheckExtension      = 0xae03
	kvmGetVCPUMmapSize     = 0xae04
	kvmGetSupportedCPUID   = 0xc008ae05
	kvmSetUserMemoryRegion = 0x4020ae46
	kvmCreateVCPU          = 0xae41
	kvmRun                 = 0xae80
	kvmGetRegs             = 0x8090ae81
	kvmSetRegs             = 0x4090ae82
	kvmGetSregs            = 0x8138ae83
	kvmSetSregs            = 0x4138ae84
	kvmSetMSRs             = 0x4008ae89
	kvmSetCPUID2           = 0x4008ae90
	kvmGetXSave            = 0x9000aea4
	kvmSetXSave            = 0x5000aea5
	kvmGetXSave2           = 0x9000aecf
	kvmSetXCRs             = 0x4188aea7
	kvmGetVCPUEvents       = 0x8040ae9f
	kvmSetDeviceAttr       = 0x4018aee1
	kvmHasDeviceAttr       = 0x4018aee3

	capSyncRegs      = 0x4a
	capImmediateExit = 0x88
	capXSave2        = 0xd0
	capMaxVCPUs      = 0x42
	capNrVCPUs       = 0x9

	// kvm_run layout.
	runExitReason = 0x08
	runValidRegs  = 0x120
	runDirtyRegs  = 0x128
	runSyncRegs   = 0x130 // struct kvm_sync_regs: kvm_regs, then kvm_sregs
	runInternal   = 0x20  // exit data union (internal.suberror, fail_entry)
	syncX86Regs   = 1

	exitIO            = 2
	exitMMIO          = 6
	exitHLT           = 5
	exitShutdown      = 8
	exitFailEntry     = 9
	exitIntr          = 10
	exitInternalError = 17

	// struct kvm_vcpu_events: exception.injected at 0, .pending at 3
	// (without KVM_CAP_EXCEPTION_PAYLOAD a pending exception shows as
	// injected).
	eventsSize     = 64
	eventsInjected = 0
	eventsPending  = 3
	regsSize       = 0x90
	sregsSize      = 0x138
	xsaveSize      = 0x1000
)

// regs is struct kvm_regs.
type regs struct {
	rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp uint64
	r8, r9, r10, r11, r12, r13, r14, r15   uint64
	rip, rflags                            uint64
}

var le = binary.LittleEndian

func (r *regs) encode(b []byte) {
	for i, v := range []uint64{r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
		r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags} {
		le.PutUint64(b[8*i:], v)
	}
}

func (r *regs) decode(b []byte) {
	for i, p := range []*uint64{&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp, &r.rbp,
		&r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15, &r.rip, &r.rflags} {
		*p = le.Uint64(b[8*i:])
	}
}

// segment is struct kvm_segment (24 bytes).
type segment struct {
	base                           uint64
	limit                          uint32
	selector                       uint16
	typ, present, dpl, db, s, l, g uint8
	avl, unusable                  uint8
}

func (s *segment) encode(b []byte) {
	le.PutUint64(b[0:], s.base)
	le.PutUint32(b[8:], s.limit)
	le.PutUint16(b[12:], s.selector)
	b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22] =
		s.typ, s.present, s.dpl, s.db, s.s, s.l, s.g, s.avl, s.unusable
	b[23] = 0
}

// kvm_sregs offsets.
const (
	sregCS, sregDS, sregES, sregFS, sregGS, sregSS, sregTR, sregLDT = 0, 24, 48, 72, 96, 120, 144, 168
	sregGDT, sregIDT                                                = 192, 208 // struct kvm_dtable {base u64; limit u16; pad}
	sregCR0, sregCR2, sregCR3, sregCR4, sregCR8, sregEFER           = 224, 232, 240, 248, 256, 264
	sregAPICBase                                                    = 272
)

// MSR numbers.
const (
	msrSTAR         = 0xc0000081
	msrLSTAR        = 0xc0000082
	msrCSTAR        = 0xc0000083
	msrSFMASK       = 0xc0000084
	msrFSBase       = 0xc0000100
	msrGSBase       = 0xc0000101
	msrKernelGSBase = 0xc0000102
	msrPAT          = 0x277
	msrTSC          = 0x10
)

// msrs builds struct kvm_msrs with the given index/value pairs.
func msrs(pairs ...uint64) []byte {
	n := len(pairs) / 2
	b := make([]byte, 8+16*n)
	le.PutUint32(b[0:], uint32(n))
	for i := 0; i < n; i++ {
		e := b[8+16*i:]
		le.PutUint32(e[0:], uint32(pairs[2*i]))
		le.PutUint64(e[8:], pairs[2*i+1])
	}
	return b
}
