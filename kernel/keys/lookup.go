package keys

// lookup finds the key a user-space id names for caller c
// (lookup_user_key): a special id names one of the caller's keyrings
// (made if create, or always for the session keyring), any other id a key
// by serial. Unless partial, a negative key gives its error and a dead or
// expired one EKEYREVOKED, ENOKEY or EKEYEXPIRED; then the caller needs
// the permission n asks. It returns the key and whether c possesses it.
func (r *Registry) lookup(c *Caller, id int32, create, partial bool, n need) (*Key, bool, error) {
	k, possessed, err := r.find(c, id, create)
	if err != nil {
		return nil, false, err
	}
	now := r.now()
	if !partial {
		err := k.validate(now)
		if k.state < 0 {
			err = errnoOf(k.state)
		}
		if err != nil && n != needDefer {
			return nil, false, err
		}
	} else if n != needDefer {
		if err := k.validate(now); err != nil {
			return nil, false, err
		}
	}
	if bit := n.bit(); bit != 0 && !permitted(k, &c.Cred, possessed, bit) {
		return nil, false, errAccess
	}
	return k, possessed, nil
}

// find resolves an id to a key, making the caller's special keyrings as
// Linux does.
func (r *Registry) find(c *Caller, id int32, create bool) (*Key, bool, error) {
	rings := c.Rings
	switch id {
	case SpecThreadKeyring:
		if rings.thread == nil {
			if !create {
				return nil, false, errNoKey
			}
			if err := r.installThread(c); err != nil {
				return nil, false, err
			}
		}
		return rings.thread, true, nil
	case SpecProcessKeyring:
		if rings.process == nil {
			if !create {
				return nil, false, errNoKey
			}
			if err := r.installProcess(c); err != nil {
				return nil, false, err
			}
		}
		return rings.process, true, nil
	case SpecSessionKeyring:
		if rings.session == nil {
			// A session keyring is always installed on access: a new
			// one if asked to create, else the user-session keyring.
			ur, err := r.userKeyrings(c)
			if err != nil {
				return nil, false, err
			}
			if create {
				_, err = r.installSession(c, nil)
			} else {
				_, err = r.installSession(c, ur.session)
			}
			if err != nil {
				return nil, false, err
			}
		} else if rings.session.flags&flagUIDKeyring != 0 && create {
			if _, err := r.installSession(c, nil); err != nil {
				return nil, false, err
			}
		}
		return rings.session, true, nil
	case SpecUserKeyring, SpecUserSessionKeyring:
		ur, err := r.userKeyrings(c)
		if err != nil {
			return nil, false, err
		}
		if id == SpecUserKeyring {
			return ur.user, true, nil
		}
		return ur.session, true, nil
	case SpecGroupKeyring:
		return nil, false, errInval
	case SpecReqkeyAuthKey, SpecRequestorKeyring:
		// Only a request-key upcall holds an authorisation key, and uk
		// makes none.
		return nil, false, errNoKey
	}
	if id < 1 {
		return nil, false, errInval
	}
	k := r.keys[id]
	if k == nil {
		return nil, false, errNoKey
	}
	return k, r.possessed(c, k), nil
}

// authKeySearch is key_get_instantiation_authkey's search for an
// authorisation key, which never exists in uk: the error that search
// gives (ENOKEY, or why the caller's keyrings could not be searched).
func (r *Registry) authKeySearch(c *Caller) error {
	ctx := &searchCtx{typ: typeAuth, desc: "", cred: &c.Cred, now: r.now(), stateCheck: true}
	_, err := r.searchProcess(c, ctx)
	if err == errAgain {
		return errNoKey
	}
	return err
}
