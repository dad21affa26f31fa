package syscalls

import (
	"golang.org/x/sys/unix"
	"math"

	"uk/arch"
	"uk/kernel"
	"uk/kernel/mm"
	"uk/platform"
)

func sysMmap(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], a[2], a[3], int32(a[4]), a[5]
	if prot&^uint64(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 || off&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	if n, ok := arch.PageRoundUp(length); ok && (off>>arch.PageShift+n>>arch.PageShift < off>>arch.PageShift ||
		flags&unix.MAP_ANONYMOUS == 0 && (int64(off) < 0 || off+n > math.MaxInt64)) {
		// The range wraps, or a file's goes past the largest file
		// offset (a negative offset): Linux's file_mmap_ok.
		return 0, unix.EOVERFLOW
	}
	typ := flags & unix.MAP_TYPE
	anon := flags&unix.MAP_ANONYMOUS != 0
	switch {
	case typ == unix.MAP_SHARED_VALIDATE && !anon:
		// Only the flags every file takes (Linux's LEGACY_MAP_MASK):
		// MAP_SYNC and the like need DAX, which no file here is.
		if flags&^legacyMapFlags != 0 {
			return 0, unix.EOPNOTSUPP
		}
	case typ != unix.MAP_PRIVATE && typ != unix.MAP_SHARED:
		return 0, unix.EINVAL
	}
	o := mm.MmapOpts{
		Addr: addr, Length: length, Prot: mm.ProtFromLinux(prot),
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0,
		Shared:    typ != unix.MAP_PRIVATE,
		GrowsDown: flags&unix.MAP_GROWSDOWN != 0,
		Low2G:     flags&unix.MAP_32BIT != 0,
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
	if flags&unix.MAP_LOCKED == 0 {
		at, err := t.MM.Mmap(o)
		if err == nil && flags&(unix.MAP_POPULATE|unix.MAP_NONBLOCK) == unix.MAP_POPULATE {
			t.MM.Populate(at, length)
		}
		return at, err
	}
	// MAP_LOCKED: mlock's limit, checked before anything is mapped (EPERM
	// without any RLIMIT_MEMLOCK, EAGAIN beyond it), then the mapping
	// locked and its pages made resident as mlock does.
	limit, unlimited, err := memlockLimit(t)
	if err != nil {
		return 0, err
	}
	if n, ok := arch.PageRoundUp(length); !unlimited && (!ok || t.MM.LockedBytes()+n > limit) {
		return 0, unix.EAGAIN
	}
	at, err := t.MM.Mmap(o)
	if err != nil {
		return 0, err
	}
	t.MM.SetFlags(at, length, mm.Locked, mm.Locked|mm.LockOnFault, nil)
	t.MM.Populate(at, length)
	return at, nil
}

// legacyMapFlags are the mmap flags a MAP_SHARED_VALIDATE mapping of any
// file accepts.
const legacyMapFlags = unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_FIXED | unix.MAP_ANONYMOUS | unix.MAP_DENYWRITE |
	unix.MAP_EXECUTABLE | 0x4000000 /* MAP_UNINITIALIZED */ | unix.MAP_GROWSDOWN | unix.MAP_LOCKED |
	unix.MAP_NORESERVE | unix.MAP_POPULATE | unix.MAP_NONBLOCK | unix.MAP_STACK | unix.MAP_HUGETLB | unix.MAP_32BIT |
	0x3f<<26 /* MAP_HUGE_MASK << MAP_HUGE_SHIFT */

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
	if prot&unix.PROT_GROWSUP != 0 {
		return 0, unix.EINVAL // no mapping grows up on x86
	}
	return 0, t.MM.Mprotect(a[0], a[1], mm.ProtFromLinux(prot), prot&unix.PROT_GROWSDOWN != 0)
}

func sysBrk(t *kernel.Task, a [6]uint64) (uint64, error) { return t.MM.Brk(a[0]), nil }

func sysMremap(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := a[3]
	if flags&^uint64(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_DONTUNMAP != 0 {
		if flags&unix.MREMAP_MAYMOVE == 0 || a[1] != a[2] {
			return 0, unix.EINVAL
		}
		return t.MM.MremapDontUnmap(a[0], a[1], flags&unix.MREMAP_FIXED != 0, a[4])
	}
	return t.MM.Mremap(a[0], a[1], a[2], flags&unix.MREMAP_MAYMOVE != 0, flags&unix.MREMAP_FIXED != 0, a[4])
}

func sysMadvise(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length, advice := a[0], a[1], a[2]
	if addr&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	// A range that wraps past the top is EINVAL here (madvise's own
	// check), where the range walks below would say ENOMEM.
	if n, ok := arch.PageRoundUp(length); !ok || addr+n < addr {
		return 0, unix.EINVAL
	}
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE, madvDontNeedLocked:
		if err := t.MM.CheckRange(addr, length, func(v *mm.VMA) error { return discardable(v, advice) }); err != nil {
			return 0, err
		}
		if advice == unix.MADV_REMOVE {
			punchMapped(t, addr, length)
		}
		return 0, t.MM.MadviseDontNeed(addr, length)
	case unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK:
		set, clear := forkAdvice(advice)
		return 0, t.MM.SetFlags(addr, length, set, clear, func(v *mm.VMA) error {
			if advice == unix.MADV_WIPEONFORK && (v.Object != nil || v.Shared) {
				return unix.EINVAL // private anonymous memory only
			}
			if advice != unix.MADV_DOFORK && advice != unix.MADV_KEEPONFORK && sealedReadOnly(v) {
				return unix.EPERM
			}
			return nil
		})
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DONTDUMP, unix.MADV_DODUMP,
		unix.MADV_COLD, unix.MADV_PAGEOUT:
		if length > 0 && !t.MM.Mapped(addr, length) {
			return 0, unix.ENOMEM
		}
		return 0, nil
	case madvPopulateRead, madvPopulateWrite:
		// The range must be mapped and readable (writable for the
		// write kind); its pages are then made resident.
		want := platform.Read
		if advice == madvPopulateWrite {
			want = platform.Write
		}
		if err := t.MM.CheckRange(addr, length, func(v *mm.VMA) error {
			if v.Prot&want == 0 {
				return unix.EINVAL
			}
			return nil
		}); err != nil {
			return 0, err
		}
		t.MM.Populate(addr, length)
		return 0, nil
	}
	return 0, unix.EINVAL
}

// MADV_POPULATE_READ and MADV_POPULATE_WRITE (Linux 5.14).
const (
	madvPopulateRead  = 22
	madvPopulateWrite = 23
)

// punchMapped is MADV_REMOVE's own part: the shared mappings' pages of
// [addr, addr+length) are freed from their objects (a hole punched in a
// tmpfs file, as fallocate's PUNCH_HOLE), so that every mapping and read
// of the file sees zeros there, as on Linux.
func punchMapped(t *kernel.Task, addr, length uint64) {
	end, ok := arch.PageRoundUp(addr + length)
	if !ok {
		return
	}
	for _, v := range t.MM.VMAs() {
		if !v.Shared || v.End <= addr || v.Start >= end {
			continue
		}
		p, ok := v.Object.(interface{ PunchHole(off, n int64) })
		if !ok {
			continue
		}
		from, to := max(v.Start, addr), min(v.End, end)
		off := int64(v.Pgoff)<<arch.PageShift + int64(from-v.Start)
		p.PunchHole(off, int64(to-from))
	}
}

// discardable is madvise's check of a VMA for advice that drops pages:
// none may be locked; MADV_FREE takes private anonymous memory only, and
// MADV_REMOVE shared memory with an object behind it (EACCES when not
// writable).
func discardable(v *mm.VMA, advice uint64) error {
	switch {
	case sealedReadOnly(v):
		return unix.EPERM
	case v.Flags&mm.Locked != 0 && advice != madvDontNeedLocked:
		return unix.EINVAL
	case advice == unix.MADV_FREE && (v.Object != nil || v.Shared):
		return unix.EINVAL
	case advice == unix.MADV_REMOVE && v.Object == nil:
		return unix.EINVAL
	case advice == unix.MADV_REMOVE && (!v.Shared || v.MaxProt&platform.Write == 0):
		return unix.EACCES
	}
	return nil
}

// madvDontNeedLocked is MADV_DONTNEED_LOCKED: MADV_DONTNEED that also
// drops locked pages.
const madvDontNeedLocked = 24

// sealedReadOnly reports whether advice that discards memory or changes
// what a fork copies is refused in v (Linux's can_modify_vma_madv): a
// sealed mapping that is private (anonymous or a file's copy) and not
// writable, whose contents the program could not otherwise change.
func sealedReadOnly(v *mm.VMA) bool {
	return v.Flags&mm.Sealed != 0 && !v.Shared && v.Prot&platform.Write == 0
}

// forkAdvice is the flag change of MADV_DONTFORK and its kin.
func forkAdvice(advice uint64) (set, clear mm.VMAFlags) {
	switch advice {
	case unix.MADV_DONTFORK:
		return mm.DontFork, 0
	case unix.MADV_DOFORK:
		return 0, mm.DontFork
	case unix.MADV_WIPEONFORK:
		return mm.WipeOnFork, 0
	}
	return 0, mm.WipeOnFork
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
		if t.Dying() {
			return 0, unix.EINTR // a terabyte's answer takes minutes here
		}
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
	if length == 0 {
		return 0, nil
	}
	return 0, t.MM.CheckRange(addr, length, func(v *mm.VMA) error {
		if flags&unix.MS_INVALIDATE != 0 && v.Flags&mm.Locked != 0 {
			return unix.EBUSY // locked pages cannot be invalidated
		}
		return nil
	})
}

// The mlock family. uk never swaps, so memory is always resident; what
// the calls change is the VMAs' Locked flag, which RLIMIT_MEMLOCK bounds,
// munmap-free madvise and msync refuse, and /proc shows (VmLck).

const (
	capIPCLock   = 14 // CAP_IPC_LOCK
	mlockOnFault = 1  // MLOCK_ONFAULT
	mclCurrent   = 1
	mclFuture    = 2
	mclOnFault   = 4
)

// lockRange is the page range mlock and munlock act on: the start rounded
// down, the length grown to cover what it cut off.
func lockRange(addr, length uint64) (uint64, uint64) {
	in := addr & arch.PageMask
	return addr - in, length + in
}

// memlockLimit is RLIMIT_MEMLOCK's soft limit, and whether the caller may
// lock beyond it (CAP_IPC_LOCK). A caller with neither may not lock at all.
func memlockLimit(t *kernel.Task) (limit uint64, unlimited bool, err error) {
	limit = t.ThreadGroup().Rlimit(unix.RLIMIT_MEMLOCK).Cur
	unlimited = t.Credentials().HasCap(capIPCLock)
	if limit == 0 && !unlimited {
		return 0, false, unix.EPERM
	}
	return limit, unlimited, nil
}

func doMlock(t *kernel.Task, addr, length uint64, flags mm.VMAFlags) error {
	limit, unlimited, err := memlockLimit(t)
	if err != nil {
		return err
	}
	addr, length = lockRange(addr, length)
	if addr+length < addr {
		return unix.EINVAL // a range that wraps (apply_vma_lock_flags)
	}
	if !unlimited && t.MM.LockedBytes()+t.MM.UnlockedIn(addr, length) > limit {
		return unix.ENOMEM
	}
	if err := t.MM.SetFlags(addr, length, flags, mm.Locked|mm.LockOnFault, nil); err != nil {
		return err
	}
	if flags&mm.LockOnFault == 0 {
		t.MM.Populate(addr, length) // locked pages are resident
	}
	return nil
}

func sysMlock(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, doMlock(t, a[0], a[1], mm.Locked)
}

// sysMlock2 is mlock with flags: MLOCK_ONFAULT only (EINVAL for others).
func sysMlock2(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := uint32(a[2])
	if flags&^mlockOnFault != 0 {
		return 0, unix.EINVAL
	}
	f := mm.Locked
	if flags&mlockOnFault != 0 {
		f |= mm.LockOnFault
	}
	return 0, doMlock(t, a[0], a[1], f)
}

func sysMunlock(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, length := lockRange(a[0], a[1])
	if addr+length < addr {
		return 0, unix.EINVAL
	}
	return 0, t.MM.SetFlags(addr, length, 0, mm.Locked|mm.LockOnFault, nil)
}

func sysMlockall(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := a[0]
	if flags == 0 || flags&^(mclCurrent|mclFuture|mclOnFault) != 0 || flags == mclOnFault {
		return 0, unix.EINVAL
	}
	limit, unlimited, err := memlockLimit(t)
	if err != nil {
		return 0, err
	}
	f := mm.Locked
	if flags&mclOnFault != 0 {
		f |= mm.LockOnFault
	}
	if flags&mclCurrent != 0 {
		var total uint64
		for _, v := range t.MM.VMAs() {
			total += v.End - v.Start
		}
		if !unlimited && total > limit {
			return 0, unix.ENOMEM
		}
		t.MM.SetAllFlags(f, mm.Locked|mm.LockOnFault)
		if f&mm.LockOnFault == 0 {
			for _, v := range t.MM.VMAs() {
				t.MM.Populate(v.Start, v.End-v.Start)
			}
		}
	}
	var future mm.VMAFlags
	if flags&mclFuture != 0 {
		future = f
	}
	t.MM.SetDefaultFlags(future)
	return 0, nil
}

func sysMunlockall(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.MM.SetAllFlags(0, mm.Locked|mm.LockOnFault)
	t.MM.SetDefaultFlags(0)
	return 0, nil
}

func sysNop(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, nil }

// sysMseal seals [start, start+len) against unmapping, moving, resizing
// and protection changes (Linux 6.10's mseal).
func sysMseal(t *kernel.Task, a [6]uint64) (uint64, error) {
	start, length, flags := a[0], a[1], a[2]
	if flags != 0 || start&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	n, ok := arch.PageRoundUp(length)
	if !ok || start+n < start {
		return 0, unix.EINVAL // a length that rounds or reaches past the top
	}
	if n == 0 {
		return 0, nil
	}
	return 0, t.MM.Seal(start, n)
}
