package mqueue

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

// tctx is a task for the tests: vfstest's fake with a memory budget and
// an RLIMIT_MSGQUEUE.
type tctx struct {
	*vfstest.Ctx
	budget *vfstest.Budget
	rlimit uint64
}

func (c *tctx) MemoryBudget() vfs.Charger { return c.budget }
func (c *tctx) MsgQueueLimit() uint64     { return c.rlimit }

func newCtx(c *vfstest.Ctx) *tctx {
	return &tctx{Ctx: c, budget: &vfstest.Budget{Limit: 1 << 30}, rlimit: 819200}
}

func root() *tctx { return newCtx(vfstest.Root()) }
func user() *tctx { return newCtx(vfstest.User(1000, 1000)) }

func open(t *testing.T, f *FS, ctx vfs.Context, name string, oflag uint32, attr *Attr) *vfs.FileDescription {
	t.Helper()
	d, err := f.Open(ctx, name, oflag, 0o600, attr)
	if err != nil {
		t.Fatalf("open %q: %v", name, err)
	}
	return d
}

// send sends s with prio from ctx's fake memory.
func send(ctx *tctx, d *vfs.FileDescription, s string, prio uint32, deadline time.Time) error {
	const addr = 0x1000
	ctx.CopyOut(addr, []byte(s))
	return Of(d).Send(ctx, d, addr, uint64(len(s)), prio, deadline, Sender{PID: 7, UID: 8})
}

// recv receives into ctx's fake memory and returns the message and its
// priority.
func recv(ctx *tctx, d *vfs.FileDescription, deadline time.Time) (string, uint32, error) {
	const addr, prioAddr = 0x10000, 0x20000
	n, err := Of(d).Receive(ctx, d, addr, uint64(Of(d).Attr().MsgSize), prioAddr, deadline)
	if err != nil {
		return "", 0, err
	}
	p := ctx.Mem(prioAddr, 4)
	return string(ctx.Mem(addr, n)), uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24, nil
}

func TestOpenErrors(t *testing.T) {
	f := New()
	ctx := root()
	for _, tc := range []struct {
		name  string
		oflag uint32
		attr  *Attr
		err   error
	}{
		{"", unix.O_CREAT, nil, unix.EACCES},
		{".", unix.O_CREAT, nil, unix.EACCES},
		{"..", unix.O_CREAT, nil, unix.EACCES},
		{"a/b", unix.O_CREAT, nil, unix.EACCES},
		{strings.Repeat("n", 256), unix.O_CREAT, nil, unix.ENAMETOOLONG},
		{"none", unix.O_RDWR, nil, unix.ENOENT},
		{"q", unix.O_CREAT, &Attr{0, 10}, unix.EINVAL},
		{"q", unix.O_CREAT, &Attr{10, -1}, unix.EINVAL},
		{"q", unix.O_CREAT, &Attr{HardMsgMax + 1, 10}, unix.EINVAL},
		{"q", unix.O_CREAT, &Attr{10, HardMsgsizeMax + 1}, unix.EINVAL},
	} {
		if _, err := f.Open(ctx, tc.name, tc.oflag, 0o600, tc.attr); err != tc.err {
			t.Errorf("open %q %#x %+v: %v, want %v", tc.name, tc.oflag, tc.attr, err, tc.err)
		}
	}
	// Root may pass msg_max (CAP_SYS_RESOURCE), a user may not; both
	// within RLIMIT_MSGQUEUE.
	if _, err := f.Open(ctx, "big", unix.O_CREAT, 0o600, &Attr{HardMsgMax, 16}); err != unix.EMFILE {
		t.Errorf("past RLIMIT_MSGQUEUE: %v", err)
	}
	ctx.rlimit = 1 << 30
	d := open(t, f, ctx, "big", unix.O_CREAT|unix.O_RDWR, &Attr{HardMsgMax, 16})
	d.DecRef()
	if _, err := f.Open(user(), "u", unix.O_CREAT, 0o600, &Attr{DefaultMsgMax + 1, 16}); err != unix.EINVAL {
		t.Errorf("user past msg_max: %v", err)
	}
	if _, err := f.Open(ctx, "big", unix.O_CREAT|unix.O_EXCL, 0o600, nil); err != unix.EEXIST {
		t.Errorf("O_EXCL: %v", err)
	}
	if _, err := f.Open(ctx, "big", unix.O_ACCMODE, 0o600, nil); err != unix.EINVAL {
		t.Errorf("O_WRONLY|O_RDWR: %v", err)
	}
	if _, err := f.Open(user(), "big", unix.O_RDONLY, 0, nil); err != unix.EACCES {
		t.Errorf("user opening root's 0600 queue: %v", err)
	}
	if err := f.Unlink(user(), "big"); err != unix.EPERM {
		t.Errorf("user unlinking root's queue: %v", err)
	}
	if err := f.Unlink(ctx, "big"); err != nil {
		t.Errorf("unlink: %v", err)
	}
	if err := f.Unlink(ctx, "big"); err != unix.ENOENT {
		t.Errorf("unlink again: %v", err)
	}
}

func TestDefaultsAndUmask(t *testing.T) {
	f := New()
	ctx := root()
	d := open(t, f, ctx, "q", unix.O_CREAT|unix.O_WRONLY|unix.O_NONBLOCK, nil)
	defer d.DecRef()
	if a := Of(d).Attr(); a != (Attr{DefaultMsgDefault, DefaultMsgsizeDefault}) {
		t.Errorf("defaults %+v", a)
	}
	st, _ := d.Stat(ctx)
	if st.Mode != unix.S_IFREG|0o600&^0o022 || st.Size != filentSize {
		t.Errorf("stat %+v", st)
	}
	if d.Readable() || !d.Writable() || !d.NonBlocking() {
		t.Errorf("flags %#x", d.StatusFlags())
	}
}

func TestQueuesMax(t *testing.T) {
	f := New()
	f.Limits.Set("queues_max", 2)
	u := user()
	a := open(t, f, u, "a", unix.O_CREAT|unix.O_RDWR, &Attr{1, 16})
	b := open(t, f, u, "b", unix.O_CREAT|unix.O_RDWR, &Attr{1, 16})
	if _, err := f.Open(u, "c", unix.O_CREAT, 0o600, &Attr{1, 16}); err != unix.ENOSPC {
		t.Fatalf("third queue: %v", err)
	}
	// Unlinked but open, a queue still counts; gone at its last close.
	f.Unlink(u, "a")
	if _, err := f.Open(u, "c", unix.O_CREAT, 0o600, &Attr{1, 16}); err != unix.ENOSPC {
		t.Fatalf("third queue while one is unlinked and open: %v", err)
	}
	a.DecRef()
	c := open(t, f, u, "c", unix.O_CREAT|unix.O_RDWR, &Attr{1, 16})
	c.DecRef()
	b.DecRef()
	// The privileged pass queues_max.
	r := open(t, f, root(), "r", unix.O_CREAT|unix.O_RDWR, &Attr{1, 16})
	r.DecRef()
}

func TestRlimit(t *testing.T) {
	f := New()
	u := user()
	u.rlimit = 4096
	if _, err := f.Open(u, "big", unix.O_CREAT, 0o600, nil); err != unix.EMFILE {
		t.Fatalf("default queue under 4096: %v", err)
	}
	// 2*1024 bytes + 2*96 of overhead fit once, not twice.
	a := open(t, f, u, "a", unix.O_CREAT|unix.O_RDWR, &Attr{2, 1024})
	if _, err := f.Open(u, "b", unix.O_CREAT, 0o600, &Attr{2, 1024}); err != unix.EMFILE {
		t.Fatalf("second: %v", err)
	}
	// Another user has its own account.
	o := newCtx(vfstest.User(1001, 1001))
	o.rlimit = 4096
	open(t, f, o, "o", unix.O_CREAT|unix.O_RDWR, &Attr{2, 1024}).DecRef()
	f.Unlink(u, "a")
	a.DecRef()
	open(t, f, u, "b", unix.O_CREAT|unix.O_RDWR, &Attr{2, 1024}).DecRef()
}

func TestPriorities(t *testing.T) {
	f := New()
	ctx := root()
	d := open(t, f, ctx, "q", unix.O_CREAT|unix.O_RDWR|unix.O_NONBLOCK, &Attr{8, 16})
	defer d.DecRef()
	msgs := []struct {
		s    string
		prio uint32
	}{{"a", 1}, {"b", 5}, {"c", 1}, {"d", 5}, {"e", 0}, {"f", PrioMax - 1}, {"g", 0}}
	for _, m := range msgs {
		if err := send(ctx, d, m.s, m.prio, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(Of(d).statusLine(), "QSIZE:7          NOTIFY:0") {
		t.Errorf("status %q", Of(d).statusLine())
	}
	var got []string
	for range msgs {
		s, p, err := recv(ctx, d, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s+string(rune('0'+p%10)))
	}
	if want := "f7 b5 d5 a1 c1 e0 g0"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	if _, _, err := recv(ctx, d, time.Time{}); err != unix.EAGAIN {
		t.Errorf("empty: %v", err)
	}
}

func TestSizesAndModes(t *testing.T) {
	f := New()
	ctx := root()
	d := open(t, f, ctx, "q", unix.O_CREAT|unix.O_RDWR|unix.O_NONBLOCK, &Attr{1, 4})
	defer d.DecRef()
	q := Of(d)
	if err := send(ctx, d, "12345", 0, time.Time{}); err != unix.EMSGSIZE {
		t.Errorf("long message: %v", err)
	}
	if _, err := q.Receive(ctx, d, 0x1000, 3, 0, time.Time{}); err != unix.EMSGSIZE {
		t.Errorf("short buffer: %v", err)
	}
	if err := q.Send(ctx, d, 0, 4, 0, time.Time{}, Sender{}); err != unix.EFAULT {
		t.Errorf("bad buffer: %v", err)
	}
	if err := send(ctx, d, "1234", 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := send(ctx, d, "x", 0, time.Time{}); err != unix.EAGAIN {
		t.Errorf("full: %v", err)
	}
	ro := open(t, f, ctx, "q", unix.O_RDONLY, nil)
	defer ro.DecRef()
	if err := send(ctx, ro, "x", 0, time.Time{}); err != unix.EBADF {
		t.Errorf("send on O_RDONLY: %v", err)
	}
	wo := open(t, f, ctx, "q", unix.O_WRONLY, nil)
	defer wo.DecRef()
	if _, _, err := recv(ctx, wo, time.Time{}); err != unix.EBADF {
		t.Errorf("receive on O_WRONLY: %v", err)
	}
	// A fault storing the message loses it.
	if _, err := q.Receive(ctx, d, 0, 4, 0, time.Time{}); err != unix.EFAULT {
		t.Errorf("bad buffer: %v", err)
	}
	if _, _, cur := q.Status(); cur != 0 {
		t.Errorf("%d messages after a faulting receive", cur)
	}
}

func TestBudget(t *testing.T) {
	f := New()
	ctx := root()
	ctx.budget.Limit = queueCost + 2*(msgCost+100)
	d := open(t, f, ctx, "q", unix.O_CREAT|unix.O_RDWR|unix.O_NONBLOCK, &Attr{10, 100})
	big := strings.Repeat("x", 100)
	for i := range 2 {
		if err := send(ctx, d, big, 0, time.Time{}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := send(ctx, d, "x", 0, time.Time{}); err != unix.ENOMEM {
		t.Fatalf("send past the budget: %v", err)
	}
	if _, _, err := recv(ctx, d, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := ctx.budget.Used(); got != queueCost+msgCost+100 {
		t.Errorf("after a receive %d charged", got)
	}
	// The last close after the unlink gives everything back.
	f.Unlink(ctx, "q")
	if got := ctx.budget.Used(); got == 0 {
		t.Errorf("freed while open")
	}
	d.DecRef()
	if got := ctx.budget.Used(); got != 0 {
		t.Errorf("after the queue went %d charged", got)
	}
	if f.count != 0 || len(f.userBytes) != 0 {
		t.Errorf("namespace still counts %d queues, %v", f.count, f.userBytes)
	}
	ctx.budget.Limit = queueCost - 1
	if _, err := f.Open(ctx, "q", unix.O_CREAT, 0o600, nil); err != unix.ENOMEM {
		t.Errorf("queue past the budget: %v", err)
	}
}

// waitForWaiter waits until the queue has n receivers (or senders).
func waitForWaiter(t *testing.T, q *Queue, receivers bool, n int) {
	t.Helper()
	for range 1000 {
		q.mu.Lock()
		got := len(q.senders)
		if receivers {
			got = len(q.receivers)
		}
		q.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no waiter")
}

func TestBlocking(t *testing.T) {
	f := New()
	ctx := root()
	d := open(t, f, ctx, "q", unix.O_CREAT|unix.O_RDWR, &Attr{1, 16})
	defer d.DecRef()
	q := Of(d)
	done := make(chan string)
	rctx := root()
	go func() {
		s, p, err := recv(rctx, d, time.Time{})
		if err != nil {
			t.Error(err)
		}
		done <- s + string(rune('0'+p))
	}()
	waitForWaiter(t, q, true, 1)
	// Registered for notification: a waiting receiver takes the message,
	// the registration stays.
	fired := 0
	q.Notify(&Notification{Owner: 1, Kind: SigevSignal, Signo: 10, Fire: func(Sender) { fired++ }})
	if err := send(ctx, d, "hi", 3, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if s := <-done; s != "hi3" {
		t.Errorf("woken receiver got %q", s)
	}
	if _, _, cur := q.Status(); cur != 0 || fired != 0 || q.notify == nil {
		t.Errorf("after a direct send: %d queued, fired %d, registered %v", cur, fired, q.notify != nil)
	}

	// A full queue: the sender waits, a receiver lets its message in.
	send(ctx, d, "one", 0, time.Time{})
	sent := make(chan error)
	sctx := root()
	go func() { sent <- send(sctx, d, "two", 0, time.Time{}) }()
	waitForWaiter(t, q, false, 1)
	if s, _, _ := recv(ctx, d, time.Time{}); s != "one" {
		t.Errorf("got %q", s)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if s, _, _ := recv(ctx, d, time.Time{}); s != "two" {
		t.Errorf("got %q", s)
	}

	// Deadlines: passed, and passing.
	if _, _, err := recv(ctx, d, time.Now().Add(-time.Second)); err != unix.ETIMEDOUT {
		t.Errorf("past deadline: %v", err)
	}
	start := time.Now()
	if _, _, err := recv(ctx, d, time.Now().Add(20*time.Millisecond)); err != unix.ETIMEDOUT || time.Since(start) < 20*time.Millisecond {
		t.Errorf("deadline: %v after %v", err, time.Since(start))
	}
	// A signal ends the wait; the waiter leaves the list.
	ictx := root()
	close(ictx.Interrupt)
	if _, _, err := recv(ictx, d, time.Time{}); err != unix.EINTR {
		t.Errorf("interrupted: %v", err)
	}
	if len(q.receivers) != 0 {
		t.Errorf("%d receivers left", len(q.receivers))
	}
}

func TestNotify(t *testing.T) {
	f := New()
	ctx := root()
	d := open(t, f, ctx, "q", unix.O_CREAT|unix.O_RDWR|unix.O_NONBLOCK, &Attr{4, 16})
	defer d.DecRef()
	q := Of(d)
	var from []Sender
	alive := true
	n := &Notification{Owner: "p1", PID: 42, Kind: SigevSignal, Signo: 12,
		Fire: func(s Sender) { from = append(from, s) }, Alive: func() bool { return alive }}
	if err := q.Notify(n); err != nil {
		t.Fatal(err)
	}
	if err := q.Notify(&Notification{Owner: "p2"}); err != unix.EBUSY {
		t.Errorf("second registration: %v", err)
	}
	if want := "QSIZE:0          NOTIFY:0     SIGNO:12    NOTIFY_PID:42    \n"; q.statusLine() != want {
		t.Errorf("status %q", q.statusLine())
	}
	q.Unnotify("p2") // not the owner: nothing
	send(ctx, d, "a", 0, time.Time{})
	send(ctx, d, "b", 0, time.Time{})
	if len(from) != 1 || from[0] != (Sender{7, 8}) {
		t.Errorf("fired for %v", from)
	}
	if q.notify != nil {
		t.Errorf("registration left after firing")
	}
	// Only a transition from empty fires.
	q.Notify(n)
	send(ctx, d, "c", 0, time.Time{})
	if len(from) != 1 {
		t.Errorf("fired on a non-empty queue")
	}
	// A dead owner's registration is none.
	alive = false
	if err := q.Notify(&Notification{Owner: "p2", Kind: SigevNone, PID: 5}); err != nil {
		t.Errorf("registration over a dead owner's: %v", err)
	}
	removed := 0
	q.Unnotify("p2")
	q.Notify(&Notification{Owner: "p3", Kind: SigevThread, Removed: func() { removed++ }})
	q.Unnotify("p3")
	if removed != 1 || q.notify != nil {
		t.Errorf("removed %d", removed)
	}
}

func TestMount(t *testing.T) {
	f := New()
	v := vfs.New()
	v.RegisterType("mqueue", Type{Of: func(vfs.Context) *FS { return f }})
	fsys, err := v.NewFilesystem(vfstest.Root(), "mqueue", "none", 0, "")
	if err != nil || fsys != vfs.Filesystem(f) {
		t.Fatalf("NewFilesystem: %v, %v", fsys, err)
	}
	top := v.MountRoot(f, "mqueue", "none", 0)
	at := vfs.At{Root: top, Dir: top}
	ctx := root()
	// open(2) with O_CREAT makes a queue with the defaults.
	fd, err := v.OpenAt(ctx, at, "q1", unix.O_CREAT|unix.O_RDWR, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if Of(fd) == nil || Of(fd).Attr().MaxMsg != DefaultMsgDefault {
		t.Fatalf("not a queue with the defaults")
	}
	fd.DecRef()
	d2 := open(t, f, ctx, "q2", unix.O_CREAT|unix.O_RDWR, &Attr{2, 8})
	defer d2.DecRef()
	send(ctx, d2, "hello", 1, time.Time{})
	st, err := v.StatAt(ctx, at, "q2", 0)
	if err != nil || st.Mode != unix.S_IFREG|0o600&^0o022 || st.Size != filentSize {
		t.Errorf("stat q2: %+v %v", st, err)
	}
	rd, err := v.OpenAt(ctx, at, "q2", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, _ := rd.Read(ctx, buf)
	if !strings.HasPrefix(string(buf[:n]), "QSIZE:5 ") || n != 60 {
		t.Errorf("read %q", buf[:n])
	}
	rd.DecRef()
	var names []string
	dir, err := v.OpenAt(ctx, at, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir.Getdents(ctx, func(e vfs.Dirent) bool { names = append(names, e.Name); return true })
	dir.DecRef()
	if strings.Join(names, ",") != ".,..,q1,q2" && strings.Join(names, ",") != "q1,q2" {
		t.Errorf("entries %v", names)
	}
	if st, _ := v.StatAt(ctx, at, ".", 0); st.Mode != unix.S_IFDIR|0o1777 || st.Size != 80 {
		t.Errorf("root %+v", st)
	}
	// mq_unlink shows in the tree, and unlink(2) in mq_open.
	if err := f.Unlink(ctx, "q2"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.StatAt(ctx, at, "q2", 0); err != unix.ENOENT {
		t.Errorf("stat after mq_unlink: %v", err)
	}
	if err := v.UnlinkAt(ctx, at, "q1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Open(ctx, "q1", unix.O_RDWR, 0, nil); err != unix.ENOENT {
		t.Errorf("mq_open after unlink(2): %v", err)
	}
	if err := v.MkdirAt(ctx, at, "d", 0o755); err != unix.EPERM {
		t.Errorf("mkdir: %v", err)
	}
	if sf, _ := v.StatfsAt(ctx, at, "."); sf.Type != Magic {
		t.Errorf("statfs type %#x", sf.Type)
	}
}

func TestLimits(t *testing.T) {
	l := NewLimits()
	for _, tc := range []struct {
		name string
		v    int64
		err  error
	}{
		{"msg_max", 0, unix.EINVAL},
		{"msg_max", HardMsgMax + 1, unix.EINVAL},
		{"msg_max", 20, nil},
		{"msgsize_max", 127, unix.EINVAL},
		{"msgsize_max", HardMsgsizeMax, nil},
		{"msg_default", 0, unix.EINVAL},
		{"msgsize_default", 128, nil},
		{"queues_max", -1, nil},
		{"queues_max", 1 << 31, unix.EINVAL},
		{"nope", 1, unix.EINVAL},
	} {
		if err := l.Set(tc.name, tc.v); err != tc.err {
			t.Errorf("set %s %d: %v, want %v", tc.name, tc.v, err, tc.err)
		}
	}
	if v, _ := l.Get("msg_max"); v != 20 {
		t.Errorf("msg_max %d", v)
	}
	if l.queuesMaxCount() != 1<<32-1 {
		t.Errorf("queues_max -1 counts as %d", l.queuesMaxCount())
	}
}
