package tty

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// fakeProc is a process of the fake kernel.
type fakeProc struct {
	Proc
	ctty    *Terminal
	ignored map[unix.Signal]bool
	orphan  bool
}

type sent struct {
	group bool
	id    int32
	sig   unix.Signal
}

// fakeJC is a JobControl with a table of processes.
type fakeJC struct {
	mu    sync.Mutex
	procs map[int32]*fakeProc
	sent  []sent
	bg    bool // also implement BackgroundControl (see bgJC)
}

type bgJC struct{ *fakeJC }

func (b bgJC) IgnoresSignal(ctx vfs.Context, sig unix.Signal) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.procs[ctx.(*task).pid].ignored[sig]
}

func (b bgJC) OrphanedGroup(ctx vfs.Context) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.procs[ctx.(*task).pid].orphan
}

// task is a fake calling task: a vfstest.Ctx and a pid.
type task struct {
	*vfstest.Ctx
	pid int32
}

func newJC() *fakeJC { return &fakeJC{procs: make(map[int32]*fakeProc)} }

// proc adds a process and returns a context for it.
func (j *fakeJC) proc(pid, pgid, sid int32, creds *vfs.Credentials) *task {
	j.mu.Lock()
	j.procs[pid] = &fakeProc{Proc: Proc{pid, pgid, sid}, ignored: map[unix.Signal]bool{}}
	j.mu.Unlock()
	return &task{vfstest.New(creds), pid}
}

func (j *fakeJC) Caller(ctx vfs.Context) Proc {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.procs[ctx.(*task).pid].Proc
}

func (j *fakeJC) ControllingTerminal(ctx vfs.Context) *Terminal {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.procs[ctx.(*task).pid].ctty
}

func (j *fakeJC) SetControllingTerminal(ctx vfs.Context, t *Terminal) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.procs[ctx.(*task).pid].ctty = t
}

func (j *fakeJC) ClearControllingTerminal(sid int32, t *Terminal) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, p := range j.procs {
		if p.SID == sid && p.ctty == t {
			p.ctty = nil
		}
	}
}

func (j *fakeJC) GroupSession(pgid int32) (int32, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, p := range j.procs {
		if p.PGID == pgid {
			return p.SID, true
		}
	}
	return 0, false
}

func (j *fakeJC) SignalGroup(pgid int32, sig unix.Signal) {
	j.mu.Lock()
	j.sent = append(j.sent, sent{true, pgid, sig})
	j.mu.Unlock()
}

func (j *fakeJC) SignalProcess(pid int32, sig unix.Signal) {
	j.mu.Lock()
	j.sent = append(j.sent, sent{false, pid, sig})
	j.mu.Unlock()
}

// takeSent returns and clears the signals sent so far.
func (j *fakeJC) takeSent() []sent {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.sent
	j.sent = nil
	return s
}

func (j *fakeJC) ctty(pid int32) *Terminal {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.procs[pid].ctty
}

// ptyPair is an open master and slave.
type ptyPair struct {
	d      *Devices
	jc     *fakeJC
	ctx    *task // pid 1: session leader of session 1
	master *vfs.FileDescription
	slave  *vfs.FileDescription
	p      *pty
}

// newPair opens a pty (through the device functions) as pid 1, a session
// leader, with O_NOCTTY.
func newPair(t testing.TB) *ptyPair {
	t.Helper()
	jc := newJC()
	ctx := jc.proc(1, 1, 1, vfs.RootCredentials())
	d := Register(vfs.NewDeviceRegistry(), nil, jc)
	mi, _, err := d.openPtmx(ctx, vfs.Path{}, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	m := vfs.NewFileDescription(mi, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{})
	p := mi.(*masterFile).p
	unlock(t, ctx, m)
	si, _, err := p.openSlave(ctx, unix.O_RDWR|unix.O_NOCTTY)
	if err != nil {
		t.Fatal(err)
	}
	s := vfs.NewFileDescription(si, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{})
	pp := &ptyPair{d: d, jc: jc, ctx: ctx, master: m, slave: s, p: p}
	t.Cleanup(func() {
		if pp.slave != nil {
			pp.slave.DecRef()
		}
		if pp.master != nil {
			pp.master.DecRef()
		}
	})
	return pp
}

func unlock(t testing.TB, ctx *task, m *vfs.FileDescription) {
	t.Helper()
	if err := ctx.CopyOut(0x100, []byte{0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ioctl(ctx, TIOCSPTLCK, 0x100); err != nil {
		t.Fatal(err)
	}
}

func (pp *ptyPair) closeMaster() {
	pp.master.DecRef()
	pp.master = nil
}

func (pp *ptyPair) closeSlave() {
	pp.slave.DecRef()
	pp.slave = nil
}

// type_ writes input at the master.
func (pp *ptyPair) type_(t *testing.T, s string) {
	t.Helper()
	if n, err := pp.master.Write(pp.ctx, []byte(s)); n != len(s) || err != nil {
		t.Fatalf("master write %q: %d %v", s, n, err)
	}
}

// masterOut reads what is available at the master (non-blocking).
func (pp *ptyPair) masterOut(t *testing.T) string {
	t.Helper()
	pp.master.SetStatusFlags(unix.O_NONBLOCK)
	defer pp.master.SetStatusFlags(0)
	var out []byte
	buf := make([]byte, 1024)
	for {
		n, err := pp.master.Read(pp.ctx, buf)
		out = append(out, buf[:n]...)
		if err == unix.EAGAIN || n == 0 {
			return string(out)
		}
		if err != nil {
			t.Fatalf("master read: %v", err)
		}
	}
}

// read reads once from the slave.
func (pp *ptyPair) read(t *testing.T, size int) (string, error) {
	t.Helper()
	buf := make([]byte, size)
	n, err := pp.slave.Read(pp.ctx, buf)
	return string(buf[:n]), err
}

// mustRead reads from the slave with a watchdog, failing on error.
func (pp *ptyPair) mustRead(t *testing.T, size int) string {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(5*time.Second, func() {
		select {
		case <-done:
		default:
			close(pp.ctx.Interrupt)
		}
	})
	defer timer.Stop()
	s, err := pp.read(t, size)
	close(done)
	if err != nil {
		t.Fatalf("slave read: %v", err)
	}
	return s
}

// setTermios changes the slave's termios with TCSETS through ioctl.
func (pp *ptyPair) setTermios(t *testing.T, f func(*Termios)) {
	t.Helper()
	tio := pp.p.slave.Termios()
	f(&tio)
	b := tio.Marshal()
	if err := pp.ctx.CopyOut(0x200, b[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := pp.slave.Ioctl(pp.ctx, TCSETS, 0x200); err != nil {
		t.Fatal(err)
	}
}
