package kernel

import (
	"fmt"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/kernel/mm"
	"uk/kernel/vdso"
	"uk/platform"
)

// vdsoPages is the vDSO as a mappable object: page 0 is the parameter page
// the Timekeeper writes, page 1 the image, page 2 a parameter page that
// stays zero (vvarSyscallPage). Every address space maps the same
// memory-file pages: the parameter page never writable
// ([vvar]), the image private ([vdso]), so that a process that
// writes into its vDSO (a debugger's breakpoint) gets a copy of its own
// and every other process keeps the original. The pages live as long as
// the kernel.
type vdsoPages struct {
	offs [3]int64
}

// Pages of vdsoPages that an address space maps as its [vvar].
const (
	// vvarParamPage is the timekeeper's parameter page: the vDSO serves
	// the clocks.
	vvarParamPage = 0
	// vvarSyscallPage is all zeros, which sends every vDSO call to the
	// system call: for tasks in a time namespace that moves the clocks,
	// whose offsets only uk's clock_gettime adds (Linux gives them a
	// vvar page of their namespace's instead).
	vvarSyscallPage = 2
)

// PageAt implements memmap.Mappable.
func (v *vdsoPages) PageAt(index uint64) (int64, error) {
	if index >= uint64(len(v.offs)) {
		return 0, fmt.Errorf("vdso has no page %d", index)
	}
	return v.offs[index], nil
}

// PeekPage implements memmap.PagePeeker.
func (v *vdsoPages) PeekPage(index uint64) (int64, bool) {
	if index >= uint64(len(v.offs)) {
		return 0, false
	}
	return v.offs[index], true
}

// AddMapping implements memmap.Mappable: the pages are never freed, so
// mappings need no tracking.
func (v *vdsoPages) AddMapping(memmap.Mapper) {}

// RemoveMapping implements memmap.Mappable.
func (v *vdsoPages) RemoveMapping(memmap.Mapper) {}

// setupVDSO places the vDSO image and its parameter page in the memory
// file and starts the timekeeper that keeps the parameters current.
func (k *Kernel) setupVDSO() error {
	offs, err := k.MemFile.Allocate(3)
	if err != nil {
		return err
	}
	copy(k.MemFile.Bytes(offs[1], arch.PageSize), vdso.Image)
	clear(k.MemFile.Bytes(offs[2], arch.PageSize))
	k.vdso = &vdsoPages{offs: [3]int64{offs[0], offs[1], offs[2]}}
	// Calibrating the TSC takes a few milliseconds; programs start in the
	// meantime. Until the timekeeper publishes, the parameter page is all
	// zeros, which tells the vDSO to make the real syscall, and uk's
	// clocks read the host's: both agree with what follows.
	page := k.MemFile.Bytes(offs[0], arch.PageSize)
	go func() {
		tk, err := vdso.NewTimekeeper(page, vdso.Options{})
		if err != nil {
			fmt.Fprintf(k.Debug, "uk: vdso timekeeping unavailable: %v\n", err)
			return
		}
		tk.Start()
		// Under the wall clock's lock: a setting made meanwhile is in
		// the page before any program reads it.
		k.wall.mu.Lock()
		tk.SetRealAdjust(k.wall.offset.Load())
		k.timekeeper.Store(tk)
		k.wall.mu.Unlock()
	}()
	return nil
}

// vvarPage returns the page of vdsoPages a task maps as its [vvar]: the
// syscall page in a time namespace that moves the clocks (shifted).
func vvarPage(shifted bool) uint64 {
	if shifted {
		return vvarSyscallPage
	}
	return vvarParamPage
}

// mapVDSO maps the parameter page and the image into m and returns the
// image's address, for AT_SYSINFO_EHDR. shifted says that the program runs
// in a time namespace that moves the clocks (vvarPage).
func (k *Kernel) mapVDSO(m *mm.MM, shifted bool) (uint64, error) {
	if k.vdso == nil {
		return 0, nil
	}
	base, err := m.Mmap(mm.MmapOpts{Length: vdso.MapSize, Prot: platform.Read})
	if err != nil {
		return 0, err
	}
	// As on Linux: [vvar] may never become writable (nor executable), so
	// a private mapping of it always shows the timekeeper's page; [vdso]
	// may, and a write copies the page for the writer alone.
	if _, err := m.Mmap(mm.MmapOpts{Addr: base, Length: vdso.ParamPageSize, Prot: platform.Read, MaxProt: platform.Read,
		Fixed: true, Object: k.vdso, Pgoff: vvarPage(shifted), Name: "[vvar]"}); err != nil {
		return 0, err
	}
	img := base + vdso.ParamPageSize
	if _, err := m.Mmap(mm.MmapOpts{Addr: img, Length: vdso.ImageSize, Prot: platform.Read | platform.Exec, Fixed: true,
		Object: k.vdso, Pgoff: 1, Name: "[vdso]"}); err != nil {
		return 0, err
	}
	return img, nil
}

// switchVVAR makes m's [vvar] the page for a time namespace that does or
// does not move the clocks (setns(2) of a time namespace). A [vvar] the
// program unmapped or moved away is left alone: only a mapping of exactly
// one of those pages is replaced, in place.
func (k *Kernel) switchVVAR(m *mm.MM, shifted bool) error {
	if k.vdso == nil {
		return nil
	}
	want := vvarPage(shifted)
	for _, v := range m.VMAs() {
		if v.Object != memmap.Mappable(k.vdso) || v.Pgoff == 1 || v.End-v.Start != vdso.ParamPageSize || v.Pgoff == want {
			continue
		}
		if _, err := m.Mmap(mm.MmapOpts{Addr: v.Start, Length: vdso.ParamPageSize, Prot: v.Prot, MaxProt: platform.Read,
			Fixed: true, Object: k.vdso, Pgoff: want, Name: "[vvar]"}); err != nil {
			return err
		}
	}
	return nil
}
