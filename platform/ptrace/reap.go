package ptrace

import (
	"encoding/binary"

	"uk/platform/internal/stubproc"

	"golang.org/x/sys/unix"
)

// reap collects killed stub threads. Any thread of uk may wait for any
// tracee of any other uk thread, so this needs no particular OS thread. A
// traced thread group leader cannot be reaped before its other threads are,
// so what cannot be reaped yet is kept and retried on the next call. It
// returns how many are left.
func (p *Platform) reap(tids ...int) int {
	p.zmu.Lock()
	defer p.zmu.Unlock()
	p.zombies = append(p.zombies, tids...)
	// Threads first, leaders last: a leader becomes reapable only once its
	// threads are gone.
	for pass := 0; pass < 2; pass++ {
		keep := p.zombies[:0]
		for _, tid := range p.zombies {
			r, _, err := stubproc.Wait4(tid, unix.WNOHANG)
			if r == tid || err == unix.ECHILD {
				continue
			}
			keep = append(keep, tid)
		}
		p.zombies = keep
	}
	return len(p.zombies)
}

func putUint64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }
