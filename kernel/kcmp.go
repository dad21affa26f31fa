package kernel

import (
	"math/rand/v2"
	"reflect"
	"slices"

	"golang.org/x/sys/unix"

	"uk/fs/epoll"
	"uk/fs/vfs"
)

// kcmp(2)'s identities: which kernel object a task uses for each kind of
// resource it may share with others. Linux compares the objects'
// addresses; uk does too, each being one Go object shared by exactly the
// tasks that share the resource:
//   - KCMP_VM: the MM (CLONE_VM);
//   - KCMP_FILES: the descriptor table (CLONE_FILES);
//   - KCMP_FS: the root and working directory (CLONE_FS);
//   - KCMP_SIGHAND: the signal handler table (signal_handlers.go);
//   - KCMP_IO: none, ever: uk has no I/O contexts, and Linux's is NULL for
//     a task that never called ioprio_set under an I/O scheduler without
//     per-process contexts (all but BFQ), so every two tasks compare equal
//     as they do there;
//   - KCMP_SYSVSEM: the SysV semaphore undo list (task_sysvsem.go);
//   - KCMP_FILE: the open file description.

// Kcmp types (include/uapi/linux/kcmp.h).
const (
	KcmpFile = iota
	KcmpVM
	KcmpFiles
	KcmpFS
	KcmpSighand
	KcmpIO
	KcmpSysvsem
	KcmpEpollTFD
	kcmpTypes
)

// kcmpCookies obfuscate the addresses kcmp orders, as Linux's
// kptr_obfuscate: the order is stable for the life of the objects and
// antisymmetric, but tells a program nothing of uk's heap. The multiplier
// is odd (a bijection) with its top bit set, as Linux's.
var kcmpCookies = func() (c [kcmpTypes][2]uint64) {
	for i := range c {
		c[i] = [2]uint64{rand.Uint64(), rand.Uint64() | 1<<63 | 1}
	}
	return c
}()

// addrOf is the address of the object p (a pointer; nil is 0). Go's
// collector never moves heap objects, and everything kcmp compares is on
// the heap and alive while it is compared.
func addrOf(p any) uintptr { return reflect.ValueOf(p).Pointer() }

// kcmpOrder is Linux's kcmp_ptr: 0 for the same object, 1 if a orders
// before b, 2 after.
func kcmpOrder(typ int, a, b uintptr) uint64 {
	c := kcmpCookies[typ]
	ka, kb := (uint64(a)^c[0])*c[1], (uint64(b)^c[0])*c[1]
	var r uint64
	if ka < kb {
		r |= 1
	}
	if ka > kb {
		r |= 2
	}
	return r
}

// kcmpObject is the address of the object of kcmp type typ (KcmpVM to
// KcmpSysvsem) that t uses.
func (t *Task) kcmpObject(typ int) uintptr {
	switch typ {
	case KcmpVM:
		t.tg.mu.Lock() // exec replaces the MM under it
		defer t.tg.mu.Unlock()
		return addrOf(t.MM)
	case KcmpFiles:
		return addrOf(t.Files)
	case KcmpFS:
		return addrOf(t.FS)
	case KcmpSighand:
		return addrOf(t.tg.handlers())
	case KcmpSysvsem:
		return addrOf(t.semUndo.Load())
	}
	return 0 // KcmpIO
}

// KcmpTasks is kcmp's answer for types KcmpVM to KcmpSysvsem: whether t1
// and t2 use one object of that type (0), or how the two order (1, 2).
func KcmpTasks(typ int, t1, t2 *Task) uint64 {
	return kcmpOrder(typ, t1.kcmpObject(typ), t2.kcmpObject(typ))
}

// KcmpFileDescriptions is kcmp's answer for two open file descriptions
// (KCMP_FILE, KCMP_EPOLL_TFD).
func KcmpFileDescriptions(d1, d2 *vfs.FileDescription) uint64 {
	return kcmpOrder(KcmpFile, addrOf(d1), addrOf(d2))
}

// KcmpEpollTarget is the file an epoll instance watches under descriptor
// number fd, the toff-th in the instance's order when that number names
// several (closed and reused while the first file stayed open), as
// Linux's get_epoll_tfile_raw_ptr: EINVAL if ep is no epoll, ENOENT if
// there is no such file. Linux's order is its tree's, by the files'
// addresses; so is this one.
func KcmpEpollTarget(ep *vfs.FileDescription, fd int32, toff uint32) (*vfs.FileDescription, error) {
	e := epoll.Of(ep)
	if e == nil {
		return nil, unix.EINVAL
	}
	files := e.Targets(fd)
	slices.SortFunc(files, func(a, b *vfs.FileDescription) int {
		switch x, y := addrOf(a), addrOf(b); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	if uint64(toff) >= uint64(len(files)) {
		return nil, unix.ENOENT
	}
	return files[toff], nil
}
