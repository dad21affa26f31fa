package keys

// link puts key in keyring kr (key_link): a link to another key of the
// same type and description is replaced; a new link charges kr's owner
// linkBytes; a restricted keyring refuses (EPERM); a keyring that would
// make a cycle (EDEADLK) or a nest too deep (ELOOP) is refused.
func (r *Registry) link(kr, key *Key) error {
	if !kr.typ.keyring {
		return errNotDir
	}
	old := kr.find(key.typ, key.desc)
	if old < 0 {
		if err := r.reserve(kr, kr.datalen+linkBytes); err != nil {
			return err
		}
	}
	err := r.checkLink(kr, key)
	if err != nil {
		if old < 0 {
			r.reserve(kr, kr.datalen-linkBytes)
		}
		return err
	}
	r.commitLink(kr, key, old)
	return nil
}

// checkLink is what a link must pass once kr has room for it: kr's
// restriction, then the cycle check.
func (r *Registry) checkLink(kr, key *Key) error {
	if kr.restricted {
		return errPerm
	}
	if key.typ.keyring {
		return detectCycle(kr, key)
	}
	return nil
}

// commitLink links key in kr in place of the link at position old (-1:
// none), whose room is reserved.
func (r *Registry) commitLink(kr, key *Key, old int) {
	if old >= 0 {
		if kr.links[old] == key {
			return
		}
		r.put(kr.dropLink(old))
	}
	kr.addLink(r.get(key))
}

// detectCycle is keyring_detect_cycle: whether linking keyring b into a
// would let a search reach a from itself (EDEADLK), or b nests keyrings
// deeper than a search goes (ELOOP).
func detectCycle(a, b *Key) error {
	if a == b {
		return errDeadlock
	}
	var walk func(k *Key, depth int) error
	walk = func(k *Key, depth int) error {
		for _, l := range k.links {
			if l == a {
				return errDeadlock
			}
		}
		for _, l := range k.links {
			if !l.typ.keyring {
				continue
			}
			if depth >= maxDepth {
				return errLoop
			}
			if err := walk(l, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(b, 0)
}

// unlink takes the link with key's type and description out of kr
// (key_unlink): ENOENT when there is none.
func (r *Registry) unlink(kr, key *Key) error {
	if !kr.typ.keyring {
		return errNotDir
	}
	i := kr.find(key.typ, key.desc)
	if i < 0 {
		return errNoEnt
	}
	r.put(kr.dropLink(i))
	r.reserve(kr, kr.datalen-linkBytes)
	return nil
}

// clear empties keyring kr (keyring_clear).
func (r *Registry) clear(kr *Key) error {
	if !kr.typ.keyring {
		return errNotDir
	}
	links := kr.links
	kr.links, kr.index = nil, nil
	for _, l := range links {
		delete(l.parents, kr)
	}
	r.reserve(kr, 0)
	for _, l := range links {
		r.put(l)
	}
	return nil
}

// searchCtx is one search (Linux's keyring_search_context).
type searchCtx struct {
	typ  *keyType
	desc string
	// target: find this very key (possession); else any key of typ and
	// desc.
	target *Key
	cred   *Cred
	now    int64
	// stateCheck skips (and reports) revoked, invalidated, expired and
	// negative keys; skipExpired skips expired ones silently.
	stateCheck, skipExpired bool
	// noPerm searches without permission checks.
	noPerm bool
	// result is the last error met (EAGAIN-like nil: none).
	err error
}

// searchKeyring searches keyring kr and the keyrings nested in it
// (keyring_search_rcu and search_nested_keyrings): the caller needs
// Search on kr, then on every keyring it descends into. It returns the
// key found and whether the caller possesses it; or nil, with the last
// error met in ctx.err (nil: nothing matched).
func (r *Registry) searchKeyring(kr *Key, possessed bool, ctx *searchCtx) (*Key, error) {
	if !kr.typ.keyring {
		return nil, errNotDir
	}
	if !ctx.noPerm && !permitted(kr, ctx.cred, possessed, PermSearch) {
		return nil, errAccess
	}
	// The keyring itself may be what is looked for.
	if ctx.target == nil && ctx.typ == typeKeyring && kr.desc == ctx.desc {
		if ok, stop := ctx.visit(kr, possessed); ok {
			return kr, nil
		} else if stop {
			return nil, nil
		}
	}
	if ctx.target == kr {
		return kr, nil
	}
	return ctx.nested(kr, possessed, 0), nil
}

func (ctx *searchCtx) nested(kr *Key, possessed bool, depth int) *Key {
	if ctx.target != nil {
		// The key itself must grant Search too, as possessed: a key a
		// process may not search for is not its own (Linux's
		// keyring_search_iterator checks KEY_NEED_SEARCH on it).
		if i := kr.find(ctx.target.typ, ctx.target.desc); i >= 0 && kr.links[i] == ctx.target &&
			(ctx.noPerm || permitted(ctx.target, ctx.cred, possessed, PermSearch)) {
			return ctx.target
		}
	} else if i := kr.find(ctx.typ, ctx.desc); i >= 0 {
		if ok, _ := ctx.visit(kr.links[i], possessed); ok {
			return kr.links[i]
		}
	}
	if depth >= maxDepth {
		return nil
	}
	for _, l := range kr.links {
		if !l.typ.keyring {
			continue
		}
		if !ctx.noPerm && !permitted(l, ctx.cred, possessed, PermSearch) {
			continue
		}
		if k := ctx.nested(l, possessed, depth+1); k != nil {
			return k
		}
	}
	return nil
}

// visit is keyring_search_iterator for a key of the type and description
// looked for: found, or skipped with the reason in ctx.err; stop says the
// keyring itself was skipped (the search of its tree ends).
func (ctx *searchCtx) visit(k *Key, possessed bool) (found, stop bool) {
	if ctx.stateCheck {
		if k.dead() {
			ctx.err = errRevoked
			return false, true
		}
		if k.expired(ctx.now) {
			if !ctx.skipExpired {
				ctx.err = errExpired
			}
			return false, true
		}
	}
	if !ctx.noPerm && !permitted(k, ctx.cred, possessed, PermSearch) {
		ctx.err = errAccess
		return false, true
	}
	if ctx.stateCheck && k.state < 0 {
		ctx.err = errnoOf(k.state)
		return false, true
	}
	return true, false
}

// permitted is key_task_permission: whether the caller's permission class
// for k (user if it owns k, else group if it is in k's group, else other;
// with the possessor's bits added when it possesses k) has bit.
func permitted(k *Key, c *Cred, possessed bool, bit uint32) bool {
	var kperm uint32
	switch {
	case k.uid == c.FSUID:
		kperm = k.perm >> usrShift
	case k.gid != noID && k.perm&(PermAll<<grpShift) != 0 && c.inGroup(k.gid):
		kperm = k.perm >> grpShift
	default:
		kperm = k.perm
	}
	if possessed {
		kperm |= k.perm >> posShift
	}
	return kperm&bit == bit
}

// searchProcess searches the caller's keyrings in Linux's order (thread,
// process, session or else the user-session keyring:
// search_cred_keyrings_rcu). Its error, when nothing is found, is by
// priority a negative key's, "nothing" (nil), then another error.
func (r *Registry) searchProcess(c *Caller, ctx *searchCtx) (*Key, error) {
	var found, anyRet bool
	var ret, err error // ret: ENOKEY or nothing (nil); err: another error
	try := func(kr *Key) *Key {
		ctx.err = nil
		k, e := r.searchKeyring(kr, true, ctx)
		if k != nil {
			found = true
			return k
		}
		if e == nil {
			e = ctx.err
		}
		switch e {
		case nil: // nothing: does not hide a negative key found before
			if !anyRet {
				ret, anyRet = nil, true
			}
		case errNoKey:
			ret, anyRet = e, true
		default:
			err = e
		}
		return nil
	}
	rings := c.Rings
	for _, kr := range []*Key{rings.thread, rings.process} {
		if kr != nil {
			if k := try(kr); found {
				return k, nil
			}
		}
	}
	if rings.session != nil {
		if k := try(rings.session); found {
			return k, nil
		}
	} else if ur := r.userRings[c.UID]; ur != nil {
		if k := try(ur.session); found {
			return k, nil
		}
	}
	if anyRet {
		if ret == nil {
			return nil, errAgain
		}
		return nil, ret
	}
	if err == nil {
		return nil, errAgain
	}
	return nil, err
}

// possessed reports whether the caller possesses k: finds it searching
// from its own keyrings.
func (r *Registry) possessed(c *Caller, k *Key) bool {
	ctx := &searchCtx{target: k, cred: &c.Cred, now: r.now()}
	got, _ := r.searchProcess(c, ctx)
	return got == k
}
