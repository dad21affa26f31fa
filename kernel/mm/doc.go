// Package mm is a process's memory: its virtual memory areas (VMAs), the
// memory-file pages that back them, and the platform address space those
// pages are mapped into.
//
// Pages are allocated on first touch (demand paging) in runs of up to
// faultRun bytes, so one fault maps many pages with one platform call; a
// program writing private anonymous memory sequentially gets runs that
// grow to maxFaultRun (faultaround.go).
// Private pages are shared copy-on-write between a process and the child it
// forks: a page with more than one reference is mapped read-only, and the
// first write copies it. uk itself reads and writes application memory
// through the memory file (CopyIn/CopyOut), never through the platform.
//
// # Who owns each page
//
//   - Private pages (anonymous memory, and copies made from a file by a
//     write to a private mapping) belong to the MM: MM.pages holds one
//     memory-file reference per entry. fork shares them copy-on-write, with
//     one reference per MM.
//   - Object pages belong to their object (a memmap.Mappable): a tmpfs
//     file's pages, the pages of a MAP_SHARED|MAP_ANONYMOUS region or SysV
//     segment (AnonObject), the vDSO's. The object holds one reference per
//     page. An MM maps them (shared mappings, and the read-only view of a
//     file in a private mapping before it is written) without a reference
//     of its own: each VMA with an Object is registered with it
//     (AddMapping), and the object invalidates every registered mapper
//     before it lets a page go (memmap.Mapper.Invalidate). The
//     registration also keeps the object alive: a mapped file outlives its
//     last name and its last open description.
//   - The memory file counts references and frees a page when the last one
//     goes.
//
// The invariant: a page returns to the memory file's free list only when
// no address space of any platform can reach it. So an MM takes a range out
// of its address space before it drops its references on the range's
// private pages, releases its address space before its pages when it dies,
// and kills its address space rather than free a page whose unmap the
// platform could not do. EnablePageCheck verifies the invariant on every
// free (the tests run with it on).
//
// # Lock order
//
//	MM.mu → object (tmpfs Regular.mu, AnonObject.mu, MapperSet) → memfile
//	MM.mu → platform address space
//	VFS namespace → tmpfs inode → (after dropping it) MM.mu via Invalidate
//
// Invalidation runs from object to mapper, against the first order, so an
// object never calls it holding its own locks: truncation detaches the
// pages under the object's lock (no new fault can find them), drops the
// lock, invalidates every mapper (each takes its MM.mu and unmaps), and
// only then releases the pages. A fault that got a page before it was
// detached holds MM.mu until the page is mapped, so the invalidation of
// that MM, which needs MM.mu, comes after and removes it. This is gVisor's
// mappingMu > file mapsMu > activeMu > dataMu, with one lock per MM.
//
// Invariants, all under MM.mu:
//   - vmas are sorted, page aligned and non-overlapping, and each VMA's
//     Prot is within its MaxProt;
//   - every key of pages lies inside a private VMA, and the MM holds one
//     memory-file reference per entry;
//   - each VMA with an Object is one registration with it;
//   - a page is mapped writable in the address space only if its VMA is
//     writable and (for private pages) the MM holds its only reference.
package mm
