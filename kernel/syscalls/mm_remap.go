package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
	"uk/kernel/mm"
)

// sysRemapFilePages is the deprecated remap_file_pages(2), done as Linux
// has done it since 4.0: a new shared mapping of the same file at pgoff
// over [start, start+size), which must lie in shared mappings of that
// one file, contiguous and alike; prot must be 0 (EINVAL otherwise).
// Flags are ignored (Linux keeps only MAP_NONBLOCK, which changes
// nothing here).
func sysRemapFilePages(t *kernel.Task, a [6]uint64) (uint64, error) {
	start, size, prot, pgoff := a[0]&^arch.PageMask, a[1]&^arch.PageMask, a[2], a[3]
	if prot != 0 {
		return 0, unix.EINVAL
	}
	if start+size <= start || pgoff+size>>arch.PageShift < pgoff {
		return 0, unix.EINVAL
	}
	var first *mm.VMA
	end := start
	for _, v := range t.MM.VMAs() {
		switch {
		case first == nil && v.Start <= start && start < v.End:
			if !v.Shared || v.Object == nil {
				return 0, unix.EINVAL
			}
			first = &v
			end = v.End
		case first != nil && end < start+size:
			if v.Start != end || v.Object != first.Object || v.Prot != first.Prot || !v.Shared {
				return 0, unix.EINVAL
			}
			end = v.End
		}
	}
	if first == nil || end < start+size {
		return 0, unix.EINVAL
	}
	_, err := t.MM.Mmap(mm.MmapOpts{Addr: start, Length: size, Prot: first.Prot, MaxProt: first.MaxProt, Fixed: true,
		Shared: true, Object: first.Object, Pgoff: pgoff, Name: first.Name, Dev: first.Dev, Ino: first.Ino, Prefault: true})
	return 0, err
}
