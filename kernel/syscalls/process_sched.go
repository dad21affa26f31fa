package syscalls

import (
	"crypto/rand"
	"encoding/binary"
	"runtime"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

func sysPrlimit64(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, res, newAddr, oldAddr := int32(a[0]), int(a[1]), a[2], a[3]
	if pid != 0 && pid != t.PID() {
		return 0, unix.ESRCH
	}
	return 0, rlimit(t, res, newAddr, oldAddr)
}

func rlimit(t *kernel.Task, res int, newAddr, oldAddr uint64) error {
	if res < 0 || res >= 16 {
		return unix.EINVAL
	}
	tg := t.ThreadGroup()
	old := tg.Rlimit(res)
	if newAddr != 0 {
		var b [16]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return err
		}
		l := kernel.Rlimit{Cur: binary.LittleEndian.Uint64(b[0:]), Max: binary.LittleEndian.Uint64(b[8:])}
		if l.Cur > l.Max {
			return unix.EINVAL
		}
		if l.Max > old.Max && !t.Credentials().Privileged {
			return unix.EPERM
		}
		if res == unix.RLIMIT_NOFILE && l.Max > 1<<20 {
			return unix.EPERM
		}
		tg.SetRlimit(res, l)
	}
	if oldAddr != 0 {
		return t.CopyOut(oldAddr, words(old.Cur, old.Max))
	}
	return nil
}

func sysGetrlimit(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, rlimit(t, int(a[0]), 0, a[1])
}

func sysSetrlimit(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, rlimit(t, int(a[0]), a[1], 0)
}

func sysGetrandom(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, n, flags := a[0], a[1], a[2]
	if flags&^uint64(unix.GRND_NONBLOCK|unix.GRND_RANDOM|0x4 /* GRND_INSECURE */) != 0 ||
		flags&0x4 != 0 && flags&unix.GRND_RANDOM != 0 {
		return 0, unix.EINVAL
	}
	n = min(n, 1<<25-1) // Linux caps one call at 32 MiB - 1
	buf := make([]byte, min(n, 64<<10))
	var done uint64
	for done < n {
		chunk := buf[:min(uint64(len(buf)), n-done)]
		rand.Read(chunk)
		if err := t.CopyOut(addr+done, chunk); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		done += uint64(len(chunk))
	}
	return done, nil
}

// cpuMaskBytes is the size of the affinity mask uk reports: enough bits for
// the host's CPUs, rounded up to a word as Linux does.
func cpuMaskBytes() int { return (runtime.NumCPU() + 63) / 64 * 8 }

func sysSchedGetaffinity(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, size, addr := int32(a[0]), a[1], a[2]
	if pid != 0 && pid != t.TID() && pid != t.PID() {
		return 0, unix.ESRCH
	}
	n := cpuMaskBytes()
	if size < uint64(n) || size&7 != 0 {
		return 0, unix.EINVAL
	}
	mask := make([]byte, n)
	for i := 0; i < runtime.NumCPU(); i++ {
		mask[i/8] |= 1 << (i % 8)
	}
	if err := t.CopyOut(addr, mask); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

func sysSchedSetaffinity(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid := int32(a[0])
	if pid != 0 && pid != t.TID() && pid != t.PID() {
		return 0, unix.ESRCH
	}
	return 0, nil
}

func sysSchedYield(t *kernel.Task, a [6]uint64) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

func sysRseq(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, unix.ENOSYS }
