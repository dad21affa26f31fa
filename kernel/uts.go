package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Release and Version are what uname reports. The release is one that
// programs checking for features (LTP wants 5.16 or later) accept.
const (
	Release = "6.12.0-uk"
	Version = "#1 SMP PREEMPT_DYNAMIC uk"
)

// UTSNamespace is a UTS namespace: the node and domain names uname
// reports, which sethostname and setdomainname change. The sandbox's
// first one starts as Config.Hostname and "(none)"; unshare and clone
// with CLONE_NEWUTS copy the caller's. It implements nsfs.Namespace.
type UTSNamespace struct {
	inum         uint64
	mu           sync.Mutex
	host, domain string // protected by mu
}

// rootUTSInum is the inode number of the initial UTS namespace, as
// Linux's PROC_UTS_INIT_INO.
const rootUTSInum = 0xEFFFFFFE

// Kind implements nsfs.Namespace.
func (ns *UTSNamespace) Kind() string { return "uts" }

// Inum implements nsfs.Namespace.
func (ns *UTSNamespace) Inum() uint64 { return ns.inum }

// CloneFlag implements nsfs.Namespace.
func (ns *UTSNamespace) CloneFlag() uint64 { return unix.CLONE_NEWUTS }

// Names returns the node and domain names.
func (ns *UTSNamespace) Names() (host, domain string) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.host, ns.domain
}

// SetName sets the node name (or, with domain, the domain name): at most
// 64 bytes, kept as given (uname shows them up to a NUL).
func (ns *UTSNamespace) SetName(name string, domain bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if domain {
		ns.domain = name
	} else {
		ns.host = name
	}
}

// copyUTS returns a new namespace with ns's names.
func (ns *UTSNamespace) copyUTS() *UTSNamespace {
	host, domain := ns.Names()
	return &UTSNamespace{inum: nsInumBase + nextNSInum.Add(1), host: host, domain: domain}
}

// rootUTS returns the sandbox's first UTS namespace, made on first use
// (Config.Hostname may be set after New).
func (k *Kernel) rootUTS() *UTSNamespace {
	k.utsOnce.Do(func() {
		k.uts = &UTSNamespace{inum: rootUTSInum, host: k.Hostname, domain: "(none)"}
	})
	return k.uts
}

// UTSNamespace returns the UTS namespace t is in.
func (t *Task) UTSNamespace() *UTSNamespace {
	if ns := t.utsNS.Load(); ns != nil {
		return ns
	}
	return t.k.rootUTS()
}
