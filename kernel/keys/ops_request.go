package keys

import "golang.org/x/sys/unix"

// RequestKey is request_key(2) once its arguments are in uk: a search of
// the caller's keyrings for a key of that type and description, linked
// into dest (when not 0) if found. With nothing found and no callout
// there is nothing more to do (ENOKEY); with a callout Linux runs
// /sbin/request-key to make the key, which uk does not have: as Linux
// without that program, the attempt leaves a negative key for 60 seconds
// in the destination keyring and fails with ENOENT (later requests find
// the negative key: ENOKEY).
func (r *Registry) RequestKey(c *Caller, typeName, desc string, callout *string, dest int32) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	var dk *Key
	if dest != 0 {
		var err error
		if dk, _, err = r.lookup(c, dest, true, false, needWrite); err != nil {
			return 0, err
		}
	}
	typ, err := lookupType(typeName)
	if err != nil {
		return 0, err
	}
	ctx := &searchCtx{typ: typ, desc: desc, cred: &c.Cred, now: r.now(), stateCheck: true, skipExpired: true}
	k, err := r.searchProcess(c, ctx)
	if err == nil {
		if dk != nil {
			if !permitted(k, &c.Cred, true, PermLink) {
				return 0, errAccess
			}
			if err := r.link(dk, k); err != nil {
				return 0, err
			}
		}
		return k.serial, nil
	}
	if err != errAgain {
		return 0, err
	}
	if callout == nil {
		return 0, errNoKey
	}
	return 0, r.construct(c, typ, desc, dk)
}

// construct is construct_key_and_link without a request-key program: the
// key is made in the destination keyring and at once negated.
func (r *Registry) construct(c *Caller, typ *keyType, desc string, dk *Key) error {
	if typ.keyring {
		return errPerm
	}
	if dk == nil {
		var err error
		if dk, err = r.defaultDest(c); err != nil {
			return err
		}
		if !permitted(dk, &c.Cred, true, PermWrite) {
			return errAccess
		}
	}
	old := dk.find(typ, desc)
	if old < 0 {
		if err := r.reserve(dk, dk.datalen+linkBytes); err != nil {
			return err
		}
	}
	k, err := r.alloc(typ, desc, c.FSUID, c.FSGID, defaultPerm(typ), allocInQuota)
	if err == nil {
		err = r.checkLink(dk, k)
		if err != nil {
			r.put(k)
		}
	}
	if err != nil {
		if old < 0 {
			r.reserve(dk, dk.datalen-linkBytes)
		}
		return err
	}
	r.commitLink(dk, k, old)
	r.negate(k, negativeTimeout, int(unix.ENOKEY))
	r.put(k)
	return errNoEnt
}

// negate makes an uninstantiated key negative with error errno for
// timeout seconds (key_reject_and_link).
func (r *Registry) negate(k *Key, timeout uint32, errno int) {
	if k.state != 0 {
		return
	}
	k.user.nikeys++
	k.state = -errno
	r.setTimeout(k, timeout)
}

// defaultDest is construct_get_dest_keyring without a destination: the
// keyring KEYCTL_SET_REQKEY_KEYRING chose, else the first the caller has
// of thread, process, session and user-session keyrings.
func (r *Registry) defaultDest(c *Caller) (*Key, error) {
	rings := c.Rings
	switch rings.reqkeyDefl {
	case ReqkeyDeflDefault, ReqkeyDeflRequestorKeyring, ReqkeyDeflThreadKeyring:
		if rings.thread != nil {
			return rings.thread, nil
		}
		fallthrough
	case ReqkeyDeflProcessKeyring:
		if rings.process != nil {
			return rings.process, nil
		}
		fallthrough
	case ReqkeyDeflSessionKeyring:
		if rings.session != nil {
			return rings.session, nil
		}
		fallthrough
	case ReqkeyDeflUserSessionKeyring:
		ur, err := r.userKeyrings(c)
		if err != nil {
			return nil, err
		}
		return ur.session, nil
	case ReqkeyDeflUserKeyring:
		ur, err := r.userKeyrings(c)
		if err != nil {
			return nil, err
		}
		return ur.user, nil
	}
	return nil, errInval
}
