package syscalls

import (
	"encoding/binary"
	"time"

	"uk/kernel"
)

// sysSysinfo is sysinfo(2), from the sandbox's own accounting: its
// uptime, its memory as /proc/meminfo reports it (the --mem budget and
// what is free of it), no swap, and its number of threads. GNU sort sizes
// its buffer from this; without it sort spilled to thousands of
// temporary files.
func sysSysinfo(t *kernel.Task, a [6]uint64) (uint64, error) {
	k := t.Kernel()
	src := k.ProcSource()
	// struct sysinfo on x86-64: 112 bytes.
	var b [112]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(time.Since(k.Boot)/time.Second)) // uptime
	// loads[3] at 8, 16, 24: uk keeps no load average (/proc/loadavg is 0).
	le.PutUint64(b[32:], src.MemTotal()) // totalram
	le.PutUint64(b[40:], src.MemFree())  // freeram
	// sharedram, bufferram, totalswap, freeswap at 48..72 stay 0.
	procs := len(src.PIDs())
	le.PutUint16(b[80:], uint16(min(procs, 0xffff))) // procs
	// totalhigh, freehigh at 88, 96 stay 0.
	le.PutUint32(b[104:], 1) // mem_unit
	return 0, t.CopyOut(a[0], b[:])
}

// sysGetcpu is getcpu(2). uk does not pin tasks to CPUs and the host
// does not say where a stub runs, so every task reports CPU 0 of node 0,
// a CPU it may run on (sched_getaffinity includes it). The third
// argument (tcache) is unused since Linux 2.6.24.
func sysGetcpu(t *kernel.Task, a [6]uint64) (uint64, error) {
	var z [4]byte
	for _, addr := range a[:2] {
		if addr != 0 {
			if err := t.CopyOut(addr, z[:]); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}
