package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
	"uk/kernel/mm"
)

func sysMmap(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], a[2], a[3], int32(a[4]), a[5]
	if prot&^uint64(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 || off&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	typ := flags & unix.MAP_TYPE
	if typ != unix.MAP_PRIVATE && typ != unix.MAP_SHARED && typ != unix.MAP_SHARED_VALIDATE {
		return 0, unix.EINVAL
	}
	o := mm.MmapOpts{
		Addr: addr, Length: length, Prot: mm.ProtFromLinux(prot),
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0,
		Shared:    typ != unix.MAP_PRIVATE,
		GrowsDown: flags&unix.MAP_GROWSDOWN != 0,
	}
	if flags&unix.MAP_ANONYMOUS == 0 {
		obj, err := t.MappableFD(fd, o.Shared, prot&unix.PROT_WRITE != 0)
		if err != nil {
			return 0, err
		}
		o.Object, o.Pgoff = obj.Mappable, off>>arch.PageShift
		o.Name, o.Dev, o.Ino, o.MaxProt = obj.Name, obj.Dev, obj.Ino, obj.MaxProt
		o.CopyWhole = elfSegment(flags)
	}
	// Prefault what the program touches first (mm.MmapOpts.Prefault),
	// except in ld.so's reservation of a library's whole span, which its
	// segments replace at once (MAP_FIXED).
	o.Prefault = !(o.CopyWhole && !o.Fixed)
	return t.MM.Mmap(o)
}

// elfSegment reports whether a private file mapping with these flags is
// a segment of an ELF image: glibc's ld.so still passes MAP_DENYWRITE
// (which Linux ignores) when it maps a library's segments. Its writable
// segment, the data that relocation writes at once, is then copied whole
// (mm.MmapOpts.CopyWhole) as the kernel's own loader does for a program's,
// instead of one copy-on-write fault per page.
func elfSegment(flags uint64) bool {
	return flags&unix.MAP_TYPE == unix.MAP_PRIVATE && flags&unix.MAP_DENYWRITE != 0
}

func sysMunmap(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, t.MM.Munmap(a[0], a[1]) }

func sysMprotect(t *kernel.Task, a [6]uint64) (uint64, error) {
	prot := a[2]
	if prot&^uint64(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	return 0, t.MM.Mprotect(a[0], a[1], mm.ProtFromLinux(prot), prot&unix.PROT_GROWSDOWN != 0)
}

func sysBrk(t *kernel.Task, a [6]uint64) (uint64, error) { return t.MM.Brk(a[0]), nil }

func sysMremap(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := a[3]
	if flags&^uint64(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 || flags&unix.MREMAP_DONTUNMAP != 0 {
		return 0, unix.EINVAL
	}
	return t.MM.Mremap(a[0], a[1], a[2], flags&unix.MREMAP_MAYMOVE != 0, flags&unix.MREMAP_FIXED != 0, a[4])
}

func sysMadvise(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length, advice := a[0], a[1], a[2]
	if addr&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE:
		return 0, t.MM.MadviseDontNeed(addr, length)
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DONTDUMP, unix.MADV_DODUMP,
		unix.MADV_COLD, unix.MADV_PAGEOUT, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK, unix.MADV_COLLAPSE:
		if length > 0 && !t.MM.Mapped(addr, length) {
			return 0, unix.ENOMEM
		}
		return 0, nil
	}
	return 0, unix.EINVAL
}

func sysMincore(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length := a[0], a[1]
	if addr&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	n, ok := arch.PageRoundUp(length)
	if !ok || addr+n < addr || addr+n > t.MM.Layout().MaxAddr {
		return 0, unix.ENOMEM
	}
	// The program chooses the length: answer in bounded chunks, so that
	// uk holds at most one chunk whatever it asks.
	const chunk = 4096 // pages per chunk
	vec := make([]byte, min(n>>arch.PageShift, chunk))
	for done := uint64(0); done < n>>arch.PageShift; {
		k := min(n>>arch.PageShift-done, chunk)
		if err := t.MM.Mincore(addr+done<<arch.PageShift, vec[:k]); err != nil {
			return 0, err
		}
		if err := t.CopyOut(a[2]+done, vec[:k]); err != nil {
			return 0, err
		}
		done += k
	}
	return 0, nil
}

func sysMsync(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length, flags := a[0], a[1], a[2]
	if addr&arch.PageMask != 0 || flags&^uint64(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 ||
		flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return 0, unix.EINVAL
	}
	if length > 0 && !t.MM.Mapped(addr, length) {
		return 0, unix.ENOMEM
	}
	return 0, nil
}

// mlock and friends: uk never swaps, so memory is always "locked".
func sysMlock(t *kernel.Task, a [6]uint64) (uint64, error) {
	if !t.MM.Mapped(a[0], a[1]) {
		return 0, unix.ENOMEM
	}
	return 0, nil
}

// sysMlock2 is mlock with flags: MLOCK_ONFAULT only (EINVAL for others).
func sysMlock2(t *kernel.Task, a [6]uint64) (uint64, error) {
	const mlockOnFault = 1
	if uint32(a[2])&^mlockOnFault != 0 {
		return 0, unix.EINVAL
	}
	return sysMlock(t, a)
}

func sysNop(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, nil }
