package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// writeCounts is Linux's i_writecount for the regular files that have
// one: a positive count is the descriptions open for writing, a negative
// one the programs executing the file. The two exclude each other:
// opening a running program for writing, or running one that is open for
// writing, is ETXTBSY. Files with neither are not in the map.
var writeCounts struct {
	mu sync.Mutex
	m  map[Inode]int
}

// getWriteAccess counts a description open for writing on ino.
func getWriteAccess(ino Inode) error {
	writeCounts.mu.Lock()
	defer writeCounts.mu.Unlock()
	if writeCounts.m[ino] < 0 {
		return unix.ETXTBSY
	}
	if writeCounts.m == nil {
		writeCounts.m = make(map[Inode]int)
	}
	writeCounts.m[ino]++
	return nil
}

// putWriteAccess drops what getWriteAccess counted.
func putWriteAccess(ino Inode) { addWriteCount(ino, -1) }

// DenyWriteAccess marks ino as executed by one more program until
// AllowWriteAccess; ETXTBSY while it is open for writing.
func DenyWriteAccess(ino Inode) error {
	writeCounts.mu.Lock()
	defer writeCounts.mu.Unlock()
	if writeCounts.m[ino] > 0 {
		return unix.ETXTBSY
	}
	if writeCounts.m == nil {
		writeCounts.m = make(map[Inode]int)
	}
	writeCounts.m[ino]--
	return nil
}

// AllowWriteAccess drops what DenyWriteAccess counted.
func AllowWriteAccess(ino Inode) { addWriteCount(ino, 1) }

func addWriteCount(ino Inode, d int) {
	writeCounts.mu.Lock()
	defer writeCounts.mu.Unlock()
	n := writeCounts.m[ino] + d
	if n == 0 {
		delete(writeCounts.m, ino)
		return
	}
	writeCounts.m[ino] = n
}
