package hostfs

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// Prefetching. A host file's pages reach the memory file when a fault
// first needs them (PageAt: a copy of readAhead pages while the program
// waits). A program reads its text and read-only data nearly whole,
// scattered: compiling one small file, gcc's cc1 (25 MB of text) faulted
// 517 times and spent 18 ms of its 79 in uk's fault handling, most of it
// copying. So the first fault on an executable mapping of a read-only
// tree's file (memmap.Prefetcher, asked by the mm) queues the part of the
// file that mapping and its neighbours map (the object's segments) to be
// copied by one background goroutine, and the program's later faults find
// their pages cached and map them with their neighbours (the gcc job's
// private file read faults: 169-171 and 11-15 ms of handling without,
// 65-76 and 4-6 ms with).
//
// A prefetch takes memory only while the sandbox has plenty (roomFor),
// stops once nothing maps the file, and reads no more than prefetchMax of
// one file. Its pages are the cache's like any other: given back with it,
// reclaimable on the idle list.

// prefetchMax is the most bytes one prefetch reads, from the faulting page
// on: a larger text is read ahead only around where the program runs.
const prefetchMax = 64 << 20

// prefetchJob is a range of a file's pages to fill, from one page on
// (then the pages before it).
type prefetchJob struct {
	f                 *File
	first, end, start uint64
}

// prefetcher runs a filesystem's prefetches one after another, in a
// goroutine that lives while there are any.
type prefetcher struct {
	mu      sync.Mutex
	queue   []prefetchJob // protected by mu
	running bool          // a goroutine drains queue; protected by mu
}

// add queues j, starting the goroutine if none runs.
func (p *prefetcher) add(j prefetchJob) {
	p.mu.Lock()
	p.queue = append(p.queue, j)
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go p.run()
	}
}

// run prefetches the queued jobs until there are none.
func (p *prefetcher) run() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		j := p.queue[0]
		p.queue = p.queue[1:]
		p.mu.Unlock()
		j.f.prefetch(j.first, j.end, j.start)
	}
}

// roomFor reports whether the sandbox's memory can spare n more pages for
// a prefetch: at least half of it is left after them (counting what the
// reclaimers would give back).
func (fs *FS) roomFor(n uint64) bool {
	left := fs.mf.PagesLeft() - int64(n)
	return left >= fs.mf.Size()>>arch.PageShift/2
}

// Prefetch implements memmap.Prefetcher: it queues pages [first, end),
// from page from on, once for the file (again only after its cache was
// given back), on a read-only tree (a writable one's files change under
// the sandbox, and its programs are the ones the job builds, small).
func (f *File) Prefetch(first, end, from uint64) {
	if f.fs.writable || end <= first {
		return
	}
	from = min(max(from, first), end-1)
	if end-first > prefetchMax>>arch.PageShift {
		// Only the part of the range around the fault.
		first = max(first, from-min(from, prefetchMax>>arch.PageShift/2))
		end = min(end, first+prefetchMax>>arch.PageShift)
	}
	f.cmu.Lock()
	if f.prefetched {
		f.cmu.Unlock()
		return
	}
	f.prefetched = true
	f.cmu.Unlock()
	if !f.fs.roomFor(end - first) {
		return
	}
	f.fs.pf.add(prefetchJob{f: f, first: first, end: end, start: from})
}

// prefetch fills the cache's missing pages of [start, end) and then of
// [first, start), readAhead at a time. It stops when nothing maps the file
// any more, or less than half the memory is left.
//
// The copy runs outside cmu, through a descriptor of its own (the file
// opened again) and the memory file's description for copies ahead
// (memfile.CopyFromFileAhead): a fault of the same file then waits only
// for the bookkeeping, not for a copy (with the copy under cmu, a fault
// waited 160 us on average for one, against 68 with no prefetch). Pages a
// fault filled meanwhile stay; the prefetch's copies of them are freed,
// as are all of a run whose cache was dropped or cut meanwhile (gen), or
// whose file nothing maps any more (an idle file's cache must not grow
// behind the idle list's count).
func (f *File) prefetch(first, end, start uint64) {
	src := -1
	defer func() {
		if src >= 0 {
			unix.Close(src)
		}
	}()
	for _, r := range [2][2]uint64{{start, end}, {first, start}} {
		for i := r[0]; i < r[1]; {
			if !f.fs.roomFor(0) {
				// Others took the memory meanwhile.
				return
			}
			f.cmu.Lock()
			if f.maps.Count() == 0 || f.openCacheLocked() != nil {
				f.cmu.Unlock()
				return
			}
			if src < 0 {
				// A descriptor of the prefetch's own: the cache's may
				// be closed while a copy runs outside cmu.
				var st unix.Stat_t
				fd, err := f.openHost(unix.O_RDONLY, &st)
				if err != nil {
					f.cmu.Unlock()
					return
				}
				src = fd
			}
			stop := min(r[1], uint64((f.csize+arch.PageMask)>>arch.PageShift))
			for i < stop {
				if _, ok := f.pages[i]; !ok {
					break
				}
				i++
			}
			if i >= stop {
				// The rest of the range is cached, or past the end.
				f.cmu.Unlock()
				break
			}
			j := i + 1
			for j < stop && j < i+readAhead {
				if _, ok := f.pages[j]; ok {
					break
				}
				j++
			}
			offs, err := f.fs.mf.Allocate(int(j - i))
			gen, size := f.gen, f.csize
			f.cmu.Unlock()
			if err != nil {
				return
			}
			copyPages(offs, src, i, size, f.fs.mf.CopyFromFileAhead)
			var dead []int64
			f.cmu.Lock()
			for k, off := range offs {
				idx := i + uint64(k)
				if _, ok := f.pages[idx]; ok || f.gen != gen || f.pages == nil || f.maps.Count() == 0 {
					dead = append(dead, off)
					continue
				}
				f.pages[idx] = off
			}
			f.cmu.Unlock()
			if len(dead) > 0 {
				f.fs.mf.DecRef(dead...)
			}
			i = j
		}
	}
}

// Prefetching reports whether a prefetch is queued or running: for tests,
// which wait for it to end.
func (fs *FS) Prefetching() bool {
	fs.pf.mu.Lock()
	defer fs.pf.mu.Unlock()
	return fs.pf.running
}
