package arch

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
)

func TestSigframeLayoutMatchesKernelHeaders(t *testing.T) {
	c := cValues(t, "sigframe_offsets")
	want := map[string]int64{
		"sizeof.rt_sigframe": RtSigframeSize, "sizeof.ucontext": UContextSize,
		"sizeof.sigcontext": SigcontextSize, "sizeof.siginfo": SignalInfoSize, "sizeof.stack_t": StackTSize,
		"rt_sigframe.uc": FrameUContextOffset, "rt_sigframe.info": FrameInfoOffset,
		"ucontext.uc_flags": ucFlags, "ucontext.uc_link": ucLink, "ucontext.uc_stack": ucStack,
		"ucontext.uc_mcontext": ucMcontext, "ucontext.uc_sigmask": ucSigmask,
		"sigcontext.r8": scR8, "sigcontext.r9": scR9, "sigcontext.r10": scR10, "sigcontext.r11": scR11,
		"sigcontext.r12": scR12, "sigcontext.r13": scR13, "sigcontext.r14": scR14, "sigcontext.r15": scR15,
		"sigcontext.rdi": scRdi, "sigcontext.rsi": scRsi, "sigcontext.rbp": scRbp, "sigcontext.rbx": scRbx,
		"sigcontext.rdx": scRdx, "sigcontext.rax": scRax, "sigcontext.rcx": scRcx, "sigcontext.rsp": scRsp,
		"sigcontext.rip": scRip, "sigcontext.eflags": scEflags, "sigcontext.cs": scCs, "sigcontext.gs": scGs,
		"sigcontext.fs": scFs, "sigcontext.ss": scSs, "sigcontext.err": scErr, "sigcontext.trapno": scTrapno,
		"sigcontext.oldmask": scOldmask, "sigcontext.cr2": scCr2, "sigcontext.fpstate": scFpstate,
		"stack_t.ss_sp": 0, "stack_t.ss_flags": 8, "stack_t.ss_size": 16,
		"_fpx_sw_bytes.magic1": fxswOffset, "_fpx_sw_bytes.extended_size": fxswOffset + 4,
		"_fpx_sw_bytes.xfeatures": fxswOffset + 8, "_fpx_sw_bytes.xstate_size": fxswOffset + 16,
		"FP_XSTATE_MAGIC1": FP_XSTATE_MAGIC1, "FP_XSTATE_MAGIC2": FP_XSTATE_MAGIC2,
		"UC_FP_XSTATE": UC_FP_XSTATE, "UC_SIGCONTEXT_SS": UC_SIGCONTEXT_SS, "UC_STRICT_RESTORE_SS": UC_STRICT_RESTORE_SS,
		// siginfo_t: the offsets Encode uses (16 + the union offsets).
		"siginfo.si_signo": 0, "siginfo.si_errno": 4, "siginfo.si_code": 8,
		"siginfo.si_pid": 16, "siginfo.si_uid": 20, "siginfo.si_tid": 16, "siginfo.si_overrun": 20,
		"siginfo.si_value": 24, "siginfo.si_status": 24, "siginfo.si_utime": 32, "siginfo.si_stime": 40,
		"siginfo.si_addr": 16, "siginfo.si_addr_lsb": 24, "siginfo.si_lower": 32, "siginfo.si_upper": 40,
		"siginfo.si_pkey": 32, "siginfo.si_perf_data": 24, "siginfo.si_perf_type": 32, "siginfo.si_perf_flags": 36,
		"siginfo.si_band": 16, "siginfo.si_fd": 24, "siginfo.si_call_addr": 16, "siginfo.si_syscall": 24,
		"siginfo.si_arch": 28,
	}
	checkC(t, c, want)
}

// TestSigframeMatchesHostKernel has the host kernel deliver a signal, once
// on the normal stack and once on an alternate stack, then builds the same
// frame from the same inputs and compares: same frame address, same FP
// address, and the same bytes everywhere except the alignment padding the
// kernel leaves uninitialized.
func TestSigframeMatchesHostKernel(t *testing.T) {
	out := cOutput(t, "sigframe_kernel")
	num := func(k string) uint64 {
		v, err := strconv.ParseInt(out[k], 10, 64)
		if err != nil {
			t.Fatalf("%s: %q", k, out[k])
		}
		return uint64(v)
	}
	for _, run := range []string{"0", "1"} {
		t.Run("run"+run, func(t *testing.T) {
			k, err := hex.DecodeString(out[run+".hex"])
			if err != nil || len(k) < RtSigframeSize {
				t.Fatalf("frame dump: %d bytes, %v", len(k), err)
			}
			frameAddr, fpAddr := num(run+".frame"), num(run+".fpstate")
			uc := k[FrameUContextOffset:]
			sc := uc[ucMcontext:]
			var st State
			r := &st.Regs
			r.R8, r.R9, r.R10, r.R11 = le.Uint64(sc[scR8:]), le.Uint64(sc[scR9:]), le.Uint64(sc[scR10:]), le.Uint64(sc[scR11:])
			r.R12, r.R13, r.R14, r.R15 = le.Uint64(sc[scR12:]), le.Uint64(sc[scR13:]), le.Uint64(sc[scR14:]), le.Uint64(sc[scR15:])
			r.Rdi, r.Rsi, r.Rbp, r.Rbx = le.Uint64(sc[scRdi:]), le.Uint64(sc[scRsi:]), le.Uint64(sc[scRbp:]), le.Uint64(sc[scRbx:])
			r.Rdx, r.Rax, r.Rcx, r.Rsp = le.Uint64(sc[scRdx:]), le.Uint64(sc[scRax:]), le.Uint64(sc[scRcx:]), le.Uint64(sc[scRsp:])
			r.Rip, r.Eflags = le.Uint64(sc[scRip:]), le.Uint64(sc[scEflags:])
			r.Cs, r.Ss = uint64(le.Uint16(sc[scCs:])), uint64(le.Uint16(sc[scSs:]))
			if r.Rsp != num(run+".rsp") {
				t.Fatalf("sigcontext rsp %#x, program saw %#x", r.Rsp, num(run+".rsp"))
			}
			// The kernel's frame holds the default components: on CPUs
			// with AMX, not the tile data (so not FPStateSize() bytes).
			l := HostXSave()
			xsize := int(le.Uint32(k[fpAddr-frameAddr+fxswOffset+16:]))
			if want := l.Size(l.DefaultFeatures()); xsize != want {
				t.Errorf("kernel xstate_size %d, default image size %d (FPStateSize() %d)", xsize, want, FPStateSize())
			}
			if got := le.Uint64(k[fpAddr-frameAddr+fxswOffset+8:]); got != l.DefaultFeatures() {
				t.Errorf("kernel sw xfeatures %#x, default features %#x (XCR0 %#x)", got, l.DefaultFeatures(), XCR0())
			}
			st.FP = append([]byte(nil), k[fpAddr-frameAddr:fpAddr-frameAddr+uint64(xsize)]...)
			d := SignalDelivery{
				Action:    SigAction{Flags: SA_SIGINFO, Restorer: le.Uint64(k[0:])},
				Mask:      SigSet(le.Uint64(uc[ucSigmask:])),
				Trapno:    le.Uint64(sc[scTrapno:]),
				ErrorCode: le.Uint64(sc[scErr:]),
				CR2:       le.Uint64(sc[scCr2:]),
			}
			d.AltStack.Decode(uc[ucStack:])
			if run == "1" {
				d.Action.Flags |= SA_ONSTACK
				if d.AltStack.Sp != num("1.ss_sp") || d.AltStack.Size != num("1.ss_size") {
					t.Fatalf("uc_stack %+v", d.AltStack)
				}
			} else if d.AltStack.Size != 0 {
				t.Errorf("no altstack: kernel stores %+v", d.AltStack)
			}
			// glibc's SIGRTMIN is 34, so the program's SIGRTMIN+3 is 37.
			if d.Mask != SigSetOf(SIGUSR2, 37) {
				t.Errorf("uc_sigmask %v", d.Mask)
			}
			if err := d.Info.Decode(k[FrameInfoOffset:]); err != nil {
				t.Fatal(err)
			}
			f, err := BuildSignalFrame(&st, &d)
			if err != nil {
				t.Fatal(err)
			}
			if f.Addr != frameAddr || f.FPStateAddr != fpAddr || len(f.Bytes) != len(k) {
				t.Fatalf("frame at %#x fp %#x len %d; kernel %#x fp %#x len %d",
					f.Addr, f.FPStateAddr, len(f.Bytes), frameAddr, fpAddr, len(k))
			}
			if (f.Addr+8)%16 != 0 || f.FPStateAddr%64 != 0 {
				t.Errorf("alignment: frame %#x fp %#x", f.Addr, f.FPStateAddr)
			}
			pad := fpAddr - frameAddr
			// Linux leaves the padding after uc_stack.ss_flags and
			// sigcontext.reserved1 unwritten (stale stack bytes); we zero them.
			for _, hole := range [][2]int{
				{FrameUContextOffset + ucStack + 12, FrameUContextOffset + ucStack + 16},
				{FrameUContextOffset + ucMcontext + scFpstate + 8, FrameUContextOffset + ucSigmask},
			} {
				clear(k[hole[0]:hole[1]])
			}
			if !bytes.Equal(f.Bytes[:RtSigframeSize], k[:RtSigframeSize]) {
				t.Errorf("rt_sigframe differs:\n ours %x\n host %x", f.Bytes[:RtSigframeSize], k[:RtSigframeSize])
			}
			if !bytes.Equal(f.Bytes[pad:], k[pad:]) {
				for i := pad; i < uint64(len(k)); i++ {
					if f.Bytes[i] != k[i] {
						t.Errorf("FP area differs first at fpstate+%d: ours %x host %x", i-pad, f.Bytes[i], k[i])
						break
					}
				}
			}
		})
	}
}

// testState returns a state with distinct values in every register and in
// the x87, SSE and header fields of the FP image.
func testState() State {
	st := State{FP: newFP(0)}
	r := &st.Regs
	regs := []*uint64{&r.R15, &r.R14, &r.R13, &r.R12, &r.Rbp, &r.Rbx, &r.R11, &r.R10,
		&r.R9, &r.R8, &r.Rax, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi}
	for i, p := range regs {
		*p = 0x1111111111111111 * uint64(i+1)
	}
	r.OrigRax = 39
	r.Rip = 0x401234
	r.Rsp = 0x7ffffff0e008
	r.Eflags = 0x246 | EflagsDF
	r.Cs, r.Ss = UserCS, UserDS
	r.FsBase = 0x4c0000
	for i := 32; i < 416; i++ { // ST0-7 and XMM0-15
		st.FP[i] = byte(i * 7)
	}
	le.PutUint32(st.FP[mxcsrOffset:], 0x1fa0)
	for i := fxswOffset; i < 512; i++ {
		st.FP[i] = 0xee // stale software bytes, must not leak into the frame
	}
	return st
}

// memory is a flat stand-in for application memory in the round-trip test.
type memory struct {
	base uint64
	b    []byte
}

func (m *memory) write(addr uint64, src []byte) { copy(m.b[addr-m.base:], src) }
func (m *memory) read(addr uint64, dst []byte) error {
	if addr < m.base || addr-m.base+uint64(len(dst)) > uint64(len(m.b)) {
		return errors.New("fault")
	}
	copy(dst, m.b[addr-m.base:])
	return nil
}

func TestSignalFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		onstack bool
		alt     StackT
	}{
		{"normal stack", false, StackT{Flags: SS_DISABLE}},
		{"altstack not requested", false, StackT{Sp: 0x7ffffff00000, Size: 0x4000}},
		{"altstack", true, StackT{Sp: 0x7ffffff00000, Size: 0x4000}},
		{"altstack autodisarm", true, StackT{Sp: 0x7ffffff00000, Size: 0x4000, Flags: SS_AUTODISARM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := testState()
			st := orig.Clone()
			mem := &memory{base: 0x7fffffef0000, b: make([]byte, 0x20000)}
			d := SignalDelivery{
				Info:     SignalInfo{Signo: SIGSEGV, Code: SEGV_ACCERR, Addr: 0xdead000},
				Action:   SigAction{Handler: 0x402000, Flags: SA_SIGINFO | SA_RESTORER, Restorer: 0x403000},
				AltStack: tc.alt,
				Mask:     SigSetOf(SIGUSR2),
				Trapno:   14, ErrorCode: 7, CR2: 0xdead000,
			}
			if tc.onstack {
				d.Action.Flags |= SA_ONSTACK
			}
			f, err := BuildSignalFrame(&st, &d)
			if err != nil {
				t.Fatal(err)
			}
			if st.Regs != orig.Regs {
				t.Fatal("BuildSignalFrame changed the registers")
			}
			if tc.onstack {
				if !tc.alt.OnStack(f.Addr) && tc.alt.Flags&SS_AUTODISARM == 0 {
					t.Errorf("frame %#x not on the alternate stack", f.Addr)
				}
				if f.FPStateAddr+uint64(len(st.FP))+4 > tc.alt.Sp+tc.alt.Size {
					t.Errorf("FP image above the alternate stack")
				}
			} else if f.Addr+uint64(len(f.Bytes)) > orig.Regs.Rsp-redZoneSize {
				t.Errorf("frame [%#x,+%d) reaches into the red zone below %#x", f.Addr, len(f.Bytes), orig.Regs.Rsp)
			}
			if f.DisarmAltStack != (tc.alt.Flags&SS_AUTODISARM != 0) {
				t.Error("DisarmAltStack wrong")
			}
			mem.write(f.Addr, f.Bytes)
			f.EnterHandler(&st, SIGSEGV, d.Action.Handler)

			r := st.Regs
			if r.Rdi != SIGSEGV || r.Rsi != f.Addr+FrameInfoOffset || r.Rdx != f.Addr+FrameUContextOffset ||
				r.Rax != 0 || r.Rsp != f.Addr || r.Rip != 0x402000 || r.Eflags&EflagsDF != 0 || (r.Rsp+8)%16 != 0 {
				t.Errorf("handler entry registers %+v", r)
			}
			if !bytes.Equal(st.FP, initFP(len(st.FP))) || !st.FPDirty {
				t.Error("handler does not start with a fresh FP state")
			}
			// What the handler sees through its arguments.
			var info SignalInfo
			b := make([]byte, SignalInfoSize)
			mem.read(r.Rsi, b)
			info.Decode(b)
			if info != d.Info {
				t.Errorf("siginfo %+v", info)
			}
			ucb := make([]byte, UContextSize)
			mem.read(r.Rdx, ucb)
			if fl := le.Uint64(ucb[ucFlags:]); fl != 7 {
				t.Errorf("uc_flags %#x", fl)
			}
			if sc := ucb[ucMcontext:]; le.Uint64(sc[scRip:]) != orig.Regs.Rip || le.Uint64(sc[scCr2:]) != 0xdead000 ||
				le.Uint64(sc[scTrapno:]) != 14 || le.Uint64(sc[scErr:]) != 7 || le.Uint64(sc[scOldmask:]) != uint64(d.Mask) ||
				le.Uint64(sc[scFpstate:]) != f.FPStateAddr {
				t.Errorf("sigcontext wrong: %x", sc[:SigcontextSize])
			}
			var pret [8]byte
			mem.read(r.Rsp, pret[:])
			if le.Uint64(pret[:]) != 0x403000 {
				t.Errorf("pretcode %#x", le.Uint64(pret[:]))
			}

			// The handler clobbers registers and FP, then returns to the restorer.
			st.Regs.Rbx, st.Regs.R12 = 1, 2
			st.FP[200] ^= 0xff
			st.Regs.Rsp += 8
			st.Regs.Rip = 0x403000
			st.Regs.Rax = SysRtSigreturn
			st.Regs.Eflags |= 1 << 14 // NT: must not come back from the frame

			fa := SigreturnFrameAddr(st.Regs.Rsp)
			n := SigreturnReadSize(len(st.FP))
			buf := make([]byte, n)
			if err := mem.read(fa, buf); err != nil {
				buf = buf[:mem.base+uint64(len(mem.b))-fa]
				mem.read(fa, buf)
			}
			mask, stack, err := RestoreSignalFrame(&st, fa, buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			if mask != d.Mask || stack != tc.alt {
				t.Errorf("mask %v stack %+v", mask, stack)
			}
			want := orig.Regs
			want.OrigRax = ^uint64(0)
			want.Eflags |= 1 << 14
			if st.Regs != want {
				t.Errorf("registers after sigreturn\n got %+v\nwant %+v", st.Regs, want)
			}
			wantFP := append([]byte(nil), orig.FP...)
			clear(wantFP[fxswOffset:512])
			if !bytes.Equal(st.FP, wantFP) {
				for i := range wantFP {
					if st.FP[i] != wantFP[i] {
						t.Errorf("FP after sigreturn differs first at %d: %x want %x", i, st.FP[i], wantFP[i])
						break
					}
				}
			}
		})
	}
}

func initFP(n int) []byte { return newFP(n)[:n] }

func TestBuildSignalFrameAltStackOverflow(t *testing.T) {
	st := testState()
	d := SignalDelivery{Action: SigAction{Flags: SA_ONSTACK}, AltStack: StackT{Sp: 0x10000000, Size: 1024}}
	if _, err := BuildSignalFrame(&st, &d); !errors.Is(err, ErrSignalStackOverflow) {
		t.Errorf("tiny altstack: %v", err)
	}
	// Already on the altstack near its bottom: nested frame does not fit.
	d.AltStack.Size = 0x10000
	st.Regs.Rsp = 0x10000000 + 0x200
	if _, err := BuildSignalFrame(&st, &d); !errors.Is(err, ErrSignalStackOverflow) {
		t.Errorf("nested overflow: %v", err)
	}
	// Already on it with room: nested frame goes below rsp, not at the top.
	st.Regs.Rsp = 0x10000000 + 0xf000
	f, err := BuildSignalFrame(&st, &d)
	if err != nil || f.Addr >= st.Regs.Rsp-redZoneSize || f.Addr < 0x10000000 {
		t.Errorf("nested frame at %#x, %v", f.Addr, err)
	}
	st.Regs.Rsp = 0x100
	if _, err := BuildSignalFrame(&st, &SignalDelivery{}); err == nil {
		t.Error("frame below address 0 accepted")
	}
}

func TestRestoreSignalFrameSanitizes(t *testing.T) {
	build := func() (State, SignalFrame) {
		st := testState()
		f, err := BuildSignalFrame(&st, &SignalDelivery{Info: SignalInfo{Signo: SIGUSR1}})
		if err != nil {
			t.Fatal(err)
		}
		return st, f
	}
	sc := func(f SignalFrame) []byte { return f.Bytes[FrameUContextOffset+ucMcontext:] }
	fpOff := func(f SignalFrame) uint64 { return f.FPStateAddr - f.Addr }

	t.Run("selectors and flags", func(t *testing.T) {
		st, f := build()
		le.PutUint16(sc(f)[scCs:], 0x23) // 32-bit code segment
		le.PutUint16(sc(f)[scSs:], 0)
		le.PutUint64(sc(f)[scEflags:], ^uint64(0))
		st.Regs.Eflags = 0x202
		if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes, nil); err != nil {
			t.Fatal(err)
		}
		if st.Regs.Cs != UserCS || st.Regs.Ss != UserDS {
			t.Errorf("cs %#x ss %#x", st.Regs.Cs, st.Regs.Ss)
		}
		if want := uint64(0x202 | SigreturnEflags); st.Regs.Eflags != want {
			t.Errorf("eflags %#x want %#x", st.Regs.Eflags, want)
		}
	})
	t.Run("null fpstate gives init state", func(t *testing.T) {
		st, f := build()
		le.PutUint64(sc(f)[scFpstate:], 0)
		if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(st.FP, initFP(len(st.FP))) {
			t.Error("FP not init")
		}
	})
	t.Run("no magic: legacy area only", func(t *testing.T) {
		st, f := build()
		le.PutUint32(f.Bytes[fpOff(f)+fxswOffset:], 0)
		if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes, nil); err != nil {
			t.Fatal(err)
		}
		want := initFP(len(st.FP))
		copy(want[:fxswOffset], testState().FP[:fxswOffset])
		le.PutUint32(want[mxcsrMaskOff:], 0xffff)
		if !bytes.Equal(st.FP, want) {
			t.Error("FP is not legacy area + init")
		}
	})
	t.Run("bad magic2: legacy area only", func(t *testing.T) {
		st, f := build()
		le.PutUint32(f.Bytes[len(f.Bytes)-4:], 0)
		le.PutUint64(f.Bytes[fpOff(f)+xstateBVOffset:], 0x3)
		if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes, nil); err != nil {
			t.Fatal(err)
		}
		if le.Uint64(st.FP[xstateBVOffset:]) != 3 || st.FP[100] != testState().FP[100] {
			t.Error("legacy restore wrong")
		}
	})
	for _, bad := range []struct {
		name string
		mod  func(f SignalFrame)
	}{
		{"reserved MXCSR bits", func(f SignalFrame) { le.PutUint32(f.Bytes[fpOff(f)+mxcsrOffset:], 0x10000) }},
		{"unknown XSTATE_BV bit", func(f SignalFrame) { le.PutUint64(f.Bytes[fpOff(f)+xstateBVOffset:], 1<<62) }},
		{"compacted header", func(f SignalFrame) { le.PutUint64(f.Bytes[fpOff(f)+xstateBVOffset+8:], 1<<63|3) }},
		{"misaligned fpstate", func(f SignalFrame) { le.PutUint64(sc(f)[scFpstate:], f.FPStateAddr+8) }},
		{"fpstate outside frame", func(f SignalFrame) { le.PutUint64(sc(f)[scFpstate:], 0x1000) }},
	} {
		t.Run(bad.name, func(t *testing.T) {
			st, f := build()
			before := st.Clone()
			bad.mod(f)
			if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes, nil); !errors.Is(err, ErrBadSignalFrame) {
				t.Errorf("err = %v", err)
			}
			if st.Regs != before.Regs || !bytes.Equal(st.FP, before.FP) {
				t.Error("state changed on error")
			}
		})
	}
	t.Run("short frame", func(t *testing.T) {
		st := testState()
		if _, _, err := RestoreSignalFrame(&st, 0x1000, make([]byte, 100), nil); !errors.Is(err, ErrBadSignalFrame) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("fpstate elsewhere via readMem", func(t *testing.T) {
		st, f := build()
		img := append([]byte(nil), f.Bytes[fpOff(f):]...)
		le.PutUint64(sc(f)[scFpstate:], 0x200000)
		read := func(addr uint64, dst []byte) error {
			if addr != 0x200000 {
				return errors.New("fault")
			}
			copy(dst, img)
			return nil
		}
		if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes[:RtSigframeSize], read); err != nil {
			t.Fatal(err)
		}
		if st.FP[100] != testState().FP[100] {
			t.Error("FP not restored from readMem")
		}
	})
}

func FuzzRestoreSignalFrame(f *testing.F) {
	st := testState()
	fr, _ := BuildSignalFrame(&st, &SignalDelivery{})
	f.Add(fr.Bytes, uint64(0))
	f.Add(make([]byte, RtSigframeSize), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, delta uint64) {
		s := testState()
		_, _, err := RestoreSignalFrame(&s, fr.Addr+delta, b, nil)
		if err == nil && (s.Regs.Cs != UserCS || s.Regs.Ss != UserDS || len(s.FP) != len(st.FP)) {
			t.Fatalf("unsanitized state %+v", s.Regs)
		}
	})
}

func BenchmarkSignalDeliverAndReturn(b *testing.B) {
	orig := testState()
	st := orig.Clone()
	d := SignalDelivery{Info: SignalInfo{Signo: SIGUSR1, Code: SI_TKILL}, Action: SigAction{Restorer: 0x403000}}
	for b.Loop() {
		f, err := BuildSignalFrame(&st, &d)
		if err != nil {
			b.Fatal(err)
		}
		f.EnterHandler(&st, SIGUSR1, 0x402000)
		if _, _, err := RestoreSignalFrame(&st, f.Addr, f.Bytes, nil); err != nil {
			b.Fatal(err)
		}
	}
}
