package keys

// defaultPerm is what add_key and request_key give a key of typ
// (KEY_PERM_UNDEF): the possessor may view, search, link, set attributes,
// read a readable type and write an updatable one or a keyring; the owner
// may view.
func defaultPerm(typ *keyType) uint32 {
	p := uint32(PermView|PermSearch|PermLink|PermSetattr) << posShift
	p |= PermView << usrShift
	if typ.readable {
		p |= PermRead << posShift
	}
	if typ.keyring || typ.updatable {
		p |= PermWrite << posShift
	}
	return p
}

// AddKey is add_key(2) once its arguments are in uk (key_create_or_update
// after sys_add_key's copies): desc "" stands for none. A key of the same
// type and description in the keyring is updated if the type allows,
// else replaced by the new key.
func (r *Registry) AddKey(c *Caller, typeName, desc string, payload []byte, ringid int32) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	kr, possessed, err := r.lookup(c, ringid, true, false, needWrite)
	if err != nil {
		return 0, err
	}
	typ, err := lookupType(typeName)
	if err != nil {
		return 0, errNoDev
	}
	if !kr.typ.keyring {
		return 0, errNotDir
	}
	if err := typ.preparse(payload); err != nil {
		return 0, err
	}
	if desc == "" {
		return 0, errInval
	}
	old := kr.find(typ, desc)
	if old < 0 {
		if err := r.reserve(kr, kr.datalen+linkBytes); err != nil {
			return 0, err
		}
	}
	unreserve := func() {
		if old < 0 {
			r.reserve(kr, kr.datalen-linkBytes)
		}
	}
	if kr.restricted {
		unreserve()
		return 0, errPerm
	}
	if !permitted(kr, &c.Cred, possessed, PermWrite) {
		unreserve()
		return 0, errAccess
	}
	if typ.updatable && old >= 0 {
		if k := kr.links[old]; !k.dead() {
			// __key_update: the caller needs Write on the key.
			if !permitted(k, &c.Cred, possessed, PermWrite) {
				return 0, errAccess
			}
			if err := r.update(k, payload); err != nil {
				return 0, err
			}
			return k.serial, nil
		}
	}
	k, err := r.alloc(typ, desc, c.FSUID, c.FSGID, defaultPerm(typ), allocInQuota)
	if err != nil {
		unreserve()
		return 0, err
	}
	if err := r.instantiate(k, payload); err != nil {
		unreserve()
		r.put(k)
		return 0, err
	}
	if k.typ.keyring {
		// A check a keyring being linked must pass; a new one has no
		// links and cannot fail it.
		if err := detectCycle(kr, k); err != nil {
			unreserve()
			r.put(k)
			return 0, err
		}
	}
	r.commitLink(kr, k, old)
	r.put(k)
	return k.serial, nil
}

// update replaces a positive or negative key's payload (user_update):
// the owner's quota takes the new size first; the key becomes positive
// and its expiry is cleared, as Linux's update sets it from a fresh
// preparse.
func (r *Registry) update(k *Key, payload []byte) error {
	if err := r.reserve(k, len(payload)); err != nil {
		return err
	}
	if err := r.setPayload(k, append([]byte(nil), payload...)); err != nil {
		r.reserve(k, len(k.payload))
		return err
	}
	k.expiry = 0
	if k.state <= 0 {
		if k.state == 0 {
			k.user.nikeys++
		}
		k.state = 1
	}
	return nil
}
