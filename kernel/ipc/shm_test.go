package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/memfile"
	"uk/kernel/memmap"
	"uk/kernel/mm"
	"uk/platform"
)

// nopAS is an address space that maps nothing: the tests reach memory
// through the MM's copy functions, which read the memory file directly.
type nopAS struct{}

func (nopAS) MapFile(uint64, int64, uint64, platform.Access) error { return nil }
func (nopAS) Unmap(uint64, uint64) error                           { return nil }
func (nopAS) Release()                                             {}

func newNS(t *testing.T) (*Namespace, *memfile.File) {
	t.Helper()
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	mm.EnablePageCheck(mf)
	return NewNamespace(mf), mf
}

func newMM(mf *memfile.File) *mm.MM { return mm.New(mf, nopAS{}, mm.NewLayout(0x7fffffffe000)) }

var (
	root  = Caller{Creds: vfs.RootCredentials(), PID: 1, MemlockLimit: 8 << 20}
	alice = Caller{Creds: vfs.UserCredentials(1000, 1000), PID: 2, MemlockLimit: 8 << 20}
	bob   = Caller{Creds: vfs.UserCredentials(1001, 1001), PID: 3, MemlockLimit: 8 << 20}
	carol = Caller{Creds: vfs.UserCredentials(1002, 1000), PID: 4, MemlockLimit: 8 << 20} // in alice's group
)

// attach maps segment id into m as shmat does and returns the address.
func attach(ns *Namespace, c Caller, m *mm.MM, id int32, access uint32) (uint64, error) {
	prot := platform.Read | platform.Write
	return ns.ShmAttach(c, id, access, func(at Attachment) (uint64, error) {
		return m.Mmap(mm.MmapOpts{Length: at.Size, Prot: prot, Shared: true, Object: at.Object,
			Name: at.Name, Dev: at.Dev, Ino: at.Ino})
	})
}

// detach is shmdt.
func detach(c Caller, m *mm.MM, addr uint64) error {
	obj, err := m.DetachObject(addr, IsShm)
	if err != nil {
		return err
	}
	ShmDetached(c, obj)
	return nil
}

func mustGet(t *testing.T, ns *Namespace, c Caller, key int32, size uint64, flags int32) int32 {
	t.Helper()
	id, err := ns.ShmGet(c, key, size, flags)
	if err != nil {
		t.Fatalf("shmget(%#x, %d, %#o): %v", key, size, flags, err)
	}
	return id
}

func TestShmGet(t *testing.T) {
	ns, _ := newNS(t)
	mustGet(t, ns, alice, 0x1234, 8192, IPCCreat|0o640)
	mustGet(t, ns, alice, 0x5678, 100, IPCCreat|0o600)
	for _, tc := range []struct {
		name  string
		c     Caller
		key   int32
		size  uint64
		flags int32
		want  error
	}{
		{"existing", alice, 0x1234, 4096, 0o600, nil},
		{"existing, size 0", alice, 0x1234, 0, 0, nil},
		{"existing, its size", alice, 0x1234, 8192, 0, nil},
		{"existing, too big", alice, 0x1234, 8193, 0, unix.EINVAL},
		{"creat on existing", alice, 0x1234, 4096, IPCCreat | 0o600, nil},
		{"creat|excl on existing", alice, 0x1234, 4096, IPCCreat | IPCExcl | 0o600, unix.EEXIST},
		{"excl beats size", alice, 0x1234, 1 << 20, IPCCreat | IPCExcl, unix.EEXIST},
		{"size beats permission", bob, 0x1234, 1 << 20, 0o400, unix.EINVAL},
		{"missing key", alice, 0x999, 4096, 0o600, unix.ENOENT},
		{"creat size 0", alice, 0x999, 0, IPCCreat | 0o600, unix.EINVAL},
		{"creat above SHMMAX", alice, 0x999, SHMMax + 1, IPCCreat | 0o600, unix.EINVAL},
		{"bigger than memory", alice, IPCPrivate, 32 << 20, 0o600, unix.ENOMEM},
		{"bigger than memory, noreserve", alice, IPCPrivate, 32 << 20, SHMNoReserve | 0o600, nil},
		{"hugetlb", root, IPCPrivate, 2 << 20, SHMHugeTLB | 0o600, unix.ENOMEM},
		{"hugetlb, bad size", root, IPCPrivate, 2 << 20, SHMHugeTLB | 5<<SHMHugeShift | 0o600, unix.EINVAL},
		{"hugetlb, unprivileged", alice, IPCPrivate, 2 << 20, SHMHugeTLB | 0o600, unix.EPERM},
		{"group may read", carol, 0x1234, 0, 0o040, nil},
		{"group may not write", carol, 0x1234, 0, 0o060, unix.EACCES},
		{"others may not read", bob, 0x1234, 0, 0o004, unix.EACCES},
		{"no access asked", bob, 0x1234, 0, 0, nil},
		{"owner may write", alice, 0x1234, 0, 0o200, nil},
		{"owner may not exec", alice, 0x1234, 0, 0o100, unix.EACCES},
		{"root may do anything", root, 0x5678, 0, 0o777, nil},
		{"private ignores the key table", alice, IPCPrivate, 10, IPCCreat | IPCExcl | 0o600, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ns.ShmGet(tc.c, tc.key, tc.size, tc.flags)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("shmget(%#x, %d, %#o) = %v, want %v", tc.key, tc.size, tc.flags, err, tc.want)
			}
		})
	}
}

// TestShmIDs checks Linux's id arithmetic: the first id is 0, indices go
// round cyclically, and an index reused after wrapping gets a new
// sequence number, so the old id no longer works.
func TestShmIDs(t *testing.T) {
	ns, _ := newNS(t)
	first := mustGet(t, ns, root, IPCPrivate, 1, 0o600)
	if first != 0 {
		t.Fatalf("first id = %d, want 0", first)
	}
	if err := ns.ShmRemove(root, first); err != nil {
		t.Fatal(err)
	}
	var last int32
	for i := 1; i < minCycle; i++ {
		last = mustGet(t, ns, root, IPCPrivate, 1, 0o600)
		if last != int32(i) {
			t.Fatalf("id %d = %d, want %d (indices go round)", i, last, i)
		}
		if err := ns.ShmRemove(root, last); err != nil {
			t.Fatal(err)
		}
	}
	again := mustGet(t, ns, root, IPCPrivate, 1, 0o600)
	if again != 1<<idShift {
		t.Errorf("id after wrapping = %d, want %d (index 0, sequence 1)", again, 1<<idShift)
	}
	if _, _, err := ns.ShmStat(root, first, IPCStat); err != unix.EINVAL {
		t.Errorf("IPC_STAT of the stale id: %v, want EINVAL", err)
	}
	ds, ret, err := ns.ShmStat(root, 0, SHMStat)
	if err != nil || ret != again || ds.Perm.Seq != 1 {
		t.Errorf("SHM_STAT of index 0 = %d (seq %d), %v; want %d (seq 1)", ret, ds.Perm.Seq, err, again)
	}
	if _, ret := ns.ShmLimits(); ret != 0 {
		t.Errorf("IPC_INFO returns %d, want the highest index 0", ret)
	}
}

func TestShmLimitOfIDs(t *testing.T) {
	ns, _ := newNS(t)
	for i := 0; i < SHMMNI; i++ {
		mustGet(t, ns, root, IPCPrivate, 1, 0o600)
	}
	if _, err := ns.ShmGet(root, IPCPrivate, 1, 0o600); err != unix.ENOSPC {
		t.Errorf("shmget past SHMMNI: %v, want ENOSPC", err)
	}
	info, max := ns.ShmUsage()
	if info.UsedIDs != SHMMNI || info.ShmTot != SHMMNI || max != SHMMNI-1 {
		t.Errorf("SHM_INFO = %+v, %d; want %d ids, %d pages, highest index %d", info, max, SHMMNI, SHMMNI, SHMMNI-1)
	}
}

// pageOf returns the memory-file offset of the segment page mapped at
// addr in m.
func pageOf(t *testing.T, m *mm.MM, addr uint64) int64 {
	t.Helper()
	off, ok := peek(m, addr)
	if !ok {
		t.Fatalf("no segment page at %#x", addr)
	}
	return off
}

// peek returns the memory-file offset of the object page mapped at addr
// in m, if there is one.
func peek(m *mm.MM, addr uint64) (int64, bool) {
	for _, v := range m.VMAs() {
		if v.Start <= addr && addr < v.End && v.Object != nil {
			return v.Object.(memmap.PagePeeker).PeekPage(v.Pgoff + (addr-v.Start)>>arch.PageShift)
		}
	}
	return 0, false
}

func stat(t *testing.T, ns *Namespace, id int32) ShmidDS {
	t.Helper()
	ds, _, err := ns.ShmStat(root, id, IPCStat)
	if err != nil {
		t.Fatalf("IPC_STAT: %v", err)
	}
	return ds
}

// TestShmRemoveWhileAttached follows a segment removed while two
// processes (one forked from the other) have it attached: it stays usable
// and keeps its contents until the last of them lets go, whether by shmdt
// or by exiting, and its pages go back to the memory file only then.
func TestShmRemoveWhileAttached(t *testing.T) {
	ns, mf := newNS(t)
	id := mustGet(t, ns, alice, 0x77, 3*arch.PageSize, IPCCreat|0o600)
	parent := newMM(mf)
	addr, err := attach(ns, alice, parent, id, MayRead|MayWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.CopyOut(addr+arch.PageSize, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	page := pageOf(t, parent, addr+arch.PageSize)
	child := parent.Fork(nopAS{}, 0)
	if ds := stat(t, ns, id); ds.Nattch != 2 || ds.CPID != alice.PID || ds.LPID != alice.PID || ds.Segsz != 3*arch.PageSize {
		t.Errorf("after attach and fork: %+v", ds)
	}

	if err := ns.ShmRemove(bob, id); err != unix.EPERM {
		t.Errorf("IPC_RMID by another user: %v, want EPERM", err)
	}
	if err := ns.ShmRemove(alice, id); err != nil {
		t.Fatal(err)
	}
	ds := stat(t, ns, id)
	if ds.Perm.Key != IPCPrivate || ds.Perm.Mode != SHMDest|0o600 || ds.Nattch != 2 {
		t.Errorf("removed while attached: key %#x mode %#o nattch %d; want 0, %#o, 2", ds.Perm.Key, ds.Perm.Mode, ds.Nattch, SHMDest|0o600)
	}
	if _, err := ns.ShmGet(alice, 0x77, 0, 0); err != unix.ENOENT {
		t.Errorf("shmget of the removed key: %v, want ENOENT", err)
	}
	if info, _ := ns.ShmUsage(); info.UsedIDs != 1 || info.ShmTot != 3 || info.ShmRss != 1 {
		t.Errorf("SHM_INFO = %+v; want 1 id, 3 pages, 1 resident", info)
	}

	// Still attachable by id, as on Linux.
	again, err := attach(ns, bob, newMM(mf), id, MayRead)
	if err != unix.EACCES {
		t.Errorf("attach of the removed segment by another user: %v, want EACCES", err)
	}
	other := newMM(mf)
	if again, err = attach(ns, alice, other, id, MayRead|MayWrite); err != nil {
		t.Fatalf("attach of a removed, attached segment: %v", err)
	}
	buf := make([]byte, 5)
	if err := other.CopyIn(again+arch.PageSize, buf); err != nil || string(buf) != "hello" {
		t.Errorf("a new attachment reads %q, %v", buf, err)
	}
	if err := detach(alice, other, again); err != nil {
		t.Fatal(err)
	}

	if err := detach(alice, parent, addr); err != nil {
		t.Fatal(err)
	}
	if err := detach(alice, parent, addr); err != unix.EINVAL {
		t.Errorf("second shmdt: %v, want EINVAL", err)
	}
	if mf.RefCount(page) == 0 {
		t.Fatal("pages freed while the child still has the segment attached")
	}
	if err := child.CopyIn(addr+arch.PageSize, buf); err != nil || string(buf) != "hello" {
		t.Errorf("the child reads %q, %v", buf, err)
	}
	if ds := stat(t, ns, id); ds.Nattch != 1 || ds.Dtime == 0 {
		t.Errorf("after the parent's shmdt: nattch %d dtime %d", ds.Nattch, ds.Dtime)
	}

	child.DecUsers() // the child exits without shmdt
	if n := mf.RefCount(page); n != 0 {
		t.Errorf("page still has %d references after the last attachment went", n)
	}
	if _, _, err := ns.ShmStat(root, id, IPCStat); err != unix.EINVAL {
		t.Errorf("IPC_STAT after the last detach: %v, want EINVAL", err)
	}
	if info, max := ns.ShmUsage(); info != (ShmInfo{}) || max != 0 {
		t.Errorf("SHM_INFO = %+v, %d; want nothing", info, max)
	}
	if _, err := attach(ns, alice, newMM(mf), id, MayRead); err != unix.EINVAL {
		t.Errorf("attach after the last detach: %v, want EINVAL", err)
	}
}

// TestShmKeepsPagesUnattached checks that the id alone keeps a segment's
// contents, and that IPC_RMID of an unattached segment frees them at once.
func TestShmKeepsPagesUnattached(t *testing.T) {
	ns, mf := newNS(t)
	id := mustGet(t, ns, root, IPCPrivate, arch.PageSize, 0o600)
	m := newMM(mf)
	addr, err := attach(ns, root, m, id, MayRead|MayWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CopyOut(addr, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	page := pageOf(t, m, addr)
	if err := detach(root, m, addr); err != nil {
		t.Fatal(err)
	}
	if ds := stat(t, ns, id); ds.Nattch != 0 || mf.RefCount(page) == 0 {
		t.Fatalf("detached: nattch %d, page references %d", ds.Nattch, mf.RefCount(page))
	}
	if addr, err = attach(ns, root, m, id, MayRead|MayWrite); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if err := m.CopyIn(addr, buf); err != nil || string(buf) != "kept" {
		t.Errorf("reattached segment reads %q, %v", buf, err)
	}
	if err := detach(root, m, addr); err != nil {
		t.Fatal(err)
	}
	if err := ns.ShmRemove(root, id); err != nil {
		t.Fatal(err)
	}
	if n := mf.RefCount(page); n != 0 {
		t.Errorf("IPC_RMID of an unattached segment left its page with %d references", n)
	}
	if err := ns.ShmRemove(root, id); err != unix.EINVAL {
		t.Errorf("second IPC_RMID: %v, want EINVAL", err)
	}
}

// TestShmAttachFails checks that a failed mapping of a removed segment
// does not keep it alive.
func TestShmAttachFails(t *testing.T) {
	ns, mf := newNS(t)
	id := mustGet(t, ns, root, IPCPrivate, arch.PageSize, 0o600)
	m := newMM(mf)
	addr, err := attach(ns, root, m, id, MayRead)
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.ShmRemove(root, id); err != nil {
		t.Fatal(err)
	}
	_, err = ns.ShmAttach(root, id, MayRead, func(Attachment) (uint64, error) {
		if err := detach(root, m, addr); err != nil { // the last attachment goes meanwhile
			t.Error(err)
		}
		return 0, unix.ENOMEM
	})
	if err != unix.ENOMEM {
		t.Errorf("attach = %v, want the map function's ENOMEM", err)
	}
	if _, _, err := ns.ShmStat(root, id, IPCStat); err != unix.EINVAL {
		t.Errorf("IPC_STAT after the failed attach: %v, want EINVAL", err)
	}
}

// TestShmConcurrent has processes create, attach, write, remove and
// detach a few keys' segments at once, then exit; afterwards no segment
// and no page of one may be left. Run with -race it also checks the
// locking between the namespace and the address spaces.
func TestShmConcurrent(t *testing.T) {
	ns, mf := newNS(t)
	var mu sync.Mutex
	pages := map[int64]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			m := newMM(mf)
			defer m.DecUsers() // exit, with whatever is still attached
			for i := 0; i < 300; i++ {
				id, err := ns.ShmGet(root, int32(1+i%3), 2*arch.PageSize, IPCCreat|0o600)
				if err != nil {
					t.Error(err)
					return
				}
				addr, err := attach(ns, root, m, id, MayRead|MayWrite)
				if err == unix.EINVAL {
					continue // removed and gone since the shmget
				}
				if err != nil {
					t.Error(err)
					return
				}
				if err := m.CopyOut(addr+arch.PageSize, []byte{byte(g)}); err != nil {
					t.Error(err)
					return
				}
				if off, ok := peek(m, addr+arch.PageSize); ok {
					mu.Lock()
					pages[off] = true
					mu.Unlock()
				}
				if i%4 == g {
					ns.ShmRemove(root, id) // EINVAL if another got there first
				}
				if i%3 != 0 {
					if err := detach(root, m, addr); err != nil {
						t.Error(err)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if len(pages) == 0 {
		t.Fatal("no process got a page of a segment")
	}
	for _, s := range ns.ShmSegments() {
		if s.Nattch != 0 || s.Perm.Mode&SHMDest != 0 {
			t.Errorf("segment %d after every process exited: %+v", s.ID, s.ShmidDS)
		}
		if err := ns.ShmRemove(root, s.ID); err != nil {
			t.Error(err)
		}
	}
	if info, _ := ns.ShmUsage(); info != (ShmInfo{}) {
		t.Errorf("SHM_INFO after removing everything: %+v", info)
	}
	for off := range pages {
		if n := mf.RefCount(off); n != 0 {
			t.Errorf("page %#x still has %d references", off, n)
		}
	}
}

func TestShmCtlPermissions(t *testing.T) {
	ns, _ := newNS(t)
	id := mustGet(t, ns, alice, IPCPrivate, 10, 0o640)
	if _, _, err := ns.ShmStat(bob, id, IPCStat); err != unix.EACCES {
		t.Errorf("IPC_STAT without read permission: %v, want EACCES", err)
	}
	if _, ret, err := ns.ShmStat(bob, id&idxMask, SHMStatAny); err != nil || ret != id {
		t.Errorf("SHM_STAT_ANY = %d, %v; want %d", ret, err, id)
	}
	if _, _, err := ns.ShmStat(carol, id, IPCStat); err != nil {
		t.Errorf("IPC_STAT by the group: %v", err)
	}
	if err := ns.ShmSet(bob, id, SetRequest{UID: 1001, GID: 1001, Mode: 0o666}); err != unix.EPERM {
		t.Errorf("IPC_SET by another user: %v, want EPERM", err)
	}
	if err := ns.ShmSet(alice, id, SetRequest{UID: ^uint32(0), GID: 1001, Mode: 0o666}); err != unix.EINVAL {
		t.Errorf("IPC_SET to uid -1: %v, want EINVAL", err)
	}
	// Giving it to bob leaves alice its creator: she may still change it.
	if err := ns.ShmSet(alice, id, SetRequest{UID: 1001, GID: 1001, Mode: 0o7604}); err != nil {
		t.Fatal(err)
	}
	ds := stat(t, ns, id)
	if ds.Perm.UID != 1001 || ds.Perm.GID != 1001 || ds.Perm.CUID != 1000 || ds.Perm.CGID != 1000 || ds.Perm.Mode != 0o604 {
		t.Errorf("after IPC_SET: %+v", ds.Perm)
	}
	// carol is in the creator's group, whose bits are now none.
	if _, _, err := ns.ShmStat(carol, id, IPCStat); err != unix.EACCES {
		t.Errorf("IPC_STAT by the creator's group with g=: %v, want EACCES", err)
	}
	dave := Caller{Creds: vfs.UserCredentials(1003, 1003), PID: 5}
	if _, _, err := ns.ShmStat(dave, id, IPCStat); err != nil {
		t.Errorf("IPC_STAT by others with o+r: %v", err)
	}
	if _, err := attach(ns, dave, newMM(ns.mf), id, MayRead|MayWrite); err != unix.EACCES {
		t.Errorf("read-write attach with o=r: %v, want EACCES", err)
	}
	if err := ns.ShmRemove(alice, id); err != nil {
		t.Errorf("IPC_RMID by the creator: %v", err)
	}
}

func TestShmLock(t *testing.T) {
	ns, _ := newNS(t)
	id := mustGet(t, ns, alice, IPCPrivate, 3*arch.PageSize, 0o600)
	poor := alice
	poor.MemlockLimit = 0
	if err := ns.ShmLock(poor, id, true); err != unix.EPERM {
		t.Errorf("SHM_LOCK with no locked-memory allowance: %v, want EPERM", err)
	}
	tight := alice
	tight.MemlockLimit = 2 * arch.PageSize
	if err := ns.ShmLock(tight, id, true); err != unix.ENOMEM {
		t.Errorf("SHM_LOCK beyond RLIMIT_MEMLOCK: %v, want ENOMEM", err)
	}
	if err := ns.ShmLock(bob, id, true); err != unix.EPERM {
		t.Errorf("SHM_LOCK by another user: %v, want EPERM", err)
	}
	for i := 0; i < 2; i++ { // locking twice charges once
		if err := ns.ShmLock(alice, id, true); err != nil {
			t.Fatal(err)
		}
	}
	if ds := stat(t, ns, id); ds.Perm.Mode != SHMLocked|0o600 {
		t.Errorf("locked mode %#o", ds.Perm.Mode)
	}
	if got := ns.shm.locked[1000]; got != 3 {
		t.Errorf("charged %d pages, want 3", got)
	}
	if err := ns.ShmLock(alice, id, false); err != nil {
		t.Fatal(err)
	}
	if ds := stat(t, ns, id); ds.Perm.Mode != 0o600 || len(ns.shm.locked) != 0 {
		t.Errorf("after SHM_UNLOCK: mode %#o, charges %v", ds.Perm.Mode, ns.shm.locked)
	}
	if err := ns.ShmLock(alice, id, true); err != nil {
		t.Fatal(err)
	}
	if err := ns.ShmRemove(alice, id); err != nil {
		t.Fatal(err)
	}
	if len(ns.shm.locked) != 0 {
		t.Errorf("removing a locked segment left charges %v", ns.shm.locked)
	}
}

// TestShmABI checks the x86-64 layouts against the offsets of the uapi
// structures.
func TestShmABI(t *testing.T) {
	ds := ShmidDS{Perm: Perm{Key: -2, UID: 1, GID: 2, CUID: 3, CGID: 4, Mode: 0o1600, Seq: 5},
		Segsz: 6, Atime: 7, Dtime: 8, Ctime: 9, CPID: 10, LPID: 11, Nattch: 12}
	b := ds.Marshal()
	if len(b) != ShmidDSSize {
		t.Fatalf("shmid64_ds is %d bytes, want %d", len(b), ShmidDSSize)
	}
	le := binary.LittleEndian
	for _, f := range []struct {
		off, size int
		want      uint64
	}{
		{0, 4, 0xfffffffe}, {4, 4, 1}, {8, 4, 2}, {12, 4, 3}, {16, 4, 4}, {20, 4, 0o1600}, {24, 2, 5},
		{48, 8, 6}, {56, 8, 7}, {64, 8, 8}, {72, 8, 9}, {80, 4, 10}, {84, 4, 11}, {88, 8, 12},
	} {
		var got uint64
		switch f.size {
		case 2:
			got = uint64(le.Uint16(b[f.off:]))
		case 4:
			got = uint64(le.Uint32(b[f.off:]))
		default:
			got = le.Uint64(b[f.off:])
		}
		if got != f.want {
			t.Errorf("offset %d: %d, want %d", f.off, got, f.want)
		}
	}
	if req := UnmarshalSetRequest(b); req != (SetRequest{UID: 1, GID: 2, Mode: 0o1600}) {
		t.Errorf("IPC_SET reads %+v", req)
	}
	info := (&ShmInfo64{Shmmax: 1, Shmmin: 2, Shmmni: 3, Shmseg: 4, Shmall: 5}).Marshal()
	if len(info) != ShmInfo64Size || le.Uint64(info[32:]) != 5 || !bytes.Equal(info[40:], make([]byte, 32)) {
		t.Errorf("shminfo64 = %x", info)
	}
	use := (&ShmInfo{UsedIDs: 1, ShmTot: 2, ShmRss: 3}).Marshal()
	if len(use) != ShmInfoSize || le.Uint32(use) != 1 || le.Uint64(use[8:]) != 2 || le.Uint64(use[16:]) != 3 {
		t.Errorf("shm_info = %x", use)
	}
}
