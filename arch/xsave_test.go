package arch

import (
	"bytes"
	"errors"
	"math/bits"
	"testing"
)

// xsaveCPU is the CPUID leaf 0xD of one real CPU, with the XCR0 Linux
// enables on it, and what Linux derives from them.
type xsaveCPU struct {
	name  string
	xcr0  uint64
	leafD map[uint32][4]uint32 // sub-leaf: EAX, EBX, ECX, EDX

	maxSize     int    // NT_X86_XSTATE size (fpu_user_cfg.max_size)
	defaultSize int    // signal-frame xstate_size (fpu_user_cfg.default_size)
	defaults    uint64 // signal-frame xfeatures, ARCH_GET_XCOMP_PERM
	minSigStack uint64 // AT_MINSIGSTKSZ
}

// The CPUs of the table. Sizes and offsets are the CPUs' own (Intel SDM
// vol. 1 ch. 13 and the ISE reference for AMX; AMD places AVX-512 state
// right after AVX, without Intel's MPX gap); the expected values are
// Linux's formulas applied by hand: xstate_size is the end of the highest
// component, AT_MINSIGSTKSZ = round_up(736 + 15 + max_size + 4 + 112 + 63, 16).
var xsaveCPUs = []xsaveCPU{
	{
		// Intel Xeon (Sapphire Rapids): AVX-512, PKRU, AMX.
		name: "Sapphire Rapids",
		xcr0: 0x602e7,
		leafD: map[uint32][4]uint32{
			0:  {0x602e7, 0x2b00, 0x2b00, 0},
			2:  {0x100, 0x240, 0, 0},
			5:  {0x40, 0x440, 0, 0},
			6:  {0x200, 0x480, 0, 0},
			7:  {0x400, 0x680, 0, 0},
			9:  {0x8, 0xa80, 0, 0},
			17: {0x40, 0xac0, 0x2, 0},
			18: {0x2000, 0xb00, 0x6, 0},
		},
		maxSize:     11008,
		defaultSize: 2816, // XTILECFG ends at 0xac0+64
		defaults:    0x202e7,
		minSigStack: 11952,
	},
	{
		// The same CPU under a kernel that leaves AMX off in XCR0.
		name: "Sapphire Rapids without AMX",
		xcr0: 0x2e7,
		leafD: map[uint32][4]uint32{
			0: {0x602e7, 0xa88, 0x2b00, 0},
			2: {0x100, 0x240, 0, 0},
			5: {0x40, 0x440, 0, 0},
			6: {0x200, 0x480, 0, 0},
			7: {0x400, 0x680, 0, 0},
			9: {0x8, 0xa80, 0, 0},
		},
		maxSize:     2696,
		defaultSize: 2696,
		defaults:    0x2e7,
		minSigStack: 3632,
	},
	{
		// AMD EPYC 9004 (Zen 4, Genoa): AVX-512 and PKRU.
		name: "AMD EPYC Genoa",
		xcr0: 0x2e7,
		leafD: map[uint32][4]uint32{
			0: {0x2e7, 0x988, 0x988, 0},
			2: {0x100, 0x240, 0, 0},
			5: {0x40, 0x340, 0, 0},
			6: {0x200, 0x380, 0, 0},
			7: {0x400, 0x580, 0, 0},
			9: {0x8, 0x980, 0, 0},
		},
		maxSize:     2440,
		defaultSize: 2440,
		defaults:    0x2e7,
		minSigStack: 3376,
	},
	{
		// AMD EPYC 7003 (Zen 3, Milan): AVX and PKRU.
		name: "AMD EPYC Milan",
		xcr0: 0x207,
		leafD: map[uint32][4]uint32{
			0: {0x207, 0x988, 0x988, 0},
			2: {0x100, 0x240, 0, 0},
			9: {0x8, 0x980, 0, 0},
		},
		maxSize:     2440,
		defaultSize: 2440,
		defaults:    0x207,
		minSigStack: 3376,
	},
	{
		// The "AMD EPYC" VM uk is developed on: XCR0 x87|SSE|AVX.
		name: "AMD EPYC VM",
		xcr0: 0x7,
		leafD: map[uint32][4]uint32{
			0: {0x7, 0x340, 0x340, 0},
			2: {0x100, 0x240, 0, 0},
		},
		maxSize:     832,
		defaultSize: 832,
		defaults:    0x7,
		minSigStack: 1776,
	},
}

func (c *xsaveCPU) layout() *XSaveLayout {
	return NewXSaveLayout(c.xcr0, func(sub uint32) (uint32, uint32, uint32, uint32) {
		r := c.leafD[sub]
		return r[0], r[1], r[2], r[3]
	})
}

func TestXSaveLayout(t *testing.T) {
	for _, c := range xsaveCPUs {
		t.Run(c.name, func(t *testing.T) {
			l := c.layout()
			if got := l.MaxSize(); got != c.maxSize {
				t.Errorf("MaxSize = %d, want %d", got, c.maxSize)
			}
			if got := int(c.leafD[0][1]); got != c.maxSize {
				t.Errorf("table: CPUID 0xD.0 EBX %d, want the max size %d", got, c.maxSize)
			}
			if got := l.DefaultFeatures(); got != c.defaults {
				t.Errorf("DefaultFeatures = %#x, want %#x", got, c.defaults)
			}
			if got := l.Size(l.DefaultFeatures()); got != c.defaultSize {
				t.Errorf("default size %d, want %d", got, c.defaultSize)
			}
			if got := l.Supported(); got != c.xcr0 {
				t.Errorf("Supported = %#x, want XCR0 %#x", got, c.xcr0)
			}
			if got := l.MinSigStackSize(); got != c.minSigStack {
				t.Errorf("MinSigStackSize = %d, want %d", got, c.minSigStack)
			}
			if got := l.Size(0x3); got != xsaveMinSize {
				t.Errorf("x87|SSE image %d bytes, want %d", got, xsaveMinSize)
			}
			amx := c.xcr0&XFeatureMaskUserDynamic != 0
			if l.Dynamic() != amx {
				t.Errorf("Dynamic = %v", l.Dynamic())
			}
			// The 8 KiB SIGSTKSZ stacks programs use take a default frame,
			// and sigaltstack accepts them until AMX is permitted.
			if !l.SigAltStackSizeValid(SIGSTKSZ, l.DefaultFeatures()) {
				t.Error("sigaltstack(SIGSTKSZ) refused without AMX permission")
			}
			all := l.DefaultFeatures() | XFeatureMaskUserDynamic
			if got := l.SigAltStackSizeValid(SIGSTKSZ, all); got == amx {
				t.Errorf("sigaltstack(SIGSTKSZ) with AMX permitted: valid %v", got)
			}
			if amx {
				// Linux: ENOSPC below max_frame_size - max_size + usize,
				// ENOMEM at or below max_frame_size - (max_size+116) + usize.
				if got := l.PermStackSize(all); got != c.minSigStack {
					t.Errorf("PermStackSize = %d, want %d", got, c.minSigStack)
				}
				fsize := c.minSigStack - uint64(c.maxSize) - 116 + uint64(c.maxSize)
				if l.SigAltStackSizeValid(fsize, all) || !l.SigAltStackSizeValid(fsize+1, all) {
					t.Errorf("sigaltstack limit with AMX is not %d", fsize)
				}
			}
		})
	}
}

// fpWith returns an XSAVE image of the layout's full size with every
// component of features in use and filled with a pattern.
func fpWith(l *XSaveLayout, features uint64) []byte {
	fp := make([]byte, l.MaxSize())
	for i := 32; i < 416; i++ { // ST0-7, XMM0-15
		fp[i] = byte(i * 7)
	}
	le.PutUint16(fp[0:], 0x37f)
	le.PutUint32(fp[mxcsrOffset:], 0x1f80)
	le.PutUint32(fp[mxcsrMaskOff:], 0xffff)
	for m := features &^ xfeatureFPSSE; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		off, size, _ := l.Component(i)
		for j := range size {
			fp[off+j] = byte(i*31 + j)
		}
	}
	le.PutUint64(fp[xstateBVOffset:], features)
	return fp
}

// TestSignalFrameXFeatures builds frames for each CPU of the table and
// checks their FP part as Linux lays it out: the image of the thread's
// components, fpx_sw_bytes describing it, MAGIC2 after it; and that
// rt_sigreturn reads it back.
func TestSignalFrameXFeatures(t *testing.T) {
	type want struct {
		size     int
		features uint64
		overflow bool // on the 8 KiB stack
	}
	for _, c := range xsaveCPUs {
		l := c.layout()
		amx := l.XCR0&XFeatureMaskUserDynamic != 0
		dyn := l.XCR0 & XFeatureMaskUserDynamic
		for _, tc := range []struct {
			name string
			perm uint64 // SignalDelivery.XPerm
			used uint64 // State.XFeatures before delivery
			bv   uint64 // components in use
			want want
		}{
			{"defaults in use", 0, 0, l.DefaultFeatures(), want{c.defaultSize, c.defaults, false}},
			{"all in use, not permitted", 0, 0, l.XCR0, want{c.defaultSize, c.defaults, false}},
			{"permitted, not used", l.XCR0, 0, l.DefaultFeatures(), want{c.defaultSize, c.defaults, false}},
			{"permitted and in use", l.XCR0, 0, l.XCR0, want{c.maxSize, l.XCR0, amx}},
			{"permitted, used before", l.XCR0, dyn, l.DefaultFeatures(), want{c.maxSize, l.XCR0, amx}},
		} {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				st := State{FP: fpWith(l, tc.bv), XFeatures: tc.used}
				st.Regs.Rsp = 0x7ffffff0e008
				orig := st.Clone()
				orig.XFeatures = st.XFeatures
				d := SignalDelivery{Info: SignalInfo{Signo: SIGUSR1}, Action: SigAction{Flags: SA_ONSTACK, Restorer: 0x403000},
					AltStack: StackT{Sp: 0x10000000, Size: SIGSTKSZ}, XPerm: tc.perm}
				f, err := buildSignalFrame(l, &st, &d)
				if tc.want.overflow {
					if !errors.Is(err, ErrSignalStackOverflow) {
						t.Errorf("frame with AMX state on an 8 KiB stack: %v", err)
					}
					d.AltStack.Size = 4 * SIGSTKSZ
					f, err = buildSignalFrame(l, &st, &d)
				}
				if err != nil {
					t.Fatal(err)
				}
				img := f.Bytes[f.FPStateAddr-f.Addr:]
				if len(img) != tc.want.size+4 {
					t.Errorf("FP area %d bytes, want %d", len(img), tc.want.size+4)
				}
				sw := img[fxswOffset:]
				if m1, ext, xf, xs := le.Uint32(sw[0:]), le.Uint32(sw[4:]), le.Uint64(sw[8:]), le.Uint32(sw[16:]); m1 != FP_XSTATE_MAGIC1 ||
					ext != uint32(tc.want.size+4) || xf != tc.want.features || xs != uint32(tc.want.size) {
					t.Errorf("fpx_sw_bytes magic1 %#x extended_size %d xfeatures %#x xstate_size %d; want %#x %d %#x %d",
						m1, ext, xf, xs, FP_XSTATE_MAGIC1, tc.want.size+4, tc.want.features, tc.want.size)
				}
				if m2 := le.Uint32(img[tc.want.size:]); m2 != FP_XSTATE_MAGIC2 {
					t.Errorf("MAGIC2 %#x", m2)
				}
				if bv := le.Uint64(img[xstateBVOffset:]); bv != tc.bv&tc.want.features|xfeatureFPSSE {
					t.Errorf("XSTATE_BV %#x, want %#x", bv, tc.bv&tc.want.features)
				}
				if !bytes.Equal(img[576:tc.want.size], st.FP[576:tc.want.size]) {
					t.Error("extended components not copied")
				}
				if f.Addr < d.AltStack.Sp || f.FPStateAddr+uint64(len(img)) > d.AltStack.Sp+d.AltStack.Size {
					t.Errorf("frame [%#x, %#x) outside the alternate stack", f.Addr, f.FPStateAddr+uint64(len(img)))
				}

				f.EnterHandler(&st, SIGUSR1, 0x402000)
				if wantUsed := tc.want.features & dyn; st.XFeatures != wantUsed {
					t.Errorf("State.XFeatures %#x after delivery, want %#x", st.XFeatures, wantUsed)
				}
				st.Regs.Rsp += 8 // the handler's ret
				if _, _, err := restoreSignalFrame(l, &st, SigreturnFrameAddr(st.Regs.Rsp), f.Bytes, nil); err != nil {
					t.Fatal(err)
				}
				// Back as before, but for the software bytes, and for
				// components outside the frame, which come back in their
				// init state.
				wantFP := append([]byte(nil), orig.FP...)
				clear(wantFP[fxswOffset:512])
				le.PutUint64(wantFP[xstateBVOffset:], tc.bv&tc.want.features|xfeatureFPSSE)
				for m := tc.bv &^ tc.want.features; m != 0; m &= m - 1 {
					off, size, _ := l.Component(bits.TrailingZeros64(m))
					clear(wantFP[off : off+size])
				}
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
}

// TestSigreturnUsesThreadImageSize: rt_sigreturn looks for MAGIC2 after an
// image of the thread's current size, not the size the frame claims.
func TestSigreturnUsesThreadImageSize(t *testing.T) {
	l := xsaveCPUs[0].layout() // Sapphire Rapids
	st := State{FP: fpWith(l, l.DefaultFeatures())}
	st.Regs.Rsp = 0x7ffffff0e008
	f, err := buildSignalFrame(l, &st, &SignalDelivery{})
	if err != nil {
		t.Fatal(err)
	}
	// The thread starts using AMX tiles in the handler: Linux's state grows,
	// and the frame no longer has MAGIC2 where rt_sigreturn looks, so only
	// the legacy area comes back.
	st.XFeatures = XFeatureMaskUserDynamic
	mem := &memory{base: f.Addr, b: make([]byte, 0x10000)}
	mem.write(f.Addr, f.Bytes)
	if _, _, err := restoreSignalFrame(l, &st, f.Addr, f.Bytes, mem.read); err != nil {
		t.Fatal(err)
	}
	if bv := le.Uint64(st.FP[xstateBVOffset:]); bv != xfeatureFPSSE {
		t.Errorf("XSTATE_BV %#x after a legacy-only restore", bv)
	}
	if st.FP[100] != byte(100*7%256) {
		t.Error("legacy area not restored")
	}
}

func TestCloneDropsDynamicState(t *testing.T) {
	l := xsaveCPUs[0].layout()
	st := State{FP: fpWith(l, l.XCR0), XFeatures: XFeatureMaskUserDynamic}
	c := st.Clone()
	if c.XFeatures != 0 || le.Uint64(c.FP[xstateBVOffset:]) != l.DefaultFeatures() || !c.FPDirty {
		t.Errorf("clone: XFeatures %#x XSTATE_BV %#x", c.XFeatures, le.Uint64(c.FP[xstateBVOffset:]))
	}
	if le.Uint64(st.FP[xstateBVOffset:]) != l.XCR0 {
		t.Error("Clone changed the original")
	}
}

func TestXCompRequest(t *testing.T) {
	for f := range uint64(XFeatureMax) {
		want := uint64(0)
		if f == XFeatureXTileData {
			want = 1 << XFeatureXTileData
		}
		if got := XCompRequest(f); got != want {
			t.Errorf("XCompRequest(%d) = %#x, want %#x", f, got, want)
		}
	}
}

// TestHostXSave checks the host's layout against what the host kernel and
// CPUID report here.
func TestHostXSave(t *testing.T) {
	l := HostXSave()
	if l.MaxSize() != FPStateSize() {
		t.Errorf("MaxSize %d, CPUID 0xD.0 EBX %d", l.MaxSize(), FPStateSize())
	}
	if l.XCR0 != XCR0() {
		t.Errorf("XCR0 %#x, XGETBV %#x", l.XCR0, XCR0())
	}
}
