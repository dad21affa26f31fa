package kernel

import "sync"

// Release and Version are what uname reports. The release is one that
// programs checking for features (LTP wants 5.16 or later) accept.
const (
	Release = "6.12.0-uk"
	Version = "#1 SMP PREEMPT_DYNAMIC uk"
)

// utsNames is the sandbox's one set of UTS names (uk has no UTS
// namespaces: unshare(CLONE_NEWUTS) is EINVAL), which sethostname and
// setdomainname change. It starts as Config.Hostname and "(none)".
type utsNames struct {
	mu           sync.Mutex
	set          bool   // the names below replaced the configured ones; protected by mu
	host, domain string // protected by mu
}

// UTSNames returns the node and domain names uname reports.
func (k *Kernel) UTSNames() (host, domain string) {
	k.uts.mu.Lock()
	defer k.uts.mu.Unlock()
	if !k.uts.set {
		return k.Hostname, "(none)"
	}
	return k.uts.host, k.uts.domain
}

// SetUTSName sets the node name (or, with domain, the domain name): at
// most 64 bytes, kept as given (uname shows them up to a NUL).
func (k *Kernel) SetUTSName(name string, domain bool) {
	k.uts.mu.Lock()
	defer k.uts.mu.Unlock()
	if !k.uts.set {
		k.uts.host, k.uts.domain, k.uts.set = k.Hostname, "(none)", true
	}
	if domain {
		k.uts.domain = name
	} else {
		k.uts.host = name
	}
}
