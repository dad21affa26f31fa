package ipc

import (
	"math"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// send charges and sends a message as sysMsgsnd does.
func send(t *testing.T, ns *Namespace, c Caller, id int32, typ int64, text string, flags int32) error {
	t.Helper()
	if !ns.ChargeMessage(len(text)) {
		return unix.ENOMEM
	}
	err := ns.MsgSend(c, id, &Message{Type: typ, Text: []byte(text)}, flags)
	if err != nil {
		ns.UnchargeMessage(len(text))
	}
	return err
}

// TestMsgReceive fills a queue with the same five messages for each case
// and receives once.
func TestMsgReceive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int64
		typ      int64
		flags    int32
		want     string // the text received
		wantType int64
		err      error
		left     int // messages left
	}{
		{"any", 100, 0, 0, "three", 3, nil, 4},
		{"type", 100, 1, 0, "one-a", 1, nil, 4},
		{"lowest at most", 100, -2, 0, "one-a", 1, nil, 4},
		{"lowest at most 5", 100, -5, 0, "one-a", 1, nil, 4},
		{"lowest at most 1", 100, -1, 0, "one-a", 1, nil, 4},
		{"least type", 100, math.MinInt64, 0, "one-a", 1, nil, 4},
		{"except", 100, 3, MsgExcept, "one-a", 1, nil, 4},
		{"no such type", 100, 9, IPCNoWait, "", 0, unix.ENOMSG, 5},
		{"too long", 2, 0, IPCNoWait, "", 0, unix.E2BIG, 5},
		{"cut", 2, 0, IPCNoWait | MsgNoError, "three", 3, nil, 4},
		{"copy", 100, 3, MsgCopy | IPCNoWait, "one-b", 1, nil, 5},
		{"copy past the end", 100, 5, MsgCopy | IPCNoWait, "", 0, unix.ENOMSG, 5},
		{"copy cut", 2, 0, MsgCopy | IPCNoWait | MsgNoError, "", 0, unix.EINVAL, 5},
	} {
		ns, b := newSemNS(t, 1<<20)
		c := caller(0, nil)
		id, err := ns.MsgGet(c, IPCPrivate, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			typ  int64
			text string
		}{{3, "three"}, {1, "one-a"}, {2, "two"}, {1, "one-b"}, {5, "five"}} {
			if err := send(t, ns, c, id, m.typ, m.text, 0); err != nil {
				t.Fatal(err)
			}
		}
		m, err := ns.MsgReceive(c, id, tc.size, tc.typ, tc.flags)
		if err != tc.err {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		} else if err == nil && (string(m.Text) != tc.want || m.Type != tc.wantType) {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, m.Type, m.Text, tc.wantType, tc.want)
		}
		ds, _, _ := ns.MsgStat(c, id, IPCStat)
		if ds.Qnum != uint64(tc.left) {
			t.Errorf("%s: %d left, want %d", tc.name, ds.Qnum, tc.left)
		}
		if err := ns.MsgRemove(c, id); err != nil {
			t.Fatal(err)
		}
		if u := b.Used(); u != 0 {
			t.Errorf("%s: %d bytes charged after IPC_RMID", tc.name, u)
		}
	}
}

func TestMsgFull(t *testing.T) {
	ns, b := newSemNS(t, 1<<20)
	c := caller(0, nil)
	id, _ := ns.MsgGet(c, IPCPrivate, 0o600)
	big := string(make([]byte, MSGMAX))
	for i := 0; i < 2; i++ {
		if err := send(t, ns, c, id, 1, big, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(t, ns, c, id, 1, "x", IPCNoWait); err != unix.EAGAIN {
		t.Errorf("full queue: got %v, want EAGAIN", err)
	}
	if err := ns.MsgSet(c, id, MsgSetRequest{SetRequest: SetRequest{Mode: 0o600}, Qbytes: 3}); err != nil {
		t.Fatal(err)
	}
	ns.MsgReceive(c, id, MSGMAX, 0, 0)
	ns.MsgReceive(c, id, MSGMAX, 0, 0)
	for i := 0; i < 3; i++ {
		send(t, ns, c, id, 1, "", IPCNoWait)
	}
	if err := send(t, ns, c, id, 1, "", IPCNoWait); err != unix.EAGAIN {
		t.Errorf("a fourth message in a queue of 3 bytes: got %v, want EAGAIN", err)
	}
	user := caller(1000, nil)
	if err := ns.MsgSet(user, id, MsgSetRequest{Qbytes: 1}); err != unix.EPERM {
		t.Errorf("IPC_SET by another user: got %v, want EPERM", err)
	}
	ns.MsgRemove(c, id)
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged after IPC_RMID", u)
	}
	// The budget bounds what queues hold, whatever their capacity.
	ns, b = newSemNS(t, 3*MSGMAX)
	id, _ = ns.MsgGet(c, IPCPrivate, 0o600)
	if err := ns.MsgSet(c, id, MsgSetRequest{SetRequest: SetRequest{Mode: 0o600}, Qbytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; n < 10 && send(t, ns, c, id, 1, big, IPCNoWait) == nil; n++ {
	}
	if n != 2 {
		t.Errorf("%d messages of %d bytes in a budget of %d, want 2", n, MSGMAX, 3*MSGMAX)
	}
	for i := 0; i < n; i++ {
		ns.MsgReceive(c, id, MSGMAX, 0, 0)
	}
	ns.MsgRemove(c, id)
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged after receiving all", u)
	}
}

func TestMsgSleepers(t *testing.T) {
	ns, b := newSemNS(t, 1<<20)
	intr := make(chan struct{})
	c, sleeper := caller(0, nil), caller(0, intr)
	id, _ := ns.MsgGet(c, IPCPrivate, 0o600)
	receivers := func() int {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		q, _ := ns.msg.ids.find(id)
		return len(q.receivers) + len(q.senders)
	}
	type result struct {
		m   *Message
		err error
	}
	got := make(chan result, 1)
	receive := func(size, typ int64) {
		go func() {
			m, err := ns.MsgReceive(sleeper, id, size, typ, 0)
			got <- result{m, err}
		}()
	}

	receive(100, 2)
	waitFor(t, "receiver", func() bool { return receivers() == 1 })
	send(t, ns, c, id, 1, "one", 0)
	send(t, ns, c, id, 2, "two", 0)
	if r := <-got; r.err != nil || string(r.m.Text) != "two" {
		t.Errorf("receiver of type 2: %v %v", r.m, r.err)
	}
	ds, _, _ := ns.MsgStat(c, id, IPCStat)
	if ds.Qnum != 1 || ds.LRPID != sleeper.PID {
		t.Errorf("after a handed message: qnum %d lrpid %d", ds.Qnum, ds.LRPID)
	}

	receive(1, 3)
	waitFor(t, "receiver with a small buffer", func() bool { return receivers() == 1 })
	send(t, ns, c, id, 3, "three", 0)
	if r := <-got; r.err != unix.E2BIG {
		t.Errorf("receiver with a small buffer: got %v, want E2BIG", r.err)
	}

	receive(100, 9)
	waitFor(t, "receiver to interrupt", func() bool { return receivers() == 1 })
	intr <- struct{}{}
	if r := <-got; r.err != arch.ERESTARTNOHAND {
		t.Errorf("interrupted receiver: got %v, want ERESTARTNOHAND", r.err)
	}

	receive(100, 9)
	waitFor(t, "receiver at IPC_RMID", func() bool { return receivers() == 1 })
	ns.MsgRemove(c, id)
	if r := <-got; r.err != unix.EIDRM {
		t.Errorf("receiver at IPC_RMID: got %v, want EIDRM", r.err)
	}
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged after IPC_RMID", u)
	}

	// A sender sleeps for room.
	id, _ = ns.MsgGet(c, IPCPrivate, 0o600)
	ns.MsgSet(c, id, MsgSetRequest{SetRequest: SetRequest{Mode: 0o600}, Qbytes: 4})
	send(t, ns, c, id, 1, "full", 0)
	sent := make(chan error, 1)
	go func() { sent <- send(t, ns, sleeper, id, 1, "more", 0) }()
	waitFor(t, "sender", func() bool { return receivers() == 1 })
	ns.MsgReceive(c, id, 100, 0, 0)
	if err := <-sent; err != nil {
		t.Errorf("sender given room: %v", err)
	}
	go func() { sent <- send(t, ns, sleeper, id, 1, "more", 0) }()
	waitFor(t, "sender at IPC_RMID", func() bool { return receivers() == 1 })
	ns.MsgRemove(c, id)
	if err := <-sent; err != unix.EIDRM {
		t.Errorf("sender at IPC_RMID: got %v, want EIDRM", err)
	}
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes charged at the end", u)
	}
}

func TestMsgABI(t *testing.T) {
	ds := MsqidDS{Perm: Perm{Key: 1}, Stime: 2, Rtime: 3, Ctime: 4, Cbytes: 5, Qnum: 6, Qbytes: 7, LSPID: 8, LRPID: 9}
	b := ds.Marshal()
	if len(b) != MsqidDSSize || b[48] != 2 || b[56] != 3 || b[64] != 4 || b[72] != 5 || b[80] != 6 ||
		b[88] != 7 || b[96] != 8 || b[100] != 9 {
		t.Errorf("msqid64_ds: % x", b)
	}
	if r := UnmarshalMsgSetRequest(b); r.Qbytes != 7 {
		t.Errorf("IPC_SET's qbytes: %d", r.Qbytes)
	}
	info := Msginfo{Msgpool: 1, Msgtql: 7, Msgseg: 0xffff}
	if b := info.Marshal(); len(b) != MsginfoSize || b[0] != 1 || b[24] != 7 || b[28] != 0xff || b[29] != 0xff {
		t.Errorf("msginfo: % x", b)
	}
}

// TestLimitsOfIDs fills a namespace to MSGMNI queues and SEMMNI sets:
// one more of either is ENOSPC, and the ids stay distinct.
func TestLimitsOfIDs(t *testing.T) {
	ns, _ := newSemNS(t, 1<<40)
	c := caller(0, nil)
	seen := make(map[int32]bool)
	for i := 0; i < MSGMNI; i++ {
		id, err := ns.MsgGet(c, IPCPrivate, 0o600)
		if err != nil || seen[id] {
			t.Fatalf("queue %d: id %d, %v", i, id, err)
		}
		seen[id] = true
	}
	if _, err := ns.MsgGet(c, IPCPrivate, 0o600); err != unix.ENOSPC {
		t.Errorf("queue %d: got %v, want ENOSPC", MSGMNI+1, err)
	}
	if info, maxIdx := ns.MsgInfo(true); info.Msgpool != MSGMNI || maxIdx != MSGMNI-1 {
		t.Errorf("MSG_INFO: %d queues, highest index %d", info.Msgpool, maxIdx)
	}
	for i := 0; i < SEMMNI; i++ {
		if _, err := ns.SemGet(c, IPCPrivate, 1, 0o600); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
	}
	if _, err := ns.SemGet(c, IPCPrivate, 1, 0o600); err != unix.ENOSPC {
		t.Errorf("set %d: got %v, want ENOSPC", SEMMNI+1, err)
	}
}
