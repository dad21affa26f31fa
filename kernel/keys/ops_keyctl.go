package keys

import "fmt"

// GetKeyringID is KEYCTL_GET_KEYRING_ID: the serial of the key id names,
// which needs Search.
func (r *Registry) GetKeyringID(c *Caller, id int32, create bool) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, create, false, needSearch)
	if err != nil {
		return 0, err
	}
	return k.serial, nil
}

// JoinSession is KEYCTL_JOIN_SESSION_KEYRING: with no name (nil) a new
// anonymous session keyring, else the oldest keyring of that name the
// caller may search, made if there is none.
func (r *Registry) JoinSession(c *Caller, name *string) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	if name == nil {
		k, err := r.installSession(c, nil)
		if err != nil {
			return 0, err
		}
		return k.serial, nil
	}
	k := r.findKeyringByName(c, *name)
	if k == nil {
		var err error
		k, err = r.newKeyring(*name, c.UID, c.GID, PermAll<<posShift|(PermView|PermRead|PermLink)<<usrShift, allocInQuota)
		if err != nil {
			return 0, err
		}
		r.installSession(c, k)
		r.put(k)
		return k.serial, nil
	}
	if k == c.Rings.session {
		return 0, nil
	}
	r.installSession(c, k)
	return k.serial, nil
}

// findKeyringByName is find_keyring_by_name: the oldest live keyring of
// that name, not a user keyring, that grants the caller Search.
func (r *Registry) findKeyringByName(c *Caller, name string) *Key {
	for _, k := range r.names[name] {
		if k.flags&(flagRevoked|flagUIDKeyring) != 0 {
			continue
		}
		if !permitted(k, &c.Cred, false, PermSearch) {
			continue
		}
		return k
	}
	return nil
}

// Update is KEYCTL_UPDATE.
func (r *Registry) Update(c *Caller, id int32, payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, false, false, needWrite)
	if err != nil {
		return err
	}
	if !k.typ.updatable {
		return errNotSupp
	}
	if err := k.typ.preparse(payload); err != nil {
		return err
	}
	return r.update(k, payload)
}

// Revoke is KEYCTL_REVOKE: with Write, or else Setattr.
func (r *Registry) Revoke(c *Caller, id int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, false, false, needWrite)
	if err == errAccess {
		k, _, err = r.lookup(c, id, false, false, needSetattr)
	}
	if err != nil {
		return err
	}
	r.revoke(k)
	return nil
}

// revoke is key_revoke: a user key gives up its payload and quota, a
// keyring its links; links to it go gc_delay later.
func (r *Registry) revoke(k *Key) {
	if k.flags&flagRevoked != 0 {
		return
	}
	k.flags |= flagRevoked
	if k.typ.keyring {
		r.clear(k)
	} else {
		r.reserve(k, 0)
		r.setPayload(k, nil)
	}
	now := r.now()
	if k.revokedAt == 0 || k.revokedAt > now {
		k.revokedAt = now
		r.scheduleGC(now + int64(r.limits.GCDelay))
	}
}

// Invalidate is KEYCTL_INVALIDATE: with Search; the key leaves every
// keyring at once.
func (r *Registry) Invalidate(c *Caller, id int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, err := r.lookupOrOverride(c, id, false, needSearch)
	if err != nil {
		return err
	}
	k.flags |= flagInvalidated
	r.get(k)
	r.unlinkEverywhere(k)
	r.put(k)
	return nil
}

// Clear is KEYCTL_CLEAR: empties a keyring the caller may write.
func (r *Registry) Clear(c *Caller, id int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, err := r.lookupOrOverride(c, id, true, needWrite)
	if err != nil {
		return err
	}
	return r.clear(k)
}

// lookupOrOverride is lookup for KEYCTL_INVALIDATE and KEYCTL_CLEAR, which
// root may also use on keys marked for it (KEY_SYSADMIN_OVERRIDE): when
// the caller's own rights fail, root gets the error of that second
// lookup if it fails too, and the first error otherwise (uk marks no
// key so).
func (r *Registry) lookupOrOverride(c *Caller, id int32, create bool, n need) (*Key, error) {
	k, _, err := r.lookup(c, id, create, false, n)
	if err != nil && c.SysAdmin {
		if _, _, err2 := r.lookup(c, id, false, false, needOverride); err2 != nil {
			return nil, err2
		}
	}
	return k, err
}

// Link is KEYCTL_LINK: Write on the keyring, Link on the key.
func (r *Registry) Link(c *Caller, id, ringid int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	kr, _, err := r.lookup(c, ringid, true, false, needWrite)
	if err != nil {
		return err
	}
	k, _, err := r.lookup(c, id, true, false, needLink)
	if err != nil {
		return err
	}
	return r.link(kr, k)
}

// Unlink is KEYCTL_UNLINK: Write on the keyring; nothing on the key.
func (r *Registry) Unlink(c *Caller, id, ringid int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	kr, _, err := r.lookup(c, ringid, false, false, needWrite)
	if err != nil {
		return err
	}
	k, _, err := r.lookup(c, id, false, true, needUnlink)
	if err != nil {
		return err
	}
	return r.unlink(kr, k)
}

// MoveExcl is KEYCTL_MOVE_EXCL: fail rather than displace a key.
const MoveExcl = 1

// Move is KEYCTL_MOVE: Link on the key, Write on both keyrings.
func (r *Registry) Move(c *Caller, id, from, to int32, flags uint32) error {
	if flags&^MoveExcl != 0 {
		return errInval
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, true, false, needLink)
	if err != nil {
		return err
	}
	fr, _, err := r.lookup(c, from, false, false, needWrite)
	if err != nil {
		return err
	}
	tr, _, err := r.lookup(c, to, true, false, needWrite)
	if err != nil {
		return err
	}
	if fr == tr {
		return nil
	}
	if !fr.typ.keyring || !tr.typ.keyring {
		return errNotDir
	}
	fi := fr.find(k.typ, k.desc)
	if fi < 0 {
		return errNoEnt
	}
	old := tr.find(k.typ, k.desc)
	if old < 0 {
		if err := r.reserve(tr, tr.datalen+linkBytes); err != nil {
			return err
		}
	}
	err = nil
	if old >= 0 && flags&MoveExcl != 0 {
		err = errExist
	}
	if err == nil {
		err = r.checkLink(tr, k)
	}
	if err != nil {
		if old < 0 {
			r.reserve(tr, tr.datalen-linkBytes)
		}
		return err
	}
	r.get(k)
	r.put(fr.dropLink(fi))
	r.reserve(fr, fr.datalen-linkBytes)
	r.commitLink(tr, k, tr.find(k.typ, k.desc))
	r.put(k)
	return nil
}

// Describe is KEYCTL_DESCRIBE: "type;uid;gid;perm;description" and its
// NUL, with View.
func (r *Registry) Describe(c *Caller, id int32) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, false, true, needView)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s;%d;%d;%08x;%s\x00", k.typ.name, shownID(k.uid), shownID(k.gid), k.perm, k.desc), nil
}

// Search is KEYCTL_SEARCH: a key of that type and description in the
// keyring's tree, linked to dest (when not 0) if it grants Link.
func (r *Registry) Search(c *Caller, ringid int32, typeName, desc string, dest int32) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	kr, possessed, err := r.lookup(c, ringid, false, false, needSearch)
	if err != nil {
		return 0, err
	}
	var dk *Key
	if dest != 0 {
		if dk, _, err = r.lookup(c, dest, true, false, needWrite); err != nil {
			return 0, err
		}
	}
	typ, err := lookupType(typeName)
	if err != nil {
		return 0, err
	}
	ctx := &searchCtx{typ: typ, desc: desc, cred: &c.Cred, now: r.now(), stateCheck: true}
	k, err := r.searchKeyring(kr, possessed, ctx)
	if err == nil && k == nil {
		err = ctx.err
		if err == nil {
			err = errNoKey
		}
	}
	if err != nil {
		return 0, err
	}
	if dk != nil {
		if !permitted(k, &c.Cred, possessed, PermLink) {
			return 0, errAccess
		}
		if err := r.link(dk, k); err != nil {
			return 0, err
		}
	}
	return k.serial, nil
}

// Read is KEYCTL_READ for a buffer of buflen bytes (0: none): the size of
// the key's data, and the data to copy out when it fits (nil: copy
// nothing). A keyring reads as its links' serials, little endian.
func (r *Registry) Read(c *Caller, id int32, buflen uint64) (int64, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, possessed, err := r.lookup(c, id, false, false, needDefer)
	if err != nil {
		return 0, nil, errNoKey
	}
	if k.state < 0 {
		return 0, nil, errnoOf(k.state)
	}
	if !permitted(k, &c.Cred, possessed, PermRead) && !possessed {
		return 0, nil, errAccess
	}
	if !k.typ.readable && !k.typ.keyring {
		return 0, nil, errNotSupp
	}
	if err := k.validate(r.now()); err != nil {
		return 0, nil, err
	}
	if k.typ.keyring && buflen != 0 && buflen <= 4096 && buflen%4 != 0 {
		return 0, nil, errInval
	}
	data := k.payload
	if k.typ.keyring {
		data = make([]byte, 0, 4*len(k.links))
		for _, l := range k.links {
			s := uint32(l.serial)
			data = append(data, byte(s), byte(s>>8), byte(s>>16), byte(s>>24))
		}
	}
	size := int64(len(data))
	if buflen == 0 || size == 0 || uint64(size) > buflen {
		return size, nil, nil
	}
	return size, append([]byte(nil), data...), nil
}

// Chown is KEYCTL_CHOWN (noID: leave that id): Setattr, and CAP_SYS_ADMIN
// to give the key to another user or to a group the caller is not in;
// the new owner's quota takes the key.
func (r *Registry) Chown(c *Caller, id int32, uid, gid uint32) error {
	if uid == noID && gid == noID {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, true, true, needSetattr)
	if err != nil {
		return err
	}
	priv := uid != noID && uid != k.uid
	if gid != noID && gid != k.gid && !c.inGroup(gid) {
		priv = true
	}
	if priv && !c.SysAdmin {
		return errAccess
	}
	if uid != noID && uid != k.uid {
		nu := r.user(uid)
		if k.flags&flagInQuota != 0 {
			maxKeys, maxBytes := r.quotas(uid)
			if nu.qnkeys+1 > maxKeys || nu.qnbytes+k.quotalen > maxBytes {
				return errQuota
			}
			nu.qnkeys++
			nu.qnbytes += k.quotalen
			k.user.qnkeys--
			k.user.qnbytes -= k.quotalen
		}
		k.user.nkeys--
		nu.nkeys++
		if k.state != 0 {
			k.user.nikeys--
			nu.nikeys++
		}
		k.user = nu
		k.uid = uid
	}
	if gid != noID {
		k.gid = gid
	}
	return nil
}

// Setperm is KEYCTL_SETPERM: Setattr, and owning the key or
// CAP_SYS_ADMIN.
func (r *Registry) Setperm(c *Caller, id int32, perm uint32) error {
	if perm&^permMask != 0 {
		return errInval
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, true, true, needSetattr)
	if err != nil {
		return err
	}
	if k.uid != c.FSUID && !c.SysAdmin {
		return errAccess
	}
	k.perm = perm
	return nil
}

// SetReqkeyKeyring is KEYCTL_SET_REQKEY_KEYRING: sets where request_key
// links what it makes (making the thread or process keyring it names)
// and returns the old setting.
func (r *Registry) SetReqkeyKeyring(c *Caller, defl int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := c.Rings.reqkeyDefl
	switch defl {
	case ReqkeyDeflNoChange:
		return old, nil
	case ReqkeyDeflThreadKeyring:
		// Linux's install_thread_keyring_to_cred: a new thread keyring
		// only when there is none (CVE-2017-7472).
		if c.Rings.thread == nil {
			if err := r.installThread(c); err != nil {
				return 0, err
			}
		}
	case ReqkeyDeflProcessKeyring:
		if err := r.installProcess(c); err != nil {
			return 0, err
		}
	case ReqkeyDeflDefault, ReqkeyDeflSessionKeyring, ReqkeyDeflUserKeyring,
		ReqkeyDeflUserSessionKeyring, ReqkeyDeflRequestorKeyring:
	default:
		return 0, errInval
	}
	c.Rings.reqkeyDefl = defl
	return old, nil
}

// SetTimeout is KEYCTL_SET_TIMEOUT: Setattr; the key expires timeout
// seconds from now (0: never).
func (r *Registry) SetTimeout(c *Caller, id int32, timeout uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, true, true, needSetattr)
	if err != nil {
		return err
	}
	r.setTimeout(k, timeout)
	return nil
}

func (r *Registry) setTimeout(k *Key, timeout uint32) {
	k.expiry = 0
	if timeout > 0 {
		k.expiry = r.now() + int64(timeout)
		r.scheduleGC(k.expiry + int64(r.limits.GCDelay))
	}
}

// GetSecurity is KEYCTL_GET_SECURITY: uk has no security module, so every
// key's label is empty: one byte, the NUL. Without View the error is the
// failed search for an authorisation key, as Linux's.
func (r *Registry) GetSecurity(c *Caller, id int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	_, _, err := r.lookup(c, id, false, true, needView)
	if err == errAccess {
		return r.authKeySearch(c)
	}
	return err
}

// Restrict is KEYCTL_RESTRICT_KEYRING. typeName nil (with restriction
// nil) refuses every later link; uk's types have no restriction schemes
// (ENOENT), and types it lacks give ENOKEY.
func (r *Registry) Restrict(c *Caller, id int32, typeName *string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, id, false, false, needSetattr)
	if err != nil {
		return err
	}
	return r.restrict(k, typeName)
}

// RestrictLookup is the first step of KEYCTL_RESTRICT_KEYRING, before
// its arguments are read: the keyring must grant Setattr.
func (r *Registry) RestrictLookup(c *Caller, id int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	_, _, err := r.lookup(c, id, false, false, needSetattr)
	return err
}

func (r *Registry) restrict(k *Key, typeName *string) error {
	if !k.typ.keyring {
		return errNotDir
	}
	if typeName != nil {
		if _, err := lookupType(*typeName); err != nil {
			return err
		}
		return errNoEnt
	}
	if k.restricted {
		return errExist
	}
	k.restricted = true
	return nil
}

// AssumeAuthority is KEYCTL_ASSUME_AUTHORITY: 0 gives up an authority
// (there is none to hold); any other key's authorisation key cannot be
// found.
func (r *Registry) AssumeAuthority(c *Caller, id int32) (int32, error) {
	if id < 0 {
		return 0, errInval
	}
	if id == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return 0, r.authKeySearch(c)
}

// SessionToParent is KEYCTL_SESSION_TO_PARENT once the parent is
// known to qualify: the caller's session keyring (which needs Link)
// replaces parent's.
func (r *Registry) SessionToParent(c *Caller, parent *TaskRings, check func(sessionOwner uint32, parentSessionOwner int64) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect()
	k, _, err := r.lookup(c, SpecSessionKeyring, false, false, needLink)
	if err != nil {
		return err
	}
	if parent.session == k {
		return nil
	}
	powner := int64(-1)
	if parent.session != nil {
		powner = int64(parent.session.uid)
	}
	if err := check(k.uid, powner); err != nil {
		return err
	}
	r.get(k)
	r.put(parent.session)
	parent.session = k
	return nil
}
