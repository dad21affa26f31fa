package vdso

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"uk/internal/testenv"
)

// cFields are struct uk_vdso_params's fields in order, matched to Params.
var cFields = []struct{ c, goName string }{
	{"seq", "Seq"}, {"flags", "Flags"}, {"tsc_base", "TSCBase"}, {"mult", "Mult"},
	{"shift", "Shift"}, {"pad0", "_"}, {"mono_base", "MonoBase"}, {"slew_ticks", "SlewTicks"},
	{"slew_mult", "SlewMult"}, {"real_offset", "RealOffset"}, {"boot_offset", "BootOffset"},
	{"tai_offset", "TAIOffset"},
}

// TestParamsLayoutMatchesC compiles a program printing sizeof/offsetof of
// the C struct and compares with the Go struct.
func TestParamsLayoutMatchesC(t *testing.T) {
	typ := reflect.TypeOf(Params{})
	if typ.Size() != ParamsSize || typ.NumField() != len(cFields) {
		t.Fatalf("Params: size %d, %d fields; want %d, %d", typ.Size(), typ.NumField(), ParamsSize, len(cFields))
	}
	var want strings.Builder
	fmt.Fprintf(&want, "size %d\n", typ.Size())
	for i, f := range cFields {
		gf := typ.Field(i)
		if gf.Name != f.goName {
			t.Fatalf("field %d is %s, want %s", i, gf.Name, f.goName)
		}
		fmt.Fprintf(&want, "%s %d %d\n", f.c, gf.Offset, gf.Type.Size())
	}

	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Need(t, "gcc", "the C layout of the parameter page is checked with it; Debian: gcc")
	}
	dir := t.TempDir()
	var src strings.Builder
	src.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include \"vdso.h\"\nint main(void){\n")
	src.WriteString("printf(\"size %zu\\n\", sizeof(struct uk_vdso_params));\n")
	for _, f := range cFields {
		fmt.Fprintf(&src, "printf(\"%s %%zu %%zu\\n\", offsetof(struct uk_vdso_params, %s), sizeof(((struct uk_vdso_params*)0)->%s));\n", f.c, f.c, f.c)
	}
	src.WriteString("return 0;}\n")
	if err := os.WriteFile(filepath.Join(dir, "layout.c"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inc, _ := filepath.Abs("src")
	bin := filepath.Join(dir, "layout")
	if out, err := exec.Command(gcc, "-I", inc, "-o", bin, filepath.Join(dir, "layout.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	got, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("C layout:\n%s\nGo layout:\n%s", got, want.String())
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		d, m uint64
		s    uint32
		want uint64
	}{
		{0, 1 << 32, 32, 0},
		{1000, 1 << 32, 32, 1000},
		{3, 1<<32 + 1<<31, 32, 4},           // 1.5 ns per tick, truncated
		{1 << 60, 1 << 33, 32, 1 << 61},     // 128-bit intermediate
		{1<<64 - 1, 1 << 32, 32, 1<<64 - 1}, // no overflow at the top
		{5, 7, 0, 35},
		{1 << 63, 4, 64, 2},
	}
	for _, tc := range tests {
		if got := scale(tc.d, tc.m, tc.s); got != tc.want {
			t.Errorf("scale(%d, %d, %d) = %d, want %d", tc.d, tc.m, tc.s, got, tc.want)
		}
	}
}

func TestParamsClock(t *testing.T) {
	p := Params{
		Flags: FlagTSC, TSCBase: 1000, Mult: 1 << 31, Shift: 32, // 0.5 ns per tick
		MonoBase: 1e9, RealOffset: 1.7e18, BootOffset: 5e9, TAIOffset: 37e9,
	}
	tests := []struct {
		id   int32
		tsc  uint64
		want int64
		ok   bool
	}{
		{ClockMonotonic, 3000, 1e9 + 1000, true},
		{ClockMonotonic, 500, 1e9, true}, // TSC below base: clamp, never earlier
		{ClockMonotonicCoarse, 3000, 1e9 + 1000, true},
		{ClockRealtime, 3000, 1.7e18 + 1e9 + 1000, true},
		{ClockRealtimeCoarse, 3000, 1.7e18 + 1e9 + 1000, true},
		{ClockBoottime, 3000, 6e9 + 1000, true},
		{ClockTAI, 3000, 1.7e18 + 1e9 + 1000 + 37e9, true},
		{2, 3000, 0, false},  // PROCESS_CPUTIME
		{4, 3000, 0, false},  // MONOTONIC_RAW
		{99, 3000, 0, false}, // unknown
	}
	for _, tc := range tests {
		got, ok := p.Clock(tc.id, tc.tsc)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Clock(%d, %d) = %d, %v; want %d, %v", tc.id, tc.tsc, got, ok, tc.want, tc.ok)
		}
	}
	// Slew: the first SlewTicks run slower by SlewMult.
	p.SlewTicks, p.SlewMult = 1000, 1<<30 // 0.25 ns per tick slower
	if got := p.Mono(3000); got != 1e9+1000-250 {
		t.Errorf("slewed Mono = %d", got)
	}
	if got := p.Mono(1500); got != 1e9+250-125 {
		t.Errorf("slewing Mono = %d", got)
	}
	p.Flags = 0
	if _, ok := p.Clock(ClockMonotonic, 3000); ok {
		t.Error("served without FlagTSC")
	}
}

func TestUpdateReadParams(t *testing.T) {
	page := make([]byte, ParamPageSize) // Go heap allocations this large are 8-aligned
	if err := checkPage(page); err != nil {
		t.Fatal(err)
	}
	p := Params{Flags: 3, TSCBase: 1, Mult: 2, Shift: 3, MonoBase: -4, SlewTicks: 5, SlewMult: 6, RealOffset: 7, BootOffset: 8, TAIOffset: 9}
	p.Update(page)
	got := ReadParams(page)
	if got.Seq != 2 {
		t.Errorf("seq %d after one update, want 2", got.Seq)
	}
	got.Seq = 0
	if got != p {
		t.Errorf("read %+v, want %+v", got, p)
	}
	p.Update(page)
	if s := ReadParams(page).Seq; s != 4 {
		t.Errorf("seq %d after two updates", s)
	}
	if err := checkPage(page[:ParamsSize-1]); err == nil {
		t.Error("short page accepted")
	}
	if err := checkPage(page[4:]); err == nil {
		t.Error("misaligned page accepted")
	}
}
