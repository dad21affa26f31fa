package landlock

import (
	"iter"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// node is a stand-in inode.
type node struct {
	vfs.Inode
	name string
}

// walk yields the inodes given, nearest first.
func walk(ns ...*node) iter.Seq[vfs.Inode] {
	return func(yield func(vfs.Inode) bool) {
		for _, n := range ns {
			if !yield(n) {
				return
			}
		}
	}
}

func ruleset(t *testing.T, fs, net, scoped uint64) *Ruleset {
	t.Helper()
	d, err := NewRuleset(fs, net, scoped, vfs.Unlimited{})
	if err != nil {
		t.Fatalf("NewRuleset(%#x, %#x, %#x): %v", fs, net, scoped, err)
	}
	return RulesetOf(d)
}

func TestNewRulesetChecks(t *testing.T) {
	for _, tc := range []struct {
		fs, net, scoped uint64
		want            error
	}{
		{vfs.AccessExecute, 0, 0, nil},
		{0, AccessBindTCP, 0, nil},
		{0, 0, ScopeSignal, nil},
		{0, 0, 0, unix.ENOMSG},
		{1 << 16, 0, 0, unix.EINVAL},
		{0, 4, 0, unix.EINVAL},
		{0, 0, 4, unix.EINVAL},
	} {
		if _, err := NewRuleset(tc.fs, tc.net, tc.scoped, vfs.Unlimited{}); err != tc.want {
			t.Errorf("NewRuleset(%#x, %#x, %#x) = %v, want %v", tc.fs, tc.net, tc.scoped, err, tc.want)
		}
	}
}

func TestAddRuleChecks(t *testing.T) {
	r := ruleset(t, vfs.AccessReadFile|vfs.AccessReadDir, AccessBindTCP, 0)
	dir, file := &node{name: "dir"}, &node{name: "file"}
	for _, tc := range []struct {
		name    string
		allowed uint64
		ino     *node
		isDir   bool
		want    error
	}{
		{"none", 0, dir, true, unix.ENOMSG},
		{"not handled", vfs.AccessWriteFile, dir, true, unix.EINVAL},
		{"dir right on a file", vfs.AccessReadDir, file, false, unix.EINVAL},
		{"file right on a file", vfs.AccessReadFile, file, false, nil},
		{"dir", vfs.AccessReadDir | vfs.AccessReadFile, dir, true, nil},
	} {
		if err := r.AddPathRule(tc.allowed, tc.ino, tc.isDir); err != tc.want {
			t.Errorf("%s: AddPathRule = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		allowed, port uint64
		want          error
	}{
		{0, 80, unix.ENOMSG},
		{AccessConnectTCP, 80, unix.EINVAL},
		{AccessBindTCP, 65536, unix.EINVAL},
		{AccessBindTCP, 65535, nil},
	} {
		if err := r.AddPortRule(tc.allowed, tc.port); err != tc.want {
			t.Errorf("AddPortRule(%#x, %d) = %v, want %v", tc.allowed, tc.port, err, tc.want)
		}
	}
}

// TestRulesBound: a ruleset holds at most maxRules rules.
func TestRulesBound(t *testing.T) {
	r := ruleset(t, vfs.AccessReadFile, 0, 0)
	for i := range maxRules {
		if err := r.AddPathRule(vfs.AccessReadFile, &node{}, true); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	if err := r.AddPathRule(vfs.AccessReadFile, &node{}, true); err != unix.ENOMEM {
		t.Errorf("one rule too many: %v, want ENOMEM", err)
	}
}

func TestDenied(t *testing.T) {
	root, home, docs, file, tmp := &node{name: "/"}, &node{name: "home"}, &node{name: "docs"}, &node{name: "file"}, &node{name: "tmp"}
	r := ruleset(t, vfs.AccessReadFile|vfs.AccessWriteFile, 0, 0)
	if err := r.AddPathRule(vfs.AccessReadFile, home, true); err != nil {
		t.Fatal(err)
	}
	if err := r.AddPathRule(vfs.AccessWriteFile, docs, true); err != nil {
		t.Fatal(err)
	}
	one := restrict(t, nil, r)
	// A second layer that lets only /tmp be written.
	r2 := ruleset(t, vfs.AccessWriteFile, 0, 0)
	if err := r2.AddPathRule(vfs.AccessWriteFile, tmp, true); err != nil {
		t.Fatal(err)
	}
	two := restrict(t, one, r2)
	inDocs := walk(file, docs, home, root)
	inHome := walk(file, home, root)
	inTmp := walk(file, tmp, root)
	rw := vfs.AccessReadFile | vfs.AccessWriteFile
	for _, tc := range []struct {
		name   string
		d      *Domain
		access uint64
		up     iter.Seq[vfs.Inode]
		want   uint64
	}{
		{"none", nil, rw, inDocs, 0},
		{"read and write beneath both rules", one, rw, inDocs, 0},
		{"write beneath the read rule only", one, rw, inHome, vfs.AccessWriteFile},
		{"outside every rule", one, rw, inTmp, rw},
		{"a right no layer handles", one, vfs.AccessExecute, inTmp, 0},
		{"second layer denies writing docs", two, vfs.AccessWriteFile, inDocs, vfs.AccessWriteFile},
		{"second layer allows tmp, first does not", two, vfs.AccessWriteFile, inTmp, vfs.AccessWriteFile},
		{"reading docs, second layer does not handle it", two, vfs.AccessReadFile, inDocs, 0},
	} {
		if got := tc.d.Denied(tc.access, tc.up); got != tc.want {
			t.Errorf("%s: Denied = %#x, want %#x", tc.name, got, tc.want)
		}
	}
	// A rule added after the restriction changes nothing enforced.
	if err := r.AddPathRule(vfs.AccessWriteFile, tmp, true); err != nil {
		t.Fatal(err)
	}
	if got := one.Denied(vfs.AccessWriteFile, inTmp); got != vfs.AccessWriteFile {
		t.Errorf("after a later rule: Denied = %#x, want the write still denied", got)
	}
}

func TestReferDenied(t *testing.T) {
	root, f1, f2, f3, child := &node{name: "/"}, &node{name: "f1"}, &node{name: "f2"}, &node{name: "f3"}, &node{name: "child"}
	r := ruleset(t, vfs.AccessReadFile|vfs.AccessRefer, 0, 0)
	for _, n := range []*node{f1, f2} {
		if err := r.AddPathRule(vfs.AccessRefer, n, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddPathRule(vfs.AccessRefer|vfs.AccessReadFile, f3, true); err != nil {
		t.Fatal(err)
	}
	d := restrict(t, nil, r)
	noRefer := restrict(t, nil, ruleset(t, vfs.AccessReadFile, 0, 0))
	for _, tc := range []struct {
		name     string
		d        *Domain
		src, dst *node
		want     bool
	}{
		{"between two refer rules", d, f1, f2, false},
		{"into more rights", d, f1, f3, true},
		{"into fewer rights", d, f3, f1, false},
		{"refer not handled", noRefer, f1, f2, true},
		{"no domain", nil, f1, f2, false},
	} {
		if got := tc.d.ReferDenied(child, false, walk(tc.src, root), walk(tc.dst, root)); got != tc.want {
			t.Errorf("%s: ReferDenied = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNetDenied(t *testing.T) {
	r := ruleset(t, 0, AccessBindTCP|AccessConnectTCP, 0)
	if err := r.AddPortRule(AccessBindTCP, 8080); err != nil {
		t.Fatal(err)
	}
	d := restrict(t, nil, r)
	bindOnly := restrict(t, nil, ruleset(t, 0, AccessBindTCP, 0))
	for _, tc := range []struct {
		name   string
		d      *Domain
		access uint64
		port   uint16
		want   bool
	}{
		{"bind the port of a rule", d, AccessBindTCP, 8080, false},
		{"bind another", d, AccessBindTCP, 8081, true},
		{"connect to the bind rule's port", d, AccessConnectTCP, 8080, true},
		{"connect, not handled", bindOnly, AccessConnectTCP, 1, false},
		{"no domain", nil, AccessBindTCP, 1, false},
	} {
		if got := tc.d.NetDenied(tc.access, tc.port); got != tc.want {
			t.Errorf("%s: NetDenied = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestScopes(t *testing.T) {
	scoped := restrict(t, nil, ruleset(t, 0, 0, ScopeSignal))
	nested := restrict(t, scoped, ruleset(t, vfs.AccessReadFile, 0, 0))
	sibling := restrict(t, nil, ruleset(t, 0, 0, ScopeSignal))
	unscoped := restrict(t, nil, ruleset(t, vfs.AccessReadFile, 0, 0))
	for _, tc := range []struct {
		name           string
		client, server *Domain
		want           bool
	}{
		{"same domain", scoped, scoped, false},
		{"into a nested one", scoped, nested, false},
		{"out of it to its parent", nested, scoped, false}, // the nested layer does not scope
		{"to a sibling", scoped, sibling, true},
		{"to no domain", scoped, nil, true},
		{"unscoped client", unscoped, nil, false},
		{"no client domain", nil, scoped, false},
	} {
		if got := ScopeDenied(tc.client, tc.server, ScopeSignal); got != tc.want {
			t.Errorf("%s: ScopeDenied = %v, want %v", tc.name, got, tc.want)
		}
	}
	if ScopeDenied(scoped, nil, ScopeAbstractUnix) {
		t.Error("a signal scope limits abstract sockets")
	}
	for _, tc := range []struct {
		name         string
		inner, outer *Domain
		want         bool
	}{
		{"same", scoped, scoped, true},
		{"nested", nested, scoped, true},
		{"parent", scoped, nested, false},
		{"sibling", sibling, scoped, false},
		{"anything within none", sibling, nil, true},
		{"none within one", nil, scoped, false},
	} {
		if got := Within(tc.inner, tc.outer); got != tc.want {
			t.Errorf("%s: Within = %v, want %v", tc.name, got, tc.want)
		}
	}
	if n := slices.Index(nested.layers, scoped.layers[0]); n != 0 {
		t.Errorf("a nested domain's first layer is at %d, want its parent's, at 0", n)
	}
}

// restrict is d.Restrict(r), which must not fail.
func restrict(t *testing.T, d *Domain, r *Ruleset) *Domain {
	t.Helper()
	n, err := d.Restrict(r)
	if err != nil {
		t.Fatalf("Restrict: %v", err)
	}
	return n
}
