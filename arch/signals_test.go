package arch

import (
	"bytes"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSignalNumbersMatchUnix(t *testing.T) {
	for _, tc := range []struct {
		ours int
		sys  unix.Signal
	}{
		{SIGHUP, unix.SIGHUP}, {SIGINT, unix.SIGINT}, {SIGQUIT, unix.SIGQUIT}, {SIGILL, unix.SIGILL},
		{SIGTRAP, unix.SIGTRAP}, {SIGABRT, unix.SIGABRT}, {SIGBUS, unix.SIGBUS}, {SIGFPE, unix.SIGFPE},
		{SIGKILL, unix.SIGKILL}, {SIGUSR1, unix.SIGUSR1}, {SIGSEGV, unix.SIGSEGV}, {SIGUSR2, unix.SIGUSR2},
		{SIGPIPE, unix.SIGPIPE}, {SIGALRM, unix.SIGALRM}, {SIGTERM, unix.SIGTERM}, {SIGSTKFLT, unix.SIGSTKFLT},
		{SIGCHLD, unix.SIGCHLD}, {SIGCONT, unix.SIGCONT}, {SIGSTOP, unix.SIGSTOP}, {SIGTSTP, unix.SIGTSTP},
		{SIGTTIN, unix.SIGTTIN}, {SIGTTOU, unix.SIGTTOU}, {SIGURG, unix.SIGURG}, {SIGXCPU, unix.SIGXCPU},
		{SIGXFSZ, unix.SIGXFSZ}, {SIGVTALRM, unix.SIGVTALRM}, {SIGPROF, unix.SIGPROF}, {SIGWINCH, unix.SIGWINCH},
		{SIGIO, unix.SIGIO}, {SIGPWR, unix.SIGPWR}, {SIGSYS, unix.SIGSYS},
	} {
		if tc.ours != int(tc.sys) {
			t.Errorf("%s = %d, x/sys %d", SignalName(tc.ours), tc.ours, int(tc.sys))
		}
		if got, want := SignalName(tc.ours), unix.SignalName(tc.sys); got != want {
			t.Errorf("SignalName(%d) = %q, x/sys %q", tc.ours, got, want)
		}
	}
}

func TestSignalName(t *testing.T) {
	for sig, want := range map[int]string{
		0: "SIG0", 11: "SIGSEGV", 31: "SIGSYS", 32: "SIGRTMIN", 33: "SIGRT_1", 64: "SIGRT_32", 65: "SIG65", -1: "SIG-1",
	} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", sig, got, want)
		}
	}
}

func TestDefaultAction(t *testing.T) {
	for _, tc := range []struct {
		sig  int
		want SignalAction
	}{
		{SIGHUP, ActionTerminate}, {SIGINT, ActionTerminate}, {SIGQUIT, ActionCoreDump},
		{SIGILL, ActionCoreDump}, {SIGTRAP, ActionCoreDump}, {SIGABRT, ActionCoreDump},
		{SIGBUS, ActionCoreDump}, {SIGFPE, ActionCoreDump}, {SIGKILL, ActionTerminate},
		{SIGUSR1, ActionTerminate}, {SIGSEGV, ActionCoreDump}, {SIGUSR2, ActionTerminate},
		{SIGPIPE, ActionTerminate}, {SIGALRM, ActionTerminate}, {SIGTERM, ActionTerminate},
		{SIGSTKFLT, ActionTerminate}, {SIGCHLD, ActionIgnore}, {SIGCONT, ActionContinue},
		{SIGSTOP, ActionStop}, {SIGTSTP, ActionStop}, {SIGTTIN, ActionStop}, {SIGTTOU, ActionStop},
		{SIGURG, ActionIgnore}, {SIGXCPU, ActionCoreDump}, {SIGXFSZ, ActionCoreDump},
		{SIGVTALRM, ActionTerminate}, {SIGPROF, ActionTerminate}, {SIGWINCH, ActionIgnore},
		{SIGIO, ActionTerminate}, {SIGPWR, ActionTerminate}, {SIGSYS, ActionCoreDump},
		{SIGRTMIN, ActionTerminate}, {SIGRTMAX, ActionTerminate}, {0, ActionIgnore}, {65, ActionIgnore},
	} {
		if got := DefaultAction(tc.sig); got != tc.want {
			t.Errorf("DefaultAction(%s) = %v, want %v", SignalName(tc.sig), got, tc.want)
		}
	}
}

func TestSigSet(t *testing.T) {
	s := SigSetOf(SIGINT, SIGTERM, 0, 65)
	if s != 1<<1|1<<14 {
		t.Fatalf("SigSetOf = %#x", uint64(s))
	}
	if !s.Has(SIGINT) || s.Has(SIGHUP) || s.Has(0) || s.Has(65) {
		t.Error("Has wrong")
	}
	s.Add(SIGRTMAX)
	if uint64(s)>>63 != 1 {
		t.Error("SIGRTMAX is bit 63")
	}
	s.Remove(SIGINT)
	if s.Has(SIGINT) {
		t.Error("Remove failed")
	}
	if got := SigSetOf(SIGKILL, SIGSTOP, SIGUSR1).Blockable(); got != SigSetOf(SIGUSR1) {
		t.Errorf("Blockable = %v", got)
	}
	for _, tc := range []struct {
		set  SigSet
		next int
		str  string
	}{
		{0, 0, "[]"},
		{SigSetOf(SIGINT, SIGTERM), SIGINT, "[INT TERM]"},
		{SigSetOf(SIGUSR1, SIGSEGV), SIGSEGV, "[USR1 SEGV]"},
		{SigSetOf(SIGHUP, SIGSYS, SIGBUS), SIGBUS, "[HUP BUS SYS]"},
		{SigSetOf(SIGRTMIN, 33), SIGRTMIN, "[RTMIN RT_1]"},
		{^SigSetOf(SIGKILL, SIGSTOP), SIGILL, "~[KILL STOP]"},
		{^SigSet(0), SIGILL, "~[]"},
	} {
		if got := tc.set.Next(); got != tc.next {
			t.Errorf("%#x.Next() = %d, want %d", uint64(tc.set), got, tc.next)
		}
		if got := tc.set.String(); got != tc.str {
			t.Errorf("%#x.String() = %q, want %q", uint64(tc.set), got, tc.str)
		}
	}
	if got := SigSetOf(3, 1, 64).Signals(); !reflect.DeepEqual(got, []int{1, 3, 64}) {
		t.Errorf("Signals = %v", got)
	}
}

func TestSiCodeName(t *testing.T) {
	for _, tc := range []struct {
		sig, code     int
		name, meaning string
	}{
		{SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR", "address not mapped to object"},
		{SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR", "invalid permissions for mapped object"},
		{SIGSEGV, SI_KERNEL, "SI_KERNEL", "sent by the kernel"},
		{SIGBUS, BUS_ADRERR, "BUS_ADRERR", "nonexistent physical address"},
		{SIGILL, ILL_ILLOPN, "ILL_ILLOPN", "illegal operand"},
		{SIGFPE, FPE_INTDIV, "FPE_INTDIV", "integer divide by zero"},
		{SIGFPE, FPE_CONDTRAP, "FPE_CONDTRAP", "trap on condition"},
		{SIGFPE, 10, "10", ""},
		{SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT", "process breakpoint"},
		{SIGCHLD, CLD_EXITED, "CLD_EXITED", "child has exited"},
		{SIGSYS, SYS_SECCOMP, "SYS_SECCOMP", "seccomp triggered"},
		{SIGUSR1, SI_USER, "SI_USER", "sent by kill"},
		{SIGUSR1, SI_TKILL, "SI_TKILL", "sent by tkill or tgkill"},
		{SIGUSR1, SI_QUEUE, "SI_QUEUE", "sent by sigqueue"},
		{SIGUSR1, 3, "3", ""},
		{SIGUSR1, -99, "-99", ""},
	} {
		n, m := SiCodeName(tc.sig, tc.code)
		if n != tc.name || m != tc.meaning {
			t.Errorf("SiCodeName(%d,%d) = %q,%q want %q,%q", tc.sig, tc.code, n, m, tc.name, tc.meaning)
		}
	}
}

func TestSignalInfoLayout(t *testing.T) {
	for _, tc := range []struct {
		sig, code int32
		want      SignalInfoLayout
	}{
		{SIGUSR1, SI_USER, LayoutKill},
		{SIGUSR1, SI_TKILL, LayoutRT},
		{SIGUSR1, SI_QUEUE, LayoutRT},
		{SIGRTMIN, SI_QUEUE, LayoutRT},
		{SIGALRM, SI_TIMER, LayoutTimer},
		{SIGIO, SI_SIGIO, LayoutPoll},
		{SIGIO, POLL_IN, LayoutPoll},
		{SIGSEGV, SEGV_MAPERR, LayoutFault},
		{SIGSEGV, SEGV_BNDERR, LayoutFaultBndErr},
		{SIGSEGV, SEGV_PKUERR, LayoutFaultPkuErr},
		{SIGSEGV, SI_KERNEL, LayoutKill},
		{SIGBUS, BUS_MCEERR_AR, LayoutFaultMCEErr},
		{SIGBUS, BUS_ADRERR, LayoutFault},
		{SIGTRAP, TRAP_PERF, LayoutFaultPerf},
		{SIGCHLD, CLD_EXITED, LayoutChld},
		{SIGSYS, SYS_SECCOMP, LayoutSys},
		{SIGUSR2, 3, LayoutPoll}, // legacy POLL_* codes on another signal
		{SIGUSR2, 7, LayoutKill},
	} {
		i := SignalInfo{Signo: tc.sig, Code: tc.code}
		if got := i.Layout(); got != tc.want {
			t.Errorf("Layout(%d,%d) = %d, want %d", tc.sig, tc.code, got, tc.want)
		}
	}
}

func TestSignalInfoEncodeRoundTrip(t *testing.T) {
	for _, in := range []SignalInfo{
		{Signo: SIGTERM, Code: SI_USER, Pid: 42, Uid: 1000},
		{Signo: SIGRTMIN + 2, Code: SI_QUEUE, Pid: 7, Uid: 0, Value: 0xdeadbeefcafe},
		{Signo: SIGALRM, Code: SI_TIMER, TimerID: 3, Overrun: 9, Value: 77},
		{Signo: SIGCHLD, Code: CLD_EXITED, Pid: 100, Uid: 5, Status: 3, Utime: 12, Stime: 34},
		{Signo: SIGSEGV, Code: SEGV_MAPERR, Addr: 0x1000},
		{Signo: SIGSEGV, Code: SEGV_PKUERR, Addr: 0x2000, Pkey: 3},
		{Signo: SIGSEGV, Code: SEGV_BNDERR, Addr: 0x2000, Lower: 1, Upper: 2},
		{Signo: SIGBUS, Code: BUS_MCEERR_AO, Addr: 0x3000, AddrLSB: 12},
		{Signo: SIGTRAP, Code: TRAP_PERF, Addr: 0x4000, PerfData: 5, PerfType: 6, PerfFlags: 7},
		{Signo: SIGIO, Code: POLL_IN, Band: 1, FD: 4},
		{Signo: SIGSYS, Code: SYS_SECCOMP, Addr: 0x5000, Syscall: 39, Arch: 0xc000003e, Errno: 1},
	} {
		b, err := in.MarshalBinary()
		if err != nil || len(b) != SignalInfoSize {
			t.Fatalf("MarshalBinary: %d bytes, %v", len(b), err)
		}
		var out SignalInfo
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if out != in {
			t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
		}
	}
	if err := new(SignalInfo).Decode(make([]byte, 100)); err == nil {
		t.Error("short siginfo accepted")
	}
}

// TestSignalInfoBytes checks the encoding against the offsets of Linux's
// siginfo_t (si_pid at 16, si_uid at 20, si_addr at 16, si_status at 24,
// si_utime at 32, si_value at 24) byte for byte, and that other layouts'
// fields do not leak.
func TestSignalInfoBytes(t *testing.T) {
	i := SignalInfo{Signo: SIGCHLD, Errno: 0, Code: CLD_KILLED, Pid: 0x11223344, Uid: 0x55,
		Status: 9, Utime: 0x0102, Stime: 0x0304, Addr: 0xffffffffffffffff, Value: 0xffff}
	var b [SignalInfoSize]byte
	for k := range b {
		b[k] = 0xaa
	}
	i.Encode(b[:])
	want := make([]byte, SignalInfoSize)
	want[0], want[8] = SIGCHLD, CLD_KILLED
	copy(want[16:], []byte{0x44, 0x33, 0x22, 0x11, 0x55, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x04, 0x03})
	if !bytes.Equal(b[:], want) {
		t.Errorf("encoded\n%x\nwant\n%x", b, want)
	}
}

func TestSigActionStackTEncoding(t *testing.T) {
	a := SigAction{Handler: 0x401000, Flags: SA_SIGINFO | SA_RESTORER, Restorer: 0x402000, Mask: SigSetOf(SIGINT)}
	b := make([]byte, SigActionSize)
	a.Encode(b)
	var a2 SigAction
	a2.Decode(b)
	if a2 != a || b[0] != 0x00 || b[1] != 0x10 || b[24] != 2 {
		t.Errorf("SigAction round trip %+v bytes %x", a2, b)
	}
	s := StackT{Sp: 0x7000, Flags: SS_AUTODISARM, Size: 0x2000}
	sb := make([]byte, StackTSize)
	s.Encode(sb)
	var s2 StackT
	s2.Decode(sb)
	if s2 != s || sb[11] != 0x80 || sb[16] != 0 || sb[17] != 0x20 {
		t.Errorf("StackT round trip %+v bytes %x", s2, sb)
	}
}

func TestStackTOnStack(t *testing.T) {
	s := StackT{Sp: 0x1000, Size: 0x1000}
	for sp, want := range map[uint64]bool{0x1000: false, 0x1001: true, 0x2000: true, 0x2001: false, 0: false} {
		if got := s.OnStack(sp); got != want {
			t.Errorf("OnStack(%#x) = %v", sp, got)
		}
	}
	s.Flags = SS_AUTODISARM
	if s.OnStack(0x1800) {
		t.Error("SS_AUTODISARM stack counted as in use")
	}
	if (StackT{Flags: SS_DISABLE}).OnStack(1) {
		t.Error("disabled stack in use")
	}
}

// FuzzSignalInfoDecode: any 128 bytes an application passes to
// rt_sigqueueinfo decode without panicking, and re-encoding is stable.
func FuzzSignalInfoDecode(f *testing.F) {
	for _, i := range []SignalInfo{
		{Signo: SIGUSR1, Code: SI_QUEUE, Pid: 1, Uid: 2, Value: 3},
		{Signo: SIGCHLD, Code: CLD_EXITED, Pid: 1, Status: 2, Utime: 3, Stime: 4},
		{Signo: SIGSEGV, Code: SEGV_BNDERR, Addr: 1, Lower: 2, Upper: 3},
	} {
		b, _ := i.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var i SignalInfo
		if err := i.Decode(b); err != nil {
			if len(b) >= SignalInfoSize {
				t.Fatalf("rejected %d bytes: %v", len(b), err)
			}
			return
		}
		enc, _ := i.MarshalBinary()
		var j SignalInfo
		if err := j.Decode(enc); err != nil || j != i {
			t.Fatalf("unstable: %+v -> %+v (%v)", i, j, err)
		}
	})
}

func TestChildStatus(t *testing.T) {
	for _, tc := range []struct {
		ws           int
		code, status int32
	}{
		{0xffff, CLD_CONTINUED, SIGCONT},
		{19<<8 | 0x7f, CLD_STOPPED, 19},
		{(5|128<<8)<<8 | 0x7f, CLD_STOPPED, 5}, // a ptrace event stop: the signal's byte
		{3 << 8, CLD_EXITED, 3},
		{0, CLD_EXITED, 0},
		{9, CLD_KILLED, 9},
		{11 | 0x80, CLD_DUMPED, 11},
	} {
		if code, status := ChildStatus(tc.ws); code != tc.code || status != tc.status {
			t.Errorf("ChildStatus(%#x) = %d, %d; want %d, %d", tc.ws, code, status, tc.code, tc.status)
		}
	}
}
