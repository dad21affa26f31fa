// Package vdso holds uk's virtual dynamic shared object and the timekeeping
// behind it.
//
// The image (Image) is a small ELF shared object built from vdso.c by gen.sh
// (`go generate ./kernel/vdso`) and committed, so uk stays pure Go. It
// exports __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time,
// __vdso_clock_getres and __vdso_getcpu (plus the unprefixed weak aliases)
// with version LINUX_2.6, which is what glibc and Go's runtime look up. uk
// maps it into every address space and passes its address as
// AT_SYSINFO_EHDR.
//
// Layout in the application's address space (see Layout): one read-only
// parameter page, then the image directly above it, both read-only and
// shared by every address space:
//
//	base                  base+ParamPageSize           base+MapSize
//	| param page (Params) | vDSO image (ELF header...) |
//	                       ^ AT_SYSINFO_EHDR
//
// The code finds the parameter page PC-relatively (one page below its own
// ELF header), so the pair can be placed anywhere as long as it stays
// together. x86-64 needs no signal trampoline in the vDSO: libc always
// passes SA_RESTORER to rt_sigaction, so the image exports none.
//
// Timekeeping is tickless. The parameters describe every served clock as a
// linear function of the TSC (mono = MonoBase + (tsc-TSCBase)*Mult>>Shift,
// the others as offsets from mono), computed with 128-bit products, so they
// stay valid indefinitely without updates: with all tasks idle, nothing
// runs. A Timekeeper re-snapshots only when asked (Refresh, which the
// kernel may call on any syscall; it costs one RDTSC unless a second has
// passed) and a few times in the first minutes after Start to refine the
// measured TSC frequency against a longer baseline. A re-snapshot never
// moves CLOCK_MONOTONIC backwards: a lead over the host clock is removed by
// slewing (running 500 ppm slow for a bounded time), a lag by stepping
// forward. Host realtime steps are picked up as a new realtime offset.
//
// Clocks the vDSO does not serve (CPU-time clocks, MONOTONIC_RAW, unknown
// ids) and everything when the TSC is unusable go to the real syscall
// instruction, which uk traps and implements.
package vdso

import _ "embed"

// Image is the vDSO ELF image, mapped read-only at base+ParamPageSize. It
// has one PT_LOAD at vaddr 0, file offset 0, with Filesz == Memsz, so its
// bytes (zero-padded to ImageSize) are the memory image; it needs no
// relocation.
//
//go:embed vdso.so
var Image []byte

// Sizes of the vDSO mapping.
const (
	// ParamPageSize is the size of the parameter page below the image.
	ParamPageSize = 4096
	// ImageSize is len(Image) rounded up to whole pages (checked by a test).
	ImageSize = 4096
	// MapSize is the size of the whole mapping: parameter page plus image.
	MapSize = ParamPageSize + ImageSize
)

// MapLayout says where the parts of the vDSO mapping go, as offsets from
// the start of a MapSize-byte, page-aligned region.
type MapLayout struct {
	ParamOffset uint64 // the parameter page: map read-only, same page for every address space
	ImageOffset uint64 // the image: map read+exec; AT_SYSINFO_EHDR = base + ImageOffset
	ImageSize   uint64 // bytes of image mapping (Image zero-padded)
	Size        uint64 // total bytes to reserve
}

// Layout returns the vDSO mapping layout: the parameter page first, the
// image directly above it.
func Layout() MapLayout {
	return MapLayout{ParamOffset: 0, ImageOffset: ParamPageSize, ImageSize: ImageSize, Size: MapSize}
}
