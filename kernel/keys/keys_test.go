package keys

import (
	"testing"

	"golang.org/x/sys/unix"
)

// fixture is a registry with a settable clock and one root caller who
// has joined a session keyring.
func fixture(t *testing.T) (*Registry, *Caller, *int64) {
	now := int64(1000)
	r := NewRegistry(func() int64 { return now }, nil)
	c := &Caller{Rings: &TaskRings{}}
	if _, err := r.JoinSession(c, nil); err != nil {
		t.Fatal(err)
	}
	return r, c, &now
}

func TestQuotaAndRelease(t *testing.T) {
	r, root, _ := fixture(t)
	u := &Caller{Cred: Cred{UID: 1000, GID: 1000, FSUID: 1000, FSGID: 1000}, Rings: &TaskRings{}}
	n := 0
	var err error
	for ; n < 300; n++ {
		if _, err = r.AddKey(u, "user", "k"+utoa(uint32(n)), []byte("payload"), SpecThreadKeyring); err != nil {
			break
		}
	}
	if err != unix.EDQUOT || n >= DefaultLimits.MaxKeys {
		t.Fatalf("stopped after %d keys with %v, want EDQUOT before %d", n, err, DefaultLimits.MaxKeys)
	}
	r.Exit(u.Rings)
	if ku := r.users[1000]; ku.qnkeys != 0 || ku.qnbytes != 0 || ku.nkeys != 0 {
		t.Fatalf("after exit user 1000 still holds %+v", *ku)
	}
	if len(r.keys) != 1 { // root's session keyring
		t.Fatalf("%d keys left, want 1", len(r.keys))
	}
	r.Exit(root.Rings)
	if len(r.keys) != 0 {
		t.Fatalf("%d keys left after every task exited", len(r.keys))
	}
}

func TestCycleRefused(t *testing.T) {
	r, c, _ := fixture(t)
	a, _ := r.AddKey(c, "keyring", "a", nil, SpecSessionKeyring)
	b, _ := r.AddKey(c, "keyring", "b", nil, a)
	if err := r.Link(c, a, b); err != unix.EDEADLK {
		t.Fatalf("linking a into its child: %v, want EDEADLK", err)
	}
	if err := r.Link(c, a, a); err != unix.EDEADLK {
		t.Fatalf("linking a into itself: %v, want EDEADLK", err)
	}
}

func TestExpiryAndGC(t *testing.T) {
	r, c, now := fixture(t)
	k, _ := r.AddKey(c, "user", "k", []byte("x"), SpecSessionKeyring)
	if err := r.SetTimeout(c, k, 5); err != nil {
		t.Fatal(err)
	}
	*now += 5
	if _, err := r.Describe(c, k); err != unix.EKEYEXPIRED {
		t.Fatalf("describe after expiry: %v, want EKEYEXPIRED", err)
	}
	*now += int64(DefaultLimits.GCDelay)
	if _, err := r.Describe(c, k); err != unix.ENOKEY {
		t.Fatalf("describe after gc_delay: %v, want ENOKEY (collected)", err)
	}
}

func TestPossessionNeedsSearch(t *testing.T) {
	r, c, _ := fixture(t)
	kr, _ := r.AddKey(c, "keyring", "kr", nil, SpecSessionKeyring)
	k, _ := r.AddKey(c, "user", "k", []byte("x"), kr)
	other := &Caller{Cred: Cred{UID: 5, GID: 5, FSUID: 5, FSGID: 5}, Rings: &TaskRings{}}
	if _, err := r.Describe(other, k); err != unix.EACCES {
		t.Fatalf("another user describing: %v, want EACCES", err)
	}
	if err := r.Setperm(c, kr, PermView<<posShift); err != nil {
		t.Fatal(err)
	}
	// kr no longer grants its possessor Search: k is not possessed, and
	// its owner class (root owns it) has View only.
	if _, _, err := r.Read(c, k, 16); err != unix.EACCES {
		t.Fatalf("read of a key no longer possessed: %v, want EACCES", err)
	}
}
