package tty

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkPtyOutput measures slave writes of 4 KiB read at the master
// (output processing with ONLCR on text without newlines).
func BenchmarkPtyOutput(b *testing.B) {
	pp := newPair(b)
	chunk := make([]byte, 4096)
	for i := range chunk {
		chunk[i] = 'a' + byte(i%26)
	}
	buf := make([]byte, 8192)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for range b.N {
		if _, err := pp.slave.Write(pp.ctx, chunk); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(chunk); {
			n, err := pp.master.Read(pp.ctx, buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}

// BenchmarkPtyRawInput measures master writes of 4 KiB read by the slave
// in raw mode.
func BenchmarkPtyRawInput(b *testing.B) {
	pp := newPair(b)
	tio := pp.p.slave.Termios()
	tio.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG
	pp.p.slave.SetTermios(tio)
	chunk := make([]byte, 4096)
	buf := make([]byte, 8192)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for range b.N {
		if _, err := pp.master.Write(pp.ctx, chunk); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(chunk); {
			n, err := pp.slave.Read(pp.ctx, buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}
