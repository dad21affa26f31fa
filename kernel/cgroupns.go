package kernel

import "golang.org/x/sys/unix"

// CgroupNamespace is a cgroup namespace. uk has one cgroup, the root, and
// every process is in it, so a namespace's root is that cgroup and
// /proc/PID/cgroup reads "0::/" in all of them: a new one differs only
// in its identity (/proc/PID/ns/cgroup). It implements nsfs.Namespace.
type CgroupNamespace struct{ inum uint64 }

// rootCgroupNS is the initial cgroup namespace, with Linux's
// PROC_CGROUP_INIT_INO.
var rootCgroupNS = &CgroupNamespace{inum: 0xEFFFFFFB}

// Kind implements nsfs.Namespace.
func (ns *CgroupNamespace) Kind() string { return "cgroup" }

// Inum implements nsfs.Namespace.
func (ns *CgroupNamespace) Inum() uint64 { return ns.inum }

// CloneFlag implements nsfs.Namespace.
func (ns *CgroupNamespace) CloneFlag() uint64 { return unix.CLONE_NEWCGROUP }

// CgroupNamespace returns the cgroup namespace t is in.
func (t *Task) CgroupNamespace() *CgroupNamespace {
	if ns := t.cgroupNS.Load(); ns != nil {
		return ns
	}
	return rootCgroupNS
}

// newCgroupNamespace is a namespace rooted, as every one, at the root
// cgroup.
func newCgroupNamespace() *CgroupNamespace {
	return &CgroupNamespace{inum: nsInumBase + nextNSInum.Add(1)}
}
