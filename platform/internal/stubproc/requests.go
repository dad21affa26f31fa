package stubproc

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// Request is one host system call for a stub to run at the batch site.
type Request struct {
	Nr   uint64
	Args [6]uint64
}

// RunBatch writes reqs (at most MaxBatch) to the request page (uk's view:
// req) and runs them in stub thread tid with one injection. It fails at the
// first request the host refuses with a *BatchError naming it.
//
// Preconditions: the caller is tid's tracer; tid is stopped; the request
// page is mapped in tid's stub at ReqPage.
func RunBatch(tid int, req []byte, reqs []Request) error {
	putRecords(req, reqs)
	// What the batch asked stays readable to the application (the page
	// is in its address space) only while the batch runs.
	defer clear(req[:len(reqs)*ReqSize])
	regs := InjectRegs(SiteBatch)
	regs.Rbx = ReqPage
	regs.R12 = uint64(len(reqs))
	if err := RunInjected(tid, &regs, SiteBatchTrap); err != nil {
		return err
	}
	if regs.R12 != 0 {
		i := len(reqs) - int(regs.R12)
		return &BatchError{Index: i, Req: reqs[i], Err: ErrnoOf(regs.Rax)}
	}
	return nil
}

// BatchError is a request of a batch that the host refused; the ones
// after it did not run.
type BatchError struct {
	Index int
	Req   Request
	Err   error
}

// Error names the refused request and the host's errno.
func (e *BatchError) Error() string {
	return fmt.Sprintf("stub syscall %d(%#x, %#x): %v", e.Req.Nr, e.Req.Args[0], e.Req.Args[1], e.Err)
}

// Unwrap returns the host's errno.
func (e *BatchError) Unwrap() error { return e.Err }

// PageData lays out the data of one setup batch on a request page: the
// batch's records from the start (RunBatch), data from the end, below the
// control words.
type PageData struct {
	req []byte
	top int
}

// NewPageData lays out data on req, uk's view of a request page, below
// its control words (serve.go), which a serving thread watches.
func NewPageData(req []byte) *PageData { return &PageData{req: req, top: CtlSeq} }

// Put copies b to the page (8-byte aligned) and returns the stub's address
// of it.
func (d *PageData) Put(b []byte) uint64 {
	d.top = (d.top - len(b)) &^ 7
	copy(d.req[d.top:], b)
	return ReqPage + uint64(d.top)
}

// CString puts a NUL-terminated string.
func (d *PageData) CString(s string) uint64 { return d.Put(append([]byte(s), 0)) }

// Step is one host syscall of a stub's setup; optional ones may fail.
type Step struct {
	Request
	Optional bool
	What     string
}

// Must is a step that fails the setup if the host refuses it.
func Must(what string, nr uint64, args ...uint64) Step {
	s := Step{What: what, Request: Request{Nr: nr}}
	copy(s.Args[:], args)
	return s
}

// RunSteps runs steps in stub tid, batching as many as possible: the
// records go to the start of the request page, below d's data, as many a
// batch as fit there. A failed step fails the setup unless it is optional;
// the steps after it still run.
//
// Preconditions: the caller is tid's tracer; tid is stopped; the request
// page is mapped in its stub.
func RunSteps(tid int, d *PageData, steps []Step) error {
	fit := d.top / ReqSize
	if fit == 0 {
		return fmt.Errorf("no room for setup steps below %d bytes of data on the request page", CtlSeq-d.top)
	}
	for len(steps) > 0 {
		reqs := make([]Request, min(len(steps), fit))
		for i := range reqs {
			reqs[i] = steps[i].Request
		}
		err := RunBatch(tid, d.req, reqs)
		if err == nil {
			steps = steps[len(reqs):]
			continue
		}
		var be *BatchError
		if !errors.As(err, &be) {
			return err
		}
		if !steps[be.Index].Optional {
			return fmt.Errorf("%s: %w", steps[be.Index].What, be.Err)
		}
		steps = steps[be.Index+1:]
	}
	return nil
}

// ReqRegion is where the master maps the whole request file, for the
// stubs it forks: right below the stub.
const ReqRegion = StubBase - MaxSpaces*arch.PageSize

// MaxSpaces is how many address spaces (stub processes) may exist at once:
// the request file has a page for each.
const MaxSpaces = 1 << 14

// requestFile is the memfd holding every address space's request page:
// page 0 is the master's, each stub forked from it takes a free one.
// uk maps it whole (it costs address space, not memory, until pages are
// written).
type requestFile struct {
	fd    int
	mem   []byte
	slots *Numbers // page 0 is the master's
}

func newRequestFile() (*requestFile, error) {
	fd, err := unix.MemfdCreate("uk-stub-requests", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("request file memfd: %w", err)
	}
	size := MaxSpaces * arch.PageSize
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("size request file: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("map request file: %w", err)
	}
	return &requestFile{fd: fd, mem: mem, slots: NewNumbers(1, MaxSpaces)}, nil
}

// page returns uk's view of request page slot.
func (f *requestFile) page(slot int) []byte {
	return f.mem[slot*arch.PageSize : (slot+1)*arch.PageSize : (slot+1)*arch.PageSize]
}

// get hands out a free slot.
func (f *requestFile) get() (int, error) {
	s, ok := f.slots.Get()
	if !ok {
		return 0, fmt.Errorf("%d address spaces exist: %w", MaxSpaces-1, unix.EAGAIN)
	}
	return s, nil
}

// put gives slot back, cleared.
func (f *requestFile) put(slot int) {
	clear(f.page(slot))
	f.slots.Put(slot)
}

// close unmaps and closes the file.
func (f *requestFile) close() {
	unix.Munmap(f.mem)
	unix.Close(f.fd)
}

// Numbers hands out the integers of [first, limit), those given back
// first: the request file's pages, sigsys's thread slots.
type Numbers struct {
	mu    sync.Mutex
	free  []int // given back; protected by mu
	next  int   // lowest never handed out; protected by mu
	limit int
}

// NewNumbers returns Numbers that hands out [first, limit).
func NewNumbers(first, limit int) *Numbers { return &Numbers{next: first, limit: limit} }

// Get hands out a free number; false when all are out.
func (n *Numbers) Get() (int, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if k := len(n.free); k > 0 {
		v := n.free[k-1]
		n.free = n.free[:k-1]
		return v, true
	}
	if n.next == n.limit {
		return 0, false
	}
	n.next++
	return n.next - 1, true
}

// Put gives numbers back.
func (n *Numbers) Put(nums ...int) {
	n.mu.Lock()
	n.free = append(n.free, nums...)
	n.mu.Unlock()
}
