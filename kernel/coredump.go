package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/ipc"
	"uk/kernel/mm"
)

// Core dumps. A process killed by a signal whose default action dumps core
// (SIGQUIT, SIGSEGV, SIGABRT...) writes an ELF core file named "core" in
// its working directory, as Linux's do_coredump with the default
// core_pattern, when RLIMIT_CORE allows at least a page and the process is
// dumpable; only then does its wait status carry WCOREDUMP (0x80), so that
// a shell's "(core dumped)" names a file that exists. The file holds what
// gdb needs: the dumping thread's registers (NT_PRSTATUS), its FP state
// (NT_FPREGSET), the process's description (NT_PRPSINFO), the signal
// (NT_SIGINFO), the auxiliary vector (NT_AUXV), and a PT_LOAD segment per
// mapping, with the memory the core dump filter asks for
// (/proc/PID/coredump_filter: anonymous memory by default, and the first
// page of each ELF image). Pages never touched are left as holes, as Linux
// skips them. Other threads' registers are not included: uk does not stop
// them for the dump as Linux's coredump_wait does.

// ELF core layout constants.
const (
	coreEhdrSize = 64
	corePhdrSize = 56
	corePrstatus = 336 // struct elf_prstatus
	corePrpsinfo = 136 // struct elf_prpsinfo
	coreSiginfo  = 128
	ntPrstatus   = 1
	ntFPRegset   = 2
	ntPrpsinfo   = 3
	ntAuxv       = 6
	ntSiginfo    = 0x53494749
	ptLoad       = 1
	ptNote       = 4
)

// Core dump filter bits (Linux's MMF_DUMP_*).
const (
	dumpAnonPrivate  = 1 << 0
	dumpAnonShared   = 1 << 1
	dumpMappedPriv   = 1 << 2
	dumpMappedShared = 1 << 3
	dumpELFHeaders   = 1 << 4
)

// dumpsCore reports whether sig's default action dumps core.
func dumpsCore(sig int) bool { return arch.DefaultAction(sig) == arch.ActionCoreDump }

// killWithCore ends the process with sig, dumping core first if the
// signal, the limit and the process allow it.
func (t *Task) killWithCore(sig int, info *arch.SignalInfo) {
	status := sig
	if dumpsCore(sig) && t.writeCore(sig, info) {
		status |= 0x80
	}
	t.tg.killStatus(sig, status)
}

// coreSegment is one PT_LOAD of the dump: the mapping and how much of it
// the file holds (0: its place only).
type coreSegment struct {
	vma  mm.VMA
	size uint64
}

// writeCore writes the core file and reports whether it did.
func (t *Task) writeCore(sig int, info *arch.SignalInfo) bool {
	limit := t.tg.Rlimit(unix.RLIMIT_CORE).Cur
	if limit < arch.PageSize || t.tg.Dumpable() != 1 || t.MM == nil {
		return false
	}
	v, at, err := t.At(AtFDCWD, "core")
	if err != nil {
		return false
	}
	// As Linux: an old core goes first; the new one is made afresh, never
	// through a link, and must be a regular file of the dumper's alone.
	v.UnlinkAt(t, at, "core", 0)
	d, err := v.OpenAt(t, at, "core", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return false
	}
	defer d.DecRef()
	if st, err := d.Stat(t); err != nil || st.Type() != unix.S_IFREG || st.Nlink != 1 || st.UID != t.Credentials().FSUID {
		return false
	}
	segs := t.coreSegments()
	notes := t.coreNotes(sig, info)
	w := coreWriter{t: t, d: d, limit: limit, ok: true}
	w.write(coreHeaders(segs, uint64(len(notes))))
	w.write(notes)
	off := pageUp(w.off)
	w.off = off
	for _, s := range segs {
		t.dumpSegment(&w, s)
		w.off = off + s.size
		off += s.size
	}
	return w.ok
}

// coreSegments picks, for each mapping, how much of it the dump holds,
// as Linux's vma_dump_size does with the process's filter.
func (t *Task) coreSegments() []coreSegment {
	filter := t.tg.DumpFilter()
	var segs []coreSegment
	for _, u := range t.MM.Usage() {
		v := u.VMA
		size := v.End - v.Start
		var dump bool
		switch {
		case v.Shared:
			// An object nothing names any more (shared anonymous memory,
			// a System V segment) is anonymous; a file's is mapped.
			if v.Ino == 0 || v.Dev == ipc.ShmDevice {
				dump = filter&dumpAnonShared != 0
			} else {
				dump = filter&dumpMappedShared != 0
			}
		case u.Private > 0 && filter&dumpAnonPrivate != 0:
			dump = true // written memory: anonymous, or a file's copy
		case v.Object == nil:
		case filter&dumpMappedPriv != 0:
			dump = true
		case filter&dumpELFHeaders != 0 && v.Pgoff == 0 && v.Prot&1 != 0:
			var magic [4]byte
			if t.MM.AccessForced(v.Start, magic[:], false) == nil && string(magic[:]) == "\x7fELF" {
				segs = append(segs, coreSegment{vma: v, size: arch.PageSize})
				continue
			}
		}
		if !dump {
			size = 0
		}
		segs = append(segs, coreSegment{vma: v, size: size})
	}
	return segs
}

// coreHeaders is the ELF header and the program headers: the notes, then
// a PT_LOAD per segment, page-aligned after the notes.
func coreHeaders(segs []coreSegment, notesLen uint64) []byte {
	le := binary.LittleEndian
	n := 1 + len(segs)
	b := make([]byte, coreEhdrSize+n*corePhdrSize)
	copy(b, "\x7fELF\x02\x01\x01") // 64-bit, little-endian, version 1, System V
	le.PutUint16(b[16:], 4)        // ET_CORE
	le.PutUint16(b[18:], 62)       // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], coreEhdrSize) // e_phoff
	le.PutUint16(b[52:], coreEhdrSize)
	le.PutUint16(b[54:], corePhdrSize)
	le.PutUint16(b[56:], uint16(n))
	ph := func(i int, typ, flags uint32, off, vaddr, filesz, memsz, align uint64) {
		p := b[coreEhdrSize+i*corePhdrSize:]
		le.PutUint32(p[0:], typ)
		le.PutUint32(p[4:], flags)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], vaddr)
		le.PutUint64(p[32:], filesz)
		le.PutUint64(p[40:], memsz)
		le.PutUint64(p[48:], align)
	}
	notesOff := uint64(len(b))
	ph(0, ptNote, 0, notesOff, 0, notesLen, 0, 0)
	off := pageUp(notesOff + notesLen)
	for i, s := range segs {
		var flags uint32
		if s.vma.Prot&1 != 0 { // platform.Read
			flags |= 4
		}
		if s.vma.Prot&2 != 0 { // platform.Write
			flags |= 2
		}
		if s.vma.Prot&4 != 0 { // platform.Exec
			flags |= 1
		}
		ph(1+i, ptLoad, flags, off, s.vma.Start, s.size, s.vma.End-s.vma.Start, arch.PageSize)
		off += s.size
	}
	return b
}

// coreNotes is the PT_NOTE segment's contents.
func (t *Task) coreNotes(sig int, info *arch.SignalInfo) []byte {
	le := binary.LittleEndian
	var notes []byte
	note := func(typ uint32, desc []byte) {
		h := make([]byte, 12)
		le.PutUint32(h[0:], 5) // "CORE\0"
		le.PutUint32(h[4:], uint32(len(desc)))
		le.PutUint32(h[8:], typ)
		notes = append(notes, h...)
		notes = append(notes, "CORE\x00\x00\x00\x00"...)
		notes = append(notes, desc...)
		for len(notes)%4 != 0 {
			notes = append(notes, 0)
		}
	}
	c := t.Credentials()
	pr := make([]byte, corePrstatus)
	le.PutUint32(pr[0:], uint32(sig)) // pr_info.si_signo
	le.PutUint32(pr[4:], uint32(info.Code))
	le.PutUint16(pr[12:], uint16(sig)) // pr_cursig
	le.PutUint64(pr[24:], uint64(t.SigMask()))
	le.PutUint32(pr[32:], uint32(t.tid))
	le.PutUint32(pr[36:], uint32(t.tg.ParentPID()))
	le.PutUint32(pr[40:], uint32(t.tg.ProcessGroup()))
	le.PutUint32(pr[44:], uint32(t.tg.Session()))
	copy(pr[112:], arch.EncodeRegs(&t.State.Regs))
	le.PutUint32(pr[328:], 1) // pr_fpvalid
	note(ntPrstatus, pr)
	t.State.SyncFP()
	fp := make([]byte, arch.UserFPRegsSize)
	copy(fp, t.State.FP)
	note(ntFPRegset, fp)
	ps := make([]byte, corePrpsinfo)
	ps[0], ps[1] = 0, 'R' // pr_state, pr_sname
	le.PutUint32(ps[16:], c.UID)
	le.PutUint32(ps[20:], c.GID)
	le.PutUint32(ps[24:], uint32(t.tg.pid))
	le.PutUint32(ps[28:], uint32(t.tg.ParentPID()))
	le.PutUint32(ps[32:], uint32(t.tg.ProcessGroup()))
	le.PutUint32(ps[36:], uint32(t.tg.Session()))
	copy(ps[40:55], t.Comm())
	if args, err := t.MM.KernelBytes(t.MM.ArgStart, int(min(t.MM.ArgEnd-t.MM.ArgStart, 79)), false); err == nil {
		a := append([]byte(nil), args...)
		for i, ch := range a {
			if ch == 0 {
				a[i] = ' '
			}
		}
		copy(ps[56:135], a)
	}
	note(ntPrpsinfo, ps)
	si := make([]byte, coreSiginfo)
	le.PutUint32(si[0:], uint32(sig))
	le.PutUint32(si[8:], uint32(info.Code))
	le.PutUint64(si[16:], info.Addr)
	note(ntSiginfo, si)
	if len(t.MM.Auxv) > 0 {
		note(ntAuxv, t.MM.Auxv)
	}
	return notes
}

// dumpSegment writes the pages of s the process has, at the segment's
// place in the file; others stay holes.
func (t *Task) dumpSegment(w *coreWriter, s coreSegment) {
	if s.size == 0 {
		return
	}
	start := w.off
	pages := s.size / arch.PageSize
	addrs := make([]uint64, 0, 64)
	states := make([]mm.PageState, 64)
	buf := make([]byte, arch.PageSize)
	for i := uint64(0); i < pages && w.ok; i += 64 {
		addrs = addrs[:0]
		for j := i; j < min(i+64, pages); j++ {
			addrs = append(addrs, s.vma.Start+j*arch.PageSize)
		}
		t.MM.PageStates(addrs, states[:len(addrs)])
		for k, a := range addrs {
			if states[k] != mm.PagePresent {
				continue
			}
			if t.MM.AccessForced(a, buf, false) != nil {
				continue
			}
			w.off = start + (a - s.vma.Start)
			w.write(buf)
		}
	}
}

// coreWriter writes the core file up to RLIMIT_CORE; ok turns false at the
// first failure (and no more is written).
type coreWriter struct {
	t     *Task
	d     *vfs.FileDescription
	off   uint64
	limit uint64
	ok    bool
}

func (w *coreWriter) write(b []byte) {
	if !w.ok || w.off >= w.limit {
		return
	}
	b = b[:min(uint64(len(b)), w.limit-w.off)]
	if _, err := w.d.PWrite(w.t, b, int64(w.off)); err != nil {
		w.ok = false
		return
	}
	w.off += uint64(len(b))
}

// pageUp rounds n up to a page.
func pageUp(n uint64) uint64 { return (n + arch.PageMask) &^ arch.PageMask }
