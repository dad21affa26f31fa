package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/kernel/mm"
)

// move_pages on uk's machine of one node (mm/migrate.c): without a node
// list it reports the node of each page, with one it checks each target
// node and reports the page already there. Nothing ever moves: every page
// is on node 0.

// movePagesChunk is how many entries the query reads and answers at a
// time: Linux's DO_PAGES_STAT_CHUNK_NR, which decides how far a query
// gets before an unreadable entry (a whole chunk fails with it).
const movePagesChunk = 16

func sysMovePages(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, count, pagesAddr, nodesAddr, statusAddr, flags := int32(a[0]), a[1], a[2], a[3], a[4], a[5]
	if flags&^uint64(mpolMFMove|mpolMFMoveAll) != 0 {
		return 0, unix.EINVAL
	}
	if flags&mpolMFMoveAll != 0 && !t.Credentials().HasCap(capSysNice) {
		return 0, unix.EPERM
	}
	m := t.MM
	if pid != 0 {
		r, err := t.RemoteMM(pid)
		if err != nil {
			return 0, err
		}
		defer r.DecUsers()
		m = r
	}
	if nodesAddr == 0 {
		return 0, pagesStat(t, m, count, pagesAddr, statusAddr)
	}
	return 0, pagesMove(t, m, count, pagesAddr, nodesAddr, statusAddr)
}

// pageStatus is the status move_pages gives a page in state s: its node,
// or why it has none.
func pageStatus(s mm.PageState) int32 {
	switch s {
	case mm.PagePresent:
		return 0 // node 0
	case mm.PageAbsent:
		return -int32(unix.ENOENT)
	}
	return -int32(unix.EFAULT)
}

// pagesStat answers a query (no node list) a chunk at a time, as Linux's
// do_pages_stat: a chunk of addresses that cannot be read wholly, or of
// statuses that cannot be written, ends the call with EFAULT, the chunks
// before it answered.
func pagesStat(t *kernel.Task, m *mm.MM, count, pagesAddr, statusAddr uint64) error {
	var raw [movePagesChunk * 8]byte
	var addrs [movePagesChunk]uint64
	var states [movePagesChunk]mm.PageState
	var out [movePagesChunk * 4]byte
	for done := uint64(0); done < count; {
		if t.Dying() {
			return unix.EINTR // count is the program's: it may be 2^60
		}
		n := min(count-done, movePagesChunk)
		if err := t.CopyIn(pagesAddr+done*8, raw[:n*8]); err != nil {
			return unix.EFAULT
		}
		for i := range n {
			addrs[i] = binary.LittleEndian.Uint64(raw[i*8:])
		}
		m.PageStates(addrs[:n], states[:n])
		for i := range n {
			binary.LittleEndian.PutUint32(out[i*4:], uint32(pageStatus(states[i])))
		}
		if err := t.CopyOut(statusAddr+done*4, out[:n*4]); err != nil {
			return unix.EFAULT
		}
		done += n
	}
	return nil
}

// pagesMove checks a move entry by entry, as Linux's do_pages_move: an
// address or node that cannot be read, a node that cannot hold pages
// (ENODEV) or a status that cannot be written ends the call, the entries
// before it answered. A page's status is the node it is on (the target,
// node 0) or why it has none.
func pagesMove(t *kernel.Task, m *mm.MM, count, pagesAddr, nodesAddr, statusAddr uint64) error {
	var addr [1]uint64
	var state [1]mm.PageState
	for i := uint64(0); i < count; i++ {
		if i%movePagesChunk == 0 && t.Dying() {
			return unix.EINTR
		}
		var err error
		if addr[0], err = getUint64(t, pagesAddr+i*8); err != nil {
			return unix.EFAULT
		}
		node, err := getUint32(t, nodesAddr+i*4)
		if err != nil {
			return unix.EFAULT
		}
		if node != 0 {
			return unix.ENODEV // out of range, or a node that does not exist
		}
		m.PageStates(addr[:], state[:])
		if err := putUint32(t, statusAddr+i*4, uint32(pageStatus(state[0]))); err != nil {
			return unix.EFAULT
		}
	}
	return nil
}
