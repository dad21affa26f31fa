package arch

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"uk/internal/testenv"
)

// cValues compiles testdata/<name>.c with the host's gcc and runs it; the
// program prints "NAME value" lines, returned as a map. The test is skipped
// when gcc is missing, since the comparison is only as good as a real C
// compiler's view of the Linux headers.
func cValues(t *testing.T, name string) map[string]int64 {
	t.Helper()
	vals := map[string]int64{}
	for k, s := range cOutput(t, name) {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("bad value %s %q", k, s)
		}
		vals[k] = v
	}
	return vals
}

// cOutput is cValues without the conversion to integers.
func cOutput(t *testing.T, name string) map[string]string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Need(t, "gcc", "it builds the C programs the ABI is checked against; Debian: gcc")
	}
	bin := filepath.Join(t.TempDir(), name)
	src := filepath.Join("testdata", name+".c")
	if out, err := exec.Command(gcc, "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", src, err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("running %s: %v", bin, err)
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 1 {
			f = append(f, "")
		}
		if len(f) != 2 {
			t.Fatalf("bad line %q", sc.Text())
		}
		vals[f[0]] = f[1]
	}
	return vals
}

// checkC compares Go values with the C program's, by name; every name the
// C program printed must be in want, so neither side can silently drop one.
func checkC(t *testing.T, c map[string]int64, want map[string]int64) {
	t.Helper()
	for name, v := range c {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s printed by C but not checked in Go", name)
			continue
		}
		if v != w {
			t.Errorf("%s: C says %d, Go has %d", name, v, w)
		}
	}
	for name := range want {
		if _, ok := c[name]; !ok {
			t.Errorf("%s not printed by the C program", name)
		}
	}
}

func TestSignalConstantsMatchC(t *testing.T) {
	c := cValues(t, "signal_consts")
	checkC(t, c, map[string]int64{
		"SI_USER": SI_USER, "SI_KERNEL": SI_KERNEL, "SI_QUEUE": SI_QUEUE, "SI_TIMER": SI_TIMER,
		"SI_MESGQ": SI_MESGQ, "SI_ASYNCIO": SI_ASYNCIO, "SI_SIGIO": SI_SIGIO, "SI_TKILL": SI_TKILL,
		"SI_ASYNCNL": SI_ASYNCNL,
		"ILL_ILLOPC": ILL_ILLOPC, "ILL_ILLOPN": ILL_ILLOPN, "ILL_ILLADR": ILL_ILLADR, "ILL_ILLTRP": ILL_ILLTRP,
		"ILL_PRVOPC": ILL_PRVOPC, "ILL_PRVREG": ILL_PRVREG, "ILL_COPROC": ILL_COPROC, "ILL_BADSTK": ILL_BADSTK,
		"FPE_INTDIV": FPE_INTDIV, "FPE_INTOVF": FPE_INTOVF, "FPE_FLTDIV": FPE_FLTDIV, "FPE_FLTOVF": FPE_FLTOVF,
		"FPE_FLTUND": FPE_FLTUND, "FPE_FLTRES": FPE_FLTRES, "FPE_FLTINV": FPE_FLTINV, "FPE_FLTSUB": FPE_FLTSUB,
		"SEGV_MAPERR": SEGV_MAPERR, "SEGV_ACCERR": SEGV_ACCERR, "SEGV_BNDERR": SEGV_BNDERR, "SEGV_PKUERR": SEGV_PKUERR,
		"BUS_ADRALN": BUS_ADRALN, "BUS_ADRERR": BUS_ADRERR, "BUS_OBJERR": BUS_OBJERR,
		"BUS_MCEERR_AR": BUS_MCEERR_AR, "BUS_MCEERR_AO": BUS_MCEERR_AO,
		"TRAP_BRKPT": TRAP_BRKPT, "TRAP_TRACE": TRAP_TRACE,
		"CLD_EXITED": CLD_EXITED, "CLD_KILLED": CLD_KILLED, "CLD_DUMPED": CLD_DUMPED,
		"CLD_TRAPPED": CLD_TRAPPED, "CLD_STOPPED": CLD_STOPPED, "CLD_CONTINUED": CLD_CONTINUED,
		"POLL_IN": POLL_IN, "POLL_OUT": POLL_OUT, "POLL_MSG": POLL_MSG, "POLL_ERR": POLL_ERR,
		"POLL_PRI": POLL_PRI, "POLL_HUP": POLL_HUP,
		"SA_NOCLDSTOP": SA_NOCLDSTOP, "SA_NOCLDWAIT": SA_NOCLDWAIT, "SA_SIGINFO": SA_SIGINFO,
		"SA_ONSTACK": SA_ONSTACK, "SA_RESTART": SA_RESTART, "SA_NODEFER": SA_NODEFER, "SA_RESETHAND": SA_RESETHAND,
		"SS_ONSTACK": SS_ONSTACK, "SS_DISABLE": SS_DISABLE,
		"SIGSTKFLT": SIGSTKFLT, "SIGPWR": SIGPWR, "SIGSYS": SIGSYS,
	})
}
