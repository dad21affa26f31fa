package kernel

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// capSysPacct is CAP_SYS_PACCT, which acct(2) needs.
const capSysPacct = 20

// Flags of an accounting record's ac_flag.
const (
	acctFork = 0x01 // forked and never executed a program (AFORK)
	acctCore = 0x08 // dumped core (ACORE)
	acctSig  = 0x10 // killed by a signal (AXSIG)
)

// acctRecordSize is the size of struct acct_v3.
const acctRecordSize = 64

// processAccounting is acct(2)'s state: the file every process's record
// is appended to when it ends, or nil while accounting is off. The
// sandbox has one, as a Linux PID namespace does.
type processAccounting struct {
	mu   sync.Mutex
	file *vfs.FileDescription // protected by mu
}

// Acct is acct(2): with a name (readName reads it from the caller),
// records go to that regular file (opened for appending as the caller, so
// its errors are open's, and EACCES for a file that is not regular);
// without one (nil), accounting stops. It needs CAP_SYS_PACCT (EPERM),
// checked first.
func (t *Task) Acct(readName func() (string, error)) error {
	if !t.Credentials().HasCap(capSysPacct) {
		return unix.EPERM
	}
	var f *vfs.FileDescription
	if readName != nil {
		name, err := readName()
		if err != nil {
			return err
		}
		v, at, err := t.At(AtFDCWD, name)
		if err != nil {
			return err
		}
		f, err = v.OpenAt(t, at, name, unix.O_WRONLY|unix.O_APPEND, 0)
		if err != nil {
			return err
		}
		st, err := f.Stat(t)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			f.DecRef()
			return unix.EACCES
		}
	}
	a := &t.k.acct
	a.mu.Lock()
	old := a.file
	a.file = f
	a.mu.Unlock()
	if old != nil {
		old.DecRef()
	}
	return nil
}

// compT encodes v as a comp_t: a 13-bit mantissa and a 3-bit exponent of
// 8, rounding as Linux's encode_comp_t.
func compT(v uint64) uint16 {
	exp, rnd := uint16(0), uint64(0)
	for v > 0x1fff {
		rnd = v & 4
		v >>= 3
		exp++
	}
	if rnd != 0 {
		v++
		if v > 0x1fff {
			v >>= 3
			exp++
		}
	}
	return exp<<13 | uint16(v)
}

// acctTicks converts a duration to accounting ticks (AHZ, 100 a second).
func acctTicks(d time.Duration) uint64 { return uint64(d / (10 * time.Millisecond)) }

// writeAcct appends the accounting record of t's process, whose last
// thread t is, ending with wait status status after cpu ns of CPU time,
// if accounting is on: struct acct_v3, as Linux's fill_ac. A write that
// fails is dropped, as Linux drops it; the file size limit does not
// apply (Linux lifts RLIMIT_FSIZE for the write).
func (t *Task) writeAcct(status int, cpu, sys int64) {
	a := &t.k.acct
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file == nil {
		return
	}
	tg := t.tg
	var rec [acctRecordSize]byte
	le := binary.LittleEndian
	if tg.forked && !tg.execed.Load() {
		rec[0] |= acctFork
	}
	if status&0x80 != 0 {
		rec[0] |= acctCore
	}
	if status&0x7f != 0 {
		rec[0] |= acctSig
	}
	rec[1] = 3 // ac_version: v3, little-endian
	// ac_tty at 2 stays 0.
	c := t.Credentials()
	le.PutUint32(rec[4:], uint32(status))
	le.PutUint32(rec[8:], c.UID)
	le.PutUint32(rec[12:], c.GID)
	le.PutUint32(rec[16:], uint32(tg.pid))
	le.PutUint32(rec[20:], uint32(tg.ParentPID()))
	elapsed := t.k.Uptime(nil) - tg.startBoot
	le.PutUint32(rec[24:], uint32(time.Now().Add(-elapsed).Unix())) // as Linux: now less the run time
	le.PutUint32(rec[28:], math.Float32bits(float32(acctTicks(elapsed))))
	le.PutUint16(rec[32:], compT(acctTicks(time.Duration(cpu-sys)))) // ac_utime
	le.PutUint16(rec[34:], compT(acctTicks(time.Duration(sys))))     // ac_stime
	var vsize uint64
	if t.MM != nil {
		for _, v := range t.MM.VMAs() {
			vsize += v.End - v.Start
		}
	}
	le.PutUint16(rec[36:], compT(vsize/1024)) // ac_mem, in KiB
	copy(rec[48:63], t.Comm())
	a.file.Write(acctContext{t}, rec[:])
}

// acctContext writes an accounting record as the exiting task, without
// its file size limit.
type acctContext struct{ *Task }

// FileSizeLimit implements vfs.FileSizeLimiter: none.
func (acctContext) FileSizeLimit() uint64 { return math.MaxUint64 }

// FileSizeExceeded implements vfs.FileSizeLimiter; never called.
func (acctContext) FileSizeExceeded() {}
