package kernel

import (
	"encoding/binary"
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/eventfd"
	"uk/fs/vfs"
	"uk/kernel/mm"
)

// userfaultfd(2): a file through which a program handles the page faults
// of memory it registered (kernel/mm's userfault.go). A thread that
// faults on a missing page there posts a message (read(2) of the file)
// and waits until the handler fills the page (UFFDIO_COPY, ZEROPAGE,
// MOVE) or wakes it (UFFDIO_WAKE), the file is closed, or a signal comes;
// then it retries the access.
//
// Supported: private anonymous memory in MISSING and WP modes, shared
// memory (tmpfs, memfd, SysV) in MINOR mode with CONTINUE, the API
// handshake and its features PAGEFAULT_FLAG_WP, MINOR_SHMEM, EXACT_ADDRESS,
// THREAD_ID, SIGBUS, POISON and MOVE; /dev/userfaultfd. Not: shared memory
// in the other modes, write-protecting missing pages (WP_UNPOPULATED),
// events (fork, remap, remove, unmap). A syscall's own access to shared
// memory does not raise minor faults (it reads the object directly).

// Userfaultfd ioctls and their structures' sizes.
const (
	uffdioAPI        = 0xc018aa3f
	uffdioRegister   = 0xc020aa00
	uffdioUnregister = 0x8010aa01
	uffdioWake       = 0x8010aa02
	uffdioCopy       = 0xc028aa03
	uffdioZeropage   = 0xc020aa04
	uffdioMove       = 0xc028aa05
	uffdioWriteProt  = 0xc018aa06
	uffdioContinue   = 0xc020aa07
	uffdioPoison     = 0xc020aa08
	// UserfaultfdIocNew is /dev/userfaultfd's USERFAULTFD_IOC_NEW.
	UserfaultfdIocNew = 0xaa00

	uffdAPI = 0xaa

	uffdFeatureFlagWP    = 1 << 0
	uffdFeatureSigbus    = 1 << 7
	uffdFeatureThreadID  = 1 << 8
	uffdFeatureExactAddr = 1 << 11
	uffdFeatureMinorShm  = 1 << 10
	uffdFeaturePoison    = 1 << 14
	uffdFeatureMove      = 1 << 16
	uffdFeatures         = uffdFeatureFlagWP | uffdFeatureSigbus | uffdFeatureThreadID | uffdFeatureExactAddr |
		uffdFeatureMinorShm | uffdFeaturePoison | uffdFeatureMove

	// The ioctl bits UFFDIO_API and UFFDIO_REGISTER report (1 << _UFFDIO_*).
	uffdAPIIoctls   = 1<<0x00 | 1<<0x01 | 1<<0x3f
	uffdRangeIoctls = 1<<0x02 | 1<<0x03 | 1<<0x04 | 1<<0x05 | 1<<0x08

	uffdEventPagefault = 0x12
	uffdFlagWrite      = 1
	uffdFlagWP         = 2

	uffdMsgSize = 32

	// UffdUserModeOnly is UFFD_USER_MODE_ONLY.
	UffdUserModeOnly = 1
)

// maxUffdMsgs bounds the messages a userfaultfd queues: one per waiting
// thread, so the sandbox's task limit bounds them already; this is a
// second wall.
const maxUffdMsgs = 1 << 16

// Userfaultfd is one userfaultfd context: the memory it serves, its
// handshake state, the messages not read yet and the faulting threads
// that wait. It implements vfs.FileImpl and mm.Userfault.
type Userfaultfd struct {
	vfs.AnonFileBase
	m *mm.MM // holds a user reference until Release
	// blocking: the file was made without O_NONBLOCK, and polls as
	// POLLERR, as Linux's (a handler must not poll a file whose reads
	// block).
	blocking bool

	mu       sync.Mutex
	apiDone  bool
	features uint64
	msgs     [][uffdMsgSize]byte
	waiting  map[uint64][]chan struct{} // by page: threads waiting for it
	q        vfs.Queue
}

// UserfaultContext implements mm.Userfault.
func (u *Userfaultfd) UserfaultContext() {}

// NewUserfaultfd is userfaultfd(2) for t's memory: flags O_CLOEXEC,
// O_NONBLOCK and UFFD_USER_MODE_ONLY (EINVAL for others).
func (t *Task) NewUserfaultfd(flags int) (int, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|UffdUserModeOnly) != 0 {
		return 0, unix.EINVAL
	}
	t.MM.IncUsers()
	u := &Userfaultfd{m: t.MM, waiting: make(map[uint64][]chan struct{}), blocking: flags&unix.O_NONBLOCK == 0}
	st := uint32(unix.O_RDWR)
	if flags&unix.O_NONBLOCK != 0 {
		st |= unix.O_NONBLOCK
	}
	d := vfs.NewFileDescription(u, st, vfs.Path{}, vfs.FileOptions{})
	defer d.DecRef()
	n, err := t.Files.Install(d, 0, flags&unix.O_CLOEXEC != 0, t.NoFileLimit())
	return int(n), err
}

// Read implements vfs.FileImpl: whole messages (EINVAL for a buffer
// smaller than one, or before UFFDIO_API), waiting for the first.
func (u *Userfaultfd) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.apiDone || len(dst) < uffdMsgSize {
		return 0, unix.EINVAL
	}
	if err := vfs.WaitUntil(ctx, &u.q, vfs.EventIn, &u.mu, fd.NonBlocking(), func() bool { return len(u.msgs) > 0 }); err != nil {
		return 0, err
	}
	n := 0
	for len(u.msgs) > 0 && len(dst)-n >= uffdMsgSize {
		copy(dst[n:], u.msgs[0][:])
		u.msgs = u.msgs[1:]
		n += uffdMsgSize
	}
	return n, nil
}

// Write implements vfs.FileImpl: a userfaultfd is not written.
func (u *Userfaultfd) Write(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (u *Userfaultfd) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// Readiness implements vfs.FileImpl: readable while messages wait; an
// error, always, for a blocking file.
func (u *Userfaultfd) Readiness(mask vfs.EventMask) vfs.EventMask {
	if u.blocking {
		return vfs.EventErr
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var r vfs.EventMask
	if len(u.msgs) > 0 {
		r |= vfs.EventIn
	}
	return r & mask
}

// EventRegister implements vfs.FileImpl.
func (u *Userfaultfd) EventRegister(w *vfs.Waiter) { u.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (u *Userfaultfd) EventUnregister(w *vfs.Waiter) { u.q.Unregister(w) }

// Release implements vfs.FileImpl: the registrations end and every
// waiting thread goes on (its retry now backs the page as usual).
func (u *Userfaultfd) Release() {
	u.m.UserfaultUnregisterAll(u)
	u.wake(0, ^uint64(0))
	u.m.DecUsers()
}

// wake lets the threads waiting for pages in [start, end) go on.
func (u *Userfaultfd) wake(start, end uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for page, chs := range u.waiting {
		if page >= start && page < end {
			for _, ch := range chs {
				close(ch)
			}
			delete(u.waiting, page)
		}
	}
}

// Ioctl implements vfs.FileImpl: the UFFDIO_* requests.
func (u *Userfaultfd) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	t, ok := ctx.(*Task)
	if !ok {
		return 0, unix.ENOTTY
	}
	if cmd == uffdioAPI {
		return 0, u.api(t, arg)
	}
	u.mu.Lock()
	ready := u.apiDone
	u.mu.Unlock()
	if !ready {
		return 0, unix.EINVAL
	}
	switch cmd {
	case uffdioRegister:
		return 0, u.register(t, arg)
	case uffdioUnregister, uffdioWake:
		b := make([]byte, 16)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		start, end, err := u.userRange(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]))
		if err != nil {
			return 0, err
		}
		if cmd == uffdioWake {
			u.wake(start, end)
			return 0, nil
		}
		if err := u.m.UserfaultUnregister(start, end, u); err != nil {
			return 0, err
		}
		u.wake(start, end)
		return 0, nil
	case uffdioCopy, uffdioZeropage, uffdioMove, uffdioPoison, uffdioContinue:
		return 0, u.fill(t, cmd, arg)
	case uffdioWriteProt:
		return 0, u.writeProtect(t, arg)
	}
	return 0, unix.ENOTTY
}

// api is UFFDIO_API: the handshake, once (EINVAL again), for API 0xAA
// with features uk has.
func (u *Userfaultfd) api(t *Task, arg uint64) error {
	b := make([]byte, 24)
	if err := t.CopyIn(arg, b); err != nil {
		return err
	}
	want := binary.LittleEndian.Uint64(b[8:])
	u.mu.Lock()
	bad := u.apiDone || binary.LittleEndian.Uint64(b) != uffdAPI || want&^uffdFeatures != 0
	if !bad {
		u.apiDone, u.features = true, want
	}
	u.mu.Unlock()
	if bad {
		clear(b[8:])
		t.CopyOut(arg, b)
		return unix.EINVAL
	}
	binary.LittleEndian.PutUint64(b[8:], uffdFeatures)
	binary.LittleEndian.PutUint64(b[16:], uffdAPIIoctls)
	return t.CopyOut(arg, b)
}

// userRange checks a range of struct uffdio_range: page-aligned, not
// empty, inside the user address space (EINVAL).
func (u *Userfaultfd) userRange(start, length uint64) (uint64, uint64, error) {
	end := start + length
	if start&arch.PageMask != 0 || length&arch.PageMask != 0 || length == 0 || end < start || end > arch.TaskSizeMax {
		return 0, 0, unix.EINVAL
	}
	return start, end, nil
}

// register is UFFDIO_REGISTER: MISSING and WP modes.
func (u *Userfaultfd) register(t *Task, arg uint64) error {
	b := make([]byte, 32)
	if err := t.CopyIn(arg, b); err != nil {
		return err
	}
	mode := binary.LittleEndian.Uint64(b[16:])
	if mode == 0 || mode&^(mm.UserfaultMissing|mm.UserfaultWP|mm.UserfaultMinor) != 0 {
		return unix.EINVAL
	}
	start, end, err := u.userRange(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]))
	if err != nil {
		return err
	}
	if err := u.m.UserfaultRegister(start, end, u, uint8(mode)); err != nil {
		return err
	}
	ioctls := uint64(uffdRangeIoctls)
	if mode&mm.UserfaultWP != 0 {
		ioctls |= 1 << 0x06 // UFFDIO_WRITEPROTECT
	}
	if mode&mm.UserfaultMinor != 0 {
		ioctls = 1<<0x02 | 1<<0x07 // WAKE and CONTINUE
	}
	binary.LittleEndian.PutUint64(b[24:], ioctls)
	return t.CopyOut(arg+24, b[24:])
}

// writeProtect is UFFDIO_WRITEPROTECT: protect (MODE_WP) or release the
// range's pages; a release wakes the writers waiting there (unless
// MODE_DONTWAKE).
func (u *Userfaultfd) writeProtect(t *Task, arg uint64) error {
	b := make([]byte, 24)
	if err := t.CopyIn(arg, b); err != nil {
		return err
	}
	const modeWP, dontWake = 1, 2
	mode := binary.LittleEndian.Uint64(b[16:])
	if mode&^(modeWP|dontWake) != 0 || mode == modeWP|dontWake {
		return unix.EINVAL
	}
	start, end, err := u.userRange(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]))
	if err != nil {
		return err
	}
	pages := int(min(end-start, maxUffdCall*arch.PageSize) / arch.PageSize)
	if err := u.m.UserfaultWriteProtect(u, start, pages, mode&modeWP != 0); err != nil {
		return err
	}
	if mode&(modeWP|dontWake) == 0 {
		u.wake(start, end)
	}
	return nil
}

// mmapMinAddr is Linux's vm.mmap_min_addr default: no user mapping lies
// below it.
const mmapMinAddr = 65536

// maxUffdCall bounds the pages one fill request handles.
const maxUffdCall = 1 << 18

// maxUffdFill bounds the pages one UFFDIO_COPY reads from the caller at a
// time (the caller picks the length; uk's buffer stays this size).
const maxUffdFill = 256

// fill is UFFDIO_COPY, UFFDIO_ZEROPAGE and UFFDIO_MOVE: the pages go in,
// the waiting threads go on (unless DONTWAKE), and the count (or the
// error) is written back; a partial fill is EAGAIN, as Linux's.
func (u *Userfaultfd) fill(t *Task, cmd uint32, arg uint64) error {
	size := 40
	short := cmd == uffdioZeropage || cmd == uffdioPoison || cmd == uffdioContinue // a range, mode and count
	if short {
		size = 32
	}
	b := make([]byte, size)
	if err := t.CopyIn(arg, b); err != nil {
		return err
	}
	le := binary.LittleEndian
	var dst, src, length, mode uint64
	if short {
		dst, length, mode = le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:])
	} else {
		dst, src, length, mode = le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:])
	}
	const dontWake, allowHoles = 1, 2
	if mode&^(dontWake|allowHoles) != 0 || cmd != uffdioMove && mode&allowHoles != 0 {
		return unix.EINVAL
	}
	if _, _, err := u.userRange(dst, length); err != nil {
		return err
	}
	switch cmd {
	case uffdioCopy:
		// The source need only lie in the user address space (Linux's
		// validate_unaligned_range).
		if src < mmapMinAddr || src+length < src || src+length > arch.TaskSizeMax {
			return unix.EINVAL
		}
	case uffdioMove:
		if _, _, err := u.userRange(src, length); err != nil {
			return err
		}
		if src < dst+length && dst < src+length {
			return unix.EINVAL
		}
	}
	// One call does at most maxUffdCall pages (EAGAIN with the count,
	// as for any partial fill): the program picks the length, and a
	// terabyte of holes to move must not hold uk for minutes.
	asked := length
	length = min(length, maxUffdCall*arch.PageSize)
	pages := int(length / arch.PageSize)
	var done uint64
	var err error
	switch cmd {
	case uffdioMove:
		if t.MM != u.m {
			err = unix.EINVAL // moves stay within the registered memory
			break
		}
		done, err = u.m.UserfaultMove(u, dst, src, pages, mode&allowHoles != 0)
	case uffdioZeropage:
		done, err = u.m.UserfaultFill(u, dst, pages, nil)
	case uffdioPoison:
		done, err = u.m.UserfaultPoison(u, dst, pages)
	case uffdioContinue:
		done, err = u.m.UserfaultContinue(u, dst, pages)
	default:
		buf := make([]byte, min(pages, maxUffdFill)*arch.PageSize)
		for done < length && err == nil {
			n := min(uint64(len(buf)), length-done)
			if err = t.CopyIn(src+done, buf[:n]); err != nil {
				break
			}
			var d uint64
			d, err = u.m.UserfaultFill(u, dst+done, int(n/arch.PageSize), buf[:n])
			done += d
		}
	}
	if done > 0 && mode&dontWake == 0 {
		u.wake(dst, dst+done)
	}
	out := int64(done)
	var errno unix.Errno
	if err != nil && done == 0 {
		if !errors.As(err, &errno) {
			errno = unix.EFAULT
		}
		out = -int64(errno)
	}
	le.PutUint64(b[size-8:], uint64(out))
	if cerr := t.CopyOut(arg+uint64(size-8), b[size-8:]); cerr != nil {
		return cerr
	}
	switch {
	case done == 0 && err != nil:
		return errno
	case done < asked:
		return unix.EAGAIN
	}
	return nil
}

// waitUserfault is a thread's wait for a page of memory a userfaultfd
// handles (its access found it missing): it posts the fault and waits
// until the handler fills the page or wakes it, the file closes, or a
// signal or exit interrupts (ERESTARTSYS then). With UFFD_FEATURE_SIGBUS
// the access fails at once (errSigbus).
func (t *Task) waitUserfault(addr uint64, write bool) error {
	c, kind := t.MM.UserfaultAt(addr, write)
	u, ok := c.(*Userfaultfd)
	if !ok {
		return nil // filled or unregistered meanwhile: retry
	}
	page := arch.PageRoundDown(addr)
	u.mu.Lock()
	if u.features&uffdFeatureSigbus != 0 {
		u.mu.Unlock()
		return errUserfaultSigbus
	}
	if len(u.msgs) >= maxUffdMsgs {
		u.mu.Unlock()
		return errUserfaultSigbus
	}
	var msg [uffdMsgSize]byte
	msg[0] = uffdEventPagefault
	var flags uint64
	if write {
		flags |= uffdFlagWrite
	}
	flags |= uint64(kind) // UFFD_PAGEFAULT_FLAG_WP or _MINOR
	binary.LittleEndian.PutUint64(msg[8:], flags)
	reported := page
	if u.features&uffdFeatureExactAddr != 0 {
		reported = addr
	}
	binary.LittleEndian.PutUint64(msg[16:], reported)
	if u.features&uffdFeatureThreadID != 0 {
		binary.LittleEndian.PutUint32(msg[24:], uint32(t.tid))
	}
	ch := make(chan struct{})
	u.waiting[page] = append(u.waiting[page], ch)
	u.msgs = append(u.msgs, msg)
	u.mu.Unlock()
	u.q.Notify(vfs.EventIn)
	// Filled between the fault and the wait's start: go on.
	if now, _ := t.MM.UserfaultAt(addr, write); now != c {
		u.dropWaiter(page, ch)
		return nil
	}
	err := t.Block(ch)
	if err != nil {
		u.dropWaiter(page, ch)
	}
	return err
}

// dropWaiter forgets a wait that ended otherwise than by a wake.
func (u *Userfaultfd) dropWaiter(page uint64, ch chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	chs := u.waiting[page]
	for i, c := range chs {
		if c == ch {
			u.waiting[page] = append(chs[:i], chs[i+1:]...)
			break
		}
	}
	if len(u.waiting[page]) == 0 {
		delete(u.waiting, page)
	}
}

// errUserfaultSigbus: the access fails with SIGBUS (UFFD_FEATURE_SIGBUS,
// or a queue past its bound).
var errUserfaultSigbus = errors.New("userfaultfd: SIGBUS")

// UserfaultfdDevice is /dev/userfaultfd (misc 10:126): its one ioctl,
// USERFAULTFD_IOC_NEW, makes a userfaultfd for the caller's memory, as
// userfaultfd(2) does but with the device's permissions instead of
// CAP_SYS_PTRACE.
func UserfaultfdDevice() vfs.Device {
	return vfs.DeviceFunc(func(vfs.Context, vfs.Path, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
		return userfaultfdDev{}, vfs.FileOptions{}, nil
	})
}

// UserfaultfdDev are /dev/userfaultfd's major and minor numbers.
var UserfaultfdDev = [2]uint32{10, 126}

type userfaultfdDev struct{ vfs.FileBase }

func (userfaultfdDev) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	t, ok := ctx.(*Task)
	if !ok || cmd != UserfaultfdIocNew {
		return 0, unix.ENOTTY
	}
	n, err := t.NewUserfaultfd(int(arg))
	return uintptr(n), err
}
