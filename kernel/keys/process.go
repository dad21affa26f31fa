package keys

// TaskRings are the keyrings a task holds and its request_key default
// (Linux keeps them in struct cred): each task has its own, clone shares
// the process and session keyrings with a new thread and the session
// keyring with a new process. Protected by the Registry's mutex; the zero
// value holds nothing.
type TaskRings struct {
	thread, process, session *Key
	reqkeyDefl               int
}

// Cred is what a key operation needs of the caller's credentials.
type Cred struct {
	UID, GID     uint32 // real ids: the owners of keyrings made for the task
	FSUID, FSGID uint32 // the owners of new keys, and whose permissions apply
	Groups       []uint32
	SysAdmin     bool // CAP_SYS_ADMIN
}

// Caller is a task calling into the registry: its credentials and its
// keyrings.
type Caller struct {
	Cred
	Rings *TaskRings
}

func (c *Cred) inGroup(g uint32) bool {
	if g == c.FSGID {
		return true
	}
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// Clone gives child (a new task) its keyrings as Linux's copy_creds: a
// thread shares the process and session keyrings and gets a thread
// keyring of its own if parent has one; a process shares the session
// keyring only.
func (r *Registry) Clone(parent, child *TaskRings, thread bool, c Cred) {
	r.mu.Lock()
	defer r.mu.Unlock()
	child.session = r.get(parent.session)
	child.reqkeyDefl = parent.reqkeyDefl
	if thread {
		child.process = r.get(parent.process)
		if parent.thread != nil {
			child.thread, _ = r.alloc(typeKeyring, "_tid", c.UID, c.GID, PermAll<<posShift|PermView<<usrShift, allocOverrun)
			if child.thread != nil {
				child.thread.state = 1
				child.thread.user.nikeys++
			}
		}
	}
}

// Exec drops the thread and process keyrings, as execve does; the
// session keyring stays.
func (r *Registry) Exec(t *TaskRings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(t.thread)
	r.put(t.process)
	t.thread, t.process = nil, nil
}

// Exit drops every keyring the task holds.
func (r *Registry) Exit(t *TaskRings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(t.thread)
	r.put(t.process)
	r.put(t.session)
	*t = TaskRings{}
}

// newKeyring makes a positive, empty keyring for a task's slot.
func (r *Registry) newKeyring(desc string, uid, gid, perm uint32, flags allocFlags) (*Key, error) {
	k, err := r.alloc(typeKeyring, desc, uid, gid, perm, flags)
	if err != nil {
		return nil, err
	}
	k.state = 1
	k.user.nikeys++
	return k, nil
}

// taskKeyringPerm is what a task's own keyrings grant: everything to
// their possessor, View to their owner.
const taskKeyringPerm = PermAll<<posShift | PermView<<usrShift

func (r *Registry) installThread(c *Caller) error {
	k, err := r.newKeyring("_tid", c.UID, c.GID, taskKeyringPerm, allocOverrun)
	if err != nil {
		return err
	}
	r.put(c.Rings.thread)
	c.Rings.thread = k
	return nil
}

// installProcess makes the process keyring if the task has none.
func (r *Registry) installProcess(c *Caller) error {
	if c.Rings.process != nil {
		return nil
	}
	k, err := r.newKeyring("_pid", c.UID, c.GID, taskKeyringPerm, allocOverrun)
	if err != nil {
		return err
	}
	c.Rings.process = k
	return nil
}

// installSession makes k (a new anonymous keyring if nil) the task's
// session keyring (install_session_keyring_to_cred).
func (r *Registry) installSession(c *Caller, k *Key) (*Key, error) {
	if k == nil {
		var err error
		k, err = r.newKeyring("_ses", c.UID, c.GID, taskKeyringPerm|PermRead<<usrShift, allocOverrun)
		if err != nil {
			return nil, err
		}
	} else {
		r.get(k)
	}
	r.put(c.Rings.session)
	c.Rings.session = k
	return k, nil
}

// userKeyrings returns the caller's user and user-session keyrings,
// making them the first time (look_up_user_keyrings): owned by the real
// uid, with no group, the session one linking the user one.
func (r *Registry) userKeyrings(c *Caller) (*userRings, error) {
	uid := c.UID
	if ur := r.userRings[uid]; ur != nil {
		return ur, nil
	}
	const perm = (PermAll&^PermSetattr)<<posShift | PermAll<<usrShift
	user, err := r.newKeyring("_uid."+utoa(uid), uid, noID, perm, allocUIDKeyring)
	if err != nil {
		return nil, err
	}
	session, err := r.newKeyring("_uid_ses."+utoa(uid), uid, noID, perm, allocUIDKeyring)
	if err != nil {
		r.put(user)
		return nil, err
	}
	if err := r.link(session, user); err != nil {
		r.put(user)
		r.put(session)
		return nil, err
	}
	// ur keeps the references alloc gave (Linux's register keyring).
	ur := &userRings{user: user, session: session}
	r.userRings[uid] = ur
	return ur, nil
}

func utoa(u uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return string(b[i:])
		}
	}
}
