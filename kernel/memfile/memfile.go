// Package memfile is the memory file: one memfd that backs every page of
// application memory (anonymous memory, tmpfs file contents, page tables of
// the KVM platform). uk maps the whole file into its own address space once,
// so copying to or from application memory is a plain memory copy.
//
// Pages are handed out by a simple allocator with per-page reference counts
// (a page shared copy-on-write after fork has two references). A page whose
// last reference goes is cleared and kept, resident, for the next
// allocation (up to warmMax of them: a program that maps, touches and
// unmaps memory in a loop then costs the host no page allocation, zeroing,
// cgroup charge or page-cache insertion and removal per page: 2.9-3.4 us
// a page touched became 0.5 in the shared suite's pagefault benchmark);
// the rest are given back to the host with fallocate(PUNCH_HOLE), which
// also guarantees they read as zeros when handed out again.
//
// The invariant the whole kernel keeps: a page returns to the free list
// only when no address space of any platform can reach it. The memory file
// cannot see address spaces, so its holders keep it: an MM drops its
// reference on a private page only after the page is out of its address
// space, and an object (a tmpfs file, a shared anonymous region) frees a
// page only after every mapping of it was invalidated (package memmap).
// kernel/mm's page check (SetFreeHook) verifies it on every free.
//
// The file's size is the sandbox's memory budget, and it is shared with
// what uk holds in its own heap on the sandbox's behalf: pipe and socket
// buffers, messages being gathered, descriptor tables. Those are charged
// to the file (Charge) before they grow, so a program cannot make uk hold
// more than --mem in all, whether as pages or as kernel buffers; a charge
// that does not fit fails as an allocation would.
package memfile

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// File is the memory file. All methods are safe for concurrent use.
type File struct {
	fd   int
	size int64
	mem  []byte // uk's MAP_SHARED mapping of the whole file

	seekMu sync.Mutex // orders users of the file position (CopyFromFile)
	// aheadFD is a second open description of the file, with its own
	// file position, for copies made ahead of need (CopyFromFileAhead), so
	// that those never make a program's fault wait for them, nor the
	// other way round; aheadMu orders its users. -1 when /proc could not
	// open one: the copies ahead then share fd and seekMu.
	aheadFD int
	aheadMu sync.Mutex

	mu    sync.Mutex
	next  int64   // first never-allocated offset (bump pointer); protected by mu
	warm  []int64 // offsets of pages with no references, cleared and resident; protected by mu
	free  []int64 // offsets of pages with no references, punched (or zero and unused); protected by mu
	dying []int64 // pages with no references not punched yet; protected by mu
	refs  []int32 // reference count per page below next; protected by mu
	used  int64   // pages with references; protected by mu
	// warmMax bounds warm: the host memory a sandbox keeps beyond what it
	// uses is at most this many pages.
	warmMax int

	// charged is the bytes of kernel buffers charged to the budget;
	// protected by mu. chargeHook, if set, hears of every change of at
	// least chargeStep since the last it heard (uk sets Go's memory
	// limit from it).
	charged     int64
	chargeHook  func(charged int64)
	hookCharged atomic.Int64

	// The punching of pages that lost their last reference happens on a
	// background goroutine, off the path of the process exit or munmap
	// that freed them. punchMu serializes punching with Close.
	kickMu    sync.Mutex
	punchKick chan struct{} // protected by kickMu; nil until the first free, closed by Close
	stopped   bool          // Close has run; protected by kickMu
	punchMu   sync.Mutex
	closed    bool // protected by punchMu

	freeHook func(off int64) // called for each page that loses its last reference; set before use

	reclaimMu  sync.Mutex
	reclaimers []Reclaimer // protected by reclaimMu
}

// Reclaimer is a holder of pages that are kept only in case they are
// wanted again (the page cache of host files nothing maps any more). Such
// pages count as used, but the budget is theirs only until something else
// needs it: the memory file asks its reclaimers to let pages go before it
// reports itself exhausted, so a cache never costs a program an
// allocation (or the OOM killer a victim).
//
// The memory file calls a Reclaimer with none of its own locks held, from
// whatever goroutine is allocating, which may hold an object's lock (a
// hostfs file filling its cache): Reclaim must skip pages whose holder it
// cannot lock at once rather than wait.
type Reclaimer interface {
	// Reclaimable is about how many pages Reclaim could free now.
	Reclaimable() int64
	// Reclaim drops the reclaimer's references on at least n pages if it
	// can, and reports how many it dropped.
	Reclaim(n int64) int64
}

// New creates a memory file of size bytes (rounded to pages); its pages cost
// nothing until they are touched.
func New(size int64) (*File, error) {
	size = (size + arch.PageMask) &^ arch.PageMask
	fd, err := unix.MemfdCreate("uk-memory", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ftruncate memory file to %d bytes: %w", size, err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("map memory file: %w", err)
	}
	ahead, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		ahead = -1
	}
	// Offset 0 is never handed out so that 0 can mean "no page".
	return &File{fd: fd, aheadFD: ahead, size: size, mem: mem, next: arch.PageSize, refs: make([]int32, 1, 1024),
		warmMax: warmPages(size)}, nil
}

// warmPages is how many freed pages a file of size bytes keeps resident:
// a sixteenth of it, at least 4 MiB and at most 256 MiB (a program that
// maps and unmaps 64 MiB at a time, as allocators of big buffers do, is
// served warm under the default budget), never more than the file.
func warmPages(size int64) int {
	const minWarm, maxWarm = 4 << 20, 256 << 20
	w := min(max(size/16, minWarm), maxWarm, size)
	return int(w >> arch.PageShift)
}

// FD is the host file descriptor of the memory file (platforms map it).
func (f *File) FD() int { return f.fd }

// Size is the file's size in bytes: the most memory the sandbox can use.
func (f *File) Size() int64 { return f.size }

// Bytes returns uk's view of [off, off+n). The slice aliases application
// memory: writes are seen by the application.
func (f *File) Bytes(off int64, n int) []byte { return f.mem[off : off+int64(n) : off+int64(n)] }

// ErrNoMemory is returned when the file is exhausted.
var ErrNoMemory = fmt.Errorf("memory file exhausted")

// pagesLeftLocked is how many more pages the budget allows: the file's
// pages (page 0 is never handed out) less those in use and those the
// charged kernel buffers stand for.
func (f *File) pagesLeftLocked() int64 {
	return f.size>>arch.PageShift - 1 - f.used - (f.charged+arch.PageMask)>>arch.PageShift
}

// AddReclaimer registers r, whose pages the memory file may ask back when
// it is short.
func (f *File) AddReclaimer(r Reclaimer) {
	f.reclaimMu.Lock()
	f.reclaimers = append(f.reclaimers, r)
	f.reclaimMu.Unlock()
}

// reclaim asks the reclaimers for n pages; it reports whether any were
// given back (an allocation that failed is then worth trying again).
func (f *File) reclaim(n int64) bool {
	return f.askReclaimers(n, func(r Reclaimer, n int64) int64 { return r.Reclaim(n) }) > 0
}

// askReclaimers asks each reclaimer in turn, through ask, for what is
// still missing of n pages, and reports how many they gave back.
func (f *File) askReclaimers(n int64, ask func(r Reclaimer, n int64) int64) int64 {
	f.reclaimMu.Lock()
	rs := f.reclaimers
	f.reclaimMu.Unlock()
	var got int64
	for _, r := range rs {
		if got >= n {
			break
		}
		got += ask(r, n-got)
	}
	return got
}

// MappedReclaimer is a Reclaimer that can also give back pages that are
// still mapped but can be had again: the clean page cache of files a
// read-only tree serves, which their mappings hold (Linux evicts such
// pages under memory pressure and reads them again at the next fault). It
// invalidates mappings, so it is called only with no lock of a mapper or
// an object held: by the OOM path, before it kills.
type MappedReclaimer interface {
	Reclaimer
	// ReclaimMapped drops the reclaimer's references on at least n pages
	// of mapped caches if it can, mappings first, and reports how many it
	// dropped.
	ReclaimMapped(n int64) int64
}

// ReclaimMapped asks the reclaimers that can (MappedReclaimer) for at
// least n pages of caches still mapped and reports how many they gave
// back. The caller holds no lock of a mapper or an object.
func (f *File) ReclaimMapped(n int64) int64 {
	return f.askReclaimers(n, func(r Reclaimer, n int64) int64 {
		if mr, ok := r.(MappedReclaimer); ok {
			return mr.ReclaimMapped(n)
		}
		return 0
	})
}

// reclaimable is how many pages the reclaimers could give back.
func (f *File) reclaimable() int64 {
	f.reclaimMu.Lock()
	rs := f.reclaimers
	f.reclaimMu.Unlock()
	var n int64
	for _, r := range rs {
		n += r.Reclaimable()
	}
	return n
}

// Allocate returns the offsets of n zeroed pages, each with one reference.
// It prefers one contiguous run (so a platform can map it in one call).
// When the budget is spent, the reclaimers' pages go first.
func (f *File) Allocate(n int) ([]int64, error) {
	offs, _, err := f.AllocateCold(n)
	return offs, err
}

// AllocateCold is Allocate that also reports whether every page it gave
// is cold: not resident on the host (never used, or punched out when last
// freed), where a warm page was kept resident. A cold page costs the host
// a page allocation and zeroing at its first touch, or at once for every
// page of a mapping populated ahead (MAP_POPULATE): about 3.4 us a page on
// this project's VMs, against 0.37 us to populate a warm one. So a mapping
// of cold pages is best left for the host to fill as the program touches
// them (platform.LazyMapper), and one of warm pages populated.
func (f *File) AllocateCold(n int) (offs []int64, cold bool, err error) {
	offs, warm, err := f.allocate(n)
	if err == ErrNoMemory && f.reclaim(int64(n)) {
		offs, warm, err = f.allocate(n)
	}
	return offs, warm == 0, err
}

// allocate is Allocate without reclaiming; warm counts the pages that
// came from the warm list.
func (f *File) allocate(n int) (offs []int64, warm int, err error) {
	f.mu.Lock()
	if int64(n) > f.pagesLeftLocked() {
		f.mu.Unlock()
		return nil, 0, ErrNoMemory
	}
	if len(f.warm)+len(f.free) < n && f.next+int64(n)*arch.PageSize > f.size {
		// Memory is short: give the dying pages back now rather than
		// wait for the background. punchDying also waits for a batch
		// the background is punching: those pages are in neither list
		// meanwhile, and an exiting process's memory (what the OOM
		// killer just freed) would look still taken.
		f.mu.Unlock()
		f.punchDying()
		f.mu.Lock()
	}
	defer f.mu.Unlock()
	out := make([]int64, 0, n)
	// A fresh contiguous run from the bump pointer, when the free lists
	// cannot serve the whole request.
	if len(f.warm)+len(f.free) < n && f.next+int64(n)*arch.PageSize <= f.size {
		for i := 0; i < n; i++ {
			out = append(out, f.bumpLocked())
		}
		f.used += int64(n)
		return out, 0, nil
	}
	for len(out) < n {
		// Warm pages first: they are resident already.
		if off, ok := pop(&f.warm); ok {
			f.refs[off>>arch.PageShift] = 1
			out = append(out, off)
			warm++
			continue
		}
		if off, ok := pop(&f.free); ok {
			f.refs[off>>arch.PageShift] = 1
			out = append(out, off)
			continue
		}
		if f.next+arch.PageSize > f.size {
			for _, off := range out {
				f.refs[off>>arch.PageShift] = 0
				f.free = append(f.free, off)
			}
			return nil, 0, ErrNoMemory
		}
		out = append(out, f.bumpLocked())
	}
	// Taken from the end of the free list, the pages come in descending
	// order; ascending, those freed together (a process's pages) are
	// contiguous again and map as one run instead of one per page.
	slices.Sort(out)
	f.used += int64(n)
	return out, warm, nil
}

// pop takes the last offset off list.
func pop(list *[]int64) (int64, bool) {
	k := len(*list)
	if k == 0 {
		return 0, false
	}
	off := (*list)[k-1]
	*list = (*list)[:k-1]
	return off, true
}

func (f *File) bumpLocked() int64 {
	off := f.next
	f.next += arch.PageSize
	f.refs = append(f.refs, 1)
	return off
}

// chargeStep is how far the charged total moves before the charge hook
// hears of it: often enough to keep Go's memory limit close, rarely enough
// to cost nothing next to copying the bytes.
const chargeStep = 4 << 20

// Charge reserves n bytes of the budget for a buffer uk holds in its own
// heap for the sandbox (a pipe's page, a queued socket message). It
// reports false, reserving nothing, when the budget cannot cover it: the
// caller fails as for an allocation (ENOMEM, ENOBUFS). Each successful
// Charge is matched by an Uncharge of the same size when the buffer goes.
func (f *File) Charge(n int64) bool {
	if n <= 0 {
		return true
	}
	if f.charge(n) {
		return true
	}
	return f.reclaim((n+arch.PageMask)>>arch.PageShift) && f.charge(n)
}

func (f *File) charge(n int64) bool {
	f.mu.Lock()
	after := f.charged + n
	if f.size>>arch.PageShift-1-f.used-(after+arch.PageMask)>>arch.PageShift < 0 {
		f.mu.Unlock()
		return false
	}
	f.charged = after
	f.mu.Unlock()
	f.chargeMoved(after)
	return true
}

// Uncharge gives back n bytes charged before.
func (f *File) Uncharge(n int64) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	f.charged -= n
	after := f.charged
	f.mu.Unlock()
	if after < 0 {
		panic(fmt.Sprintf("memfile: %d bytes uncharged more than charged", -after))
	}
	f.chargeMoved(after)
}

// Charged returns the bytes of kernel buffers charged now.
func (f *File) Charged() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.charged
}

// UsedPages returns the number of pages in use (with references).
func (f *File) UsedPages() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used
}

// PagesLeft is how many more pages Allocate could hand out now, counting
// those the reclaimers would give back: what a caller that allocates
// ahead of need (mm's fault-around) consults so as to take only pages the
// budget can spare.
func (f *File) PagesLeft() int64 {
	r := f.reclaimable()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pagesLeftLocked() + r
}

// SetChargeHook has fn called, off the file's lock, whenever the charged
// total has moved by chargeStep or more since fn last heard of it (and
// once now). It must be set before the file is shared.
func (f *File) SetChargeHook(fn func(charged int64)) {
	f.chargeHook = fn
	f.hookCharged.Store(0)
	fn(0)
}

func (f *File) chargeMoved(charged int64) {
	if f.chargeHook == nil {
		return
	}
	last := f.hookCharged.Load()
	if d := charged - last; d < chargeStep && d > -chargeStep {
		return
	}
	if f.hookCharged.CompareAndSwap(last, charged) {
		f.chargeHook(charged)
	}
}

// SetFreeHook has fn called with the offset of every page that loses its
// last reference, before it can be handed out again (a debug check of the
// page-lifetime invariant). It must be set before the file is shared.
func (f *File) SetFreeHook(fn func(off int64)) { f.freeHook = fn }

// IncRef adds a reference to the page at off.
func (f *File) IncRef(off int64) {
	f.mu.Lock()
	f.refs[off>>arch.PageShift]++
	f.mu.Unlock()
}

// RefCount reports the references held on the page at off.
func (f *File) RefCount(off int64) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refs[off>>arch.PageShift]
}

// DecRef drops one reference from each page in offs; pages left without
// references are cleared or punched out of the file (in the background)
// and become free.
func (f *File) DecRef(offs ...int64) {
	var dead []int64
	f.mu.Lock()
	for _, off := range offs {
		i := off >> arch.PageShift
		f.refs[i]--
		switch {
		case f.refs[i] == 0:
			dead = append(dead, off)
			f.used--
		case f.refs[i] < 0:
			f.mu.Unlock()
			panic(fmt.Sprintf("memfile: page %#x released more often than referenced", off))
		}
	}
	if len(dead) == 0 {
		f.mu.Unlock()
		return
	}
	if f.freeHook != nil {
		for _, off := range dead {
			f.freeHook(off)
		}
	}
	f.dying = append(f.dying, dead...)
	f.mu.Unlock()
	f.kickMu.Lock()
	defer f.kickMu.Unlock()
	if f.stopped {
		return
	}
	if f.punchKick == nil {
		f.punchKick = make(chan struct{}, 1)
		go func(kick chan struct{}) {
			for range kick {
				f.punchDying()
			}
		}(f.punchKick)
	}
	select {
	case f.punchKick <- struct{}{}:
	default: // a kick is pending already
	}
}

// Settle makes the pages that lost their last reference free now (warm
// or punched), as the background does shortly after: for a caller that
// must see the file settled (the tests of its users).
func (f *File) Settle() { f.punchDying() }

// punchDying makes the dying pages free: as many as the warm list has
// room for are cleared and kept resident, the rest punched. Only it adds
// to the warm list, under punchMu, so the list never outgrows warmMax.
func (f *File) punchDying() {
	f.punchMu.Lock()
	defer f.punchMu.Unlock()
	if f.closed {
		return
	}
	f.mu.Lock()
	dying := f.dying
	f.dying = nil
	room := f.warmMax - len(f.warm)
	f.mu.Unlock()
	if len(dying) == 0 {
		return
	}
	slices.Sort(dying)
	keep := dying[:min(max(room, 0), len(dying))]
	for _, off := range keep {
		clear(f.mem[off : off+arch.PageSize])
	}
	if rest := dying[len(keep):]; len(rest) > 0 {
		f.punch(rest)
	}
	f.mu.Lock()
	f.warm = append(f.warm, keep...)
	f.free = append(f.free, dying[len(keep):]...)
	f.mu.Unlock()
}

// punch gives the pages, in ascending order, back to the host, one
// fallocate per contiguous run.
func (f *File) punch(offs []int64) {
	start, end := offs[0], offs[0]+arch.PageSize
	flush := func() {
		// Failure leaves the data resident; later users still see zeros
		// only if it worked, so fall back to clearing the bytes ourselves.
		if err := unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, start, end-start); err != nil {
			clear(f.mem[start:end])
		}
	}
	for _, off := range offs[1:] {
		if off == end {
			end += arch.PageSize
			continue
		}
		flush()
		start, end = off, off+arch.PageSize
	}
	flush()
}

// WriteAt copies b into the file at off with pwrite: the host kernel
// allocates and fills the pages directly, which for pages uk has never
// touched is much cheaper than faulting them in through uk's mapping.
func (f *File) WriteAt(b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pwrite(f.fd, b, off)
		if err != nil {
			return fmt.Errorf("write memory file at %#x: %w", off, err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// CopyPages makes each page at dst[i] a copy of the page at src[i]. With
// cold set, the dst pages are ones the host has not backed yet
// (AllocateCold): copied through uk's mapping, each would first fault in
// there (a host page allocation, zeroing and mapping), so they are filled
// with pwritev instead, a call per run of contiguous ones, and the host
// allocates them already full: 1.6 us a page here against 2.7-3.2 in a
// micro-benchmark of scattered sources.
func (f *File) CopyPages(dst, src []int64, cold bool) {
	for i := 0; i < len(dst); {
		j := i + 1
		for cold && j < len(dst) && j-i < maxCopyRun && dst[j] == dst[j-1]+arch.PageSize {
			j++
		}
		if !cold || !f.writePages(dst[i], src[i:j]) {
			for k := i; k < j; k++ {
				copy(f.mem[dst[k]:dst[k]+arch.PageSize], f.mem[src[k]:src[k]+arch.PageSize])
			}
		}
		i = j
	}
}

// maxCopyRun bounds the pages of one pwritev (IOV_MAX is 1024).
const maxCopyRun = 256

// writePages writes the pages at src, in order, to the file at off; false
// if the host refused (the caller copies them itself: a partial write left
// nothing that the copy does not overwrite).
func (f *File) writePages(off int64, src []int64) bool {
	var arr [16][]byte
	iov := arr[:0]
	for _, s := range src {
		iov = append(iov, f.mem[s:s+arch.PageSize])
	}
	for len(iov) > 0 {
		n, err := unix.Pwritev(f.fd, iov, off)
		if err != nil || n <= 0 {
			return false
		}
		off += int64(n)
		for n > 0 && len(iov) > 0 {
			if n >= len(iov[0]) {
				n -= len(iov[0])
				iov = iov[1:]
				continue
			}
			iov[0] = iov[0][n:]
			n = 0
		}
	}
	return true
}

// CopyFromFile fills [off, off+n) of the file from the host file src at
// srcOff with sendfile. sendfile writes at the memory file's file
// position, which nothing else in uk uses; seekMu orders its users.
func (f *File) CopyFromFile(off int64, src int, srcOff, n int64) error {
	f.seekMu.Lock()
	defer f.seekMu.Unlock()
	return copyFromFile(f.fd, off, src, srcOff, n)
}

// CopyFromFileAhead is CopyFromFile for a copy made ahead of need (a
// prefetch): through a description of its own, so a program's fault never
// waits for it to get at the file position.
func (f *File) CopyFromFileAhead(off int64, src int, srcOff, n int64) error {
	f.aheadMu.Lock()
	fd := f.aheadFD
	if fd < 0 {
		f.aheadMu.Unlock()
		return f.CopyFromFile(off, src, srcOff, n)
	}
	defer f.aheadMu.Unlock()
	return copyFromFile(fd, off, src, srcOff, n)
}

// copyFromFile is CopyFromFile through fd, whose position the caller owns.
func copyFromFile(fd int, off int64, src int, srcOff, n int64) error {
	if _, err := unix.Seek(fd, off, 0); err != nil {
		return fmt.Errorf("seek memory file: %w", err)
	}
	for n > 0 {
		w, err := unix.Sendfile(fd, src, &srcOff, int(min(n, 1<<30)))
		if err != nil {
			return fmt.Errorf("sendfile into memory file: %w", err)
		}
		if w == 0 {
			return fmt.Errorf("sendfile into memory file: source ended early")
		}
		n -= int64(w)
	}
	return nil
}

// Zero clears [off, off+n) so a reused range reads as zeros.
func (f *File) Zero(off int64, n int) { clear(f.mem[off : off+int64(n)]) }

// Close stops the punching goroutine and closes the file. uk's own mapping
// stays: a goroutine that still copies to or from application memory (a
// task being torn down) must not fault, and the mapping holds the file's
// memory only until the process ends or the mapping is garbage.
func (f *File) Close() error {
	f.kickMu.Lock()
	if f.stopped {
		f.kickMu.Unlock()
		return nil
	}
	f.stopped = true
	if f.punchKick != nil {
		close(f.punchKick)
	}
	f.kickMu.Unlock()
	f.punchMu.Lock()
	defer f.punchMu.Unlock()
	f.closed = true
	f.aheadMu.Lock()
	if f.aheadFD >= 0 {
		unix.Close(f.aheadFD)
		f.aheadFD = -1
	}
	f.aheadMu.Unlock()
	return unix.Close(f.fd)
}
