package proc

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// smapsTotals are the kilobyte counts of one smaps entry, or of the
// rollup's sum of them.
type smapsTotals struct {
	rss, sharedDirty, privateDirty, anon, locked uint64
	// PSS, bytes << PSSShift, by kind of page.
	pssAnon, pssShmem uint64
}

// add counts u in t. uk never swaps, every resident page it counts is
// dirty (a private copy, or a page of a shared object, which Linux keeps
// dirty until it is written back to swap), and a page is referenced as
// long as it is resident.
func (t *smapsTotals) add(u *MappingUsage) {
	const kb = 4 // kB a page
	object := uint64(u.Object) * kb
	t.rss += uint64(u.Private)*kb + object
	t.anon += uint64(u.Private) * kb
	t.sharedDirty += uint64(u.PrivateShared) * kb
	t.privateDirty += uint64(u.Private-u.PrivateShared) * kb
	if u.ObjectShared {
		t.sharedDirty += object
	} else {
		t.privateDirty += object
	}
	t.pssAnon += u.PSSPrivate
	t.pssShmem += u.PSSObject
	if u.Locked {
		t.locked += u.PSSPrivate + u.PSSObject
	}
}

// pssKB converts a PSS in bytes << PSSShift to kilobytes, as Linux
// rounds it (down).
func pssKB(pss uint64) uint64 { return pss >> (10 + PSSShift) }

// smapsLine appends one "Name:    value kB" line as Linux aligns it: the
// name and colon in 16 columns, the value right-aligned in 8.
func smapsLine(b []byte, name string, v uint64, unit string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	for i := len(name) + 1; i < 16; i++ {
		b = append(b, ' ')
	}
	var num [20]byte
	d := strconv.AppendUint(num[:0], v, 10)
	for i := len(d); i < 8; i++ {
		b = append(b, ' ')
	}
	b = append(b, d...)
	b = append(b, unit...)
	return append(b, '\n')
}

// write appends the counts in smaps' format; rollup adds the PSS by kind
// of page after Pss_Dirty, as smaps_rollup shows it.
func (t *smapsTotals) write(b []byte, rollup bool) []byte {
	line := func(name string, kb uint64) { b = smapsLine(b, name, kb, " kB") }
	pss := pssKB(t.pssAnon + t.pssShmem)
	line("Rss", t.rss)
	line("Pss", pss)
	line("Pss_Dirty", pss)
	if rollup {
		line("Pss_Anon", pssKB(t.pssAnon))
		line("Pss_File", 0)
		line("Pss_Shmem", pssKB(t.pssShmem))
	}
	line("Shared_Clean", 0)
	line("Shared_Dirty", t.sharedDirty)
	line("Private_Clean", 0)
	line("Private_Dirty", t.privateDirty)
	line("Referenced", t.rss)
	line("Anonymous", t.anon)
	for _, name := range []string{"KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
		"Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss"} {
		line(name, 0)
	}
	line("Locked", pssKB(t.locked))
	return b
}

// smapsEntrySize is more than one mapping's smaps entry takes (about 860
// bytes with a long path): the buffer is sized once, so that generating a
// big file holds no more than it keeps (a growing buffer would hold up to
// three times that while it copies).
const smapsEntrySize = 1100

// pidSmaps renders /proc/PID/smaps: each mapping's maps line, then what
// it holds in memory (MappingUsage says what uk counts) and its VmFlags.
// Pages a private mapping reads of a file without copying them (a
// program's text) are not counted, so Rss and Pss are smaller than
// Linux's by those.
func pidSmaps(_ vfs.Context, t Task) ([]byte, error) {
	us := t.Smaps()
	b := make([]byte, 0, len(us)*smapsEntrySize)
	var line strings.Builder
	for i := range us {
		u := &us[i]
		line.Reset()
		writeMapsLine(&line, u.Mapping)
		b = append(b, line.String()...)
		b = smapsLine(b, "Size", (u.End-u.Start)>>10, " kB")
		b = smapsLine(b, "KernelPageSize", 4, " kB")
		b = smapsLine(b, "MMUPageSize", 4, " kB")
		var tot smapsTotals
		tot.add(u)
		b = tot.write(b, false)
		b = smapsLine(b, "THPeligible", 0, "")
		b = append(b, "VmFlags:"...)
		for _, f := range u.Flags {
			b = append(b, ' ')
			b = append(b, f...)
		}
		b = append(b, " \n"...)
	}
	return b, nil
}

// pidSmapsRollup renders /proc/PID/smaps_rollup: smaps' counts summed
// over the program's mappings, under one line spanning them. A process
// without memory (a zombie) has none: ESRCH, as Linux's read gives.
func pidSmapsRollup(_ vfs.Context, t Task) ([]byte, error) {
	if !t.HasMemory() {
		return nil, unix.ESRCH
	}
	us := t.Smaps()
	if len(us) == 0 || us[0].Platform {
		return nil, unix.ESRCH
	}
	var tot smapsTotals
	end := uint64(0)
	for i := range us {
		if !us[i].Platform {
			tot.add(&us[i])
			end = max(end, us[i].End)
		}
	}
	var line strings.Builder
	writeMapsLine(&line, Mapping{Start: us[0].Start, End: end, Name: "[rollup]"})
	return tot.write([]byte(line.String()), true), nil
}
