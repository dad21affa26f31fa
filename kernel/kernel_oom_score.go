package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/mm"
)

// The OOM killer's measure of a process, as Linux's oom_badness: the
// pages its death would give back (private pages, and the shared ones its
// mappings keep resident), moved by its oom_score_adj in thousandths of
// the sandbox's memory. An adjustment of OOMScoreAdjMin exempts the
// process: a supervisor (a fuzzer's parent, a CI runner) sets it on
// itself so that only what it runs can be chosen.

// OOMScoreAdjMin and OOMScoreAdjMax bound oom_score_adj (Linux's
// OOM_SCORE_ADJ_MIN and _MAX).
const (
	OOMScoreAdjMin = -1000
	OOMScoreAdjMax = 1000
)

// OOMScoreAdj is the process's oom_score_adj.
func (tg *ThreadGroup) OOMScoreAdj() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.oomAdj
}

// SetOOMScoreAdj sets the process's oom_score_adj to v. Going below the
// lowest value a privileged writer set (0 at first) takes CAP_SYS_RESOURCE
// (EACCES), and a privileged writer's value becomes that floor, as in
// Linux's __set_oom_adj; a value out of range is EINVAL.
func (tg *ThreadGroup) SetOOMScoreAdj(v int, privileged bool) error {
	if v < OOMScoreAdjMin || v > OOMScoreAdjMax {
		return unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if v < tg.oomAdjMin && !privileged {
		return unix.EACCES
	}
	tg.oomAdj = v
	if privileged {
		tg.oomAdjMin = v
	}
	return nil
}

// oomBadness is the OOM killer's measure of the process with address
// space m among total pages of memory, and whether it may be chosen at
// all (not with OOMScoreAdjMin).
func (tg *ThreadGroup) oomBadness(m *mm.MM, total int64) (int64, bool) {
	adj := tg.OOMScoreAdj()
	if adj == OOMScoreAdjMin {
		return 0, false
	}
	return int64(m.PrivatePages()+m.SharedResidentPages()) + int64(adj)*total/1000, true
}

// OOMScore is /proc/PID/oom_score: the badness scaled to 0..2000, a process
// with adjustment 0 and no memory at 666, as Linux's proc_oom_score (0 for
// an exempt process or one whose memory is gone).
func (tg *ThreadGroup) OOMScore() int {
	m := tg.mm()
	total := tg.k.oomTotalPages()
	if m == nil || total == 0 {
		return 0
	}
	b, ok := tg.oomBadness(m, total)
	if !ok {
		return 0
	}
	return int(max(0, min(2000, (1000+b*1000/total)*2/3)))
}

// oomTotalPages is the sandbox's memory in pages (Linux's totalpages).
func (k *Kernel) oomTotalPages() int64 {
	if k.MemFile == nil {
		return 0
	}
	return k.MemFile.Size() >> arch.PageShift
}
