package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// lsm_list_modules(2), lsm_get_self_attr(2) and lsm_set_self_attr(2): the
// security modules uk has are the capability checks and Landlock, neither
// of which keeps process attributes (only SELinux, AppArmor and Smack
// do), so getting and setting them ends in EOPNOTSUPP after Linux's
// argument checks (security/lsm_syscalls.c and security/security.c).

// LSM ids (include/uapi/linux/lsm.h), in the order Linux lists them.
var lsmIDs = []uint64{
	100, // LSM_ID_CAPABILITY
	110, // LSM_ID_LANDLOCK
}

// lsmFlagSingle is LSM_FLAG_SINGLE: one module's attribute.
const lsmFlagSingle = 1

// lsmCtxHeader is struct lsm_ctx without its context: id, flags, len,
// ctx_len (u64 each).
const lsmCtxHeader = 32

func sysLsmListModules(t *kernel.Task, a [6]uint64) (uint64, error) {
	ids, sizeAddr, flags := a[0], a[1], uint32(a[2])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := t.CopyIn(sizeAddr, b[:]); err != nil {
		return 0, err
	}
	have := binary.LittleEndian.Uint32(b[:])
	total := uint32(len(lsmIDs) * 8)
	binary.LittleEndian.PutUint32(b[:], total)
	if err := t.CopyOut(sizeAddr, b[:]); err != nil {
		return 0, err
	}
	if have < total {
		return 0, unix.E2BIG
	}
	out := make([]byte, total)
	for i, id := range lsmIDs {
		binary.LittleEndian.PutUint64(out[i*8:], id)
	}
	if err := t.CopyOut(ids, out); err != nil {
		return 0, err
	}
	return uint64(len(lsmIDs)), nil
}

func sysLsmGetSelfAttr(t *kernel.Task, a [6]uint64) (uint64, error) {
	attr, ctxAddr, sizeAddr, flags := a[0], a[1], a[2], uint32(a[3])
	if attr == 0 || flags&^lsmFlagSingle != 0 || sizeAddr == 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := t.CopyIn(sizeAddr, b[:]); err != nil {
		return 0, err
	}
	if flags != 0 {
		// One module's: the caller names it in ctx's id.
		if ctxAddr == 0 {
			return 0, unix.EINVAL
		}
		var c [lsmCtxHeader]byte
		if err := t.CopyIn(ctxAddr, c[:]); err != nil {
			return 0, err
		}
		if binary.LittleEndian.Uint64(c[:]) == 0 {
			return 0, unix.EINVAL
		}
	}
	// No module has attributes: nothing was written, size 0.
	binary.LittleEndian.PutUint32(b[:], 0)
	if err := t.CopyOut(sizeAddr, b[:]); err != nil {
		return 0, err
	}
	return 0, unix.EOPNOTSUPP
}

func sysLsmSetSelfAttr(t *kernel.Task, a [6]uint64) (uint64, error) {
	ctxAddr, size, flags := a[1], a[2], uint32(a[3])
	if flags != 0 || size < lsmCtxHeader {
		return 0, unix.EINVAL
	}
	if size > arch.PageSize {
		return 0, unix.E2BIG
	}
	buf := make([]byte, size)
	if err := t.CopyIn(ctxAddr, buf); err != nil {
		return 0, err
	}
	length := binary.LittleEndian.Uint64(buf[16:])
	ctxLen := binary.LittleEndian.Uint64(buf[24:])
	if size < length || ctxLen > size-lsmCtxHeader || length < ctxLen+lsmCtxHeader {
		return 0, unix.EINVAL
	}
	return 0, unix.EOPNOTSUPP
}
