package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

func sysProcessVMReadv(t *kernel.Task, a [6]uint64) (uint64, error) {
	return processVM(t, a, false)
}

func sysProcessVMWritev(t *kernel.Task, a [6]uint64) (uint64, error) {
	return processVM(t, a, true)
}

// processVM is process_vm_readv (write false) and process_vm_writev:
// the bytes of the local vector and of the remote one, in order, are
// copied between the caller's memory and process pid's, a page of the
// remote side at a time. The checks come in Linux's order: flags, the
// local vector (a vector of no bytes ends the call), the remote vector,
// the process and the right to ptrace it. A fault on either side ends
// the copy: the bytes copied by then, or EFAULT if none.
func processVM(t *kernel.Task, a [6]uint64, write bool) (uint64, error) {
	pid, lvec, lcnt, rvec, rcnt, flags := int32(a[0]), a[1], a[2], a[3], a[4], a[5]
	if flags != 0 {
		return 0, unix.EINVAL
	}
	local, err := iovecs(t, lvec, lcnt)
	if err != nil {
		return 0, err
	}
	var want uint64
	for _, v := range local {
		if !accessOK(v[0], v[1]) { // import_iovec's check, before any copy
			return 0, unix.EFAULT
		}
		want += v[1]
	}
	if want == 0 {
		return 0, nil
	}
	remote, err := iovecs(t, rvec, rcnt)
	if err != nil {
		return 0, err
	}
	remoteBytes := false
	for _, v := range remote {
		remoteBytes = remoteBytes || v[1] != 0
	}
	if !remoteBytes {
		return 0, nil
	}
	if pid <= 0 {
		return 0, unix.ESRCH
	}
	m, err := t.RemoteMM(pid)
	if err != nil {
		return 0, err
	}
	defer m.DecUsers()

	var buf [arch.PageSize]byte
	var done uint64
	li, loff := 0, uint64(0)
	for _, r := range remote {
		for roff := uint64(0); roff < r[1]; {
			for li < len(local) && loff == local[li][1] {
				li, loff = li+1, 0
			}
			if li == len(local) {
				return done, nil
			}
			raddr, laddr := r[0]+roff, local[li][0]+loff
			n := min(r[1]-roff, local[li][1]-loff, arch.PageSize-raddr%arch.PageSize)
			chunk := buf[:n]
			if write {
				err = t.CopyIn(laddr, chunk)
				if err == nil {
					err = m.CopyOut(raddr, chunk)
				}
			} else {
				err = m.CopyIn(raddr, chunk)
				if err == nil {
					err = t.CopyOut(laddr, chunk)
				}
			}
			if err != nil {
				if done > 0 {
					return done, nil
				}
				return 0, unix.EFAULT
			}
			done += n
			roff += n
			loff += n
		}
	}
	return done, nil
}
