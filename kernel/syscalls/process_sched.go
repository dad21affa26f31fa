package syscalls

import (
	"runtime"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

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
