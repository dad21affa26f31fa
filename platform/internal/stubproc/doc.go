// Package stubproc is the stub-process machinery the ptrace and sigsys
// platforms share: both run application code natively in host processes
// ("stubs") made from a tiny exec'd image, confined, and driven by ptrace
// injections; they differ only in how a running application thread comes
// back to uk (ptrace: PTRACE_SYSEMU stops of a traced thread; sigsys: a
// SIGSYS handler in the stub and memory shared with uk), which stays in
// each platform.
//
// What is here:
//
//   - The stub image (image.go): an ELF whose code starts with BaseCode,
//     the injection, clone and mapping-batch sites, at StubBase; a
//     platform may append code of its own (Config.Code).
//   - A Host (host.go, confine.go) per platform: it starts the master stub
//     from a memfd image, confines it (namespaces, chroot, capabilities,
//     securebits, the platform's seccomp filter), forks a stub per address
//     space from it (Host.NewSpace) and reaps what it kills. Config holds
//     what differs: extra fds the master keeps, extra setup steps, names,
//     the filters.
//   - A Space (space.go) per address space: the stub's queue of mapping
//     changes run in batches through its request page (requests.go), by
//     injection or through a serving thread (serve.go), and cloning its
//     threads. Spaces (spaces.go) keeps a platform's live
//     address spaces and a spare one started ahead of need.
//   - Seccomp BPF assembly (bpf.go), ptrace requests, stop decoding and
//     syscall injection (ptrace_unsafe.go, tracee.go), and what a confined
//     stub may keep (caps.go).
//
// Invariants:
//
//   - A tracee is bound to its tracer thread. The Host's factory goroutine,
//     locked to one OS thread for the Host's life, is the tracer of the
//     master and of every stub's main thread, and everything injected into
//     them runs there (Host.Do). Stub threads that run application code are
//     traced by someone else (ptrace: the context's OS thread) or not at
//     all (sigsys). When the factory thread exits, PTRACE_O_EXITKILL and
//     the master's parent death signal kill every stub.
//   - Every function that takes a tid requires the caller to be that
//     thread's tracer and, unless it says otherwise, the thread to be in a
//     ptrace-stop.
//   - Lock order: Spaces' lock, then a Space's Mu (which also protects the
//     platform's own fields of the address space), then the Host's reap
//     lock. Space.Mu is held across a flush, including one that waits for
//     the factory; the factory thread never takes any of these locks, so
//     this cannot deadlock.
//   - A released stub's pid is uk's until uk reaps it. Space.ReleaseThen
//     kills and reaps in the background, so its kill and its request
//     page's return take Host.cmu (alone, never under another lock) and
//     are skipped once Close has begun; a request page goes back only
//     after its stub is reaped, never to a new stub while a dying one
//     still maps it.
//   - A request page is written only under its Space's Mu, by the caller
//     of the batch, while the batch runs, and is left cleared but for its
//     control words (serve.go): it is readable by the application.
package stubproc
