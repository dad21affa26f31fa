package pipe

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs/vfstest"
)

func TestSpliceAndTee(t *testing.T) {
	ctx := vfstest.Root()
	r1, w1 := newPipe2(t, 0)
	r2, w2 := newPipe2(t, 0)
	defer r1.DecRef()
	defer w1.DecRef()
	defer r2.DecRef()
	defer w2.DecRef()
	p1, p2 := Of(r1), Of(r2)
	data := bytes.Repeat([]byte("0123456789"), 1000) // 10000 bytes, 3 slots
	mustWrite(t, w1, data)
	if n, err := Tee(ctx, p1, p2, 5000, false); n != 5000 || err != nil {
		t.Fatalf("tee: %d, %v", n, err)
	}
	if p1.Buffered() != 10000 || p2.Buffered() != 5000 {
		t.Fatalf("after tee: %d, %d", p1.Buffered(), p2.Buffered())
	}
	if n, err := Splice(ctx, p1, p2, 7000, false); n != 7000 || err != nil {
		t.Fatalf("splice: %d, %v", n, err)
	}
	if p1.Buffered() != 3000 || p2.Buffered() != 12000 {
		t.Fatalf("after splice: %d, %d", p1.Buffered(), p2.Buffered())
	}
	got := make([]byte, 20000)
	n, _ := r2.Read(ctx, got)
	want := append(append([]byte{}, data[:5000]...), data[:7000]...)
	if !bytes.Equal(got[:n], want) {
		t.Fatalf("spliced data differs (%d bytes)", n)
	}
	n, _ = r1.Read(ctx, got)
	if !bytes.Equal(got[:n], data[7000:]) {
		t.Fatalf("rest of source differs")
	}
	if _, err := Splice(ctx, p1, p1, 1, false); err != unix.EINVAL {
		t.Fatalf("splice to itself: %v", err)
	}
	if n, err := Splice(ctx, p1, p2, 1, true); n != 0 || err != unix.EAGAIN {
		t.Fatalf("nonblocking splice from empty: %d, %v", n, err)
	}
}

func TestSpliceWaitsAndEnds(t *testing.T) {
	ctx := vfstest.Root()
	r1, w1 := newPipe2(t, 0)
	r2, w2 := newPipe2(t, 0)
	defer r1.DecRef()
	defer w2.DecRef()
	go func() {
		time.Sleep(10 * time.Millisecond)
		w1.Write(vfstest.Root(), []byte("late"))
		w1.DecRef()
	}()
	if n, err := Splice(ctx, Of(r1), Of(w2), 100, false); n != 4 || err != nil {
		t.Fatalf("waiting splice: %d, %v", n, err)
	}
	if n, err := Splice(ctx, Of(r1), Of(w2), 100, false); n != 0 || err != nil {
		t.Fatalf("splice at EOF: %d, %v", n, err)
	}
	r2.DecRef()
	if _, err := Tee(ctx, Of(r1), Of(w2), 100, false); err != unix.EPIPE {
		t.Fatalf("tee without reader: %v", err)
	}
}

func TestPeekDiscardRoom(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	p := Of(r)
	if p.Room() != DefaultSize {
		t.Fatalf("room %d", p.Room())
	}
	mustWrite(t, w, []byte("hello world"))
	if p.Room() != DefaultSize-PageSize {
		t.Fatalf("room after a write %d", p.Room())
	}
	buf := make([]byte, 5)
	if n, err := p.Peek(ctx, buf, false); n != 5 || err != nil || string(buf) != "hello" {
		t.Fatalf("peek: %q, %v", buf[:n], err)
	}
	if p.Discard(6) != 6 {
		t.Fatal("discard")
	}
	n, _ := r.Read(ctx, make([]byte, 100))
	if n != 5 {
		t.Fatalf("left %d", n)
	}
	if _, err := p.Peek(ctx, buf, true); err != unix.EAGAIN {
		t.Fatalf("nonblocking peek: %v", err)
	}
	w.DecRef()
	if n, err := p.Peek(ctx, buf, false); n != 0 || err != nil {
		t.Fatalf("peek at EOF: %d, %v", n, err)
	}
}
