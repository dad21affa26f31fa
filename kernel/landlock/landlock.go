// Package landlock is Linux's Landlock security module for uk: rules a
// program places on itself (landlock_create_ruleset, landlock_add_rule,
// landlock_restrict_self) that limit, beyond permissions, what it and its
// descendants may do to files by where they lie in the tree, which TCP
// ports they may bind and connect to, and whom they may signal or reach
// through abstract unix sockets.
//
// A Ruleset is what a program builds; restricting itself snapshots it as
// a new layer on top of the task's Domain (at most MaxLayers). A Domain is
// immutable and lives in the task's credentials (vfs.Credentials.Landlock),
// so forks and execs keep it and nothing can take it away. A request is
// allowed when every layer that handles it allows it: a file right when
// some rule of the layer on the file or a directory above it grants it, a
// port when a rule for the port does. The VFS asks at the points Linux's
// security/landlock/fs.c hooks; the socket and signal code ask the same
// as net.c and task.c.
//
// Rules are keyed by inode, as Linux's are: a rule on a directory covers
// every path beneath it, through any mount of it.
package landlock

import (
	"iter"
	"runtime"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// ABIVersion is the Landlock ABI uk implements (Linux 6.15's): file
// rights up to AccessIoctlDev, TCP ports, the two scopes, and
// landlock_restrict_self's logging flags (accepted; uk has no audit log).
const ABIVersion = 7

// Errata is what landlock_create_ruleset(NULL, 0,
// LANDLOCK_CREATE_RULESET_ERRATA) reports: the fixed errata, one bit
// each. 1: only TCP sockets are subject to the TCP rights; 2: threads of
// one process may always signal each other.
const Errata = 0x3

// MaxLayers is how many rulesets a domain may stack (E2BIG beyond).
const MaxLayers = 16

// maxRules bounds the rules of one ruleset, so that what a program makes
// uk hold stays bounded (Linux allows 2^32, charged to the program's
// memory cgroup); a rule beyond it is ENOMEM.
const maxRules = 1 << 14

// Network rights (LANDLOCK_ACCESS_NET_*).
const (
	AccessBindTCP    uint64 = 1 << 0
	AccessConnectTCP uint64 = 1 << 1
	accessNetMask           = AccessBindTCP | AccessConnectTCP
)

// Scopes (LANDLOCK_SCOPE_*): what a domain keeps from reaching outside
// itself.
const (
	ScopeAbstractUnix uint64 = 1 << 0
	ScopeSignal       uint64 = 1 << 1
	scopeMask                = ScopeAbstractUnix | ScopeSignal
)

// layer is one enforced ruleset. Its address identifies it: a domain's
// descendants share its layers, which is how scopes tell a domain and
// those nested in it from the others.
type layer struct {
	handledFS, handledNet, scoped uint64
	fs                            map[vfs.Inode]uint64
	net                           map[uint16]uint64
}

// Domain is a stack of enforced layers; it implements vfs.Landlock. nil
// is the empty domain. It never changes once made.
type Domain struct {
	layers []*layer
}

var _ vfs.Landlock = (*Domain)(nil)

// Of returns the domain credentials c carry, or nil.
func Of(c *vfs.Credentials) *Domain {
	d, _ := c.Landlock.(*Domain)
	return d
}

// Layers is how many rulesets the domain stacks.
func (d *Domain) Layers() int {
	if d == nil {
		return 0
	}
	return len(d.layers)
}

// HandlesFS implements vfs.Landlock.
func (d *Domain) HandlesFS() bool {
	if d == nil {
		return false
	}
	for _, l := range d.layers {
		if l.handledFS != 0 {
			return true
		}
	}
	return false
}

// Denied implements vfs.Landlock: the rights of access some layer handles
// and no rule of it on the walk grants.
func (d *Domain) Denied(access uint64, up iter.Seq[vfs.Inode]) uint64 {
	if d == nil {
		return 0
	}
	var need [MaxLayers]uint64
	var left uint64
	for i, l := range d.layers {
		need[i] = access & l.handledFS
		left |= need[i]
	}
	if left == 0 {
		return 0
	}
	for ino := range up {
		left = 0
		for i, l := range d.layers {
			if need[i] == 0 {
				continue
			}
			if r, ok := l.fs[ino]; ok {
				need[i] &^= r
			}
			left |= need[i]
		}
		if left == 0 {
			return 0
		}
	}
	return left
}

// granted returns, for each layer, the union of its rules on the walk.
func (d *Domain) granted(up iter.Seq[vfs.Inode]) [MaxLayers]uint64 {
	var g [MaxLayers]uint64
	for ino := range up {
		for i, l := range d.layers {
			g[i] |= l.fs[ino]
		}
	}
	return g
}

// ReferDenied implements vfs.Landlock, as Linux's
// current_check_refer_path: every layer must grant AccessRefer (which no
// layer grants unless a rule says so, whatever it handles) on both
// sides, and the rights a layer handles that the destination grants must
// already be granted at the source, or by the file's own rule, which
// moves with it.
func (d *Domain) ReferDenied(child vfs.Inode, childIsDir bool, src, dst iter.Seq[vfs.Inode]) bool {
	if d == nil || len(d.layers) == 0 {
		return false
	}
	gs, gd := d.granted(src), d.granted(dst)
	for i, l := range d.layers {
		if gs[i]&gd[i]&vfs.AccessRefer == 0 {
			return true
		}
		handled := l.handledFS
		if !childIsDir {
			handled &= vfs.AccessFile
		}
		if gd[i]&^(gs[i]|l.fs[child])&handled != 0 {
			return true
		}
	}
	return false
}

// NetDenied reports whether the domain refuses access (AccessBindTCP or
// AccessConnectTCP) to TCP port: some layer handles it and has no rule
// for the port that grants it.
func (d *Domain) NetDenied(access uint64, port uint16) bool {
	if d == nil {
		return false
	}
	for _, l := range d.layers {
		if l.handledNet&access != 0 && l.net[port]&access != access&l.handledNet {
			return true
		}
	}
	return false
}

// ScopeDenied reports whether client's domain keeps it from reaching a
// task (or a socket's owner) in domain server by scope: some layer of
// client has the scope and server is not in that layer's domain (the
// same one or one nested in it).
func ScopeDenied(client, server *Domain, scope uint64) bool {
	if client == nil {
		return false
	}
	for i, l := range client.layers {
		if l.scoped&scope == 0 {
			continue
		}
		if server == nil || i >= len(server.layers) || server.layers[i] != l {
			return true
		}
	}
	return false
}

// Within reports whether domain inner is outer or nested in it (every
// layer of outer is in inner at the same place): a tracer may trace only
// such tasks.
func Within(inner, outer *Domain) bool {
	if outer == nil {
		return true
	}
	if inner == nil || len(inner.layers) < len(outer.layers) {
		return false
	}
	for i, l := range outer.layers {
		if inner.layers[i] != l {
			return false
		}
	}
	return true
}

// Restrict returns d with a new layer on top: r's rules as they are now
// (later rules added to r do not change it). The layer's copies are
// charged to r's budget until the layer is collected; ENOMEM when the
// budget cannot cover them.
func (d *Domain) Restrict(r *Ruleset) (*Domain, error) {
	r.mu.Lock()
	cost := int64(len(r.fs)+len(r.net)) * ruleCost
	if !r.budget.Charge(cost) {
		r.mu.Unlock()
		return nil, unix.ENOMEM
	}
	l := &layer{handledFS: r.handledFS, handledNet: r.handledNet, scoped: r.scoped,
		fs: make(map[vfs.Inode]uint64, len(r.fs)), net: make(map[uint16]uint64, len(r.net))}
	runtime.AddCleanup(l, func(b vfs.Charger) { b.Uncharge(cost) }, r.budget)
	for k, v := range r.fs {
		l.fs[k] = v
	}
	for k, v := range r.net {
		l.net[k] = v
	}
	r.mu.Unlock()
	n := &Domain{}
	if d != nil {
		n.layers = append(n.layers, d.layers...)
	}
	n.layers = append(n.layers, l)
	return n, nil
}
