// Package keys is uk's kernel key management (Linux's security/keys): the
// keys and keyrings that add_key(2), request_key(2) and keyctl(2) make and
// use, their permissions, ownership, expiry and revocation, the per-user
// quotas that bound them, and the keyrings a task holds (thread, process,
// session) and a user has (user and user-session keyrings).
//
// Everything lives in one Registry per sandbox, under one mutex: every
// operation is short and touches only keys, and one lock leaves no lock
// order to get wrong. Callers copy application memory in before and out
// after a call into the Registry, never while holding it.
//
// Invariants: a Key is in Registry.keys exactly while something holds a
// reference to it (a keyring's link, a task's keyring slot, the user
// keyring register); its quota charge is held by its owner's keyUser for
// as long, and given back when the last reference goes. Keyrings never
// form a cycle (links that would are refused), so reference counting
// frees everything.
package keys

import "golang.org/x/sys/unix"

// Special key ids (KEY_SPEC_*): negative serials naming a keyring of the
// caller's rather than a key.
const (
	SpecThreadKeyring      = -1
	SpecProcessKeyring     = -2
	SpecSessionKeyring     = -3
	SpecUserKeyring        = -4
	SpecUserSessionKeyring = -5
	SpecGroupKeyring       = -6
	SpecReqkeyAuthKey      = -7
	SpecRequestorKeyring   = -8
)

// Request-key default keyrings (KEY_REQKEY_DEFL_*), set by
// KEYCTL_SET_REQKEY_KEYRING.
const (
	ReqkeyDeflNoChange           = -1
	ReqkeyDeflDefault            = 0
	ReqkeyDeflThreadKeyring      = 1
	ReqkeyDeflProcessKeyring     = 2
	ReqkeyDeflSessionKeyring     = 3
	ReqkeyDeflUserKeyring        = 4
	ReqkeyDeflUserSessionKeyring = 5
	ReqkeyDeflGroupKeyring       = 6
	ReqkeyDeflRequestorKeyring   = 7
)

// Permission bits of the "other" class (KEY_OTH_*); the group, user and
// possessor classes are the same bits shifted by 8, 16 and 24.
const (
	PermView    = 0x01
	PermRead    = 0x02
	PermWrite   = 0x04
	PermSearch  = 0x08
	PermLink    = 0x10
	PermSetattr = 0x20
	PermAll     = 0x3f

	posShift = 24
	usrShift = 16
	grpShift = 8

	// permMask is every bit a key's permissions may have.
	permMask = PermAll<<posShift | PermAll<<usrShift | PermAll<<grpShift | PermAll
)

// need says what a lookup is for: a permission class bit, or one of the
// checks Linux's lookup_user_key makes differently (enum key_need_perm).
type need int

const (
	needNone need = iota // KEY_NEED_UNSPECIFIED: no permission check
	needView
	needRead
	needWrite
	needSearch
	needLink
	needSetattr
	needUnlink   // KEY_NEED_UNLINK: unlink checks only the keyring
	needOverride // KEY_SYSADMIN_OVERRIDE
	needDefer    // KEY_DEFER_PERM_CHECK: KEYCTL_READ checks later
)

// bit is the "other"-class permission bit a need checks (0: none).
func (n need) bit() uint32 {
	switch n {
	case needView:
		return PermView
	case needRead:
		return PermRead
	case needWrite:
		return PermWrite
	case needSearch:
		return PermSearch
	case needLink:
		return PermLink
	case needSetattr:
		return PermSetattr
	}
	return 0
}

// Sizes and limits Linux has.
const (
	// MaxDescSize bounds a description (KEY_MAX_DESC_SIZE), NUL included.
	MaxDescSize = 4096
	// MaxTypeSize bounds a type name, NUL included.
	MaxTypeSize = 32
	// MaxPayload is the largest add_key payload (1 MiB - 1).
	MaxPayload = 1<<20 - 1
	// MaxUpdate is the largest KEYCTL_UPDATE payload (a page).
	MaxUpdate = 4096
	// linkBytes is what each link charges its keyring's owner
	// (KEYQUOTA_LINK_BYTES).
	linkBytes = 4
	// maxDepth is how deep a search descends (KEYRING_SEARCH_MAX_DEPTH).
	maxDepth = 6
	// negativeTimeout is how long a failed request_key's negative key
	// lives, in seconds (key_negative_timeout).
	negativeTimeout = 60
	// keyOverhead is what uk charges the sandbox's memory for a key
	// beyond its description and payload.
	keyOverhead = 256
	// noID is an unset uid or gid (INVALID_UID); shown as the overflow
	// id, 65534.
	noID     = ^uint32(0)
	overflow = 65534
)

// Errors Linux gives, by name.
var (
	errNoKey    error = unix.ENOKEY
	errRevoked  error = unix.EKEYREVOKED
	errExpired  error = unix.EKEYEXPIRED
	errAccess   error = unix.EACCES
	errInval    error = unix.EINVAL
	errPerm     error = unix.EPERM
	errQuota    error = unix.EDQUOT
	errNotDir   error = unix.ENOTDIR
	errNotSupp  error = unix.EOPNOTSUPP
	errDeadlock error = unix.EDEADLK
	errNoMem    error = unix.ENOMEM
	errLoop     error = unix.ELOOP
	errNoEnt    error = unix.ENOENT
	errNoDev    error = unix.ENODEV
	errExist    error = unix.EEXIST
	// errAgain is a search that found nothing (Linux's -EAGAIN there).
	errAgain error = unix.EAGAIN
)

// errnoOf turns a negative key's state into its error.
func errnoOf(state int) error { return unix.Errno(-state) }
